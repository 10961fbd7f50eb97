/** Share's tables: migration 0004 keys versions stored before it, 0005's unique versions, the append-only audit log. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { migrationProvider, objectKey, type Database, type Engine } from '../store/index.ts';
import { testEngines } from '../store/testing.ts';
import { HUB_MIGRATIONS } from './testing.ts';

/** A stix_objects row of an indicator version, as the migrations find them (no object_key yet). */
function versionRow(collection_id: string, object_id: string, v: string, is_latest: number) {
  return {
    collection_id,
    object_id,
    object_type: 'indicator',
    spec_version: '2.1',
    version: v,
    date_added: v,
    is_latest,
    tier: 'full',
    tlp: 'amber',
    body: JSON.stringify({ id: object_id, modified: v }),
  };
}

const url = process.env.TSUNAGI_TEST_DATABASE_URL;

/** A database of one engine, migrated to `0003`, then to the latest schema by the caller. */
async function oldDatabase(
  engine: Engine,
): Promise<{ db: Kysely<Database>; migrator: Migrator; done(): Promise<void> }> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tsunagi-key-'));
    const db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new SqliteDatabase(join(dir, 'old.sqlite')) }),
    });
    return {
      db,
      migrator: new Migrator({ db, provider: migrationProvider('sqlite', HUB_MIGRATIONS) }),
      async done() {
        await db.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `tsunagi_key_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: url, max: 2, options: `-c search_path=${schema}` }),
    }),
  });
  return {
    db,
    migrator: new Migrator({
      db,
      provider: migrationProvider('postgres', HUB_MIGRATIONS),
      migrationTableSchema: schema,
    }),
    async done() {
      await db.destroy();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

for (const engine of ['sqlite', 'postgres'] as const) {
  test(
    `migration 0004 keys the versions already stored (${engine})`,
    {
      skip: engine === 'postgres' && !url ? 'no PostgreSQL' : false,
    },
    async () => {
      const { db, migrator, done } = await oldDatabase(engine);
      try {
        assert.equal((await migrator.migrateTo('0003_own_network_collections')).error, undefined);
        const old = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
        await old
          .insertInto('stix_objects')
          .values([
            versionRow('c1', 'indicator--a', '2026-01-01T00:00:00.000Z', 0),
            versionRow('c1', 'indicator--a', '2026-01-02T00:00:00.000Z', 1),
            versionRow('c2', 'indicator--a', '2026-01-01T00:00:00.000Z', 1),
            versionRow('c1', 'indicator--b', '2026-01-01T00:00:00.000Z', 1),
            versionRow('c1', 'indicator--gone', '2026-01-01T00:00:00.000Z', 1),
          ])
          .execute();
        // The last version is deleted: its seq must not be handed out again.
        await old.deleteFrom('stix_objects').where('object_id', '=', 'indicator--gone').execute();
        const before = await db
          .selectFrom('stix_objects')
          .select(['seq', 'object_id', 'body'])
          .orderBy('seq')
          .execute();

        assert.equal((await migrator.migrateToLatest()).error, undefined);
        const after = await db
          .selectFrom('stix_objects')
          .select(['seq', 'collection_id', 'object_id', 'object_key', 'body'])
          .orderBy('seq')
          .execute();
        assert.deepEqual(
          after.map((r) => ({ seq: r.seq, object_id: r.object_id, body: r.body })),
          before,
        );
        for (const r of after) assert.equal(Number(r.object_key), objectKey(r.collection_id, r.object_id));
        // Found through the key; the ids in the row tell apart whatever shares it.
        const found = await db
          .selectFrom('stix_objects')
          .select('version')
          .where('object_key', '=', objectKey('c1', 'indicator--a'))
          .where('collection_id', '=', 'c1')
          .where('object_id', '=', 'indicator--a')
          .orderBy('version')
          .execute();
        assert.deepEqual(
          found.map((r) => r.version),
          ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z'],
        );
        // A version added after the migration takes a seq past every one used before it.
        const inserted = await old
          .insertInto('stix_objects')
          .values({
            ...versionRow('c1', 'indicator--c', '2026-01-03T00:00:00.000Z', 1),
            object_key: objectKey('c1', 'indicator--c'),
          })
          .returning('seq')
          .executeTakeFirstOrThrow();
        assert.ok(
          Number(inserted.seq) > Math.max(...before.map((r) => r.seq)) + 1,
          'a deleted seq was reused',
        );
        if (engine === 'sqlite') {
          const plan = await sql<{
            detail: string;
          }>`EXPLAIN QUERY PLAN SELECT seq FROM stix_objects WHERE object_key IN (1, 2) AND collection_id = 'c1'`.execute(
            db,
          );
          assert.match(plan.rows.map((r) => r.detail).join(' '), /stix_objects_object_key/);
        }
      } finally {
        await done();
      }
    },
  );
}

test(
  'migration 0005 (PostgreSQL): a stored version twice is merged, then refused by the database itself',
  { skip: url ? false : 'no PostgreSQL' },
  async () => {
    const { db, migrator, done } = await oldDatabase('postgres');
    try {
      assert.equal((await migrator.migrateTo('0004_stix_object_key')).error, undefined);
      const version = (object_id: string, v: string, is_latest: number) => ({
        ...versionRow('c1', object_id, v, is_latest),
        object_key: objectKey('c1', object_id),
      });
      const first = '2026-01-01T00:00:00.000Z';
      const second = '2026-01-02T00:00:00.000Z';
      // What a POST racing another replica's publisher could leave under 0004: one version twice,
      // the later copy flagged latest.
      await db
        .insertInto('stix_objects')
        .values([
          version('indicator--a', first, 0),
          version('indicator--a', first, 1),
          version('indicator--b', first, 0),
          version('indicator--b', second, 1),
        ])
        .execute();
      assert.equal((await migrator.migrateToLatest()).error, undefined);
      const rows = await db
        .selectFrom('stix_objects')
        .select(['object_id', 'version', 'is_latest'])
        .orderBy('seq')
        .execute();
      // The first copy stayed and took the latest flag.
      assert.deepEqual(
        rows.map((r) => [r.object_id, r.version, Number(r.is_latest)]),
        [
          ['indicator--a', first, 1],
          ['indicator--b', first, 0],
          ['indicator--b', second, 1],
        ],
      );
      await assert.rejects(
        db
          .insertInto('stix_objects')
          .values(version('indicator--a', first, 0))
          .execute(),
        /duplicate key value violates unique constraint "stix_objects_key_version"/,
        'a second copy of a stored version',
      );
      // Another object under the same key cannot hold that version either; another version it can.
      const collider = {
        ...version('indicator--evil', first, 1),
        object_key: objectKey('c1', 'indicator--a'),
      };
      await assert.rejects(db.insertInto('stix_objects').values(collider).execute(), /unique constraint/);
      await db
        .insertInto('stix_objects')
        .values({ ...collider, version: second, date_added: second })
        .execute();
    } finally {
      await done();
    }
  },
);

for (const engine of testEngines(HUB_MIGRATIONS)) {
  describe(`share's tables on ${engine.name}`, { skip: engine.skip }, () => {
    test('the audit table refuses updates and deletes', async () => {
      const store = await engine.open();
      try {
        await store.db
          .insertInto('audit_log')
          .values({
            at: 'x',
            actor: 'a',
            action: 'b',
            target: 'c',
            reason: '',
            detail: '{}',
            prev_hash: '0',
            hash: '1',
          })
          .execute();
        const row = await store.db.selectFrom('audit_log').selectAll().executeTakeFirstOrThrow();
        assert.equal(typeof row.seq, 'number');
        await assert.rejects(
          store.db.updateTable('audit_log').set({ actor: 'mallory' }).execute(),
          /append-only/,
        );
        await assert.rejects(store.db.deleteFrom('audit_log').execute(), /append-only/);
      } finally {
        await store.close();
      }
    });
  });
}
