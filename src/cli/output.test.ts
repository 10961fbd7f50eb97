/**
 * writeOut on a real pipe whose reader goes away, as `tsunagi web export ... | head` does; and the
 * one check on output paths, walked over every command's output flags.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Option } from 'commander';
import { allCommands, commandPath } from './contract.ts';
import { buildProgram } from './main.ts';
import { isOutputOption } from './output.ts';
import { captureCli, runCli } from './test-cli.ts';

const OUTPUT = fileURLToPath(new URL('./output.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));

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

describe('output paths named by flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-output-'));
  const data = join(dir, 'data');
  const regularFile = join(dir, 'a-file');
  before(async () => {
    writeFileSync(regularFile, 'x\n');
    mkdirSync(data);
    assert.equal((await runCli(['org', 'add', 'ISP', '--role', 'isp', '--data', data])).code, 0);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Every output option of every command, as [the command as typed, the option]. */
  function outputOptions(): [string[], Option][] {
    const program = buildProgram(captureCli().ctx);
    return allCommands(program).flatMap((command) =>
      command.options
        .filter(isOutputOption)
        .map((option): [string[], Option] => [commandPath(command).split(' ').slice(1), option]),
    );
  }

  test('every flag that names an output goes through the one check', () => {
    const program = buildProgram(captureCli().ctx);
    const unchecked = allCommands(program).flatMap((command) =>
      command.options
        .filter((o) => /^--out\b|-out$|^--pdf$|^--letters$/.test(o.long ?? '') && !isOutputOption(o))
        .map((o) => `${commandPath(command)} ${o.long}`),
    );
    assert.deepEqual(unchecked, [], 'declare these with outputFileOption or outputDirectoryOption');
    assert.ok(outputOptions().length >= 15);
  });

  test('an output whose directory is missing or not one is refused as the flag is read, in one line, exit 2', async () => {
    const bad = [join('/proc', 'no-such-dir', 'out.txt'), join(regularFile, 'out.txt')];
    for (const [command, option] of outputOptions()) {
      for (const path of bad) {
        const result = await runCli([...command, option.long!, path]);
        const line = `${command.join(' ')} ${option.long} ${path}`;
        assert.equal(result.code, 2, `${line}\n${result.stderr}`);
        assert.equal(result.stderr.split('\n').length, 2, `${line}: one line\n${result.stderr}`);
        assert.match(result.stderr, new RegExp(`^tsunagi: option '[^']*${option.long} <\\w+>' argument`));
        assert.match(
          result.stderr,
          / is invalid\. (no directory \/proc\/no-such-dir|.*a-file is not a directory)\./,
        );
      }
    }
  });

  test('a directory named where a file is written is refused, and a file where a directory is', async () => {
    for (const [command, option] of outputOptions()) {
      const directory = option.flags.endsWith('<dir>');
      const result = await runCli([...command, option.long!, directory ? regularFile : dir]);
      assert.equal(result.code, 2, `${command.join(' ')} ${option.long}\n${result.stderr}`);
      assert.match(
        result.stderr,
        directory ? /a-file is not a directory\./ : /is a directory; name the file to write\./,
      );
    }
  });

  /** The real command in its own process, killed if it outlives `ms` (a hang is what is tested). */
  function runBin(args: string[], ms = 30_000) {
    return spawnSync(BIN, args, { encoding: 'utf8', timeout: ms, killSignal: 'SIGKILL' });
  }

  test(
    'report daily --out under /proc ends at once with exit 2 (Node recursive mkdir never returned there)',
    { skip: !existsSync('/proc/self') && 'needs /proc' },
    () => {
      const result = runBin(['report', 'daily', '--out', '/proc/no-such-dir/r.html', '--data', data]);
      assert.equal(result.signal, null, 'killed: it hung');
      assert.equal(result.status, 2, result.stderr);
      assert.match(
        result.stderr,
        /^tsunagi: option '-o, --out <file>' argument .* is invalid\. no directory \/proc\/no-such-dir\. /,
      );
      assert.equal(result.stderr.split('\n').length, 2, result.stderr);
    },
  );

  test(
    'export misp --out-dir that cannot be made under /proc ends at once with exit 2',
    { skip: !existsSync('/proc/self') && 'needs /proc' },
    () => {
      const result = runBin(['export', 'misp', '--out-dir', '/proc/no-such-feed', '--data', data]);
      assert.equal(result.signal, null, 'killed: it hung');
      assert.equal(result.status, 2, result.stderr);
      assert.equal(result.stderr, 'tsunagi: cannot open /proc/no-such-feed: no such file or directory\n');
    },
  );
});
