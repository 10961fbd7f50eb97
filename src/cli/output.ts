/**
 * Where a command's output goes. Buffered writes to stdout that respect back-pressure and end
 * quietly when the reader goes away (`tsunagi flows decode ... | head` must not print an EPIPE
 * stack); and the one decision on output paths named by flags (`--out`, `--out-dir` ...).
 */
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { InvalidArgumentError, Option } from 'commander';

export interface Output {
  write(text: string): void;
  end(): Promise<void>;
}

const CHUNK = 1 << 16;

export function writeOut(stream: Writable): Output {
  let pending = '';
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') closed = true;
    else throw error;
  });
  const push = () => {
    if (!closed && pending.length > 0) stream.write(pending);
    pending = '';
  };
  return {
    write(text: string) {
      pending += text;
      if (pending.length >= CHUNK) push();
    },
    async end() {
      push();
      if (closed || stream === process.stdout) {
        // process.stdout is never ended; wait for what was written to drain, or for the reader
        // to go away (EPIPE), after which no drain ever comes: waiting for drain alone hung
        // `tsunagi web export ... | head` for good.
        if (!closed && stream.writableNeedDrain)
          await new Promise<void>((resolve) => {
            const done = () => {
              stream.off('drain', done);
              stream.off('error', done);
              stream.off('close', done);
              resolve();
            };
            stream.once('drain', done);
            stream.once('error', done);
            stream.once('close', done);
          });
        return;
      }
      await new Promise<void>((resolve) => stream.end(resolve));
    },
  };
}

/**
 * `out` with a header that goes out with the first write, so a command that refuses its input
 * before any row has written nothing; `writeHeader()` sends it alone for a well-formed empty
 * result (and does nothing once a row went out).
 */
export function withHeader(out: Output, header: string): Output & { writeHeader(): void } {
  let pending = header;
  return {
    write(text: string) {
      out.write(pending + text);
      pending = '';
    },
    writeHeader() {
      if (pending === '') return;
      out.write(pending);
      pending = '';
    },
    end: () => out.end(),
  };
}

/** Writes one finished text (an export, a report) to stdout and waits for it, quiet if the reader went away. */
export async function printOut(stream: Writable, text: string): Promise<void> {
  const out = writeOut(stream);
  out.write(text);
  await out.end();
}

/** What is at `path`, or undefined when nothing is (no entry, or a path through a regular file). */
function entryAt(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new InvalidArgumentError(`cannot look at ${path} (${code}).`);
  }
}

/**
 * Why a command may not write `path` (a file, or a directory it makes), or undefined when it may.
 * The directory it goes in must be there and writable already, as for a shell's `>`: nothing is
 * created on the way, so a mistyped path (one under /proc included) is refused before any work.
 * `-` (stdout, for the commands that take it) is left to the command.
 */
export function outputRefusal(path: string, kind: 'file' | 'directory'): string | undefined {
  if (path === '') return 'name the path to write';
  if (path === '-' && kind === 'file') return undefined;
  const entry = entryAt(path);
  if (entry && kind === 'file' && entry.isDirectory())
    return `${path} is a directory; name the file to write`;
  if (entry && kind === 'directory' && !entry.isDirectory()) return `${path} is not a directory`;
  const parent = dirname(path);
  const parentEntry = entryAt(parent);
  if (!parentEntry) return `no directory ${parent}`;
  if (!parentEntry.isDirectory()) return `${parent} is not a directory`;
  try {
    accessSync(entry?.isDirectory() ? path : parent, constants.W_OK);
  } catch {
    return `cannot write in ${entry?.isDirectory() ? path : parent}`;
  }
  return undefined;
}

const outputOptions = new WeakSet<Option>();

function outputOption(flags: string, description: string, kind: 'file' | 'directory'): Option {
  const option = new Option(flags, description).argParser((path: string) => {
    const refusal = outputRefusal(path, kind);
    if (refusal) throw new InvalidArgumentError(`${refusal}.`);
    return path;
  });
  outputOptions.add(option);
  return option;
}

/** A flag naming a file the command writes, checked by `outputRefusal` as it is parsed. */
export const outputFileOption = (flags: string, description: string): Option =>
  outputOption(flags, description, 'file');

/**
 * A flag naming a directory the command writes files in (its parent must be there; the command
 * makes it with core's makeDirectories, which then makes one level).
 */
export const outputDirectoryOption = (flags: string, description: string): Option =>
  outputOption(flags, description, 'directory');

/** True for the options made by outputFileOption and outputDirectoryOption. */
export const isOutputOption = (option: Option): boolean => outputOptions.has(option);
