/**
 * Test helper: the web room's tables in memory, and the room's certstream intake reading from a
 * certstream-compatible websocket server on loopback (the `ws` package's server, on a port the
 * kernel picks) that the test speaks for.
 */
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Dialect } from 'kysely';
import pg from 'pg';
import { Registry } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import { silentLogger } from '../core/index.ts';
import {
  createWeb,
  WebConfig,
  webMigrations,
  webTakedownMigrations,
  type CertstreamIntake,
  type ScoredUrl,
  type Web,
  type WebTables,
} from './index.ts';

/**
 * The web room's tables (its core set and the takedown requests', as the CLI's store has them),
 * migrated, on `dialect`; `schema`: on PostgreSQL, kysely's own tables go there too (else it may
 * find another test's in public).
 */
export async function migratedWebDb(dialect: Dialect, schema?: string): Promise<Kysely<WebTables>> {
  const db = new Kysely<WebTables>({ dialect });
  const migrated = await new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...webMigrations, ...webTakedownMigrations }) },
    ...(schema ? { migrationTableSchema: schema } : {}),
  }).migrateToLatest();
  if (migrated.error) {
    await db.destroy();
    throw migrated.error;
  }
  return db;
}

/** The web room's tables, migrated, on a SQLite database in memory. */
export function webMemoryDb(): Promise<Kysely<WebTables>> {
  return migratedWebDb(new SqliteDialect({ database: new SqliteDatabase(':memory:') }));
}

/** Runs `work` on the web room's migrated tables on `dialect`, closing them afterwards. */
export async function withWebDb(
  dialect: Dialect,
  work: (db: Kysely<WebTables>) => Promise<void>,
  schema?: string,
): Promise<void> {
  const db = await migratedWebDb(dialect, schema);
  try {
    await work(db);
  } finally {
    await db.destroy();
  }
}

/** A web room on `db` (none: no store) whose clock stands at `now`, with `config` over the defaults. */
export function roomAt(
  db: Kysely<WebTables> | undefined,
  now: Date,
  config: Record<string, unknown> = {},
  registry = new Registry(),
): Web {
  return createWeb(WebConfig.parse(config), {
    logger: silentLogger(),
    registry,
    ...(db ? { db } : {}),
    now: () => now,
  });
}

/** A PostgreSQL test's skip reason: the server is named by TSUNAGI_TEST_DATABASE_URL. */
export const POSTGRES_SKIP = !process.env.TSUNAGI_TEST_DATABASE_URL && 'TSUNAGI_TEST_DATABASE_URL unset';

/** Runs `work` on PostgreSQL in a schema of its own, dropped afterwards (TSUNAGI_TEST_DATABASE_URL). */
export async function inPostgresSchema(
  prefix: string,
  work: (dialect: Dialect, schema: string) => Promise<void>,
): Promise<void> {
  const schema = `tsunagi_test_${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const connectionString = process.env.TSUNAGI_TEST_DATABASE_URL!;
  const admin = new pg.Client({ connectionString });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  try {
    const pool = new pg.Pool({ connectionString, max: 2, options: `-c search_path=${schema}` });
    await work(new PostgresDialect({ pool }), schema);
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

/**
 * `run` registered as two tests, `title (SQLite)` on SQLite in memory and `title (PostgreSQL)` in
 * a schema of its own (`schemaPrefix`), skipped with the reason when TSUNAGI_TEST_DATABASE_URL is
 * unset: a store test says once what it proves, and runs on both engines the room supports.
 */
export function onBothEngines(
  title: string,
  schemaPrefix: string,
  run: (dialect: Dialect, schema?: string) => Promise<void>,
): void {
  test(`${title} (SQLite)`, () => run(new SqliteDialect({ database: new SqliteDatabase(':memory:') })));
  test(`${title} (PostgreSQL)`, { skip: POSTGRES_SKIP }, () => inPostgresSchema(schemaPrefix, run));
}

export interface CertstreamRun {
  web: Web;
  db: Kysely<WebTables>;
  /** Not started: the test starts it. */
  intake: CertstreamIntake;
  /** What the intake handed on, in order. */
  handed: ScoredUrl[];
  /** Waits until `done()` holds (10 s at the most), then until every write queued so far was tried. */
  settleWhen(done: () => boolean): Promise<void>;
  /** Stops the intake, then closes the server and the database. */
  close(): Promise<void>;
}

/**
 * A certstream server on loopback, `onConnection` called with each connection and its number (from
 * 1), and the web room over its tables in memory with a certstream intake at that server
 * (reconnecting after 100 ms).
 */
export async function startCertstreamRun(
  onConnection: (socket: WebSocket, connection: number) => void,
): Promise<CertstreamRun> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  let connections = 0;
  server.on('connection', (socket) => onConnection(socket, ++connections));
  const db = await webMemoryDb();
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const web = createWeb(WebConfig.parse({ certstream: { url, reconnectMs: 100 } }), {
    logger: silentLogger(),
    registry: new Registry(),
    db,
  });
  const handed: ScoredUrl[] = [];
  const intake = web.certstream((scored) => handed.push(scored));
  return {
    web,
    db,
    intake,
    handed,
    async settleWhen(done) {
      const deadline = Date.now() + 10_000;
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await intake.settled();
    },
    async close() {
      await intake.stop();
      server.close();
      await db.destroy();
    },
  };
}

export {
  MISSING_RESOLVER_TOOLS,
  queryA,
  startUnbound,
  type LabResolver,
  type LabZone,
} from './export/testing.ts';
