/**
 * The hint before a command reads `-` from a terminal: decided by stdinHint, and seen for real
 * through a pseudo-terminal (util-linux `script`) on every command that reads stdin.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stdinHint } from './context.ts';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));
const HINT = 'tsunagi: reading from standard input; end with Ctrl-D';
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

test('stdinHint: a line for a terminal, nothing for a pipe or file', () => {
  assert.equal(stdinHint(true, 'linux'), `${HINT}\n`);
  assert.equal(stdinHint(true, 'win32'), 'tsunagi: reading from standard input; end with Ctrl-Z and Enter\n');
  assert.equal(stdinHint(false, 'linux'), undefined);
});

/**
 * `tsunagi ARGS` on a pseudo-terminal: waits for the hint (so it is said while the command
 * waits, before any input), then types `input` and Ctrl-D. The terminal's output is returned,
 * stdout and stderr together.
 */
async function onTerminal(args: string[], input: string): Promise<{ output: string; code: number | null }> {
  const command = [BIN, ...args].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  let typed = false;
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (!typed && output.includes(HINT)) {
      typed = true;
      child.stdin.write(`${input}\n\x04`);
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  assert.ok(typed, `no hint before it read the terminal (killed after 60 s):\n${output}`);
  return { output, code };
}

for (const [args, input, found] of [
  [['osint', 'extract', '-'], 'C2: evil-domain[.]info', /"value":"evil-domain\.info"/],
  [['web', 'score', '-'], 'http://login-bank.example.top/verify', /login-bank\.example\.top/],
  // `web score` reads stdin when no file is named.
  [['web', 'score'], 'http://login-bank.example.top/verify', /login-bank\.example\.top/],
] as const)
  test(
    `${args.join(' ')} on a terminal says it reads stdin, then reads it`,
    { skip: !hasScript && 'needs util-linux script for a pseudo-terminal' },
    async () => {
      const { output, code } = await onTerminal([...args], input);
      assert.equal(code, 0, output);
      assert.match(output, found);
      assert.equal(output.split(HINT).length, 2, 'said once');
    },
  );

test('from a pipe nothing is said: stderr stays empty', () => {
  const r = spawnSync(BIN, ['osint', 'extract', '-'], {
    input: 'C2: evil-domain[.]info',
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});
