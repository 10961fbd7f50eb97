/**
 * Buffered writes to stdout that respect back-pressure and end quietly when the reader goes
 * away (`tsunagi flows decode ... | head` must not print an EPIPE stack).
 */
import type { Writable } from 'node:stream';

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
