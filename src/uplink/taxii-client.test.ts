/**
 * The TAXII client against hostile and broken servers (a tiny fastify app on 127.0.0.1): garbage,
 * wrong schemas, huge bodies, slow answers, endless pagination, redirects and foreign API roots
 * each end in a counted TaxiiClientError of the right kind, quickly, without a crash or a hang.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance, type RouteHandlerMethod } from 'fastify';
import { Registry } from 'prom-client';
import { createTaxiiClient, TaxiiClientError, type TaxiiClientConfigInput } from './index.ts';

const TAXII = 'application/taxii+json;version=2.1';
const indicator = (n: number) => ({
  type: 'indicator',
  spec_version: '2.1',
  id: `indicator--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  created: '2026-01-01T00:00:00.000Z',
  modified: '2026-01-01T00:00:00.000Z',
  pattern: `[ipv4-addr:value = '192.0.2.${n % 250}']`,
  pattern_type: 'stix',
  valid_from: '2026-01-01T00:00:00.000Z',
});

let app: FastifyInstance;
let base: string;
const seenAuth: string[] = [];
before(async () => {
  app = Fastify();
  const root = (path: string, handler: RouteHandlerMethod) =>
    app.get(`/${path}/collections/c/objects/`, handler);
  app.addHook('onRequest', async (request) => {
    seenAuth.push(String(request.headers.authorization ?? ''));
  });
  app.get('/taxii2/', async (_req, reply) =>
    reply.header('content-type', TAXII).send({ title: 't', default: '/good/', api_roots: ['/good/'] }),
  );
  root('good', async (request, reply) => {
    // Pages of at most two (fewer when limit says so) by a numeric cursor, five objects in all, the last page without `more`.
    const query = request.query as { next?: string; limit?: string };
    const start = Number(query.next ?? 0);
    const end = start + Math.min(2, Number(query.limit ?? 2));
    const objects = [1, 2, 3, 4, 5].slice(start, end).map(indicator);
    const more = end < 5;
    return reply
      .header('content-type', TAXII)
      .header('x-taxii-date-added-last', `2026-01-01T00:00:0${start}.000Z`)
      .send({ more, ...(more ? { next: String(end) } : {}), objects });
  });
  root('mixed', async (_req, reply) =>
    reply
      .header('content-type', TAXII)
      .send({ more: false, objects: [indicator(1), { type: 'indicator' }, 42, { id: 'x', type: 'y' }] }),
  );
  root('garbage', async (_req, reply) => reply.header('content-type', TAXII).send('{"more": tru'));
  root('schema', async (_req, reply) =>
    reply.header('content-type', TAXII).send({ more: 'yes', objects: 'none' }),
  );
  root('html', async (_req, reply) => reply.header('content-type', 'text/html').send('<h1>hi</h1>'));
  root('huge', async (_req, reply) =>
    reply.header('content-type', TAXII).send(`{"objects":[${'"x",'.repeat(200_000)}"x"]}`),
  );
  root('huge-chunked', async (_req, reply) => {
    // No content-length: the cap has to hold while reading.
    const { Readable } = await import('node:stream');
    let sent = 0;
    const stream = new Readable({
      read() {
        sent++;
        this.push(sent > 10_000 ? null : Buffer.alloc(64 * 1024, 0x20));
      },
    });
    return reply.header('content-type', TAXII).send(stream);
  });
  root('slow', async () => new Promise(() => {})); // never answers
  root('drip', async (_req, reply) => {
    const { PassThrough } = await import('node:stream');
    const body = new PassThrough();
    body.write('{"more":false,');
    const timer = setInterval(() => body.write(' '), 50);
    body.on('close', () => clearInterval(timer));
    return reply.header('content-type', TAXII).send(body);
  });
  root('loop', async (_req, reply) =>
    reply.header('content-type', TAXII).send({ more: true, next: 'same', objects: [indicator(1)] }),
  );
  root('nocursor', async (_req, reply) =>
    reply
      .header('content-type', TAXII)
      .header('x-taxii-date-added-last', '2026-01-01T00:00:00.000Z')
      .send({ more: true, objects: [indicator(1)] }),
  );
  root('error', async (_req, reply) =>
    reply
      .code(403)
      .header('content-type', TAXII)
      .send({ title: 'Forbidden', description: 'no reading here', http_status: '403' }),
  );
  root('redirect', async (_req, reply) => reply.redirect('http://127.0.0.2:1/elsewhere/'));
  app.get('/foreign/taxii2/', async (_req, reply) =>
    reply.header('content-type', TAXII).send({ title: 't', default: 'http://127.0.0.2:9/steal/' }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
after(async () => {
  await app.close();
});

const client = (
  apiRoot: string | undefined,
  extra: Partial<TaxiiClientConfigInput> = {},
  registry?: Registry,
) =>
  createTaxiiClient(
    {
      url: base,
      ...(apiRoot ? { apiRoot } : {}),
      collection: 'c',
      token: 'secret',
      timeoutMs: 500,
      ...extra,
    },
    { registry, label: 'test' },
  );

async function failsWith(promise: Promise<unknown>, kind: string, within = 2000): Promise<TaxiiClientError> {
  const started = Date.now();
  const error = await promise.then(
    () => assert.fail(`expected a ${kind} error`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TaxiiClientError, String(error));
  assert.equal(error.kind, kind, error.message);
  assert.ok(Date.now() - started < within, `took ${Date.now() - started} ms`);
  return error;
}

describe('TAXII client against hostile servers', () => {
  test('a well-behaved server: discovery, next cursors to the end, the last date, the bearer token', async () => {
    const c = client(undefined, { pageSize: 2 });
    assert.equal(await c.apiRootUrl(), `${base}/good/`);
    const result = await c.getObjects({ types: ['indicator'] });
    assert.deepEqual(
      result.objects.map((o) => o.id.slice(-1)),
      ['1', '2', '3', '4', '5'],
    );
    assert.deepEqual(
      [result.pages, result.truncated, result.dateAddedLast],
      [3, false, '2026-01-01T00:00:04.000Z'],
    );
    assert.ok(seenAuth.includes('Bearer secret'));
  });

  test('maxObjects stops a poll early and keeps the watermark where the taken objects end', async () => {
    const result = await client('good', { pageSize: 2, maxObjects: 3 }).getObjects();
    assert.equal(result.objects.length, 3);
    assert.equal(result.truncated, true);
    assert.equal(result.dateAddedLast, '2026-01-01T00:00:02.000Z');
  });

  test('invalid objects in a page are dropped and counted; the valid ones come through', async () => {
    const registry = new Registry();
    const result = await client('mixed', {}, registry).getObjects();
    assert.deepEqual([result.objects.length, result.invalid], [1, 3]);
    assert.match(
      await registry.metrics(),
      /tsunagi_taxii_client_errors_total\{client="test",kind="invalid_object"\} 3/,
    );
  });

  test('garbage, wrong schema and wrong media type are named errors, counted', async () => {
    const registry = new Registry();
    await failsWith(client('garbage', {}, registry).getObjects(), 'json');
    await failsWith(client('schema', {}, registry).getObjects(), 'schema');
    await failsWith(client('html', {}, registry).getObjects(), 'media_type');
    const text = await registry.metrics();
    for (const kind of ['json', 'schema', 'media_type'])
      assert.match(text, new RegExp(`tsunagi_taxii_client_errors_total\\{client="test",kind="${kind}"\\} 1`));
  });

  test('huge bodies are cut off at the cap, declared or streamed', async () => {
    await failsWith(client('huge', { maxBodyBytes: 100_000 }).getObjects(), 'too_large');
    const e = await failsWith(
      client('huge-chunked', { maxBodyBytes: 1_000_000, timeoutMs: 5000 }).getObjects(),
      'too_large',
    );
    assert.match(e.message, /1000000-byte limit/);
  });

  test('a server that never answers, or drips its body, times out', async () => {
    await failsWith(client('slow', { timeoutMs: 300 }).getObjects(), 'timeout', 1500);
    await failsWith(client('drip', { timeoutMs: 300 }).getObjects(), 'timeout', 1500);
  });

  test('endless pagination is stopped: a repeated cursor, more without any way on, the page cap', async () => {
    await failsWith(client('loop').getObjects(), 'pagination');
    // Without a cursor, paging by date must move forward; the same date again is a loop.
    await failsWith(client('nocursor').getObjects(), 'pagination');
  });

  test('TAXII error bodies are reported; 4xx is not retriable, 5xx and timeouts are', async () => {
    const e = await failsWith(client('error').getObjects(), 'http');
    assert.equal(e.status, 403);
    assert.match(e.message, /Forbidden \(no reading here\)/);
    assert.equal(e.retriable, false);
    assert.equal(new TaxiiClientError('http', 'x', 503).retriable, true);
    assert.equal(new TaxiiClientError('timeout', 'x').retriable, true);
  });

  test('the token never follows a redirect or a foreign API root', async () => {
    await failsWith(client('redirect').getObjects(), 'network');
    const foreign = createTaxiiClient({ url: `${base}/foreign/taxii2/`, collection: 'c', token: 'secret' });
    await failsWith(foreign.getObjects(), 'config');
    assert.throws(
      () => createTaxiiClient({ url: base, apiRoot: 'http://127.0.0.2/x/', collection: 'c', token: 's' }),
      /not on/,
    );
  });

  test('configuration is checked: one kind of credentials, an http(s) URL', () => {
    assert.throws(() => createTaxiiClient({ url: 'ftp://x/', collection: 'c' }));
    assert.throws(() =>
      createTaxiiClient({ url: base, collection: 'c', token: 't', username: 'u', password: 'p' }),
    );
    assert.throws(() => createTaxiiClient({ url: base, collection: 'c', username: 'u' }));
  });

  test('a status that stays pending is given up after statusTimeoutMs', async () => {
    const pending = Fastify();
    pending.addContentTypeParser('application/taxii+json', { parseAs: 'string' }, (_r, b, done) =>
      done(null, b),
    );
    const status = {
      id: 's1',
      status: 'pending',
      total_count: 1,
      success_count: 0,
      failure_count: 0,
      pending_count: 1,
    };
    pending.post('/r/collections/c/objects/', async (_req, reply) =>
      reply.code(202).header('content-type', TAXII).send(status),
    );
    let polls = 0;
    pending.get('/r/status/s1/', async (_req, reply) => {
      polls++;
      return reply.header('content-type', TAXII).send(status);
    });
    await pending.listen({ host: '127.0.0.1', port: 0 });
    try {
      const c = createTaxiiClient({
        url: `http://127.0.0.1:${(pending.server.address() as { port: number }).port}`,
        apiRoot: 'r',
        collection: 'c',
        token: 't',
        statusPollMs: 20,
        statusTimeoutMs: 200,
      });
      const e = await failsWith(c.postObjects([indicator(1)]), 'status');
      assert.equal(e.retriable, true);
      assert.ok(polls >= 3, `${polls} status polls`);
    } finally {
      await pending.close();
    }
  });
});

describe('TAXII client over a fetch that misbehaves', () => {
  test(
    'a body stream that the abort never errors still times out (nodejs/undici#4089)',
    { timeout: 10_000 },
    async () => {
      // undici now and then leaves a body read waiting after its fetch was aborted; this fetch
      // does so every time: headers at once, then a body that neither ends nor errors.
      let pulls = 0;
      const stalledFetch: typeof fetch = async () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull: (controller) => {
              if (pulls++ === 0) controller.enqueue(new TextEncoder().encode('{"more":false,'));
              return new Promise(() => {});
            },
          }),
          { headers: { 'content-type': TAXII } },
        );
      const registry = new Registry();
      const stalled = createTaxiiClient(
        { url: base, apiRoot: '/good/', collection: 'c', timeoutMs: 300 },
        { registry, label: 'test', fetch: stalledFetch },
      );
      await failsWith(stalled.getObjects(), 'timeout', 1500);
      const errors = await registry.getSingleMetricAsString('tsunagi_taxii_client_errors_total');
      assert.match(errors, /kind="timeout"\} 1/);
    },
  );
});
