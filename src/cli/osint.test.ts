/**
 * `tsunagi osint extract` on HTML, text and PDF files, and `tsunagi osint fetch` against a local
 * HTTP server serving an RSS feed and its documents (never the internet): documents kept once
 * per content with every place they came from, indicators kept beside them, addresses, names and
 * URLs in intel as sightings of `osint:<feed>`, and a second round answered 304 Not Modified.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { Kysely } from 'kysely';
import type { OsintTables } from '../osint/index.ts';
import { minimalPdf } from '../osint/testing.ts';
import { runCli as run } from './test-cli.ts';
import { withCliIntel } from './testing.ts';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));

/** `osint extract --format jsonl` output, a parsed object a line. */
const jsonLines = <T>(stdout: string): T[] =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-osint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ADVISORY_HTML = `<!doctype html><html><head><title>Campaign</title><script>var x = "45.1.1.1";</script></head>
<body><h1>Campaign against Japanese organisations</h1>
<p>攻撃者は hxxps://update-check[.]net/gate.php を通信先として使用し、C2 サーバ 91.234.99[.]12 に接続しました。</p>
<table><tr><th>IP</th><th>Port</th></tr><tr><td>5.45.65.21</td><td>4443</td></tr></table>
<p>Exploited CVE-2024-3400 (T1190). Version 1.2.3.4 of the loader; contact admin@vendor-mail.com.</p>
</body></html>`;
const PDF = minimalPdf(['Appendix: C2 domain cdn-updates[.]org', 'SHA-256 ' + 'ab'.repeat(32)]);

let base = '';
const requests: string[] = [];
const server = createServer((request: IncomingMessage, response: ServerResponse) => {
  requests.push(`${request.url} ${request.headers['if-none-match'] ?? ''}`);
  const send = (type: string, body: string | Buffer, headers: Record<string, string> = {}) => {
    response.writeHead(200, { 'content-type': type, ...headers });
    response.end(body);
  };
  if (request.url === '/feed.xml') {
    if (request.headers['if-none-match'] === '"v1"') return void response.writeHead(304).end();
    return send(
      'application/rss+xml',
      `<?xml version="1.0"?><rss version="2.0"><channel><title>Vendor</title>
        <item><title>Campaign</title><link>${base}/a.html</link><pubDate>Tue, 07 May 2024 09:00:00 +0900</pubDate></item>
        <item><title>Appendix</title><link>${base}/b.pdf</link></item>
        <item><title>Mirror</title><link>${base}/mirror.html</link></item>
        <item><title>Gone</title><link>${base}/gone</link></item>
      </channel></rss>`,
      { etag: '"v1"' },
    );
  }
  if (request.url === '/a.html' || request.url === '/mirror.html')
    return send('text/html; charset=utf-8', ADVISORY_HTML);
  if (request.url === '/b.pdf') return send('application/pdf', PDF);
  if (request.url === '/feed2.xml')
    return send(
      'application/rss+xml',
      `<?xml version="1.0"?><rss version="2.0"><channel><title>Two</title>
        <item><title>First report</title><link>${base}/first.html</link></item>
        <item><title>Second report</title><link>${base}/second.html</link></item>
      </channel></rss>`,
    );
  if (request.url === '/first.html' || request.url === '/second.html')
    return send('text/html', `<p>In ${request.url} the C2 is shared-c2[.]info.</p>`);
  response.writeHead(404).end();
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('osint extract: JSON lines and CSV from HTML, text and PDF files', async () => {
  writeFileSync(join(dir, 'advisory.html'), ADVISORY_HTML);
  writeFileSync(join(dir, 'appendix.pdf'), PDF);
  writeFileSync(join(dir, 'notes.txt'), 'IoC: evil-domain[.]info, 2a01:4f8:c17:1::5');
  const jsonl = await run([
    'osint',
    'extract',
    join(dir, 'advisory.html'),
    join(dir, 'appendix.pdf'),
    join(dir, 'notes.txt'),
  ]);
  assert.equal(jsonl.code, 0, jsonl.stderr);
  const lines = jsonLines<Record<string, unknown>>(jsonl.stdout);
  assert.deepEqual(
    lines.map((l) => `${l.type} ${l.value}${l.port ? `:${l.port}` : ''}`),
    [
      'url https://update-check.net/gate.php',
      'ipv4 91.234.99.12',
      'ipv4 5.45.65.21:4443',
      'cve CVE-2024-3400',
      'attack T1190',
      'domain cdn-updates.org',
      `sha256 ${'ab'.repeat(32)}`,
      'domain evil-domain.info',
      'ipv6 2a01:4f8:c17:1::5',
    ],
  );
  // The issue's three fields first, then the port when written, then the file the line came from.
  assert.deepEqual(Object.keys(lines[0]!), ['type', 'value', 'context', 'file']);
  assert.deepEqual(Object.keys(lines[2]!), ['type', 'value', 'context', 'port', 'file']);
  assert.deepEqual(
    lines.map((l) => String(l.file).slice(dir.length + 1)),
    [...Array<string>(5).fill('advisory.html'), 'appendix.pdf', 'appendix.pdf', 'notes.txt', 'notes.txt'],
  );
  assert.match(String(lines[1]!.context), /C2 サーバ 91\.234\.99\[\.\]12 に接続/);
  const notes = join(dir, 'notes.txt');
  const csv = await run(['osint', 'extract', notes, '--format', 'csv']);
  assert.equal(
    csv.stdout,
    'type,value,port,context,file\n' +
      `domain,evil-domain.info,,"IoC: evil-domain[.]info, 2a01:4f8:c17:1::5",${notes}\n` +
      `ipv6,2a01:4f8:c17:1::5,,"IoC: evil-domain[.]info, 2a01:4f8:c17:1::5",${notes}\n`,
  );
});

test('osint extract: the file a line came from is the argument as given, - for stdin (jq can select on it)', () => {
  writeFileSync(join(dir, 'a,b.txt'), 'C2: comma-c2[.]info');
  const r = spawnSync(BIN, ['osint', 'extract', '-', 'a,b.txt'], {
    cwd: dir,
    input: 'C2: stdin-c2[.]info',
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    jsonLines<{ value: string; file: string }>(r.stdout).map((hit) => `${hit.file} ${hit.value}`),
    ['- stdin-c2.info', 'a,b.txt comma-c2.info'],
  );
  const csv = spawnSync(BIN, ['osint', 'extract', 'a,b.txt', '--format', 'csv'], {
    cwd: dir,
    encoding: 'utf8',
  });
  assert.equal(csv.stdout.split('\n')[1], 'domain,comma-c2.info,,C2: comma-c2[.]info,"a,b.txt"');
});

test('osint extract: an empty file is said on stderr (exit 0) and the other files are still read', async () => {
  writeFileSync(join(dir, 'empty.txt'), '');
  writeFileSync(join(dir, 'one.txt'), 'C2: evil-domain[.]info');
  const r = await run(['osint', 'extract', join(dir, 'empty.txt'), join(dir, 'one.txt')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^tsunagi: .*empty\.txt is empty: no indicators\n$/);
  assert.match(r.stdout, /"value":"evil-domain\.info"/);
});

test('osint fetch: documents with provenance, deduplicated by content; indicators into intel; 304 the second time', async () => {
  const data = join(dir, 'data');
  mkdirSync(data);
  const config = join(dir, 'osint.yaml');
  writeFileSync(
    config,
    `osint:\n  feeds:\n    - name: vendor\n      url: ${base}/feed.xml\n      tlp: clear\n  concurrency: 1\n`,
  );
  const first = await run(['osint', 'fetch', '--config', config, '--data', data]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(
    first.stdout,
    /feeds 1 \(unchanged 0\), items 4, new documents 2, duplicates 1, indicators 7, intel sightings 4, errors 1/,
  );
  // The document that failed, named once: its feed and URL, then the reason (not the URL again).
  assert.equal(first.stderr, `tsunagi: osint document skipped (vendor ${base}/gone): HTTP 404\n`);

  await withCliIntel(data, async (intel, store) => {
    const db = store.db as unknown as Kysely<OsintTables>;
    const documents = await db.selectFrom('osint_documents').selectAll().orderBy('url').execute();
    assert.deepEqual(
      documents.map((d) => [d.url.replace(base, ''), d.source, d.title, d.indicators]),
      [
        ['/a.html', 'vendor', 'Campaign', 5],
        ['/b.pdf', 'vendor', 'Appendix', 2],
      ],
    );
    assert.equal(documents[0]!.published_at, '2024-05-07T00:00:00.000Z');
    const places = await db.selectFrom('osint_document_sources').select(['document_id', 'url']).execute();
    // The mirror's copy is the same content: one document, its second place noted.
    assert.deepEqual(places.map((p) => p.url.replace(base, '')).sort(), [
      '/a.html',
      '/b.pdf',
      '/mirror.html',
    ]);
    const rows = await db
      .selectFrom('osint_indicators')
      .selectAll()
      .where('document_id', '=', documents[0]!.id)
      .execute();
    assert.ok(rows.some((r) => r.type === 'ipv4' && r.value === '5.45.65.21' && Number(r.port) === 4443));

    const address = await intel.get({ kind: 'c2', value: '5.45.65.21', port: 4443, proto: '' });
    assert.equal(address?.tlp, 'clear');
    const sightings = await intel.sightings(address!.id);
    assert.deepEqual(
      sightings.map((s) => s.source),
      ['osint:vendor'],
    );
    assert.ok(await intel.get({ kind: 'domain', value: 'cdn-updates.org', port: 0, proto: '' }));
  });

  const second = await run(['osint', 'fetch', '--config', config, '--data', data]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /feeds 1 \(unchanged 1\), items 0, new documents 0/);
  assert.ok(requests.includes('/feed.xml "v1"'), requests.join('\n'));
});

test("osint fetch: an indicator that two documents name keeps both as its sighting's documents", async () => {
  const data = join(dir, 'data-two');
  mkdirSync(data);
  const config = join(dir, 'two.yaml');
  writeFileSync(
    config,
    `osint:\n  feeds:\n    - name: two\n      url: ${base}/feed2.xml\n  concurrency: 1\n`,
  );
  const r = await run(['osint', 'fetch', '--config', config, '--data', data]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /new documents 2,/);
  await withCliIntel(data, async (intel) => {
    const domain = await intel.get({ kind: 'domain', value: 'shared-c2.info', port: 0, proto: '' });
    assert.ok(domain);
    const { total, items } = await intel.sightingDocuments(domain.id);
    assert.equal(total, 2);
    assert.deepEqual(items.map((d) => `${d.source} ${d.url.replace(base, '')} ${d.title}`).sort(), [
      'osint:two /first.html First report',
      'osint:two /second.html Second report',
    ]);
  });
});

test('osint extract over many files: a bad one is one line and the rest are still read, exit 2', async () => {
  writeFileSync(join(dir, 'first.txt'), 'C2: first-c2[.]info');
  writeFileSync(
    join(dir, 'logo.png'),
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
  );
  writeFileSync(join(dir, 'last.txt'), 'C2: last-c2[.]info');
  const r = await run([
    'osint',
    'extract',
    join(dir, 'first.txt'),
    join(dir, 'logo.png'),
    join(dir, 'missing.txt'),
    join(dir, 'last.txt'),
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(
    jsonLines<{ value: string }>(r.stdout).map((hit) => hit.value),
    ['first-c2.info', 'last-c2.info'],
  );
  assert.deepEqual(r.stderr.trimEnd().split('\n'), [
    `tsunagi: ${join(dir, 'logo.png')}: not a text, HTML or PDF document (binary content)`,
    `tsunagi: cannot read ${join(dir, 'missing.txt')}: no such file`,
    'tsunagi: 2 of 4 documents not read (said above)',
  ]);
  // One document alone: its error is the one line.
  const one = await run(['osint', 'extract', join(dir, 'missing.txt')]);
  assert.equal(one.code, 2);
  assert.equal(one.stderr, `tsunagi: cannot read ${join(dir, 'missing.txt')}: no such file\n`);
});

test('osint extract: an IOC list in UTF-16 with its byte-order mark (PowerShell Out-File) is text', async () => {
  const file = join(dir, 'iocs-utf16.txt');
  writeFileSync(
    file,
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('C2: utf16-c2[.]info\r\n', 'utf16le')]),
  );
  const r = await run(['osint', 'extract', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { value: string }).value, 'utf16-c2.info');
});

test('osint extract: a file past the size bound is one line naming it, exit 2, before reading it', async () => {
  // Sparse: 300 MiB long on no disk. Read whole, its text would not fit in one string.
  const huge = join(dir, 'huge.txt');
  const fd = openSync(huge, 'w');
  ftruncateSync(fd, 300 * 2 ** 20);
  closeSync(fd);
  const r = await run(['osint', 'extract', huge]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `tsunagi: ${huge}: too large (300 MiB; osint extract reads up to 256 MiB)\n`);
  assert.equal(r.stdout, '');
});

test('osint extract -: the document on stdin', () => {
  const r = spawnSync(BIN, ['osint', 'extract', '-'], {
    input: 'C2: evil-domain[.]info and 91.234.99[.]12:4443',
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    jsonLines<{ value: string; port?: number }>(r.stdout).map(
      (hit) => `${hit.value}${hit.port ? `:${hit.port}` : ''}`,
    ),
    ['evil-domain.info', '91.234.99.12:4443'],
  );
});

test(
  'osint extract: a device or pipe is read up to the bound, not forever',
  { skip: !existsSync('/dev/zero') && 'no /dev/zero' },
  () => {
    const r = spawnSync(BIN, ['osint', 'extract', '/dev/zero'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.signal, null, 'ended by itself');
    assert.equal(r.status, 2, r.stderr);
    assert.equal(
      r.stderr,
      'tsunagi: /dev/zero: too large (over 256 MiB; osint extract reads up to 256 MiB)\n',
    );
    // Process substitution (`<(curl ...)`) hands a pipe: it is read like stdin.
    const piped = spawnSync('bash', ['-c', `${BIN} osint extract <(printf 'C2: piped-c2[.]info')`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(piped.status, 0, piped.stderr);
    assert.match(piped.stdout, /"value":"piped-c2\.info"/);
  },
);

test('osint extract - - : stdin is read once, so naming it twice is a usage error', async () => {
  const r = await run(['osint', 'extract', '-', join(dir, 'one.txt'), '-']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'tsunagi: - (stdin) given 2 times; it can be read only once\n');
  assert.equal(r.stdout, '');
});

test('osint fetch refuses a configuration without feeds and a missing data directory', async () => {
  const empty = join(dir, 'empty.yaml');
  writeFileSync(empty, 'osint:\n  feeds: []\n');
  const none = await run(['osint', 'fetch', '--config', empty, '--data', join(dir, 'data')]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no feeds configured/);
  const config = join(dir, 'one.yaml');
  writeFileSync(config, `osint:\n  feeds:\n    - name: vendor\n      url: ${base}/feed.xml\n`);
  const missing = await run(['osint', 'fetch', '--config', config, '--data', join(dir, 'no-such-dir')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no data directory/);
  // A feed URL fetch cannot read says which URLs it can, not zod's bare "Invalid URL".
  const ftp = join(dir, 'ftp.yaml');
  writeFileSync(ftp, `osint:\n  feeds:\n    - name: vendor\n      url: ftp://127.0.0.1/feed.xml\n`);
  const bad = await run(['osint', 'fetch', '--config', ftp, '--data', join(dir, 'data')]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'tsunagi: invalid configuration: osint.feeds.0.url: an http:// or https:// URL\n');
});

test('osint fetch: a feed that fails is named on stderr with its reason, the others still read', async () => {
  const data = join(dir, 'data-failing');
  mkdirSync(data);
  const config = join(dir, 'failing.yaml');
  writeFileSync(
    config,
    `osint:\n  feeds:\n    - name: gone\n      url: ${base}/gone.xml\n    - name: page\n      url: ${base}/a.html\n`,
  );
  const r = await run(['osint', 'fetch', '--config', config, '--data', data]);
  // No feed read at all: exit 1, so a scheduler notices; the counts are still printed.
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /feeds 2 .*errors 2$/m);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 3, r.stderr);
  assert.match(lines[0]!, /^tsunagi: osint feed skipped \(gone\): .*404/);
  assert.match(lines[1]!, /^tsunagi: osint feed skipped \(page\): neither RSS nor Atom/);
  assert.equal(lines[2], 'tsunagi: no feed could be read (2 of 2, said above)');
  // One feed read beside them: the round stands (exit 0), the others named as before.
  writeFileSync(
    config,
    `osint:\n  feeds:\n    - name: gone\n      url: ${base}/gone.xml\n    - name: vendor\n      url: ${base}/feed.xml\n`,
  );
  const partly = await run(['osint', 'fetch', '--config', config, '--data', data]);
  assert.equal(partly.code, 0, partly.stderr);
  assert.match(partly.stderr, /^tsunagi: osint feed skipped \(gone\): .*404$/m);
  assert.doesNotMatch(partly.stderr, /no feed could be read/);
});

test('osint fetch: a feed nobody listens on and one that never answers say so in words', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const silent = createServer(() => {}); // takes the request and never answers
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const silentPort = (silent.address() as AddressInfo).port;
  try {
    const data = join(dir, 'data-unreachable');
    mkdirSync(data);
    const config = join(dir, 'unreachable.yaml');
    writeFileSync(
      config,
      `osint:\n  timeoutMs: 500\n  feeds:\n` +
        `    - name: closed\n      url: http://127.0.0.1:${closedPort}/feed.xml\n` +
        `    - name: silent\n      url: http://127.0.0.1:${silentPort}/feed.xml\n`,
    );
    const r = await run(['osint', 'fetch', '--config', config, '--data', data]);
    assert.match(r.stdout, /errors 2$/m);
    assert.match(r.stderr, /^tsunagi: osint feed skipped \(closed\): \S+: connection refused$/m);
    assert.match(r.stderr, /^tsunagi: osint feed skipped \(silent\): \S+: no answer within 500 ms$/m);
  } finally {
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});
