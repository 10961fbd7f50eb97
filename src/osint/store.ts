/** The room's reads and writes over its own tables. */
import type { Kysely } from 'kysely';
import type { ExtractedIndicator } from './extract/types.ts';
import type { OsintTables } from './migrations.ts';

export interface StoredDocument {
  /** SHA-256 of the content, hex. */
  id: string;
  source: string;
  url: string;
  title: string;
  contentType: string;
  bytes: number;
  fetchedAt: string;
  publishedAt?: string;
  /** The feed's marking: its TLP and, when it narrows it, a tier. */
  tlp: string;
  feedTier?: string;
  language: string;
}

export interface FeedState {
  etag: string | null;
  lastModified: string | null;
}

export async function feedState(db: Kysely<OsintTables>, name: string): Promise<FeedState | undefined> {
  const row = await db
    .selectFrom('osint_feeds')
    .select(['etag', 'last_modified'])
    .where('name', '=', name)
    .executeTakeFirst();
  return row ? { etag: row.etag, lastModified: row.last_modified } : undefined;
}

export async function saveFeedState(
  db: Kysely<OsintTables>,
  row: {
    name: string;
    url: string;
    fetchedAt: string;
    etag: string | null;
    lastModified: string | null;
    status: string;
  },
): Promise<void> {
  const values = {
    name: row.name,
    url: row.url,
    fetched_at: row.fetchedAt,
    etag: row.etag,
    last_modified: row.lastModified,
    status: row.status,
  };
  await db
    .insertInto('osint_feeds')
    .values(values)
    .onConflict((c) => c.column('name').doUpdateSet({ ...values }))
    .execute();
}

/** Records where a document was seen; true when its content was already stored (a duplicate). */
export async function notePlace(
  db: Kysely<OsintTables>,
  place: { id: string; source: string; url: string; fetchedAt: string },
): Promise<boolean> {
  const known = await db
    .selectFrom('osint_documents')
    .select('id')
    .where('id', '=', place.id)
    .executeTakeFirst();
  if (!known) return false;
  await db
    .insertInto('osint_document_sources')
    .values({ document_id: place.id, source: place.source, url: place.url, fetched_at: place.fetchedAt })
    .onConflict((c) => c.columns(['document_id', 'source', 'url']).doNothing())
    .execute();
  return true;
}

/** Stores a new document, its first place and its indicators in one transaction. */
export async function saveDocument(
  db: Kysely<OsintTables>,
  document: StoredDocument,
  indicators: readonly ExtractedIndicator[],
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('osint_documents')
      .values({
        id: document.id,
        source: document.source,
        url: document.url,
        title: document.title.slice(0, 1000),
        content_type: document.contentType.slice(0, 200),
        bytes: document.bytes,
        fetched_at: document.fetchedAt,
        published_at: document.publishedAt ?? null,
        indicators: indicators.length,
        tlp: document.tlp,
        feed_tier: document.feedTier ?? '',
        language: document.language,
      })
      .execute();
    await tx
      .insertInto('osint_document_sources')
      .values({
        document_id: document.id,
        source: document.source,
        url: document.url,
        fetched_at: document.fetchedAt,
      })
      .execute();
    // Rows in slices: SQLite binds at most 32766 parameters a statement.
    for (let i = 0; i < indicators.length; i += 1000) {
      const rows = indicators.slice(i, i + 1000).map((hit) => ({
        document_id: document.id,
        type: hit.type,
        value: hit.value,
        port: hit.port ?? 0,
        context: hit.context.slice(0, 1000),
      }));
      await tx
        .insertInto('osint_indicators')
        .values(rows)
        .onConflict((c) => c.columns(['document_id', 'type', 'value', 'port']).doNothing())
        .execute();
    }
  });
}

export interface DocumentSummary {
  id: string;
  source: string;
  url: string;
  title: string;
  fetchedAt: string;
  indicators: number;
}

export async function listDocuments(db: Kysely<OsintTables>, limit = 100): Promise<DocumentSummary[]> {
  const rows = await db
    .selectFrom('osint_documents')
    .select(['id', 'source', 'url', 'title', 'fetched_at', 'indicators'])
    .orderBy('fetched_at', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    source: r.source,
    url: r.url,
    title: r.title,
    fetchedAt: r.fetched_at,
    indicators: Number(r.indicators),
  }));
}

export async function indicatorsOf(
  db: Kysely<OsintTables>,
  documentId: string,
): Promise<ExtractedIndicator[]> {
  const rows = await db
    .selectFrom('osint_indicators')
    .select(['type', 'value', 'port', 'context'])
    .where('document_id', '=', documentId)
    .orderBy('type')
    .orderBy('value')
    .execute();
  return rows.map((r) => ({
    type: r.type as ExtractedIndicator['type'],
    value: r.value,
    context: r.context,
    ...(Number(r.port) ? { port: Number(r.port) } : {}),
  }));
}
