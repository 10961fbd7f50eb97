/**
 * Test helper: the `tsunagi` command run in-process through main(), its stdout and stderr
 * captured as text. A sibling of testing.ts rather than part of it, so that benchmarks which only
 * want the room list from testing.ts do not load every command.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { CliContext } from './context.ts';
import { main } from './main.ts';

export interface CliCapture {
  ctx: CliContext;
  stdout(): string;
  stderr(): string;
}

/**
 * A context whose streams append synchronously, so the text is complete when main() returns.
 * `env` is the whole environment the command sees.
 */
export function captureCli(env: NodeJS.ProcessEnv = {}): CliCapture {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  return {
    // By default no TSUNAGI_* variables (a database URL would bypass the data directory rule); no terminal.
    ctx: {
      stdout: sink((t) => (stdout += t)),
      stderr: sink((t) => (stderr += t)),
      env,
      interactive: false,
    },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

export async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureCli();
  const code = await main(argv, io.ctx);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

/** `tsunagi export c2 --format csv` of a data directory, in-process: each server's confidence by `ip,port,proto`. */
export async function exportedC2(data: string): Promise<Map<string, number>> {
  const exported = await runCli(['export', 'c2', '--format', 'csv', '--data', data]);
  assert.equal(exported.code, 0, exported.stderr);
  const rows = new Map<string, number>();
  for (const line of exported.stdout.trim().split('\n')) {
    const [ip, port, proto, confidence] = line.split(',');
    if (!ip || ip.startsWith('#') || ip === 'dst_ip' || ip === 'ip') continue;
    rows.set(`${ip},${port},${proto}`, Number(confidence));
  }
  return rows;
}
