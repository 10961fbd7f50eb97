/**
 * `tsunagi web certstream` and `tsunagi start --certstream` against a local `ws` server sending
 * frames of both certstream formats (src/web/input/testdata/), one connection dropped: flagged
 * names on stdout as CSV and in the store under source certstream, the rate line with
 * reconnects on stderr; bad options are usage errors.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { WebSocketServer } from 'ws';
import { UsageError } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import type { WebTables } from '../web/index.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';
import { runCertstream } from './web-certstream.ts';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));
const frame = (name: string) =>
  readFileSync(new URL(`../web/input/testdata/${name}`, import.meta.url), 'utf8');
const FRAMES = [
  frame('certificate_update-server.json'),
  frame('certificate_update-go.json'),
  JSON.stringify({ message_type: 'dns_entries', data: ['aeon-card.verify-jp.shop', 'www.wikipedia.org'] }),
];
const FLAGGED = ['amazon-co-jp.signin-verify.top', 'smbc-card.login-check.xyz', 'aeon-card.verify-jp.shop'];

/** A certstream server: the first connection gets two frames and is dropped, the next the third. */
async function certstreamServer(): Promise<{ url: string; close: () => void }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  let connections = 0;
  server.on('connection', (socket) => {
    if (++connections === 1) {
      socket.send(FRAMES[0]!);
      socket.send(FRAMES[1]!, () => socket.terminate());
    } else socket.send(FRAMES[2]!);
  });
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

async function certstreamRows(data: string): Promise<{ url: string; reasons: string }[]> {
  const store = await openStore({ dataDir: data }, { migrations: ROOM_MIGRATIONS });
  try {
    return await (store.db as unknown as Kysely<WebTables>)
      .selectFrom('web_sightings as s')
      .innerJoin('web_urls as u', 'u.url', 's.url')
      .select(['u.url as url', 'u.reasons as reasons'])
      .where('s.source', '=', 'certstream')
      .orderBy('u.url')
      .execute();
  } finally {
    await store.close();
  }
}

test('web certstream: flagged names as CSV, kept in the store, a rate line with the reconnect', async () => {
  const server = await certstreamServer();
  const data = mkdtempSync(join(tmpdir(), 'tsunagi-certstream-'));
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const until = async () => {
    const deadline = Date.now() + 15_000;
    while (!(FLAGGED.every((h) => out.includes(h)) && /reconnects 1/.test(err)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
  };
  try {
    await runCertstream(
      { url: server.url, minVerdict: 'suspicious', every: '0.2', data },
      { stdout, stderr, env: {}, interactive: false },
      until,
    );
    const lines = out.trim().split('\n');
    assert.equal(lines[0], 'url,host,score,verdict,brand,reasons');
    for (const host of FLAGGED)
      assert.ok(
        lines.some((l) => l.startsWith(`https://${host}/,`)),
        `${host} in\n${out}`,
      );
    assert.ok(!out.includes('wikipedia'), 'a benign name is not flagged');
    assert.match(out, /cert_issuer\(Sectigo Limited\)=0/);
    assert.match(err, /certstream names\/s [\d.]+k?\s+names 6\s+flagged \d+\s+reconnects 1\s+bad frames 0/);
    assert.match(err, /; stopped$/m);
    const rows = await certstreamRows(data);
    for (const host of FLAGGED)
      assert.ok(
        rows.some((r) => r.url === `https://${host}/`),
        host,
      );
    const smbc = rows.find((r) => r.url === 'https://smbc-card.login-check.xyz/')!;
    assert.match(smbc.reasons, /"feature":"cert_san_count","value":3/);
  } finally {
    server.close();
    rmSync(data, { recursive: true, force: true });
  }
});

test('web certstream | head: the reader closing stdout stops it with exit 0, not an EPIPE stack', async () => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  server.on('connection', (socket) => {
    let i = 0;
    const timer = setInterval(() => socket.send(FRAMES[i++ % FRAMES.length]!), 20);
    socket.on('close', () => clearInterval(timer));
  });
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const child = spawn(BIN, ['web', 'certstream', '--url', url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Like head: the header and a row or two, then the pipe is closed.
  let seen = '';
  child.stdout.on('data', (d: Buffer) => {
    seen += d.toString();
    if (seen.split('\n').length > 2) child.stdout.destroy();
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|node:events|at /);
    assert.match(stderr, /stopped by the reader of stdout closing it\n$/);
  } finally {
    clearTimeout(timeout);
    server.close();
  }
});

test('web certstream: a bad --url, --min-verdict or --every is a usage error', async () => {
  const ctx = { stdout: new PassThrough(), stderr: new PassThrough(), env: {}, interactive: false };
  const run = (options: Partial<Parameters<typeof runCertstream>[0]>) =>
    runCertstream(
      { url: 'ws://127.0.0.1:1', minVerdict: 'suspicious', every: '10', ...options },
      ctx,
      async () => {},
    );
  await assert.rejects(
    run({ url: 'http://127.0.0.1:1/' }),
    (e: Error) => e instanceof UsageError && /--url/.test(e.message),
  );
  await assert.rejects(run({ minVerdict: 'benign' }), /--min-verdict must be suspicious or malicious/);
  await assert.rejects(run({ every: 'often' }), /--every/);
});

test('start --certstream runs the intake beside the hub and keeps what it flags', async () => {
  const server = await certstreamServer();
  const data = mkdtempSync(join(tmpdir(), 'tsunagi-start-certstream-'));
  const args = ['start', '--data', data, '--listen', '127.0.0.1:0', '--hub', '127.0.0.1:0', '--metrics', ''];
  const child = spawn(BIN, [...args, '--certstream', server.url], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let stopping = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    // The rate line comes every 5 s; one Ctrl-C after it shows the reconnect.
    if (!stopping && /certstream names\/s \S+\s+names 6\s+flagged \d+\s+reconnects 1/.test(stderr))
      stopping = child.kill('SIGINT');
  });
  const timeout = setTimeout(() => child.kill('SIGINT'), 40_000);
  try {
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr);
    assert.ok(stopping, stderr);
    assert.match(stderr, new RegExp(`certstream ${server.url} \\(flagging suspicious or worse\\)`));
    const rows = await certstreamRows(data);
    assert.deepEqual(
      rows.map((r) => r.url).filter((u) => FLAGGED.some((h) => u === `https://${h}/`)).length,
      FLAGGED.length,
    );
  } finally {
    clearTimeout(timeout);
    server.close();
    rmSync(data, { recursive: true, force: true });
  }
});
