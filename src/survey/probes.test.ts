/** Probe pieces on their own: telnet decoding, bounded reads against hostile peers, HTTP parsing, Digest, pacing. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { silentLogger } from '../core/index.ts';
import { SurveyConfig } from './config.ts';
import { startHostileDevice, startTlsDevice } from './harness/devices.ts';
import { RECOG_DIR, writeLabPlan } from './harness/lab.ts';
import { authorisePlan, createSurvey, type Finding } from './index.ts';
import { RateLimiter } from './gate.ts';
import { Credential } from './plan.ts';
import {
  authorizationHeader,
  htmlTitle,
  parseAuthParams,
  parseHttpResponse,
  readBounded,
  TelnetStream,
  telnetBanner,
} from './probes.ts';

function fakeSocket(): { socket: Socket; written: Buffer[] } {
  const written: Buffer[] = [];
  const socket = { destroyed: false, write: (b: Buffer) => written.push(b) } as unknown as Socket;
  return { socket, written };
}

function open(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

describe('survey probes', () => {
  test('telnet: options are refused once each, sub-negotiation skipped, IAC IAC is data', () => {
    const { socket, written } = fakeSocket();
    const t = new TelnetStream(socket, 10, 1000);
    // IAC DO ECHO, IAC WILL SGA, IAC SB TTYPE SEND IAC SE, "ab", IAC IAC, "c"
    t.feed(Buffer.from([255, 253, 1, 255, 251, 3, 255, 250, 24, 1, 255, 240, 0x61, 0x62, 255, 255, 0x63]));
    // The same request again: no second answer.
    t.feed(Buffer.from([255, 253, 1]));
    assert.equal(t.text, 'ab\xffc');
    assert.deepEqual(
      written.map((b) => [...b]),
      [
        [255, 252, 1],
        [255, 254, 3],
      ],
    );
    assert.equal(t.negotiations, 3);
  });

  test('telnet: a command split across chunks still decodes', () => {
    const { socket, written } = fakeSocket();
    const t = new TelnetStream(socket, 10, 1000);
    t.feed(Buffer.from([0x6c, 255]));
    t.feed(Buffer.from([253]));
    t.feed(Buffer.from([31, 0x6f]));
    assert.equal(t.text, 'lo');
    assert.deepEqual([...written[0]!], [255, 252, 31]);
  });

  test('a negotiation loop is cut off and called hostile, quickly', async () => {
    const device = await startHostileDevice({ host: '127.0.75.9', port: 2323, mode: 'negotiation-loop' });
    try {
      const started = performance.now();
      const got = await telnetBanner(
        await open(device.host, device.port),
        { maxBytes: 8192, timeoutMs: 3000, idleMs: 300 },
        64,
      );
      assert.ok(got.hostile);
      assert.ok(performance.now() - started < 1000);
    } finally {
      await device.stop();
    }
  });

  test('an endless banner stops at the byte bound; a silent service at the time bound', async () => {
    const endless = await startHostileDevice({ host: '127.0.75.10', port: 2323, mode: 'endless-banner' });
    const silent = await startHostileDevice({ host: '127.0.75.11', port: 2323, mode: 'silent' });
    try {
      let bytes = 0;
      const end = await readBounded(
        await open(endless.host, endless.port),
        { maxBytes: 10000, timeoutMs: 3000, idleMs: 300 },
        (c) => {
          bytes += c.length;
          return false;
        },
      );
      assert.equal(end, 'limit');
      assert.equal(bytes, 10000);
      const started = performance.now();
      const quiet = await readBounded(
        await open(silent.host, silent.port),
        { maxBytes: 100, timeoutMs: 300, idleMs: 100 },
        () => false,
      );
      assert.equal(quiet, 'timeout');
      assert.ok(performance.now() - started < 1000);
    } finally {
      await endless.stop();
      await silent.stop();
    }
  });

  test('a slow drip cannot hold a read past its total time bound', async () => {
    const drip = await startHostileDevice({ host: '127.0.75.13', port: 2323, mode: 'slow-drip' });
    try {
      const started = performance.now();
      const got = await telnetBanner(
        await open(drip.host, drip.port),
        { maxBytes: 8192, timeoutMs: 400, idleMs: 200 },
        64,
      );
      const took = performance.now() - started;
      assert.ok(took >= 390 && took < 900, `${took}`);
      assert.match(got.banner, /^\.+$/);
    } finally {
      await drip.stop();
    }
  });

  test('HTTP responses: status, folded duplicate headers, title', () => {
    const raw = Buffer.from(
      'HTTP/1.1 401 Unauthorized\r\nServer: Boa/0.94.14rc21\r\nX-A: 1\r\nx-a: 2\r\nWWW-Authenticate: Basic realm="DVR"\r\n\r\n<html><TITLE>\n NETSurveillance  WEB </TITLE>',
    );
    const r = parseHttpResponse(raw, false)!;
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('server'), 'Boa/0.94.14rc21');
    assert.equal(r.headers.get('x-a'), '1, 2');
    assert.equal(htmlTitle(r.body), 'NETSurveillance WEB');
    assert.equal(parseHttpResponse(Buffer.from('SSH-2.0-x\r\n'), false), undefined);
  });

  test('Digest authorization follows RFC 7616 (MD5, qop=auth)', () => {
    const cred = new Credential('r1', 'http', 'Mufasa', 'Circle Of Life', '*', '*');
    const challenge =
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"';
    const header = authorizationHeader(challenge, cred, 'GET', '/dir/index.html')!;
    const p = parseAuthParams(header).params;
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const ha1 = md5('Mufasa:testrealm@host.com:Circle Of Life');
    const ha2 = md5('GET:/dir/index.html');
    assert.equal(p.response, md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`));
    assert.equal(p.opaque, '5ccc069c403ebaf9f0171e9517f40e41');
    assert.equal(
      authorizationHeader('Basic realm="x"', cred, 'GET', '/'),
      `Basic ${Buffer.from('Mufasa:Circle Of Life').toString('base64')}`,
    );
    assert.equal(
      authorizationHeader('Digest realm="x", nonce="n", algorithm=SHA-512-256', cred, 'GET', '/'),
      undefined,
    );
    assert.equal(authorizationHeader('NTLM', cred, 'GET', '/'), undefined);
  });
});

describe('survey probes', () => {
  test('the rate limiter holds the global rate and the per-host gap at any concurrency', async () => {
    const limiter = new RateLimiter(200, 30);
    const times: { host: string; t: number }[] = [];
    const start = performance.now();
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const host = `h${i % 4}`;
        times.push({ host, t: (await limiter.acquire(host)) - start });
      }),
    );
    const all = times.map((x) => x.t).sort((a, b) => a - b);
    // 40 connections at 200/s take at least 195 ms (the first is free).
    assert.ok(all.at(-1)! >= 195 - 1e-6, `${all.at(-1)}`);
    for (let i = 1; i < all.length; i++)
      assert.ok(all[i]! - all[i - 1]! >= 5 - 1e-6, `global gap ${all[i]! - all[i - 1]!}`);
    for (const host of ['h0', 'h1', 'h2', 'h3']) {
      const mine = times.filter((x) => x.host === host).map((x) => x.t);
      for (let i = 1; i < mine.length; i++)
        assert.ok(mine[i]! - mine[i - 1]! >= 30 - 1e-6, `per-host gap ${mine[i]! - mine[i - 1]!}`);
    }
  });

  test('https: the certificate subject identifies the device; Basic auth is checked over TLS', async () => {
    const device = await startTlsDevice({
      host: '127.0.75.12',
      port: 8443,
      realm: 'router',
      username: 'admin',
      password: 'generic-weak-pw',
      subject: '/C=US/L=Charlotte/O=Araknis Networks (TM)/OU=AN-300-RT-4L2W/CN=d4:6a:91:7a:a3:c4',
    });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'tsunagi-tls-plan-'));
      const raw = parse(readFileSync(writeLabPlan(dir), 'utf8')) as Record<string, unknown>;
      const plan = authorisePlan(
        { ...raw, scope: { cidrs: ['127.0.75.12/32'] }, ports: [8443] },
        { baseDir: dir },
      );
      const survey = createSurvey(SurveyConfig.parse({ recogPath: RECOG_DIR }), {
        logger: silentLogger(),
        registry: new Registry(),
      });
      await survey.start();
      const findings: Finding[] = [];
      await survey.run(plan, { onHost: (h) => findings.push(...h.findings) });
      assert.equal(findings.length, 1);
      const f = findings[0]!;
      assert.equal(f.service, 'https');
      assert.equal(f.vendor, 'Araknis Networks');
      assert.equal(f.model, 'AN-300-RT-4L2W');
      assert.ok(f.fingerprints.some((id) => id.startsWith('x509_subjects#')));
      assert.deepEqual(f.weakCredential, { accepted: true, rule: 'generic-admin' });
      assert.equal(device.records().at(-1), 'GET / AUTH_OK');
    } finally {
      await device.stop();
    }
  });
});
