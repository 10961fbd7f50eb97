/**
 * The osint room's own tables, as a kysely migration set (names start `0013_osint_` so the store
 * runs every room's sets in one order). Portable DDL: the same on SQLite and PostgreSQL.
 */
import type { Kysely, Migration } from 'kysely';

export interface OsintTables {
  /** One row per distinct document content (the id is its SHA-256): a re-published copy is not stored twice. */
  osint_documents: {
    id: string;
    /** The first feed it came from, and where. */
    source: string;
    url: string;
    title: string;
    content_type: string;
    bytes: number;
    fetched_at: string;
    published_at: string | null;
    indicators: number;
    /** The feed's TLP and the tier it narrowed to ('' when none): what the console's release decision weighs. */
    tlp: string;
    feed_tier: string;
    /** `ja`, `en` or '' (no text): from the document's letters. */
    language: string;
  };
  /** Every place a document was fetched from (provenance beyond the first). */
  osint_document_sources: { document_id: string; source: string; url: string; fetched_at: string };
  /** What the extractor found in a document; port 0 when none was written. */
  osint_indicators: {
    document_id: string;
    type: string;
    value: string;
    port: number;
    context: string;
  };
  /** Per feed: when it was last read and the validators for a conditional GET. */
  osint_feeds: {
    name: string;
    url: string;
    fetched_at: string;
    etag: string | null;
    last_modified: string | null;
    status: string;
  };
}

export const osintMigrations: Record<string, Migration> = {
  '0013_osint_001_documents_and_indicators': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('osint_documents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('bytes', 'integer', (c) => c.notNull())
        .addColumn('fetched_at', 'text', (c) => c.notNull())
        .addColumn('published_at', 'text')
        .addColumn('indicators', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('osint_document_sources')
        .addColumn('document_id', 'text', (c) =>
          c.notNull().references('osint_documents.id').onDelete('cascade'),
        )
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('fetched_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('osint_document_sources_pk', ['document_id', 'source', 'url'])
        .execute();
      await db.schema
        .createTable('osint_indicators')
        .addColumn('document_id', 'text', (c) =>
          c.notNull().references('osint_documents.id').onDelete('cascade'),
        )
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('context', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('osint_indicators_pk', ['document_id', 'type', 'value', 'port'])
        .execute();
      await db.schema
        .createIndex('osint_indicators_value')
        .on('osint_indicators')
        .columns(['type', 'value'])
        .execute();
      await db.schema
        .createTable('osint_feeds')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('fetched_at', 'text', (c) => c.notNull())
        .addColumn('etag', 'text')
        .addColumn('last_modified', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of ['osint_feeds', 'osint_indicators', 'osint_document_sources', 'osint_documents'])
        await db.schema.dropTable(table).ifExists().execute();
    },
  },
  // Documents stored before this migration carry the default marking (a public advisory) and no language.
  '0013_osint_002_markings_and_language': {
    async up(db: Kysely<unknown>) {
      for (const [column, fallback] of [
        ['tlp', 'clear'],
        ['feed_tier', ''],
        ['language', ''],
      ] as const)
        await db.schema
          .alterTable('osint_documents')
          .addColumn(column, 'text', (c) => c.notNull().defaultTo(fallback))
          .execute();
      await db.schema
        .createIndex('osint_documents_fetched')
        .on('osint_documents')
        .column('fetched_at')
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('osint_documents_fetched').ifExists().execute();
      for (const column of ['language', 'feed_tier', 'tlp'])
        await db.schema.alterTable('osint_documents').dropColumn(column).execute();
    },
  },
};
