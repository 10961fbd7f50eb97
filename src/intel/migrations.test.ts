/** Intel's tables: their constraints, and the tallies migration's backfill of an older store. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { migrationProvider, type Database } from '../store/index.ts';
import { testEngines } from '../store/testing.ts';
import { intelMigrations } from './index.ts';

for (const engine of testEngines([intelMigrations])) {
  describe(`intel's tables on ${engine.name}`, { skip: engine.skip }, () => {
    test('enforces the indicator key and cascades sightings', async () => {
      const store = await engine.open();
      try {
        const row = {
          id: 'i1',
          kind: 'c2',
          value: '192.0.2.1',
          port: 443,
          proto: 'tcp',
          family: 'mirai',
          confidence: 80,
          tier: 'council',
          tlp: 'amber',
          asn: 64500,
          attributes: '{}',
          first_seen: '2026-01-01T00:00:00.000Z',
          last_seen: '2026-01-01T00:00:00.000Z',
          expires_at: '2026-02-01T00:00:00.000Z',
          withdrawn_at: null,
          withdrawn_reason: null,
          created_at: '2026-01-01T00:00:00.000Z',
          modified_at: '2026-01-01T00:00:00.000Z',
        };
        await store.db.insertInto('indicators').values(row).execute();
        await assert.rejects(
          store.db
            .insertInto('indicators')
            .values({ ...row, id: 'i2' })
            .execute(),
        );
        await store.db
          .insertInto('sightings')
          .values({
            id: 's1',
            indicator_id: 'i1',
            source: 'isp-a',
            confidence: 80,
            count: 1,
            first_seen: row.first_seen,
            last_seen: row.last_seen,
          })
          .execute();
        const got = await store.db.selectFrom('indicators').selectAll().executeTakeFirstOrThrow();
        assert.equal(got.asn, 64500);
        assert.equal(typeof got.asn, 'number');
        await store.db.deleteFrom('indicators').where('id', '=', 'i1').execute();
        assert.equal((await store.db.selectFrom('sightings').selectAll().execute()).length, 0);
      } finally {
        await store.close();
      }
    });

    test('0014 narrows to council what only OSINT documents name at tier public, and nothing else', async () => {
      const store = await engine.open();
      try {
        const at = '2026-01-01T00:00:00.000Z';
        const indicator = (id: string, value: string, tier: string) => ({
          id,
          kind: 'c2',
          value,
          port: 443,
          proto: '',
          family: '',
          confidence: 20,
          tier,
          tlp: 'clear',
          asn: null,
          attributes: '{}',
          first_seen: at,
          last_seen: at,
          expires_at: '2099-01-01T00:00:00.000Z',
          withdrawn_at: null,
          withdrawn_reason: null,
          created_at: at,
          modified_at: at,
        });
        const sighting = (indicatorId: string, source: string) => ({
          id: `${indicatorId}-${source}`,
          indicator_id: indicatorId,
          source,
          confidence: 20,
          count: 1,
          first_seen: at,
          last_seen: at,
        });
        await store.db
          .insertInto('indicators')
          .values([
            indicator('named', '198.51.100.1', 'public'),
            indicator('named-twice', '198.51.100.2', 'public'),
            indicator('also-listed', '198.51.100.3', 'public'),
            indicator('listed', '198.51.100.4', 'public'),
            indicator('council', '198.51.100.5', 'council'),
          ])
          .execute();
        await store.db
          .insertInto('sightings')
          .values([
            sighting('named', 'osint:vendor'),
            sighting('named-twice', 'osint:vendor'),
            sighting('named-twice', 'osint:other'),
            sighting('also-listed', 'osint:vendor'),
            sighting('also-listed', 'web:jpcert'),
            sighting('listed', 'web:jpcert'),
            sighting('council', 'osint:vendor'),
          ])
          .execute();
        await intelMigrations(engine.name)['0014_intel_001_osint_mentions_below_public_notice']!.up(store.db);
        const rows = await store.db
          .selectFrom('indicators')
          .select(['id', 'tier', 'modified_at'])
          .orderBy('id')
          .execute();
        assert.deepEqual(
          rows.map((r) => [r.id, r.tier, r.modified_at > at]),
          [
            ['also-listed', 'public', false],
            ['council', 'council', false],
            ['listed', 'public', false],
            ['named', 'council', true],
            ['named-twice', 'council', true],
          ],
        );
        const tallied = await store.db
          .selectFrom('indicator_created_tally')
          .select(['tier', 'n'])
          .orderBy('tier')
          .execute();
        assert.deepEqual(
          tallied.map((r) => [r.tier, Number(r.n)]),
          [
            ['council', 3],
            ['public', 2],
          ],
        );
      } finally {
        await store.close();
      }
    });
  });
}

for (const engine of testEngines([intelMigrations])) {
  describe(`intel's documents of sightings on ${engine.name}`, { skip: engine.skip }, () => {
    test('0015 carries the document an OSINT indicator held onto its OSINT sighting seen last', async () => {
      const store = await engine.open();
      try {
        // As a store of an earlier version: no table of documents yet.
        await store.db.schema.dropTable('sighting_documents').execute();
        const indicator = (id: string, attributes: Record<string, string>) => ({
          id,
          kind: 'domain',
          value: `${id}.example-c2.net`,
          port: 0,
          proto: '',
          family: '',
          confidence: 20,
          tier: 'council',
          tlp: 'clear',
          asn: null,
          attributes: JSON.stringify(attributes),
          first_seen: '2026-01-01T00:00:00.000Z',
          last_seen: '2026-01-03T00:00:00.000Z',
          expires_at: '2099-01-01T00:00:00.000Z',
          withdrawn_at: null,
          withdrawn_reason: null,
          created_at: '2026-01-01T00:00:00.000Z',
          modified_at: '2026-01-03T00:00:00.000Z',
        });
        const doc = {
          document: 'd'.repeat(64),
          documentUrl: 'https://vendor.example.org/a',
          context: 'C2 x',
        };
        await store.db
          .insertInto('indicators')
          .values([indicator('named', { ...doc, documentTitle: 'Campaign' }), indicator('listed', {})])
          .execute();
        const sighting = (indicatorId: string, source: string, lastSeen: string) => ({
          id: `${indicatorId}-${source}`,
          indicator_id: indicatorId,
          source,
          confidence: 20,
          count: 1,
          first_seen: '2026-01-01T00:00:00.000Z',
          last_seen: lastSeen,
        });
        await store.db
          .insertInto('sightings')
          .values([
            sighting('named', 'osint:vendor', '2026-01-03T00:00:00.000Z'),
            sighting('named', 'osint:other', '2026-01-02T00:00:00.000Z'),
            sighting('named', 'isp-a', '2026-01-04T00:00:00.000Z'),
            sighting('listed', 'web:jpcert', '2026-01-03T00:00:00.000Z'),
          ])
          .execute();
        await intelMigrations(engine.name)['0015_intel_002_sighting_documents']!.up(store.db);
        assert.deepEqual(await store.db.selectFrom('sighting_documents').selectAll().execute(), [
          {
            sighting_id: 'named-osint:vendor',
            document: doc.document,
            url: doc.documentUrl,
            title: 'Campaign',
            context: 'C2 x',
            first_seen: '2026-01-03T00:00:00.000Z',
          },
        ]);
        // Its rows go with their sighting.
        await store.db.deleteFrom('sightings').where('id', '=', 'named-osint:vendor').execute();
        assert.equal((await store.db.selectFrom('sighting_documents').selectAll().execute()).length, 0);
      } finally {
        await store.close();
      }
    });
  });
}

test('the tallies migration backfills counts from indicators already stored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-store-'));
  try {
    const file = join(dir, 'old.sqlite');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SqliteDatabase(file) }) });
    const migrator = new Migrator({ db, provider: migrationProvider('sqlite', [intelMigrations]) });
    assert.equal((await migrator.migrateTo('0001_initial')).error, undefined);
    const base = {
      port: 0,
      proto: '',
      family: '',
      confidence: 50,
      tlp: 'amber',
      asn: null,
      attributes: '{}',
      first_seen: '2026-01-01T00:00:00.000Z',
      last_seen: '2026-01-01T00:00:00.000Z',
      withdrawn_reason: null,
      modified_at: '2026-01-01T05:00:00.000Z',
    };
    await db
      .insertInto('indicators')
      .values([
        {
          ...base,
          id: 'a',
          kind: 'bot',
          value: '192.0.2.1',
          tier: 'full',
          withdrawn_at: null,
          created_at: '2026-01-01T05:10:00.000Z',
          expires_at: '2026-01-08T00:00:00.000Z',
        },
        {
          ...base,
          id: 'b',
          kind: 'bot',
          value: '192.0.2.2',
          tier: 'full',
          withdrawn_at: null,
          created_at: '2026-01-01T05:50:00.000Z',
          expires_at: '2026-01-08T00:30:00.000Z',
        },
        {
          ...base,
          id: 'c',
          kind: 'c2',
          value: '192.0.2.3',
          tier: 'public',
          withdrawn_at: null,
          created_at: '2026-01-01T06:00:00.000Z',
          expires_at: '2026-01-31T00:00:00.000Z',
        },
        {
          ...base,
          id: 'd',
          kind: 'c2',
          value: '192.0.2.4',
          tier: 'public',
          withdrawn_at: '2026-01-02T00:00:00.000Z',
          created_at: '2026-01-01T06:00:00.000Z',
          expires_at: '2026-01-31T00:00:00.000Z',
        },
      ])
      .execute();
    await db.destroy();
    const reopened = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new SqliteDatabase(file) }),
    });
    try {
      assert.equal(
        (
          await new Migrator({
            db: reopened,
            provider: migrationProvider('sqlite', [intelMigrations]),
          }).migrateToLatest()
        ).error,
        undefined,
      );
      const rows = (table: 'indicator_expiry_tally' | 'indicator_created_tally') =>
        reopened
          .selectFrom(table)
          .select(['hour', 'kind', 'tier', 'n'])
          .orderBy('hour')
          .orderBy('kind')
          .execute();
      assert.deepEqual(await rows('indicator_created_tally'), [
        { hour: '2026-01-01T05', kind: 'bot', tier: 'full', n: 2 },
        { hour: '2026-01-01T06', kind: 'c2', tier: 'public', n: 1 },
      ]);
      assert.deepEqual(await rows('indicator_expiry_tally'), [
        { hour: '2026-01-08T00', kind: 'bot', tier: 'full', n: 2 },
        { hour: '2026-01-31T00', kind: 'c2', tier: 'public', n: 1 },
      ]);
    } finally {
      await reopened.destroy();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
