/** What every CLI command receives: output streams, environment, and shared option helpers. */
import { existsSync, statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { UsageError } from '../core/index.ts';

export interface CliContext {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** True when stderr is a terminal: progress lines may redraw in place. */
  interactive: boolean;
}

export function defaultContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    interactive: Boolean(process.stderr.isTTY),
  };
}

/** The data directory a command works in: --data, else $TSUNAGI_DATA, else `.tsunagi`. */
export function dataDirOf(data: string | undefined, env: NodeJS.ProcessEnv): string {
  return data ?? env.TSUNAGI_DATA ?? '.tsunagi';
}

/**
 * Commands that read or change a hub's store refuse a data directory that is not there, so a
 * mistyped `--data` is an error instead of a new empty store. Only `start`, `demo` and
 * `org add` create one. With $TSUNAGI_DATABASE_URL the store is PostgreSQL and no directory
 * is needed.
 */
export function requireDataDir(data: string | undefined, env: NodeJS.ProcessEnv): void {
  if (env.TSUNAGI_DATABASE_URL) return;
  const dir = dataDirOf(data, env);
  if (!existsSync(dir))
    throw new UsageError(
      `no data directory ${dir} (tsunagi start or org add creates one; --data or $TSUNAGI_DATA names it)`,
    );
  if (!statSync(dir).isDirectory()) throw new UsageError(`data directory ${dir} is not a directory`);
}

/**
 * The line said before a command reads `-` from a terminal, or undefined when a pipe or file feeds
 * it: a person at a terminal would otherwise see a command that waits without a word.
 */
export function stdinHint(
  isTerminal: boolean,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  if (!isTerminal) return undefined;
  return `tsunagi: reading from standard input; end with ${platform === 'win32' ? 'Ctrl-Z and Enter' : 'Ctrl-D'}\n`;
}

/** Standard input for a command given `-`, with stdinHint said first on stderr when it is a terminal. */
export function standardInput(ctx: CliContext, stdin: NodeJS.ReadStream = process.stdin): NodeJS.ReadStream {
  const hint = stdinHint(Boolean(stdin.isTTY));
  if (hint) ctx.stderr.write(hint);
  return stdin;
}
