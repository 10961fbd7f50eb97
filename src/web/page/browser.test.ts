/**
 * The page check in a real headless Chromium (Debian's, or $TSUNAGI_CHROMIUM; skipped, saying
 * so, when there is none) against pages served by a local HTTP server on 127.0.0.1: a login form
 * and favicon link that only a script makes, a page that loads more than the byte cap, WebSockets
 * and server-sent events, WebRTC and WebTransport to a UDP listener, pages that never settle, a
 * download; the browser's processes gone after each run, Ctrl-C included.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium as playwrightChromium } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { DEFAULT_CHROMIUM } from '../../core/index.ts';
import { openPageBrowser, type PageBrowser, type PageBrowserOptions } from './browser.ts';
import { checkPage, PageCheckError } from './check.ts';
import { servePages, type ServedPages } from './testing.ts';

const chromium = process.env.TSUNAGI_CHROMIUM ?? DEFAULT_CHROMIUM;
const missing = existsSync(chromium) ? '' : `no Chromium at ${chromium} (set TSUNAGI_CHROMIUM)`;
const skip = missing || false;
const BIN = fileURLToPath(new URL('../../../bin/tsunagi', import.meta.url));

const ICON = Buffer.from('script-made-brand-icon-bytes');
const ICON_SHA = createHash('sha256').update(ICON).digest('hex');

/** Nothing but a script in the HTML: the form, the icon link and an alert come when it runs. */
const SCRIPTED = `<!DOCTYPE html><html><head><title>Sign in</title></head><body><div id="app"></div>
<script>
setTimeout(() => {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = 'https://collector.example.net/' + 'gate' + '.php';
  const pass = document.createElement('input');
  pass.type = 'password';
  form.appendChild(pass);
  document.getElementById('app').appendChild(form);
  const icon = document.createElement('link');
  icon.rel = 'icon';
  icon.href = '/brand.ico';
  document.head.appendChild(icon);
  document.body.appendChild(document.createComment(' saved from url=(0026)https://www.amazon.co.jp/ '));
  alert('verify your account');
}, 100);
</script></body></html>`;
const BLOB = 64 * 1024;
/** A login form, then a script that fetches 40 blobs of 64 KiB (2.5 MiB) one after the other. */
const HEAVY = `<html><head><title>heavy</title></head><body><form><input type="password"></form>
<script>(async () => {
  for (let i = 0; i < 40; i++) await fetch('/blob/' + i).then((r) => r.arrayBuffer()).catch(() => null);
})();</script>
</body></html>`;
/**
 * A worker (dedicated, or shared by every page of its origin) that fetches the 40 blobs itself,
 * then says so. Bytes the page never asks for: only a count where they arrive sees them.
 */
const WORKER = `const load = async (say) => {
  for (let i = 0; i < 40; i++) await fetch('/blob/w' + i).then((r) => r.arrayBuffer()).catch(() => null);
  say('done');
};
if (typeof postMessage === 'function' && typeof onconnect === 'undefined') load((m) => postMessage(m));
onconnect = (event) => load((m) => event.ports[0].postMessage(m));`;
/** The page keeps the network busy (a ping each 100 ms) until its worker has loaded everything. */
const workerPage = (make: string, listen: string) => `<html><head><title>worker</title></head><body>
<form><input type="password"></form>
<script>
let done = false;
const w = ${make};
${listen}.onmessage = () => (done = true);
(async () => {
  while (!done) await Promise.all([fetch('/ping?' + Math.random()).catch(() => null), new Promise((r) => setTimeout(r, 100))]);
})();
</script></body></html>`;
const BIG_ICON = 80 * 1024;
/** A small page whose icon is 80 KiB: under the icon's own limit (100 kB), not under every cap. */
const BIG_ICON_PAGE =
  '<html><head><title>icon</title><link rel="icon" href="/big.ico"></head><body>hi</body></html>';
/** Answers without a body (a 204, an answer to HEAD) reach the page as they are. */
const EMPTY_ANSWERS = `<html><head><title>waiting</title></head><body><script>
Promise.all([fetch('/no-content'), fetch('/scripted', { method: 'HEAD' })]).then(
  (rs) => (document.title = rs.map((r) => r.status).join(' ')),
  () => (document.title = 'failed'),
);
</script></body></html>`;
/**
 * A WebSocket to this server, which streams 8 MiB down it (`report` says what came, in the title
 * or to the page). Nothing of it passes the Fetch domain, so only a refusal keeps it under the cap.
 */
const openSocket = (report: string, host = 'location.host') =>
  `const socket = new WebSocket('ws://' + ${host} + '/stream');
let got = 0;
socket.onmessage = (event) => ${report}('got ' + (got += event.data.length));
socket.onerror = () => ${report}('refused');`;
const titled = (script: string) =>
  `<html><head><title>socket</title></head><body><form><input type="password"></form><script>${script}</script></body></html>`;
const toTitle = '((text) => (document.title = text))';
const SOCKET_PAGE = titled(openSocket(toTitle));
/** The socket opened by a frame the page makes (srcdoc, data:): its document is not a response. */
const frameSocket = (load: (html: string) => string) =>
  titled(`onmessage = (event) => (document.title = event.data);
const script = ${JSON.stringify(openSocket('((text) => parent.postMessage(text, "*"))', 'HOST'))};
const html = '<script>' + script.replace('HOST', JSON.stringify(location.host)) + '</' + 'script>';
const frame = document.createElement('iframe');
${load('html')}
document.body.appendChild(frame);`);
const SRCDOC_SOCKET = frameSocket((html) => `frame.srcdoc = ${html};`);
const DATA_SOCKET = frameSocket((html) => `frame.src = 'data:text/html,' + encodeURIComponent(${html});`);
/** Four sockets, three to one address: Chromium reports a refusal it has reported once. */
const REPEATED_SOCKETS = titled(`for (const path of ['/stream', '/stream', '/stream', '/stream?again'])
  new WebSocket('ws://' + location.host + path);`);
/** The WebSocket constructor of a blank frame, which has no response of its own. */
const BLANK_SOCKET = titled(`const frame = document.createElement('iframe');
document.body.appendChild(frame);
const WebSocket = frame.contentWindow.WebSocket;
${openSocket(toTitle)}`);
/** The socket opened by a dedicated worker, which says what came. */
const SOCKET_WORKER = openSocket('postMessage');
const WORKER_SOCKET = titled(
  `new Worker('/socket-worker.js').onmessage = (event) => (document.title = event.data);`,
);
/** The same worker made from a blob: URL: its script would not pass the gate, the policy refuses it. */
const BLOB_WORKER_SOCKET = titled(
  `const script = new Blob([${JSON.stringify(SOCKET_WORKER)}], { type: 'text/javascript' });
const worker = new Worker(URL.createObjectURL(script));
worker.onmessage = (event) => (document.title = event.data);
worker.onerror = () => (document.title = 'worker refused');`,
);
/**
 * The socket opened by a shared worker. A page with a shared worker does not reach network idle
 * in Playwright, so once told, this one loads past the cap, which ends the check at once.
 */
const SOCKET_SHARED_WORKER = `onconnect = (event) => {
  const port = event.ports[0];
  ${openSocket('((text) => port.postMessage(text))')}
};`;
const SHARED_WORKER_SOCKET = titled(`const port = new SharedWorker('/socket-shared-worker.js').port;
port.onmessage = async (event) => {
  document.title = event.data;
  for (let i = 0; i < 40; i++) await fetch('/blob/s' + i).catch(() => null);
};
port.start();`);
/** 8 MiB of server-sent events, as /huge: an EventSource loads through the Fetch domain. */
const EVENTS_PAGE = titled(`const events = new EventSource('/events');
let got = 0;
events.onmessage = (event) => (document.title = 'got ' + (got += event.data.length));`);

/**
 * WebRTC and WebTransport to the UDP port in the query, which both reach over UDP, past the Fetch
 * domain. `report` gets what the script saw after 3 s (a request to /wait keeps the check open):
 * `made` and the ICE candidates gathered, or the error it met.
 */
const UDP_TRIES: Record<string, string> = {
  webrtc: `const found = [];
let note = 'made';
try {
  const peer = new RTCPeerConnection({ iceServers: [{ urls: 'stun:127.0.0.1:' + port }] });
  peer.onicecandidate = (event) => event.candidate && found.push(event.candidate.candidate);
  peer.createDataChannel('data');
  peer.createOffer().then((offer) => peer.setLocalDescription(offer));
} catch (error) {
  note = String(error);
}
const seen = () => [note, ...found].join(' | ');`,
  webtransport: `let note = 'made';
try {
  new WebTransport('https://127.0.0.1:' + port + '/', {
    serverCertificateHashes: [{ algorithm: 'sha-256', value: new Uint8Array(32) }],
  }).ready.catch(() => null);
} catch (error) {
  note = String(error);
}
const seen = () => note;`,
};
/** Each try in its own scope; `report` gets what every one saw. */
const tryUdp = (apis: string[], report: string) =>
  `const seen = [${apis.map((api) => `(() => {\n${UDP_TRIES[api]}\nreturn seen;\n})()`).join(', ')}];
fetch('/wait').finally(() => ${report}(seen.map((say) => say()).join(' / ')));`;
const PORT_IN_QUERY = `const port = new URLSearchParams(location.search).get('port');`;
const udpPage = (api: string) => titled(`${PORT_IN_QUERY}\n${tryUdp([api], toTitle)}`);
/** Both with the constructors of a blank frame, which has no response of its own. */
const UDP_BLANK_FRAME = titled(`${PORT_IN_QUERY}
const frame = document.createElement('iframe');
document.body.appendChild(frame);
const { RTCPeerConnection, WebTransport } = frame.contentWindow;
${tryUdp(['webrtc', 'webtransport'], toTitle)}`);
/** A dedicated worker tries WebTransport (workers have no RTCPeerConnection), from its own script or a blob: URL. */
const udpWorker = (make: string) =>
  titled(`${PORT_IN_QUERY}
const worker = ${make};
worker.onmessage = (event) => (document.title = event.data);
worker.onerror = () => (document.title = 'worker refused');
worker.postMessage(port);
fetch('/wait');`);
const UDP_WORKER = `onmessage = (event) => {
  const port = event.data;
  ${tryUdp(['webtransport'], "((text) => postMessage(text + ' / RTCPeerConnection ' + typeof RTCPeerConnection))")}
};`;

/** A module worker whose import tries WebTransport as it loads, before the worker's own script runs. */
const UDP_MODULE_LEAF = `const port = new URL(import.meta.url).searchParams.get('port');
${UDP_TRIES.webtransport}
export { seen };`;
const udpModuleWorker = (port: string) => `import { seen } from './udp-leaf.js?port=${port}';
fetch('/wait').finally(() => postMessage(seen()));`;

/** A shared worker tries WebTransport; told, the page loads past the cap (see SHARED_WORKER_SOCKET). */
const UDP_SHARED_WORKER = `onconnect = (connected) => {
  const reply = connected.ports[0];
  reply.onmessage = (event) => {
    const port = event.data;
    ${tryUdp(['webtransport'], '((text) => reply.postMessage(text))')}
  };
};`;
const UDP_SHARED_WORKER_PAGE = titled(`${PORT_IN_QUERY}
const worker = new SharedWorker('/udp-shared-worker.js');
worker.port.onmessage = async (event) => {
  document.title = event.data;
  for (let i = 0; i < 40; i++) await fetch('/blob/u' + i).catch(() => null);
};
worker.port.start();
worker.port.postMessage(port);`);

/** Asks for something every 100 ms, for ever: the network is never quiet. */
const BUSY = `<html><body><script>setInterval(() => fetch('/ping?' + Math.random()), 100);</script></body></html>`;
/** A script that never returns: the page never loads. */
const LOOP = `<html><body><script>for (;;) {}</script><p>never</p></body></html>`;

let pages: ServedPages;
let base = '';
/** What the WebSocket server saw: handshakes, bytes written down the sockets. */
const sockets = { upgrades: 0, written: 0 };
/** What /huge wrote before the browser let go of it, and when it did. */
let huge: { written: number; closed: Promise<void> } | undefined;

before(async () => {
  const streams = new WebSocketServer({ noServer: true });
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.upgrades++;
    streams.handleUpgrade(req, socket, head, (stream) => {
      // 8 MiB in 64 KiB messages, one after the other as each is written.
      let sent = 0;
      const next = () => {
        if (stream.readyState !== stream.OPEN || sent++ >= 128) return;
        stream.send('x'.repeat(BLOB), (error) => {
          if (error) return;
          sockets.written += BLOB;
          setTimeout(next, 5);
        });
      };
      next();
    });
  };
  pages = await servePages((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const html = (body: string) => res.writeHead(200, { 'content-type': 'text/html' }).end(body);
    if (path === '/scripted') return html(SCRIPTED);
    if (path === '/brand.ico') return res.writeHead(200, { 'content-type': 'image/x-icon' }).end(ICON);
    if (path === '/heavy') return html(HEAVY);
    if (path.startsWith('/blob/'))
      return res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(BLOB, path));
    if (path === '/dedicated-worker') return html(workerPage('new Worker("/worker.js")', 'w'));
    if (path === '/shared-worker')
      return html(workerPage('new SharedWorker("/worker.js").port', 'w.start(); w'));
    if (path === '/worker.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(WORKER);
    if (path === '/big-icon') return html(BIG_ICON_PAGE);
    if (path === '/big.ico')
      return res.writeHead(200, { 'content-type': 'image/x-icon' }).end(Buffer.alloc(BIG_ICON, 7));
    if (path === '/empty-answers') return html(EMPTY_ANSWERS);
    if (path === '/no-content') return res.writeHead(204).end();
    if (path === '/socket') return html(SOCKET_PAGE);
    if (path === '/socket-loose-policy')
      // The page's own policy allows every socket; the gate's still refuses them.
      return res
        .writeHead(200, { 'content-type': 'text/html', 'content-security-policy': 'connect-src *' })
        .end(SOCKET_PAGE);
    if (path === '/socket-repeated') return html(REPEATED_SOCKETS);
    if (path === '/socket-srcdoc') return html(SRCDOC_SOCKET);
    if (path === '/socket-data-frame') return html(DATA_SOCKET);
    if (path === '/socket-blank-frame') return html(BLANK_SOCKET);
    if (path === '/socket-worker') return html(WORKER_SOCKET);
    if (path === '/socket-blob-worker') return html(BLOB_WORKER_SOCKET);
    if (path === '/socket-worker.js')
      return res.writeHead(200, { 'content-type': 'text/javascript' }).end(SOCKET_WORKER);
    if (path === '/socket-shared-worker') return html(SHARED_WORKER_SOCKET);
    if (path === '/socket-shared-worker.js')
      return res.writeHead(200, { 'content-type': 'text/javascript' }).end(SOCKET_SHARED_WORKER);
    if (path.startsWith('/udp/') && UDP_TRIES[path.slice(5)]) return html(udpPage(path.slice(5)));
    if (path === '/udp-blank-frame') return html(UDP_BLANK_FRAME);
    if (path === '/udp-worker') return html(udpWorker("new Worker('/udp-worker.js')"));
    if (path === '/udp-worker.js')
      return res.writeHead(200, { 'content-type': 'text/javascript' }).end(UDP_WORKER);
    if (path === '/udp-blob-worker')
      return html(
        udpWorker(
          `new Worker(URL.createObjectURL(new Blob([${JSON.stringify(UDP_WORKER)}], { type: 'text/javascript' })))`,
        ),
      );
    if (path === '/udp-module-worker')
      return html(udpWorker("new Worker('/udp-module.js' + location.search, { type: 'module' })"));
    if (path === '/udp-module.js' || path === '/udp-leaf.js') {
      const port = new URL(req.url!, base).searchParams.get('port') ?? '';
      const script = path === '/udp-leaf.js' ? UDP_MODULE_LEAF : udpModuleWorker(port);
      return res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    }
    if (path === '/udp-shared-worker') return html(UDP_SHARED_WORKER_PAGE);
    if (path === '/udp-shared-worker.js')
      return res.writeHead(200, { 'content-type': 'text/javascript' }).end(UDP_SHARED_WORKER);
    if (path === '/wait') return void setTimeout(() => res.writeHead(200).end('waited'), 3000);
    if (path === '/events-page') return html(EVENTS_PAGE);
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let sent = 0;
      const next = () => {
        if (res.destroyed || sent++ >= 128) return res.end();
        res.write(`data: ${'e'.repeat(BLOB - 8)}\n\n`);
        setTimeout(next, 5);
      };
      return next();
    }
    if (path === '/busy') return html(BUSY);
    if (path === '/ping') return res.writeHead(200).end('pong');
    if (path === '/loop') return html(LOOP);
    if (path.startsWith('/hop/')) {
      const n = Number(path.slice(5));
      return res.writeHead(302, { location: n > 0 ? `/hop/${n - 1}` : '/scripted' }).end();
    }
    if (path === '/huge') {
      // 8 MiB of page in 64 KiB pieces, 5 ms apart, and no end: only the browser lets go of it.
      res.writeHead(200, { 'content-type': 'text/html' });
      const head = '<title>huge</title><form><input type="password"></form>';
      res.write(head);
      const written = { written: head.length, closed: new Promise<void>((r) => res.once('close', r)) };
      huge = written;
      let sent = 0;
      const next = () => {
        if (res.destroyed || sent++ >= 128) return;
        const piece = `<p>${'x'.repeat(BLOB - 7)}</p>`;
        res.write(piece);
        written.written += piece.length;
        setTimeout(next, 5);
      };
      return next();
    }
    if (path === '/file.zip')
      return res
        .writeHead(200, {
          'content-type': 'application/zip',
          'content-disposition': 'attachment; filename="invoice.zip"',
        })
        .end(Buffer.alloc(1000));
    res.writeHead(404).end();
  }, upgrade);
  base = pages.base;
});
after(() => pages.close());

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** One browser for `work`, closed after it; its process must be gone then. */
async function withBrowser(
  work: (browser: PageBrowser) => Promise<void>,
  options: PageBrowserOptions = {},
): Promise<void> {
  const browser = await openPageBrowser(chromium, options);
  const pid = browser.pid;
  try {
    assert.ok(pid && alive(pid), 'the browser runs');
    await work(browser);
  } finally {
    await browser.close();
  }
  for (let i = 0; i < 20 && alive(pid!); i++) await sleep(100);
  assert.equal(alive(pid!), false, `the browser's process ${pid} is gone after close`);
}

test(
  'a login form and favicon link made by a script: found in the browser, not by the plain fetch',
  { skip },
  async () => {
    const favicons = [{ brand: 'amazon', sha256: ICON_SHA }];
    const plain = await checkPage(`${base}/scripted`, { favicons });
    assert.equal(plain.readWith, 'fetch');
    assert.equal(plain.loginForm, false);
    assert.equal(plain.passwordInputs, 0);
    assert.equal(plain.favicon, null);
    assert.deepEqual(plain.kitMarkers, []);
    await withBrowser(async (browser) => {
      const check = await browser.check(`${base}/scripted`, { favicons });
      assert.equal(check.readWith, 'browser');
      assert.equal(check.status, 200);
      assert.equal(check.title, 'Sign in');
      assert.equal(check.passwordInputs, 1);
      assert.deepEqual(check.offsiteForms, ['https://collector.example.net/gate.php']);
      assert.equal(check.loginForm, true);
      assert.equal(check.favicon?.url, `${base}/brand.ico`);
      assert.equal(check.favicon?.sha256, ICON_SHA);
      assert.equal(check.favicon?.brand, 'amazon');
      assert.deepEqual(check.kitMarkers, ['cloned-page']);
      assert.equal(check.browser?.dialogsDismissed, 1);
      assert.equal(check.truncated, false);
      // A fresh incognito context per URL: nothing of the first visit is left for the second.
      const again = await browser.check(`${base}/scripted`, { favicons });
      assert.equal(again.browser?.dialogsDismissed, 1);
    });
  },
);

test('a page that loads more than the byte cap is cut, the rest refused and counted', { skip }, async () => {
  const maxBytes = 256 * 1024;
  await withBrowser(async (browser) => {
    const heavy = await browser.check(`${base}/heavy`, { limits: { maxBytes } });
    assert.equal(heavy.truncated, true);
    assert.ok(heavy.bytes > maxBytes, `${heavy.bytes} bytes`);
    // Counted and stopped where the bytes arrive: at most the cap and one chunk is read.
    assert.ok(heavy.bytes <= maxBytes + BLOB, `${heavy.bytes} bytes: the cap and one chunk at most`);
    assert.ok(heavy.browser!.abortedOverCap > 0, JSON.stringify(heavy.browser));
    assert.equal(heavy.passwordInputs, 1, 'what arrived is read');
    // Answers without a body pass the gate as they are.
    assert.equal((await browser.check(`${base}/empty-answers`)).title, '204 200');
    // One document longer than the cap that never ends: only stopping where the cap is passed
    // ends its load (waiting for its end would be the time limit's error).
    const cut = await browser.check(`${base}/huge`, { limits: { maxBytes } });
    assert.equal(cut.truncated, true);
    assert.ok(cut.bytes > maxBytes && cut.bytes <= maxBytes + BLOB, `${cut.bytes} bytes of 8 MiB`);
    assert.equal(cut.passwordInputs, 1);
    // And the browser lets go of the connection (a hang fails here, not on a loaded machine).
    const served = huge!;
    let guard: NodeJS.Timeout | undefined;
    await Promise.race([
      served.closed,
      new Promise((_, reject) => {
        guard = setTimeout(() => reject(new Error('the browser still holds /huge after 60 s')), 60_000);
      }),
    ]).finally(() => clearTimeout(guard));
  });
});

test(
  'WebSockets are refused and counted: from the page, its frames and its workers, whatever its own policy',
  { skip },
  async () => {
    const maxBytes = 256 * 1024;
    // As a phishing site's server is public, so is this one: Chromium refuses a socket from a page
    // it takes for public to the loopback address for a reason of its own (local network access).
    const options = { extraArgs: [`--ip-address-space-overrides=${new URL(base).host}=public`] };
    // The same page in a Chromium without the gate: its socket streams, so what refuses it below
    // is the gate's policy.
    const plain = await playwrightChromium.launch({
      executablePath: chromium,
      args: ['--headless', ...options.extraArgs],
      chromiumSandbox: process.getuid?.() !== 0,
    });
    try {
      const page = await plain.newPage();
      await page.goto(`${base}/socket`);
      await page.waitForFunction(() => document.title.startsWith('got '), undefined, { timeout: 10_000 });
    } finally {
      await plain.close();
    }
    assert.ok(sockets.upgrades === 1 && sockets.written > 0, JSON.stringify(sockets));
    await withBrowser(async (browser) => {
      for (const path of [
        '/socket',
        '/socket-loose-policy',
        '/socket-srcdoc',
        '/socket-data-frame',
        '/socket-blank-frame',
        '/socket-worker',
      ]) {
        Object.assign(sockets, { upgrades: 0, written: 0 });
        const check = await browser.check(`${base}${path}`, { limits: { maxBytes } });
        assert.deepEqual(sockets, { upgrades: 0, written: 0 }, `${path}: the server streamed`);
        assert.equal(check.title, 'refused', path);
        assert.equal(check.browser!.webSocketsRefused, 1, `${path}: ${JSON.stringify(check.browser)}`);
        assert.ok(check.bytes <= maxBytes, `${path}: ${check.bytes} bytes`);
        assert.equal(check.passwordInputs, 1, path);
      }
      // A blob: worker does not start (see the UDP test); its refusal is not counted as a socket's.
      const blob = await browser.check(`${base}/socket-blob-worker`, { limits: { maxBytes } });
      assert.equal(blob.title, 'worker refused');
      assert.equal(blob.browser!.webSocketsRefused, 0, JSON.stringify(blob.browser));
      assert.equal(blob.browser!.blockedSchemes, 1, JSON.stringify(blob.browser));
      assert.deepEqual(sockets, { upgrades: 0, written: 0 }, 'blob: worker: the server streamed');
      const repeated = await browser.check(`${base}/socket-repeated`, { limits: { maxBytes } });
      assert.equal(repeated.browser!.webSocketsRefused, 2, JSON.stringify(repeated.browser));
      assert.deepEqual(sockets, { upgrades: 0, written: 0 }, 'repeated: the server streamed');
      const shared = await browser.check(`${base}/socket-shared-worker`, { limits: { maxBytes } });
      assert.deepEqual(sockets, { upgrades: 0, written: 0 }, 'shared worker: the server streamed');
      assert.equal(shared.title, 'refused');
      assert.equal(shared.browser!.webSocketsRefused, 1, JSON.stringify(shared.browser));
    }, options);
  },
);

test(
  'WebRTC and WebTransport send no UDP packet: from the page, a blank frame and workers',
  { skip },
  async () => {
    const listener = createSocket('udp4');
    let packets = 0;
    listener.on('message', () => packets++);
    await new Promise<void>((resolve) => listener.bind(0, '127.0.0.1', resolve));
    const port = listener.address().port;
    // A public server, as a phishing site's is (local network access refuses a loopback one).
    const extraArgs = [`--ip-address-space-overrides=127.0.0.1:${port}=public`];
    try {
      // The same pages in a Chromium without the gate or its switches: both send (STUN binding
      // requests, QUIC initials), so what keeps them quiet below is the page check's doing.
      const plain = await playwrightChromium.launch({
        executablePath: chromium,
        args: ['--headless', '--disable-quic', ...extraArgs],
        chromiumSandbox: process.getuid?.() !== 0,
      });
      const sent: Record<string, number> = {};
      try {
        const page = await plain.newPage();
        for (const path of ['/udp/webrtc', '/udp/webtransport', '/udp-worker', '/udp-module-worker']) {
          packets = 0;
          await page.goto(`${base}${path}?port=${port}`);
          await page.waitForFunction(() => document.title !== 'socket', undefined, { timeout: 10_000 });
          sent[path] = packets;
        }
      } finally {
        await plain.close();
      }
      assert.ok(
        Object.values(sent).every((n) => n > 0),
        `without the gate: ${JSON.stringify(sent)}`,
      );
      // The switch the page check passes holds WebRTC by itself: no candidate, no packet.
      const policed = await playwrightChromium.launch({
        executablePath: chromium,
        args: ['--headless', '--webrtc-ip-handling-policy=disable_non_proxied_udp', ...extraArgs],
        chromiumSandbox: process.getuid?.() !== 0,
      });
      try {
        const page = await policed.newPage();
        packets = 0;
        await page.goto(`${base}/udp/webrtc?port=${port}`);
        await page.waitForFunction(() => document.title !== 'socket', undefined, { timeout: 10_000 });
        assert.equal(await page.title(), 'made', 'no ICE candidate gathered');
        assert.equal(packets, 0, 'STUN packets with the switch');
      } finally {
        await policed.close();
      }

      const maxBytes = 256 * 1024;
      const expected: Record<string, RegExp> = {
        // No constructor, so no candidate either (a host candidate would carry a local address).
        '/udp/webrtc': /^ReferenceError: RTCPeerConnection is not defined$/,
        '/udp/webtransport': /^ReferenceError: WebTransport is not defined$/,
        '/udp-blank-frame':
          /^TypeError: RTCPeerConnection is not a constructor \/ TypeError: WebTransport is not a constructor$/,
        '/udp-worker': /^ReferenceError: WebTransport is not defined \/ RTCPeerConnection undefined$/,
        '/udp-module-worker': /^ReferenceError: WebTransport is not defined$/,
        // A worker from a blob: URL would not pass the gate: the policy refuses it.
        '/udp-blob-worker': /^worker refused$/,
        '/udp-shared-worker': /^ReferenceError: WebTransport is not defined$/,
      };
      await withBrowser(
        async (browser) => {
          for (const [path, seen] of Object.entries(expected)) {
            packets = 0;
            const check = await browser.check(`${base}${path}?port=${port}`, { limits: { maxBytes } });
            // Late packets too: a second more after the check.
            await sleep(1000);
            assert.equal(packets, 0, `${path}: UDP packets Chromium sent`);
            assert.match(check.title, seen, path);
            const counted = { webSocketsRefused: 0, blockedSchemes: path === '/udp-blob-worker' ? 1 : 0 };
            const { webSocketsRefused, blockedSchemes } = check.browser!;
            assert.deepEqual({ webSocketsRefused, blockedSchemes }, counted, path);
          }
        },
        { extraArgs },
      );
    } finally {
      listener.close();
    }
  },
);

test('server-sent events load through the gate: cut at the cap like any body', { skip }, async () => {
  const maxBytes = 256 * 1024;
  await withBrowser(async (browser) => {
    const check = await browser.check(`${base}/events-page`, { limits: { maxBytes } });
    assert.equal(check.truncated, true);
    assert.ok(check.bytes > maxBytes && check.bytes <= maxBytes + BLOB, `${check.bytes} bytes of 8 MiB`);
    assert.equal(check.passwordInputs, 1);
  });
});

test(
  'bytes loaded by workers, dedicated or shared, count toward the cap and stop at it',
  { skip },
  async () => {
    const maxBytes = 256 * 1024;
    await withBrowser(async (browser) => {
      for (const path of ['/dedicated-worker', '/shared-worker']) {
        const check = await browser.check(`${base}${path}`, { limits: { maxBytes } });
        assert.equal(check.truncated, true, `${path}: ${check.bytes} bytes`);
        assert.ok(check.bytes > maxBytes && check.bytes <= maxBytes + BLOB, `${path}: ${check.bytes} bytes`);
        assert.ok(check.browser!.abortedOverCap > 0, `${path}: ${JSON.stringify(check.browser)}`);
        assert.equal(check.passwordInputs, 1, path);
      }
    });
  },
);

test('the favicon counts toward the cap: read while there is room, not past it', { skip }, async () => {
  await withBrowser(async (browser) => {
    const roomy = await browser.check(`${base}/big-icon`, { limits: { maxBytes: 256 * 1024 } });
    assert.equal(roomy.favicon?.url, `${base}/big.ico`);
    assert.equal(roomy.truncated, false);
    // Chromium may load the icon itself as well (its own request, counted like any other).
    assert.ok(
      roomy.bytes > BIG_ICON && roomy.bytes < 2 * BIG_ICON + 1024,
      `${roomy.bytes} bytes: page and icon`,
    );
    // 64 KiB for everything: the icon does not fit; it is read only as far as the cap.
    const maxBytes = 64 * 1024;
    const tight = await browser.check(`${base}/big-icon`, { limits: { maxBytes } });
    assert.equal(tight.favicon, null);
    assert.equal(tight.truncated, true);
    assert.ok(tight.bytes > maxBytes && tight.bytes <= maxBytes + 1, `${tight.bytes} bytes`);
  });
});

test('a page that never settles hits the time limit with a clear message', { skip }, async () => {
  await withBrowser(async (browser) => {
    for (const path of ['/busy', '/loop']) {
      const started = Date.now();
      await assert.rejects(
        browser.check(`${base}${path}`, { limits: { timeoutMs: 1500 } }),
        (error: Error) =>
          error instanceof PageCheckError &&
          error.message ===
            `${base}${path}: did not settle within 1500 ms in the browser (load, then 500 ms without network)`,
      );
      assert.ok(Date.now() - started < 1500 + 4000, `${path}: ${Date.now() - started} ms`);
    }
    // The browser is still good for the next URL.
    assert.equal((await browser.check(`${base}/scripted`)).loginForm, true);
  });
});

test('downloads and other schemes are refused, redirects counted', { skip }, async () => {
  await withBrowser(async (browser) => {
    await assert.rejects(browser.check(`${base}/file.zip`), /file\.zip: the page is a download \(refused\)$/);
    await assert.rejects(browser.check('file:///etc/hostname'), /^PageCheckError: not http\(s\): file:/);
    // Redirects: listed as the plain fetch lists them, at most maxRedirects.
    const hopped = await browser.check(`${base}/hop/2`, { limits: { maxRedirects: 3 } });
    assert.deepEqual(hopped.redirects, [`${base}/hop/1`, `${base}/hop/0`, `${base}/scripted`]);
    assert.equal(hopped.finalUrl, `${base}/scripted`);
    await assert.rejects(
      browser.check(`${base}/hop/5`, { limits: { maxRedirects: 3 } }),
      /more than 3 redirects/,
    );
    await assert.rejects(browser.check('not a url'), /^PageCheckError: not a url: not a URL$/);
  });
});

/** Processes whose environment holds the marker: the CLI and every Chromium process it started. */
function marked(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`).includes(`TSUNAGI_TEST_MARK=${marker}`))
        pids.push(Number(name));
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return pids;
}

function runBin(args: string[], marker: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(BIN, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TSUNAGI_CHROMIUM: chromium, TSUNAGI_TEST_MARK: marker, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

async function noneLeft(marker: string): Promise<void> {
  for (let i = 0; i < 30 && marked(marker).length > 0; i++) await sleep(100);
  assert.deepEqual(marked(marker), [], 'no process of the run is left');
}

const linux = process.platform === 'linux' ? false : 'reads /proc';

test(
  'the CLI: which way each page was read, the counters, nothing left running',
  { skip: skip || linux },
  async () => {
    const marker = randomUUID();
    const run = runBin(['web', 'check', `${base}/scripted`, `${base}/busy`, '--browser'], marker);
    assert.equal(await run.exited, 2, run.stderr());
    const lines = run.stdout().trim().split('\n');
    assert.equal(lines.length, 1);
    const check = JSON.parse(lines[0]!);
    assert.equal(check.readWith, 'browser');
    assert.equal(check.loginForm, true);
    const err = run.stderr().split('\n');
    assert.equal(
      err[0],
      `tsunagi: ${base}/busy: did not settle within 10000 ms in the browser (load, then 500 ms without network)`,
    );
    assert.match(
      err[1]!,
      /^tsunagi: read 1 of 2 pages in headless Chromium [\d.]+ \(JavaScript run\): login forms 1, .*dialogs dismissed 1, .*timeouts 1, errors 1$/,
    );
    assert.equal(err[2], `tsunagi: 1 of 2 pages could not be read; the last: ${err[0]!.slice(9)}`);
    assert.equal(err.length, 4, run.stderr());
    await noneLeft(marker);

    const plain = runBin(['web', 'check', `${base}/scripted`], marker);
    assert.equal(await plain.exited, 0, plain.stderr());
    assert.equal(JSON.parse(plain.stdout()).readWith, 'fetch');
    // The web room's setting does what the flag does.
    const configured = runBin(['web', 'check', `${base}/scripted`], marker, {
      TSUNAGI_WEB__PAGE__BROWSER: 'true',
    });
    assert.equal(await configured.exited, 0, configured.stderr());
    assert.equal(JSON.parse(configured.stdout()).readWith, 'browser');
    assert.equal(JSON.parse(configured.stdout()).loginForm, true);
    await noneLeft(marker);
    assert.match(
      plain.stderr(),
      /^tsunagi: read 1 of 1 pages by plain fetch \(no JavaScript\): login forms 0,/,
    );
  },
);

test('the CLI: Ctrl-C closes the browser', { skip: skip || linux }, async () => {
  const marker = randomUUID();
  const run = runBin(['web', 'check', `${base}/busy`, '--browser'], marker);
  // Wait for Chromium (the CLI's children carry the marker too) and the page to be opened.
  for (let i = 0; i < 100 && marked(marker).length < 3; i++) await sleep(100);
  await sleep(1000);
  run.child.kill('SIGINT');
  assert.equal(await run.exited, 1, run.stderr());
  assert.match(run.stderr(), /^tsunagi: interrupted \(SIGINT\); the browser is closed$/m);
  await noneLeft(marker);
});

test('the CLI: a Chromium that is not there is said up front, naming what to set', async () => {
  const marker = randomUUID();
  const run = runBin(
    ['web', 'check', `${base}/scripted`, '--browser', '--chromium', '/nonexistent/chromium'],
    marker,
  );
  assert.equal(await run.exited, 2);
  assert.equal(
    run.stderr(),
    "tsunagi: --chromium: no Chromium at /nonexistent/chromium (install Debian's chromium, or name it with --chromium PATH or web.page.chromium)\n",
  );
  const without = runBin(['web', 'check', `${base}/scripted`, '--chromium', '/nonexistent/chromium'], marker);
  assert.equal(await without.exited, 2);
  assert.match(without.stderr(), /--chromium needs --browser/);
});
