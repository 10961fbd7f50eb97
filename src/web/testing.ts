/**
 * Test helper: the web room's tables in memory, and the room's certstream intake reading from a
 * certstream-compatible websocket server on loopback (the `ws` package's server, on a port the
 * kernel picks) that the test speaks for.
 */
import type { AddressInfo } from 'node:net';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { Registry } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import { silentLogger } from '../core/index.ts';
import {
  createWeb,
  WebConfig,
  webMigrations,
  type CertstreamIntake,
  type ScoredUrl,
  type Web,
  type WebTables,
} from './index.ts';

/** The web room's tables, migrated, on a SQLite database in memory. */
export async function webMemoryDb(): Promise<Kysely<WebTables>> {
  const db = new Kysely<WebTables>({
    dialect: new SqliteDialect({ database: new SqliteDatabase(':memory:') }),
  });
  const migrated = await new Migrator({
    db,
    provider: { getMigrations: async () => webMigrations },
  }).migrateToLatest();
  if (migrated.error) throw migrated.error;
  return db;
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
