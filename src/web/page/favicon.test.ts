/**
 * Favicon hashes and the brand table: MurmurHash3 against published vectors, the Shodan-style
 * hash of a real icon (pino's favicon.ico, MIT, licence beside it in testdata/) against values
 * computed outside this code (sha256sum; Perl's Digest::MurmurHash3::PurePerl over
 * `base64 -w 76`), the icon served from a local server to the page check, the size limit, and
 * the operator's own table file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InputError } from '../../core/index.ts';
import { checkPage } from './check.ts';
import { FAVICONS, faviconHashes, loadFavicons, mimeBase64, murmur3x86 } from './favicon.ts';

const ICON = readFileSync(new URL('testdata/pino-favicon.ico', import.meta.url));
const ICON_SHA256 = 'c27c092d8b63286fcc2f3a75fee61da6f2bcdc9025d5e3bfd1df156f1fb1ded5';
const ICON_MMH3 = 1268323818;

let server: Server;
let base = '';
before(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/')
      return res.writeHead(200, { 'content-type': 'text/html' }).end('<title>no icon link</title>');
    if (path === '/favicon.ico') return res.writeHead(200, { 'content-type': 'image/x-icon' }).end(ICON);
    if (path === '/big-icon')
      return res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<link rel="icon" href="/big.ico"><title>big icon</title>');
    if (path === '/big.ico') return res.writeHead(200).end(Buffer.alloc(200 * 1024, 1));
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise((resolve) => server.close(resolve)));

test('MurmurHash3 x86 32 gives the published values (signed, as mmh3.hash)', () => {
  const vectors: [string, number][] = [
    ['', 0],
    ['foo', -156908512],
    ['hello', 613153351],
    ['The quick brown fox jumps over the lazy dog', 776992547],
    ['abc', -1277324294],
    ['abcd', 1139631978],
    ['abcde', -392455434],
  ];
  for (const [text, expected] of vectors) assert.equal(murmur3x86(Buffer.from(text)), expected, text);
});

test("a real icon's hashes match those computed outside this code", () => {
  const b64 = mimeBase64(ICON);
  assert.ok(
    b64
      .split('\n')
      .slice(0, -2)
      .every((line) => line.length === 76),
  );
  assert.ok(b64.endsWith('\n'));
  assert.deepEqual(faviconHashes(ICON), { sha256: ICON_SHA256, mmh3: ICON_MMH3 });
});

test('the page check fetches /favicon.ico and finds its brand by either hash', async () => {
  const bySha = await checkPage(`${base}/`, { favicons: [{ brand: 'pino', sha256: ICON_SHA256 }] });
  assert.deepEqual(bySha.favicon, {
    url: `${base}/favicon.ico`,
    sha256: ICON_SHA256,
    mmh3: ICON_MMH3,
    brand: 'pino',
  });
  // A hash as Shodan publishes it (http.favicon.hash) is enough.
  const byMmh3 = await checkPage(`${base}/`, { favicons: [{ brand: 'pino', mmh3: ICON_MMH3 }] });
  assert.equal(byMmh3.favicon?.brand, 'pino');
  const unknown = await checkPage(`${base}/`, { favicons: [{ brand: 'other', mmh3: ICON_MMH3 + 1 }] });
  assert.equal(unknown.favicon?.brand, null);
  assert.equal(unknown.favicon?.sha256, ICON_SHA256);
});

test('an icon over the size limit is not hashed', async () => {
  const check = await checkPage(`${base}/big-icon`, { limits: { faviconMaxBytes: 100 * 1024 } });
  assert.equal(check.title, 'big icon');
  assert.equal(check.favicon, null);
});

test("the operator's table joins the shipped one; a bad table is an InputError naming the problem", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-favicons-'));
  try {
    const file = join(dir, 'favicons.json');
    writeFileSync(file, JSON.stringify({ icons: [{ brand: 'pino', mmh3: ICON_MMH3, source: 'test' }] }));
    const table = loadFavicons(file);
    assert.equal(table.length, FAVICONS.length + 1);
    assert.equal(table.at(-1)!.brand, 'pino');
    writeFileSync(file, JSON.stringify({ icons: [{ brand: 'x' }] }));
    assert.throws(
      () => loadFavicons(file),
      (e: Error) => e instanceof InputError && /sha256 or mmh3/.test(e.message),
    );
    writeFileSync(file, JSON.stringify({ icons: [{ brand: 'x', sha256: 'ABC' }] }));
    assert.throws(() => loadFavicons(file), /icons\.0\.sha256/);
    writeFileSync(file, '{');
    assert.throws(
      () => loadFavicons(file),
      (e: Error) => e instanceof InputError && /cannot read/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
