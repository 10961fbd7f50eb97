/**
 * Kit paths of the campaign hosts, read from the store (SQLite here; PostgreSQL when
 * TSUNAGI_TEST_DATABASE_URL is set): every stored URL of the asked hosts, paged and a few hosts a
 * query, none of other hosts; templates without repeats, capped per host.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { SqliteDialect, type Dialect } from 'kysely';
import { Registry } from 'prom-client';
import { silentLogger } from '../../core/index.ts';
import { createWeb, normaliseUrl, WebConfig } from '../index.ts';
import { readHostUrls } from '../read.ts';
import { inPostgresSchema, migratedWebDb, POSTGRES_SKIP } from '../testing.ts';
import type { CampaignHost } from './cluster.ts';
import { withKitPaths } from './hosts.ts';

const STORED = [
  'https://a-qxvb.top/jkuos/',
  'https://a-qxvb.top/jkuos/?id=1',
  'https://a-qxvb.top/jkuos/?id=2',
  'https://a-qxvb.top/login.php',
  'https://a-qxvb.top/saxaw/',
  'https://b-qxvb.top/jkuos/',
  'https://c-qxvb.top/mgap/?matsui=1',
  'https://not-asked.top/jkuos/',
];

const campaignHost = (name: string): CampaignHost => {
  const n = normaliseUrl(name);
  return {
    host: n.host,
    registrableDomain: n.registrableDomain,
    publicSuffix: n.publicSuffix,
    privateSuffix: n.privateSuffix,
    brand: null,
    firstSeen: '2025-09-01T00:00:00.000Z',
    lastSeen: '2025-09-01T00:00:00.000Z',
  };
};

async function hostUrlsAndKitPaths(dialect: Dialect, schema?: string) {
  const db = await migratedWebDb(dialect, schema);
  try {
    const web = createWeb(WebConfig.parse({}), { logger: silentLogger(), registry: new Registry(), db });
    await web.ingest(
      STORED.map((url) => ({ url, seenAt: '2025-09-01T00:00:00.000Z' })),
      'test',
    );
    const asked = ['c-qxvb.top', 'a-qxvb.top', 'b-qxvb.top', 'a-qxvb.top'];
    const read = [];
    // A page of two rows, two hosts a query: the pages and the host chunks both turn over.
    for await (const row of readHostUrls(db, asked, { pageSize: 2, hostsPerQuery: 2 })) read.push(row.url);
    assert.deepEqual(
      read,
      STORED.filter((url) => !url.includes('not-asked')),
    );
    const all = [];
    for await (const row of web.hostUrls(asked)) all.push(row);
    assert.equal(all.length, 7);

    const hosts = await withKitPaths(
      ['a-qxvb.top', 'b-qxvb.top', 'c-qxvb.top', 'nothing-stored.top'].map(campaignHost),
      (names) => web.hostUrls(names),
      2,
    );
    assert.deepEqual(
      hosts.map((h) => [h.host, h.kitPaths]),
      [
        // /jkuos/?id=1 and ?id=2 are one template; /login.php is plain words; the cap of 2 drops /saxaw/.
        ['a-qxvb.top', ['/jkuos/', '/jkuos/?id=*']],
        ['b-qxvb.top', ['/jkuos/']],
        ['c-qxvb.top', ['/mgap/?matsui=*']],
        ['nothing-stored.top', undefined],
      ],
    );
  } finally {
    await db.destroy();
  }
}

test('kit paths of the asked hosts come from their stored URLs, paged, without repeats, capped (SQLite)', async () => {
  await hostUrlsAndKitPaths(new SqliteDialect({ database: new SqliteDatabase(':memory:') }));
});

test('the same on PostgreSQL', { skip: POSTGRES_SKIP }, async () => {
  await inPostgresSchema('kit_hosts', (dialect, schema) => hostUrlsAndKitPaths(dialect, schema));
});
