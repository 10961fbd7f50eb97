/**
 * The store: one kysely database over embedded SQLite (better-sqlite3, the default under
 * `--data DIR`) or PostgreSQL (`TSUNAGI_DATABASE_URL`), migrated to the latest schema on open.
 */
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { makeDirectories, UsageError } from '../core/index.ts';
import { startCheckpointer, type Checkpointer } from './checkpointer.ts';
import { migrationProvider, type Engine, type RoomMigrations } from './migrations.ts';

export { migrationProvider } from './migrations.ts';
import type { Database } from './schema.ts';

export type * from './schema.ts';
export type { Engine, RoomMigrations } from './migrations.ts';
export { StoreConfig } from './config.ts';
export { hourOf, rebuildIndicatorTallies, TALLY_TABLES, type TallyTable } from './tallies.ts';
export { objectKey } from './object-key.ts';

export type StoreOptions =
  | {
      dataDir: string;
      /** SQLite's page cache ceiling, MiB (default 1024). */
      cacheMiB?: number;
    }
  | { memory: true; cacheMiB?: number }
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
  /** SQLite file stores: the worker that checkpoints the WAL off the request path. */
  readonly checkpointer?: Checkpointer;
  /**
   * PostgreSQL only: a notification on `channel` (scoped to this store's schema), sent to every
   * listener when `trx` commits and never when it rolls back.
   */
  notify?(trx: Transaction<Database>, channel: string): Promise<void>;
  /**
   * PostgreSQL only: calls `onNotify` on each notification on `channel` from any process on this
   * store, over a connection of its own; resolves to a function that stops listening.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * Statements prepared once on SQLite's one connection, for the hottest queries (storing STIX
 * versions): kysely's SQLite driver prepares every statement afresh, which for a 1000-row insert
 * costs as much as SQLite's own insert work.
 */
export interface SqliteStatements {
  /** The prepared statement for `text`, cached on the connection. */
  prepare(text: string): SqliteDatabase.Statement;
}

const sqliteOfTransaction = new WeakMap<Kysely<Database>, SqliteStatements>();

/**
 * The prepared-statement path of a transaction opened by `store.transaction` on SQLite; undefined
 * on PostgreSQL (and for any other transaction). Safe only inside that transaction: it holds the
 * one connection, so nothing else runs on it between these statements.
 */
export function sqliteStatements(trx: Kysely<Database>): SqliteStatements | undefined {
  return sqliteOfTransaction.get(trx);
}

/** Statements kept per connection; queries with `in (...)` lists make a text per list length. */
const STATEMENT_CACHE_SIZE = 500;

/** Cached statements per connection, least recently used dropped first. */
function statementCache(database: SqliteDatabase.Database): SqliteStatements {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    prepare(text) {
      let statement = cache.get(text);
      if (statement === undefined) {
        statement = database.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      } else {
        cache.delete(text);
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const DEFAULT_CACHE_MIB = 1024;
/** WAL pages (4 KiB) after which the SQLite writer checkpoints by itself. */
const WRITER_BACKSTOP_PAGES = 100_000;

/**
 * Makes the data directory (mode 0700: the store, keys and state hold restricted data) or takes an
 * existing one private.
 */
export function privateDataDir(dir: string): void {
  try {
    makeDirectories(dir, 0o700);
    chmodSync(dir, 0o700);
  } catch (error) {
    throw new UsageError(`cannot create a private data directory ${dir}: ${(error as Error).message}`);
  }
}

/** Creates `file` readable by its owner only (0600), or takes an existing one private. */
function privateFile(file: string): void {
  try {
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
    // SQLite gives its WAL and shared-memory files the database file's mode; older ones may differ.
    for (const extra of [`${file}-wal`, `${file}-shm`]) if (existsSync(extra)) chmodSync(extra, 0o600);
  } catch (error) {
    throw new UsageError(`cannot make ${file} private: ${(error as Error).message}`);
  }
}

/** What the store runs on open: every room's migrations, in the order their parts run. */
export interface StoreMigrations {
  migrations: readonly RoomMigrations[];
}

/** Opens the store and migrates it with the rooms' migrations it is handed (and its own). */
export async function openStore(options: StoreOptions, { migrations }: StoreMigrations): Promise<Store> {
  let db: Kysely<Database>;
  let engine: Engine;
  let location: string;
  let migrationSchema: string | undefined;
  let statements: SqliteStatements | undefined;
  let checkpointer: Checkpointer | undefined;
  let notifications: Pick<Store, 'notify' | 'listen'> = {};
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
    // Notifications are database-wide: the schema's name keeps two stores in one database apart.
    const channelOf = (channel: string) => `${schema ?? 'public'}.${channel}`;
    notifications = {
      async notify(trx, channel) {
        await sql`SELECT pg_notify(${channelOf(channel)}, '')`.execute(trx);
      },
      async listen(channel, onNotify) {
        const client = await pool.connect();
        const name = channelOf(channel);
        const handler = (message: pg.Notification) => {
          if (message.channel === name) onNotify();
        };
        client.on('notification', handler);
        // A lost connection ends the notifications; the listener's own fallback (a timer) stays.
        client.on('error', () => undefined);
        await client.query(`LISTEN "${name.replaceAll('"', '""')}"`);
        return async () => {
          client.off('notification', handler);
          await client.query(`UNLISTEN "${name.replaceAll('"', '""')}"`).catch(() => undefined);
          client.release();
        };
      },
    };
  } else {
    engine = 'sqlite';
    let file = ':memory:';
    if ('dataDir' in options) {
      privateDataDir(options.dataDir);
      file = join(options.dataDir, 'tsunagi.sqlite');
      privateFile(file);
    }
    const database = new SqliteDatabase(file);
    // WAL lets readers run beside the writer; a committed write survives the process being killed.
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    // Each new STIX version inserts a random key into the versions' index, so a page cache
    // smaller than that index reads a page per insert (a syscall, costly on virtual machines);
    // SQLite allocates the cache only as pages are used, so small stores stay small.
    database.pragma(`cache_size = -${Math.round((options.cacheMiB ?? DEFAULT_CACHE_MIB) * 1024)}`);
    if (file !== ':memory:') {
      // A worker checkpoints the WAL (checkpointer.ts); the writer's own checkpoint stays as a
      // backstop for a WAL the worker cannot keep up with (~400 MB), and takes over if it fails.
      database.pragma(`wal_autocheckpoint = ${WRITER_BACKSTOP_PAGES}`);
      checkpointer = await startCheckpointer(file, {
        onFailure: () => {
          // Random object keys dirty about one index page per STIX version: a 1000-page WAL would
          // re-copy the same hot pages every few commits; 10,000 checkpoints them once.
          if (database.open) database.pragma('wal_autocheckpoint = 10000');
        },
      });
    }
    const cache = (statements = statementCache(database));
    // kysely's driver prepares every query afresh; through the cache a repeated query text (most
    // of intel's and the hub's) is prepared once per connection. Its transactions begin
    // IMMEDIATE: a deferred one that reads first takes a snapshot, and if another process (the
    // hub beside a `web ingest`) commits before its first write, that write fails at once with
    // SQLITE_BUSY (no busy_timeout wait can help a stale snapshot); IMMEDIATE takes the write lock
    // at BEGIN, where busy_timeout does wait. Every transaction in tsunagi writes.
    db = new Kysely<Database>({
      dialect: new SqliteDialect({
        database: {
          close: () => database.close(),
          prepare: (text: string) => cache.prepare(text === 'begin' ? 'begin immediate' : text),
        },
      }),
    });
    location = file;
  }

  const migrator = new Migrator({
    db,
    provider: migrationProvider(engine, migrations),
    ...(migrationSchema ? { migrationTableSchema: migrationSchema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await checkpointer?.stop();
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
        if (statements) sqliteOfTransaction.set(trx, statements);
        return work(trx);
      });
    },
    ...(checkpointer ? { checkpointer } : {}),
    ...notifications,
    async close() {
      // The worker's connection first: the writer's, closing last, checkpoints and removes the WAL.
      await checkpointer?.stop();
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
