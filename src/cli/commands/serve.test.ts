/**
 * Issue #15 finding 14: `tsunagi serve` serves the console and the self-check (as start's hub
 * does), keeps its data directory and files private, and speaks TLS directly when given a
 * certificate (a self-signed one made by openssl here). Its shutdown signs the audit head, which
 * the audit CLI then verifies against an exported checkpoint file.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { main } from '../main.ts';
import { ServeConfig } from '../hub-stack.ts';
import { runServe } from './serve.ts';
import { captureCli } from '../test-cli.ts';

async function run(args: string[]) {
  const c = captureCli({ USER: 'tester' });
  const code = await main(args, c.ctx);
  return { code, out: c.stdout(), err: c.stderr() };
}

function get(url: string, ca: Buffer): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body, type: String(res.headers['content-type'] ?? '') }),
        );
      })
      .on('error', reject);
  });
}

const mode = (path: string) => statSync(path).mode & 0o777;

test('serve: console and self-check over direct TLS, a private data directory, a signed audit head', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-serve-'));
  const data = join(dir, 'data');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const ca = readFileSync(cert);
    assert.equal((await run(['org', 'add', 'ISP A', '--role', 'isp', '--data', data])).code, 0);

    const c = captureCli({ USER: 'tester' });
    const config = ServeConfig.parse({
      data,
      hub: { listen: '127.0.0.1:0', publishIntervalMs: 0, tls: { cert, key } },
      console: { distDir: join(dir, 'no-console-build') },
    });
    await runServe(config, c.ctx, async () => {
      const url = /tsunagi hub on (https:\/\/[^ ]+) /.exec(c.stderr())?.[1];
      assert.ok(url, `serve names an https address: ${c.stderr()}`);
      assert.match(c.stderr(), /self-check/);
      const check = await get(`${url}/console/api/self-check`, ca);
      assert.equal(check.status, 200, check.body);
      assert.deepEqual(
        (({ address, listed }) => ({ address, listed }))(
          JSON.parse(check.body) as { address: string; listed: boolean },
        ),
        { address: '127.0.0.1', listed: false },
      );
      // The console page (here unbuilt: the console says so rather than a 404 from TAXII).
      const page = await get(`${url}/`, ca);
      assert.equal(page.status, 503);
      assert.match(page.body, /console is not built/);
      const anonymous = await get(`${url}/api/me`, ca);
      assert.equal(anonymous.status, 401);
      await assert.rejects(
        fetch(`${url.replace('https:', 'http:')}/healthz`),
        'no plain HTTP on the TLS port',
      );

      assert.equal(mode(data), 0o700);
      for (const file of ['tsunagi.sqlite', 'audit-signing-key.pem'])
        assert.equal(mode(join(data, file)), 0o600, file);
      // SQLite gives its WAL and shared-memory files the database file's mode.
      for (const file of ['tsunagi.sqlite-wal', 'tsunagi.sqlite-shm'])
        if (existsSync(join(data, file))) assert.equal(mode(join(data, file)), 0o600, file);
    });

    // Shutdown signed the head (the refusal above is its last record): exported and verified.
    const exported = await run(['audit', 'checkpoints', 'export', '--data', data]);
    assert.equal(exported.code, 0, exported.err);
    const file = join(dir, 'checkpoints.json');
    writeFileSync(file, exported.out);
    const verified = await run(['audit', 'verify', '--checkpoints', file, '--data', data]);
    assert.equal(verified.code, 0, verified.err);
    assert.match(verified.out, /^ok: \d+ records, head [0-9a-f]{64}, [1-9]\d* signed checkpoints hold\n$/);

    // Someone holding the database file cuts the last record and the checkpoints covering it:
    // the store alone looks whole, the exported copy does not (exit 1).
    const db = new Database(join(data, 'tsunagi.sqlite'));
    db.exec(`DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_checkpoints_no_delete;
      DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log);
      DELETE FROM audit_checkpoints WHERE seq > (SELECT max(seq) FROM audit_log);`);
    db.close();
    assert.equal((await run(['audit', 'verify', '--data', data])).code, 0);
    const cut = await run(['audit', 'verify', '--checkpoints', file, '--data', data]);
    assert.equal(cut.code, 1);
    assert.match(cut.err, /records were cut/);

    writeFileSync(file, '{"format":"something else"}');
    assert.equal((await run(['audit', 'verify', '--checkpoints', file, '--data', data])).code, 2);
    assert.equal(
      (await run(['serve', '--data', data, '--tls-cert', cert])).code,
      2,
      '--tls-key is needed too',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
