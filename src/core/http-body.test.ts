import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { BodyTooLargeError, readBody } from './http-body.ts';

/** A body that hands out `first` and then neither ends nor errors, whatever is aborted. */
function stalledBody(first: string): ReadableStream<Uint8Array> {
  let pulls = 0;
  return new ReadableStream<Uint8Array>({
    pull: (controller) => {
      if (pulls++ === 0) controller.enqueue(new TextEncoder().encode(first));
      return new Promise(() => {});
    },
  });
}

let server: Server;
let base: string;
before(async () => {
  server = createServer((request, response) => {
    if (request.url === '/ten') {
      response.end('0123456789');
    } else if (request.url === '/drip') {
      // Headers and one byte at once, then a byte every 50 ms for as long as the client listens.
      response.writeHead(200);
      response.write('x');
      const timer = setInterval(() => response.write('x'), 50);
      response.on('close', () => clearInterval(timer));
    } else {
      // Chunked, far longer than any cap below.
      for (let i = 0; i < 64; i++) response.write(Buffer.alloc(16 * 1024, 0x61));
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

describe('readBody', () => {
  test('a body within the cap is read whole, up to exactly the cap', async () => {
    for (const overflow of ['error', 'truncate'] as const) {
      const { bytes, truncated } = await readBody(await fetch(`${base}/ten`), {
        maxBytes: 10,
        overflow,
      });
      assert.equal(bytes.toString(), '0123456789');
      assert.equal(truncated, false);
    }
    assert.deepEqual(await readBody(new Response(null), { maxBytes: 1, overflow: 'error' }), {
      bytes: Buffer.alloc(0),
      truncated: false,
    });
  });

  test('a Content-Length over the cap is refused before reading, unless truncating', async () => {
    await assert.rejects(
      readBody(await fetch(`${base}/ten`), { maxBytes: 5, overflow: 'error' }),
      (error: unknown) => error instanceof BodyTooLargeError && error.declared === 10,
    );
    const { bytes, truncated } = await readBody(await fetch(`${base}/ten`), {
      maxBytes: 5,
      overflow: 'truncate',
    });
    assert.equal(bytes.toString(), '01234');
    assert.equal(truncated, true);
  });

  test('past the cap: an error, or the first maxBytes kept and the rest never read', async () => {
    await assert.rejects(
      readBody(await fetch(`${base}/big`), { maxBytes: 100_000, overflow: 'error' }),
      (error: unknown) => error instanceof BodyTooLargeError && error.maxBytes === 100_000,
    );
    const { bytes, truncated } = await readBody(await fetch(`${base}/big`), {
      maxBytes: 100_000,
      overflow: 'truncate',
    });
    assert.equal(bytes.length, 100_000);
    assert.equal(truncated, true);
    assert.ok(bytes.every((b) => b === 0x61));
  });

  test('a server that drips past the deadline: the read ends with the signal', async () => {
    const signal = AbortSignal.timeout(200);
    const started = Date.now();
    const response = await fetch(`${base}/drip`, { signal });
    await assert.rejects(readBody(response, { maxBytes: 1 << 20, overflow: 'error', signal }), {
      name: 'TimeoutError',
    });
    assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
  });

  test(
    'a body stream that the abort never errors still ends with the signal (nodejs/undici#4089)',
    {
      timeout: 10_000,
    },
    async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('deadline')), 100);
      await assert.rejects(
        readBody(new Response(stalledBody('{')), {
          maxBytes: 100,
          overflow: 'truncate',
          signal: controller.signal,
        }),
        /deadline/,
      );
      // An already-aborted signal does not read at all.
      await assert.rejects(
        readBody(new Response(stalledBody('{')), {
          maxBytes: 100,
          overflow: 'error',
          signal: AbortSignal.abort(new Error('gone')),
        }),
        /gone/,
      );
    },
  );
});
