/**
 * Every long-running command ends within 5 s of SIGINT or SIGTERM with exit code 0, and `start`
 * on a new data directory prints an admin token that signs in to the console API.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tsunagi-signals-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command until stderr matches `ready`; `stop` sends a signal and times the exit. */
function launch(args: string[], ready: RegExp) {
  const child = spawn(BIN, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TSUNAGI_DATABASE_URL: '' },
  });
  let stderr = '';
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in 60 s: ${stderr}`)), 60_000);
    child.stderr.on('data', (d) => {
      stderr += d;
      if (ready.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => reject(new Error(`exited ${code} before ready: ${stderr}`)));
  });
  return {
    started,
    stderr: () => stderr,
    async stop(signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
      const sent = performance.now();
      child.kill(signal);
      const code = await exited;
      return { code, ms: performance.now() - sent };
    },
  };
}

const LOOPBACK = ['--hub', '127.0.0.1:0', '--metrics', ''];

describe('signals end long-running commands within 5 s', () => {
  test('start: first run prints a one-time admin token that signs in; SIGTERM stops it', async () => {
    const data = join(dir, 'start');
    const first = launch(
      ['start', '--data', data, '--listen', '127.0.0.1:0', ...LOOPBACK],
      /tsunagi is running/,
    );
    await first.started;
    const token = /^\s+(tsg_\S+)$/m.exec(first.stderr())?.[1];
    assert.ok(token, first.stderr());
    const hub = /console\s+(http:\/\/\S+?)\/?$/m.exec(first.stderr())![1]!;
    const me = await fetch(`${hub}/console/api/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.status, 200);
    assert.match(await me.text(), /Analysis Centre/);
    const anonymous = await fetch(`${hub}/console/api/me`);
    assert.equal(anonymous.status, 401);
    const stopped = await first.stop('SIGTERM');
    assert.equal(stopped.code, 0, first.stderr());
    assert.ok(stopped.ms < 5000, `${stopped.ms} ms`);

    // The token is shown once: a second start on the same store prints none.
    const again = launch(
      ['start', '--data', data, '--listen', '127.0.0.1:0', ...LOOPBACK],
      /tsunagi is running/,
    );
    await again.started;
    assert.doesNotMatch(again.stderr(), /tsg_/);
    assert.equal((await again.stop('SIGINT')).code, 0);
  });

  test('collect: SIGINT', async () => {
    const collect = launch(['collect', '--listen', '127.0.0.1:0'], /listening on/);
    await collect.started;
    const stopped = await collect.stop('SIGINT');
    assert.equal(stopped.code, 0, collect.stderr());
    assert.ok(stopped.ms < 5000, `${stopped.ms} ms`);
  });

  test('serve: SIGTERM', async () => {
    const data = join(dir, 'serve');
    const org = spawn(BIN, ['org', 'add', 'Hub', '--role', 'analysis', '--data', data], { stdio: 'ignore' });
    assert.equal(await new Promise((resolve) => org.once('exit', resolve)), 0);
    const serve = launch(['serve', '--data', data, '--listen', '127.0.0.1:0'], /tsunagi hub on/);
    await serve.started;
    const stopped = await serve.stop('SIGTERM');
    assert.equal(stopped.code, 0, serve.stderr());
    assert.ok(stopped.ms < 5000, `${stopped.ms} ms`);
  });

  test('demo: Ctrl-C during the replay stops it and removes its temporary directory', async () => {
    const demo = launch(['demo', '--hub', '127.0.0.1:0', '--hours', '24', '--rate', '2000'], /replaying/);
    await demo.started;
    const data = /data (\S+), store/.exec(demo.stderr())?.[1];
    assert.ok(data && existsSync(data), demo.stderr());
    const stopped = await demo.stop('SIGINT');
    assert.equal(stopped.code, 0, demo.stderr());
    assert.ok(stopped.ms < 5000, `${stopped.ms} ms`);
    assert.equal(existsSync(data), false, 'the temporary data directory is gone');
  });
});
