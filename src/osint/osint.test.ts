/**
 * The component against a local HTTP server (never the internet) and its own tables on SQLite:
 * `start()` reads the feeds on a timer, a `fetch()` during a round shares it, a feed that is not a
 * feed and a document that fails are counted while the round goes on, `stop()` waits for the round.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import {
  createOsint,
  OsintConfig,
  osintMigrations,
  type ExtractedIndicator,
  type OsintTables,
} from './index.ts';

let base = '';
let feedReads = 0;
/** 「注意喚起」 and 「C2 サーバの通信先は evil-jp[.]com です。」 in Shift_JIS. */
const SJIS_TITLE = Buffer.from('928d88d38aab8b4e', 'hex');
const SJIS_SENTENCE = Buffer.from(
  '4332208354815b836f82cc92ca904d90e682cd206576696c2d6a705b2e5d636f6d2082c582b78142',
  'hex',
);
const server = createServer((request, response) => {
  if (request.url === '/feed.xml') {
    feedReads++;
    response.writeHead(200, { 'content-type': 'application/atom+xml' });
    return void response.end(
      `<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>注意喚起</title><link href="${base}/post.html"/>` +
        `<updated>2024-01-02T03:04:05Z</updated></entry><entry><title>broken</title><link href="${base}/big"/></entry></feed>`,
    );
  }
  if (request.url === '/post.html') {
    response.writeHead(200, { 'content-type': 'text/html' });
    return void response.end('<p>通信先：ｂａｄ－ｈｏｓｔ．ｎｅｔ、45.77.3.3:443</p>');
  }
  if (request.url === '/big') {
    response.writeHead(200, { 'content-type': 'text/plain' });
    return void response.end('x'.repeat(4096));
  }
  if (request.url === '/sjis.rdf') {
    // A Japanese site's RSS in Shift_JIS, declared only in its XML declaration.
    response.writeHead(200, { 'content-type': 'application/xml' });
    return void response.end(
      Buffer.concat([
        Buffer.from(`<?xml version="1.0" encoding="Shift_JIS"?><rss version="2.0"><channel><item><title>`),
        SJIS_TITLE,
        Buffer.from(`</title><link>${base}/sjis.html</link></item></channel></rss>`),
      ]),
    );
  }
  if (request.url === '/sjis.html') {
    response.writeHead(200, { 'content-type': 'text/html; charset=Shift_JIS' });
    return void response.end(Buffer.concat([Buffer.from('<p>'), SJIS_SENTENCE, Buffer.from('</p>')]));
  }
  if (request.url === '/not-a-feed') return void response.writeHead(200).end('<html>hello</html>');
  response.writeHead(404).end();
});
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Whether a promise has settled by the next turn of the event loop. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => setImmediate(() => resolve(false))),
  ]);
}

async function database(): Promise<Kysely<OsintTables>> {
  const db = new Kysely<OsintTables>({
    dialect: new SqliteDialect({ database: new SqliteDatabase(':memory:') }),
  });
  const migrated = await new Migrator({
    db,
    provider: { getMigrations: async () => osintMigrations },
  }).migrateToLatest();
  assert.equal(migrated.error, undefined);
  return db;
}

test('the first round at start, a fetch during it shares it, failures counted, duplicates not handed on again', async () => {
  const db = await database();
  const registry = new Registry();
  const handed: ExtractedIndicator[][] = [];
  const osint = createOsint(
    OsintConfig.parse({
      feeds: [
        { name: 'jp-cert', url: `${base}/feed.xml` },
        { name: 'broken', url: `${base}/not-a-feed` },
      ],
      intervalMs: 60_000,
      maxDocumentBytes: 1024,
    }),
    {
      logger: silentLogger(),
      registry,
      db,
      intake: async (_document, indicators) => void handed.push([...indicators]),
    },
  );
  try {
    const first = osint.firstRound();
    await osint.start();
    assert.equal(await settled(first), false, 'the first round is still reading');
    // The first round starts at once; a fetch meanwhile is the same round.
    const shared = await osint.fetch();
    assert.equal(feedReads, 1);
    assert.equal(await settled(first), true, 'the first round has ended');
    assert.equal(osint.stats().rounds, 1);
    assert.deepEqual(
      { ...shared },
      {
        feeds: 2,
        unchanged: 0,
        items: 2,
        documents: 1,
        duplicates: 0,
        indicators: 2,
        errors: 2,
        feedsFailed: 1,
      },
    );
    assert.deepEqual(
      handed[0]!.map((h) => `${h.type} ${h.value} ${h.port ?? ''}`),
      ['domain bad-host.net ', 'ipv4 45.77.3.3 443'],
    );
    const [document] = await osint.documents();
    assert.equal(document?.title, '注意喚起');
    assert.equal((await osint.indicatorsOf(document!.id)).length, 2);
    const metrics = await registry.getMetricsAsJSON();
    const value = (name: string, labels: Record<string, string>) =>
      metrics
        .find((m) => m.name === name)
        ?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
    assert.equal(value('tsunagi_osint_documents_total', { outcome: 'new' }), 1);
    assert.equal(value('tsunagi_osint_documents_total', { outcome: 'error' }), 1);
    assert.equal(value('tsunagi_osint_feed_errors_total', { feed: 'broken', reason: 'format' }), 1);
    assert.equal(value('tsunagi_osint_indicators_total', { type: 'ipv4' }), 1);
    // A second round finds the same content: a duplicate, nothing handed on again.
    const second = await osint.fetch();
    assert.equal(second.duplicates, 1);
    assert.equal(handed.length, 1);
  } finally {
    await osint.stop();
    await db.destroy();
  }
});

test('without a store, fetch refuses; without feeds or an interval, start does nothing', async () => {
  const osint = createOsint(OsintConfig.parse({ intervalMs: 1000 }), {
    logger: silentLogger(),
    registry: new Registry(),
  });
  await osint.start();
  assert.equal(await settled(osint.firstRound()), true, 'no round to wait for');
  await osint.stop();
  await assert.rejects(osint.fetch(), /without a store/);
  assert.deepEqual(
    osint.extract('hxxp://evil[.]com/a').map((h) => h.value),
    ['http://evil.com/a'],
  );
});

test('start reads the feeds again every intervalMs until stop', async () => {
  const db = await database();
  const osint = createOsint(
    OsintConfig.parse({ feeds: [{ name: 'jp-cert', url: `${base}/feed.xml` }], intervalMs: 50 }),
    {
      logger: silentLogger(),
      registry: new Registry(),
      db,
    },
  );
  const before = feedReads;
  try {
    await osint.start();
    for (let waited = 0; feedReads < before + 3 && waited < 10_000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(feedReads >= before + 3, `feed read ${feedReads - before} times`);
  } finally {
    await osint.stop();
  }
  const stopped = feedReads;
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(feedReads, stopped);
  await db.destroy();
});

test('a Shift_JIS feed and page: the title and the sentence around a hit read as Japanese', async () => {
  const db = await database();
  const handed: ExtractedIndicator[][] = [];
  const osint = createOsint(
    OsintConfig.parse({ feeds: [{ name: 'jp-site', url: `${base}/sjis.rdf` }], intervalMs: 0 }),
    {
      logger: silentLogger(),
      registry: new Registry(),
      db,
      intake: async (_d, i) => void handed.push([...i]),
    },
  );
  try {
    const round = await osint.fetch();
    assert.equal(round.errors, 0);
    const [document] = await osint.documents();
    assert.equal(document?.title, '注意喚起');
    assert.deepEqual(
      handed[0]!.map((h) => [h.value, h.context]),
      [['evil-jp.com', 'C2 サーバの通信先は evil-jp[.]com です。']],
    );
  } finally {
    await osint.stop();
    await db.destroy();
  }
});
