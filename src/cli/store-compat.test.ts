/**
 * Stores made before each room owned its tables migrate unchanged: a store built by the shipped
 * migration list (a frozen copy in testdata/shipped-store/) opened with the rooms' composed
 * migrations runs none of the shipped migrations again (only the new rooms' own, `NEW_ROOM_MIGRATIONS`) and ends with
 * the very schema a fresh store gets, on SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { openStore, type Engine, type StoreOptions } from '../store/index.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';
import { migrationProvider as shippedMigrations } from './testdata/shipped-store/migrations.ts';

/** Migrations of the rooms born after the split, in the order the store runs them (by name). */
const NEW_ROOM_MIGRATIONS = [
  '0010_hygiene_001_surveys_and_checks',
  '0011_web_001_urls_and_sightings',
  '0011_web_002_host_verdict',
  '0011_web_101_takedowns',
  '0012_sensor_001_tokens_sensors_statistics',
  '0012_sensor_002_certificate_renewals',
  '0013_osint_001_documents_and_indicators',
  '0013_osint_002_markings_and_language',
  '0014_intel_001_osint_mentions_below_public_notice',
  '0015_intel_002_sighting_documents',
  '0016_web_003_kit_tie',
  '0017_web_004_last_seen',
];
/** Their tables (and intel's newer ones), left out when comparing with what the shipped list built. */
const NEW_ROOM_TABLE = /(^|[^a-z])((hygiene|web|sensor|osint)_|sighting_documents)/;

const url = process.env.TSUNAGI_TEST_DATABASE_URL;
const SHIPPED = [
  '0001_initial',
  '0002_indicator_tallies',
  '0003_own_network_collections',
  '0004_stix_object_key',
  '0005_stix_version_unique',
  '0006_share_release',
  '0007_audit_checkpoints',
];

type Db = Kysely<unknown>;

/** Every table, column, index, constraint and trigger, in one comparable list. */
async function schemaOf(db: Db, engine: Engine, schema?: string): Promise<string[]> {
  if (engine === 'sqlite') {
    const rows = await sql<{ type: string; name: string; tbl_name: string; sql: string | null }>`
      SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name`.execute(db);
    return rows.rows.map((r) => `${r.type} ${r.name} on ${r.tbl_name}: ${r.sql}`);
  }
  const lines = async (query: ReturnType<typeof sql<{ line: string }>>) =>
    (await query.execute(db)).rows.map((r) => r.line.replaceAll(`${schema}.`, 'S.'));
  return [
    ...(await lines(sql<{ line: string }>`
      SELECT 'column ' || table_name || '.' || column_name || ' #' || ordinal_position || ' ' || data_type
        || ' null=' || is_nullable || ' default=' || coalesce(column_default, '-') AS line
      FROM information_schema.columns WHERE table_schema = ${schema} ORDER BY line`)),
    ...(await lines(sql<{ line: string }>`
      SELECT 'index ' || indexname || ': ' || indexdef AS line FROM pg_indexes
      WHERE schemaname = ${schema} ORDER BY line`)),
    ...(await lines(sql<{ line: string }>`
      SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ': ' || pg_get_constraintdef(c.oid) AS line
      FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE n.nspname = ${schema} ORDER BY line`)),
    ...(await lines(sql<{ line: string }>`
      SELECT 'trigger ' || event_object_table || ' ' || trigger_name || ' ' || action_timing || ' '
        || event_manipulation || ': ' || action_statement AS line
      FROM information_schema.triggers WHERE trigger_schema = ${schema} ORDER BY line`)),
    ...(await lines(sql<{ line: string }>`
      SELECT 'function ' || routine_name AS line FROM information_schema.routines
      WHERE routine_schema = ${schema} ORDER BY line`)),
  ];
}

async function migrationsOf(db: Db): Promise<Array<{ name: string; timestamp: string }>> {
  const rows = await sql<{ name: string; timestamp: unknown }>`
    SELECT name, timestamp FROM kysely_migration ORDER BY name`.execute(db);
  return rows.rows.map((r) => ({ name: r.name, timestamp: String(r.timestamp) }));
}

interface Place {
  /** The raw database the shipped migrations build, closed by the caller. */
  old(): Db;
  options: StoreOptions;
  migrationTableSchema?: string;
  schema?: string;
  /** A second, empty place for a fresh store. */
  fresh: StoreOptions;
  freshSchema?: string;
  cleanup(): Promise<void>;
}

async function placeFor(engine: Engine): Promise<Place> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tsunagi-compat-'));
    return {
      old: () =>
        new Kysely({
          dialect: new SqliteDialect({ database: new SqliteDatabase(join(dir, 'old', 'tsunagi.sqlite')) }),
        }),
      options: { dataDir: join(dir, 'old') },
      fresh: { dataDir: join(dir, 'fresh') },
      async cleanup() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const schema = `tsunagi_compat_old_${suffix}`;
  const freshSchema = `tsunagi_compat_new_${suffix}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  return {
    old: () =>
      new Kysely({
        dialect: new PostgresDialect({
          pool: new pg.Pool({ connectionString: url, max: 2, options: `-c search_path=${schema}` }),
        }),
      }),
    options: { databaseUrl: url!, schema, poolSize: 2 },
    migrationTableSchema: schema,
    schema,
    fresh: { databaseUrl: url!, schema: freshSchema, poolSize: 2 },
    freshSchema,
    async cleanup() {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.query(`DROP SCHEMA IF EXISTS ${freshSchema} CASCADE`);
      await admin.end();
    },
  };
}

for (const engine of ['sqlite', 'postgres'] as const) {
  test(
    `a store built by the shipped migrations opens unchanged with the rooms' own (${engine})`,
    { skip: engine === 'postgres' && !url ? 'TSUNAGI_TEST_DATABASE_URL unset' : false },
    async () => {
      const place = await placeFor(engine);
      try {
        if ('dataDir' in place.options) mkdirSync(place.options.dataDir, { recursive: true });
        const old = place.old();
        const migrator = new Migrator({
          db: old,
          provider: shippedMigrations(engine),
          ...(place.migrationTableSchema ? { migrationTableSchema: place.migrationTableSchema } : {}),
        });
        assert.equal((await migrator.migrateToLatest()).error, undefined);
        await sql`INSERT INTO kv (key, value) VALUES ('kept', 'yes')`.execute(old);
        const shippedSchema = await schemaOf(old, engine, place.schema);
        const shippedRuns = await migrationsOf(old);
        assert.deepEqual(
          shippedRuns.map((r) => r.name),
          SHIPPED,
        );
        await old.destroy();

        const store = await openStore(place.options, { migrations: ROOM_MIGRATIONS });
        const fresh = await openStore(place.fresh, { migrations: ROOM_MIGRATIONS });
        try {
          const runs = await migrationsOf(store.db as unknown as Db);
          // The shipped migrations keep their first run; only the new rooms' own ran now.
          assert.deepEqual(
            runs.filter((r) => SHIPPED.includes(r.name)),
            shippedRuns,
          );
          assert.deepEqual(
            runs.map((r) => r.name),
            [...SHIPPED, ...NEW_ROOM_MIGRATIONS],
          );
          const migrated = await schemaOf(store.db as unknown as Db, engine, place.schema);
          const freshSchema = await schemaOf(fresh.db as unknown as Db, engine, place.freshSchema);
          assert.deepEqual(migrated, freshSchema);
          // Without the new rooms' tables, the new composition builds exactly what the shipped list built.
          assert.deepEqual(
            freshSchema.filter((line) => !NEW_ROOM_TABLE.test(line)),
            shippedSchema,
          );
          assert.ok(freshSchema.length > 40, `schema listing too short: ${freshSchema.length}`);
          const kept = await store.db.selectFrom('kv').selectAll().execute();
          assert.deepEqual(kept, [{ key: 'kept', value: 'yes' }]);
        } finally {
          await store.close();
          await fresh.close();
        }
      } finally {
        await place.cleanup();
      }
    },
  );
}
