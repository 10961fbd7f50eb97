/**
 * Test helper: the engines every store-backed test suite runs against. SQLite always; PostgreSQL
 * when TSUNAGI_TEST_DATABASE_URL is set, each store in a fresh schema dropped on close.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { openStore, type RoomMigrations, type Store } from './index.ts';

export interface TestEngine {
  name: 'sqlite' | 'postgres';
  /** A reason to skip, or false. */
  skip: string | false;
  /** Opens a fresh, empty, migrated store; `close()` on it also removes its data. */
  open(): Promise<Store>;
}

/** `migrations`: the rooms' tables the tests need (the store runs only what it is handed). */
export function testEngines(migrations: readonly RoomMigrations[]): TestEngine[] {
  const url = process.env.TSUNAGI_TEST_DATABASE_URL;
  return [
    { name: 'sqlite', skip: false, open: () => openStore({ memory: true }, { migrations }) },
    {
      name: 'postgres',
      skip: url ? false : 'TSUNAGI_TEST_DATABASE_URL unset',
      async open() {
        const schema = `tsunagi_test_${process.pid}_${randomBytes(4).toString('hex')}`;
        const store = await openStore({ databaseUrl: url!, schema, poolSize: 4 }, { migrations });
        const close = store.close.bind(store);
        return {
          ...store,
          async close() {
            await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(store.db);
            await close();
          },
        };
      },
    },
  ];
}
