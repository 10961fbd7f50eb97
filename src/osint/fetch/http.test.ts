/** httpGet against a local server that drops a connection the way an idle keep-alive close does. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { FetchError, httpGet } from './http.ts';

const options = { timeoutMs: 5000, maxBytes: 1 << 20, userAgent: 'test' };

test('a connection the server drops before answering is tried once more; one that always drops fails in words', async () => {
  let requests = 0;
  let always = false;
  const server = createServer((request, response) => {
    requests += 1;
    if (always || requests === 1) return void request.socket.destroy();
    response.writeHead(200, { 'content-type': 'application/rss+xml' }).end('<rss/>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.xml`;
  try {
    const got = await httpGet(url, options);
    assert.equal(got.status, 200);
    assert.equal(Buffer.from(got.bytes).toString(), '<rss/>');
    assert.equal(requests, 2);

    always = true;
    requests = 0;
    await assert.rejects(httpGet(url, options), (error: Error) => {
      assert.ok(error instanceof FetchError);
      assert.equal(error.message, `${url}: connection closed by the server`);
      return true;
    });
    assert.equal(requests, 2, 'one retry, not a loop');
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
