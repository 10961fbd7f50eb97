import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));
const LOOPBACK = ['--listen', '127.0.0.1:0', '--hub', '127.0.0.1:0', '--metrics', ''];

/** Runs start until its banner, stops it, and returns what it printed on stderr. */
async function startOutput(extra: string[]): Promise<string> {
  const data = mkdtempSync(join(tmpdir(), 'tsunagi-start-output-'));
  const child = spawn(BIN, ['start', '--data', data, ...LOOPBACK, ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let stopping = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    // One Ctrl-C: a second one would end start at once (exit 130).
    if (!stopping && /more tokens:/.test(stderr)) stopping = child.kill('SIGINT');
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, stderr);
  return stderr;
}

test('start off a terminal logs JSON with its fields, as before', async () => {
  const stderr = await startOutput([]);
  const listening = stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string; listen?: string[] })
    .find((entry) => entry.msg === 'listening for flows');
  assert.ok(listening?.listen?.length, stderr);
  assert.match(stderr, /tsunagi is running/);
});

test('start --log-format pretty prints the banner and no JSON at the default level', async () => {
  const stderr = await startOutput(['--log-format', 'pretty']);
  assert.match(stderr, /tsunagi is running/);
  assert.match(stderr, /console {3}http:\/\/127\.0\.0\.1:\d+\//);
  assert.ok(!stderr.split('\n').some((line) => line.startsWith('{')), stderr);
});

test('start --log-format pretty --log-level info shows the log as readable lines', async () => {
  const stderr = await startOutput(['--log-format', 'pretty', '--log-level', 'info']);
  assert.match(stderr, /^listening for flows \(listen \["127\.0\.0\.1:0 \(port \d+\)"\]/m);
});

test('a bad --log-format or --log-level is a usage error naming the flag', () => {
  const format = spawnSync(BIN, ['start', '--log-format', 'xml', ...LOOPBACK], { encoding: 'utf8' });
  assert.equal(format.status, 2);
  assert.match(format.stderr, /--log-format: xml/);
  const level = spawnSync(BIN, ['start', '--log-level', 'loud', ...LOOPBACK], { encoding: 'utf8' });
  assert.equal(level.status, 2);
  assert.match(level.stderr, /log\.level/);
});
