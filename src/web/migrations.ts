/**
 * The web room's own tables, as a kysely migration set (names start `0011_web_` so the store runs
 * every room's sets in one order). Portable DDL: the same on SQLite and PostgreSQL.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const webMigrations: Record<string, Migration> = {
  '0011_web_001_urls_and_sightings': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('web_urls')
        .addColumn('url', 'text', (c) => c.primaryKey())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('registrable_domain', 'text')
        .addColumn('score', 'real', (c) => c.notNull())
        .addColumn('verdict', 'text', (c) => c.notNull())
        .addColumn('brand', 'text')
        .addColumn('reasons', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('web_urls_host').on('web_urls').columns(['host']).execute();
      await db.schema
        .createIndex('web_urls_registrable_domain')
        .on('web_urls')
        .columns(['registrable_domain'])
        .execute();
      await db.schema.createIndex('web_urls_verdict').on('web_urls').columns(['verdict', 'url']).execute();
      await db.schema
        .createTable('web_sightings')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull().references('web_urls.url').onDelete('cascade'))
        .addColumn('first_seen', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addPrimaryKeyConstraint('web_sightings_pk', ['source', 'url'])
        .execute();
      await db.schema.createIndex('web_sightings_url').on('web_sightings').columns(['url']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('web_sightings').execute();
      await db.schema.dropTable('web_urls').execute();
    },
  },
  /**
   * The host-name verdict beside the URL verdict (the URL verdict reads the path too): host-level
   * exports read this one. Rows stored before were scored on the name alone, so their verdict is
   * the host-name verdict and is copied over.
   */
  '0011_web_002_host_verdict': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('web_urls').addColumn('host_score', 'real').execute();
      await db.schema.alterTable('web_urls').addColumn('host_verdict', 'text').execute();
      await sql`UPDATE web_urls SET host_score = score, host_verdict = verdict`.execute(db);
      await db.schema
        .createIndex('web_urls_host_verdict')
        .on('web_urls')
        .columns(['host_verdict', 'host'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('web_urls_host_verdict').execute();
      await db.schema.alterTable('web_urls').dropColumn('host_verdict').execute();
      await db.schema.alterTable('web_urls').dropColumn('host_score').execute();
    },
  },
};
