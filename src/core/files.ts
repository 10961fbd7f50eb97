/** Small file helpers shared by the components that keep state on disk. */
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import type { Logger } from './logger.ts';

/**
 * `mkdir -p`, one level at a time from the nearest directory that exists. Node's own recursive
 * mkdir never returns for a path under /proc (it retries the ENOENT the kernel gives there); this
 * throws that ENOENT instead, and ENOTDIR for a path through a file, as a one-level mkdir does.
 */
export function makeDirectories(path: string, mode = 0o777): void {
  const missing: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      if (statSync(dir).isDirectory()) break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    missing.push(dir);
    // The root exists; a relative path's first part is made under the working directory.
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, { mode });
    } catch (error) {
      // Made by someone else in the meantime is as good as made here.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(dir).isDirectory()) throw error;
    }
  }
}

/**
 * Writes `text` to `path` through a temporary file and a rename, so a crash mid-write leaves
 * the previous file whole. Creates the directory (0700) when missing. State is private: the
 * file is 0600 unless `mode` says otherwise.
 */
export function writeFileAtomic(path: string, text: string, options: { mode?: number } = {}): void {
  const mode = options.mode ?? 0o600;
  makeDirectories(dirname(path), 0o700);
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, text, { mode });
  // A temporary file left by a crash keeps its old mode through writeFileSync.
  chmodSync(temporary, mode);
  renameSync(temporary, path);
}

/**
 * Reads a JSON state file written by `writeFileAtomic` and checks it against `schema`. A missing
 * file is a first start (undefined, silently); an unreadable or invalid one is logged as `what`
 * starting afresh (undefined): state is an optimisation, never a reason not to start.
 */
export function readStateFile<T>(
  path: string,
  schema: z.ZodType<T>,
  log: Logger,
  what: string,
): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      log.warn({ err: error, file: path }, `${what} unreadable; starting afresh`);
    return undefined;
  }
  try {
    const result = schema.safeParse(JSON.parse(text));
    if (!result.success) throw new Error(result.error.issues[0]!.message);
    return result.data;
  } catch (error) {
    log.warn({ err: error, file: path }, `${what} is not valid; starting afresh`);
    return undefined;
  }
}
