/**
 * The takedown requests' table, a second migration set of the web room (names `0011_web_1xx_`
 * sort after the room's core set, so they run after it). Portable DDL for SQLite and PostgreSQL.
 */
import type { Kysely, Migration } from 'kysely';

export const webTakedownMigrations: Record<string, Migration> = {
  '0011_web_101_takedowns': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('web_takedowns')
        .addColumn('host', 'text', (c) => c.primaryKey())
        .addColumn('brand', 'text')
        .addColumn('abuse_email', 'text', (c) => c.notNull())
        .addColumn('abuse_name', 'text', (c) => c.notNull())
        .addColumn('rdap_object', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('letters', 'text', (c) => c.notNull())
        .addColumn('history', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('web_takedowns_status').on('web_takedowns').columns(['status']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('web_takedowns').execute();
    },
  },
};
