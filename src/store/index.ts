/**
 * The store: one kysely database over embedded SQLite (better-sqlite3, the default under
 * `--data DIR`) or PostgreSQL (`TSUNAGI_DATABASE_URL`), migrated to the latest schema on open.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { UsageError } from '../core/errors.ts';
import { migrationProvider, type Engine } from './migrations.ts';
import type { Database } from './schema.ts';

export type { Database } from './schema.ts';
export type { Engine } from './migrations.ts';
export { StoreConfig } from './config.ts';
export { hourOf, rebuildIndicatorTallies, TALLY_TABLES, type TallyTable } from './tallies.ts';

export type StoreOptions =
  | { dataDir: string }
  | { memory: true }
  | {
      databaseUrl: string;
      /** A PostgreSQL schema to work in (created when missing); tests use one per run. */
      schema?: string;
      poolSize?: number;
    };

export interface Store {
  readonly db: Kysely<Database>;
  readonly engine: Engine;
  /** Where the data lives, for messages (never includes a password). */
  readonly location: string;
  /** Runs `work` in one transaction; on PostgreSQL `lockKey` serialises writers across replicas. */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>, lockKey?: number): Promise<T>;
  close(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Opens (and migrates) the store. */
export async function openStore(options: StoreOptions): Promise<Store> {
  let db: Kysely<Database>;
  let engine: Engine;
  let location: string;
  let migrationSchema: string | undefined;
  if ('databaseUrl' in options) {
    engine = 'postgres';
    const schema = options.schema;
    if (schema !== undefined && !SCHEMA_NAME.test(schema))
      throw new UsageError(`bad PostgreSQL schema name "${schema}"`);
    // int8 (bigserial, counts) fits a JS number for every value this store holds.
    const types = new pg.TypeOverrides();
    types.setTypeParser(20, (text: string) => Number(text));
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      types,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    pool.on('error', () => {
      // An idle client losing its connection is reported by the next query; nothing to do here.
    });
    if (schema) {
      const client = await pool.connect().catch((error: Error) => {
        void pool.end();
        throw new UsageError(`cannot connect to PostgreSQL: ${error.message}`);
      });
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } finally {
        client.release();
      }
    }
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const url = new URL(options.databaseUrl);
    location = `postgres://${url.host}${url.pathname}${schema ? ` (schema ${schema})` : ''}`;
    migrationSchema = schema;
  } else {
    engine = 'sqlite';
    let file = ':memory:';
    if ('dataDir' in options) {
      try {
        mkdirSync(options.dataDir, { recursive: true });
      } catch (error) {
        throw new UsageError(`cannot create data directory ${options.dataDir}: ${(error as Error).message}`);
      }
      file = join(options.dataDir, 'tsunagi.sqlite');
    }
    const database = new SqliteDatabase(file);
    // WAL lets readers run beside the writer; a committed write survives the process being killed.
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    // The default 2 MB page cache makes index inserts with random ids (STIX uuids) hit the disk.
    database.pragma('cache_size = -65536');
    // Random-uuid keys dirty about one index page per new STIX version: a 1000-page WAL re-copies
    // the same hot pages every few commits; a larger one checkpoints them once (up to ~40 MB).
    database.pragma('wal_autocheckpoint = 10000');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    location = file;
  }

  const migrator = new Migrator({
    db,
    provider: migrationProvider(engine),
    ...(migrationSchema ? { migrationTableSchema: migrationSchema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`store migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
  }

  return {
    db,
    engine,
    location,
    async transaction(work, lockKey) {
      return db.transaction().execute(async (trx) => {
        if (engine === 'postgres' && lockKey !== undefined)
          await sql`SELECT pg_advisory_xact_lock(${lockKey})`.execute(trx);
        return work(trx);
      });
    },
    async close() {
      await db.destroy();
    },
  };
}

/** Chooses the engine from configuration: a database URL wins, else the data directory. */
export function storeOptionsFrom(input: {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
}): StoreOptions {
  if (input.databaseUrl) return { databaseUrl: input.databaseUrl };
  if (input.dataDir) return { dataDir: input.dataDir };
  throw new UsageError('no store: give --data DIR or set TSUNAGI_DATABASE_URL');
}
