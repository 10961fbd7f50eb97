/**
 * Migrations, kept in code so a packaged build needs no migration files. Each room owns its
 * tables and hands the store its part of each migration, by name, per engine
 * (`intel/migrations.ts`, `share/migrations.ts`, `hygiene/migrations.ts`); the CLI passes them to
 * `openStore`. The store runs only what it is handed, plus its own bookkeeping (`kv`): the parts of
 * one name run as one migration, in the order the rooms were handed and the store's own last, so
 * a migration that spans rooms (0001_initial) runs as it shipped and stores migrate unchanged.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';

export type Engine = 'sqlite' | 'postgres';

/** One room's part of each migration it takes part in, by migration name, for an engine. */
export type RoomMigrations = (engine: Engine) => Record<string, Migration>;

/** The store's own bookkeeping: small key-value state (0001, after every room's tables). */
const storeMigrations: RoomMigrations = () => ({
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      const text = 'text';
      await db.schema
        .createTable('kv')
        .addColumn('key', text, (c) => c.primaryKey())
        .addColumn('value', text, (c) => c.notNull())
        .execute();
    },
  },
});

/**
 * Every migration the rooms hand over, each name made of its parts in the rooms' order, the
 * store's own part last. Names sort in the order they run. Never edit one that has shipped.
 */
export function migrationProvider(engine: Engine, rooms: readonly RoomMigrations[]): MigrationProvider {
  return {
    async getMigrations() {
      const sets = [...rooms, storeMigrations].map((room) => room(engine));
      const names = [...new Set(sets.flatMap((set) => Object.keys(set)))].sort();
      const composed: Record<string, Migration> = {};
      for (const name of names) {
        const parts = sets.flatMap((set) => (set[name] ? [set[name]] : []));
        composed[name] = {
          async up(db) {
            for (const part of parts) await part.up(db);
          },
        };
      }
      return composed;
    },
  };
}
