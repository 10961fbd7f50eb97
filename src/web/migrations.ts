/**
 * The web room's own tables, as a kysely migration set (names `00NN_web_`, numbered in the one
 * order the store runs every room's sets). Portable DDL: the same on SQLite and PostgreSQL.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { kitPathTieBasis, type KitPathBasis } from './campaign/kit-paths.ts';
import type { Reason, WebTables } from './types.ts';

/** Rows the kit-tie backfill reads a query. */
const BACKFILL_PAGE = 1000;

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
  /**
   * A kit tie's basis in a column of its own (store.ts writes it by kitPathTieBasis beside the
   * reasons), so the readers select ties on it rather than on how the reasons' JSON happens to be
   * spelt; stored rows are filled by the same rule. The partial index holds the few ties only.
   * Numbered after every shipped migration, not 0011_: kysely refuses a new one that sorts before
   * one a store has already run.
   */
  '0016_web_003_kit_tie': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('web_urls').addColumn('kit_tie', 'text').execute();
      await backfillKitTies(db as Kysely<WebTables>);
      await db.schema
        .createIndex('web_urls_kit_tie')
        .on('web_urls')
        .column('url')
        .where(sql.ref('kit_tie'), 'is not', null)
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('web_urls_kit_tie').execute();
      await db.schema.alterTable('web_urls').dropColumn('kit_tie').execute();
    },
  },
  /**
   * What a start reads back (kit-path-intake.ts: the window's listings and own verdicts) is chosen
   * by last_seen; without these indexes each read scanned every stored URL, so a start slowed with
   * the benign rows a proxy log leaves behind (2.4 s at a million SQLite rows, 0.65 s with them).
   */
  '0017_web_004_last_seen': {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('web_urls_last_seen').on('web_urls').column('last_seen').execute();
      await db.schema
        .createIndex('web_urls_verdict_last_seen')
        .on('web_urls')
        .columns(['verdict', 'last_seen'])
        .execute();
      await db.schema
        .createIndex('web_sightings_source_last_seen')
        .on('web_sightings')
        .columns(['source', 'last_seen'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('web_sightings_source_last_seen').execute();
      await db.schema.dropIndex('web_urls_verdict_last_seen').execute();
      await db.schema.dropIndex('web_urls_last_seen').execute();
    },
  },
};

/**
 * Sets kit_tie on the stored ties, their reasons parsed and judged by kitPathTieBasis, a page at
 * a time in URL order. Only malicious rows are read: withKitPath makes every tie malicious.
 */
async function backfillKitTies(db: Kysely<WebTables>): Promise<void> {
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('web_urls')
      .select(['url', 'reasons'])
      .where('verdict', '=', 'malicious')
      .where('url', '>', after)
      .orderBy('url')
      .limit(BACKFILL_PAGE)
      .execute();
    const ties = new Map<KitPathBasis, string[]>();
    for (const row of rows) {
      const basis = kitPathTieBasis({ reasons: JSON.parse(row.reasons) as Reason[] });
      if (basis === null) continue;
      const urls = ties.get(basis);
      if (urls) urls.push(row.url);
      else ties.set(basis, [row.url]);
    }
    for (const [basis, urls] of ties)
      await db.updateTable('web_urls').set({ kit_tie: basis }).where('url', 'in', urls).execute();
    if (rows.length < BACKFILL_PAGE) return;
    after = rows.at(-1)!.url;
  }
}
