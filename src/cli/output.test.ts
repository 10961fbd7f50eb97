/** writeOut on a real pipe whose reader goes away, as `tsunagi web export ... | head` does. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const OUTPUT = fileURLToPath(new URL('./output.ts', import.meta.url));

test('printOut of more than a pipe holds ends quietly when the reader closes early', async () => {
  // 4 MB in one write: the pipe fills, the reader goes, so stdout needs a drain that never comes.
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { printOut } = await import(${JSON.stringify(OUTPUT)});
       await printOut(process.stdout, 'x'.repeat(4 << 20) + '\\n');
       process.stderr.write('ended\\n');`,
    ],
    { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.once('data', () => child.stdout.destroy());
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  assert.equal(code, 0, `no clean end (killed after 20 s when it hung): ${stderr}`);
  assert.equal(stderr, 'ended\n');
});
