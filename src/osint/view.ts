/**
 * The room's read for a person (the console's OSINT page): documents, the indicators found in
 * them with their context, and indicators per day by type, each limited to the markings the
 * caller says the reader may receive. The room does not decide who may read what: the console
 * asks the hub's release decision and hands the allowed (TLP, feed tier) pairs here, which this
 * file only turns into a WHERE clause, so tables page and count in SQL.
 */
import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import type { OsintTables } from './migrations.ts';

/** A document's marking as stored: the feed's TLP, and the tier it narrowed to ('' when none). */
export interface OsintMarking {
  tlp: string;
  feedTier: string;
}

export interface OsintViewQuery {
  /** The markings the reader may receive; documents under any other stay out (none: nothing). */
  markings: readonly OsintMarking[];
  /** Words in a title, a URL, an indicator's value or its context (case-insensitive). */
  q?: string;
  type?: string;
  source?: string;
  language?: string;
  /** Days of the per-day chart, ending today (UTC). */
  days: number;
  now: Date;
  documentLimit: number;
  indicatorLimit: number;
}

export interface OsintViewDocument {
  id: string;
  source: string;
  url: string;
  title: string;
  fetchedAt: string;
  publishedAt: string | null;
  language: string;
  indicators: number;
  tlp: string;
  feedTier: string;
}

export interface OsintViewIndicator {
  documentId: string;
  source: string;
  fetchedAt: string;
  type: string;
  value: string;
  /** 0 when none was written. */
  port: number;
  context: string;
}

export interface OsintView {
  documents: OsintViewDocument[];
  /** Documents matching the filter (the table shows the newest `documentLimit`). */
  documentCount: number;
  indicators: OsintViewIndicator[];
  /** Indicators matching the filter, by type (all of them, not only the listed ones). */
  byType: { type: string; count: number }[];
  /** Indicators per UTC day and type over the last `days` days, by the day their document was fetched. */
  daily: { day: string; type: string; count: number }[];
  /** Feeds with a readable document, for the filter. */
  sources: string[];
}

type Db = ExpressionBuilder<
  OsintTables & { d: OsintTables['osint_documents']; i: OsintTables['osint_indicators'] },
  'd' | 'i'
>;
type DocDb = ExpressionBuilder<{ d: OsintTables['osint_documents'] }, 'd'>;

/** `lower(column) like %words%`, the pattern's own wildcards escaped. */
function contains(column: string, words: string): Expression<SqlBool> {
  const pattern = `%${words.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}

function markingWhere(eb: DocDb, markings: readonly OsintMarking[]): Expression<SqlBool> {
  return eb.or(markings.map((m) => eb.and([eb('d.tlp', '=', m.tlp), eb('d.feed_tier', '=', m.feedTier)])));
}

/** The document-side filter: marking, feed, language. */
function documentWhere(eb: DocDb, query: OsintViewQuery): Expression<SqlBool> {
  const parts: Expression<SqlBool>[] = [markingWhere(eb, query.markings)];
  if (query.source) parts.push(eb('d.source', '=', query.source));
  if (query.language !== undefined && query.language !== '')
    parts.push(eb('d.language', '=', query.language));
  return eb.and(parts);
}

/** The indicator-side filter: type, words in the value or the context. */
function indicatorWhere(eb: Db, query: OsintViewQuery): Expression<SqlBool> {
  const parts: Expression<SqlBool>[] = [];
  if (query.type) parts.push(eb('i.type', '=', query.type));
  if (query.q) parts.push(eb.or([contains('i.value', query.q), contains('i.context', query.q)]));
  return eb.and(parts);
}

async function readDocuments(db: Kysely<OsintTables>, query: OsintViewQuery) {
  const base = db.selectFrom('osint_documents as d').where((eb) => {
    const parts = [documentWhere(eb, query)];
    // A document matches the words by its title or URL, or by an indicator found in it.
    if (query.q || query.type) {
      const inside = eb.exists(
        eb
          .selectFrom('osint_indicators as i')
          .select('i.document_id')
          .whereRef('i.document_id', '=', 'd.id')
          .where((ib) => indicatorWhere(ib as unknown as Db, query)),
      );
      parts.push(
        query.q && !query.type
          ? eb.or([contains('d.title', query.q), contains('d.url', query.q), inside])
          : inside,
      );
    }
    return eb.and(parts);
  });
  const [rows, count] = await Promise.all([
    base
      .select([
        'd.id',
        'd.source',
        'd.url',
        'd.title',
        'd.fetched_at',
        'd.published_at',
        'd.language',
        'd.indicators',
        'd.tlp',
        'd.feed_tier',
      ])
      .orderBy('d.fetched_at', 'desc')
      .orderBy('d.id')
      .limit(query.documentLimit)
      .execute(),
    base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst(),
  ]);
  const documents = rows.map((r): OsintViewDocument => ({
    id: r.id,
    source: r.source,
    url: r.url,
    title: r.title,
    fetchedAt: r.fetched_at,
    publishedAt: r.published_at,
    language: r.language,
    indicators: Number(r.indicators),
    tlp: r.tlp,
    feedTier: r.feed_tier,
  }));
  return { documents, documentCount: Number(count?.n ?? 0) };
}

function indicatorRows(db: Kysely<OsintTables>, query: OsintViewQuery) {
  return db
    .selectFrom('osint_indicators as i')
    .innerJoin('osint_documents as d', 'd.id', 'i.document_id')
    .where((eb) => eb.and([documentWhere(eb, query), indicatorWhere(eb, query)]));
}

export async function osintView(db: Kysely<OsintTables>, query: OsintViewQuery): Promise<OsintView> {
  if (query.markings.length === 0)
    return { documents: [], documentCount: 0, indicators: [], byType: [], daily: [], sources: [] };
  const since = new Date(
    Date.UTC(query.now.getUTCFullYear(), query.now.getUTCMonth(), query.now.getUTCDate()) -
      (query.days - 1) * 86_400_000,
  ).toISOString();
  const day = sql<string>`substr(d.fetched_at, 1, 10)`;
  const [{ documents, documentCount }, indicators, byType, daily, sources] = await Promise.all([
    readDocuments(db, query),
    indicatorRows(db, query)
      .select(['i.document_id', 'd.source', 'd.fetched_at', 'i.type', 'i.value', 'i.port', 'i.context'])
      .orderBy('d.fetched_at', 'desc')
      .orderBy('i.type')
      .orderBy('i.value')
      .limit(query.indicatorLimit)
      .execute(),
    indicatorRows(db, query)
      .select(['i.type', (eb) => eb.fn.countAll<number | string>().as('n')])
      .groupBy('i.type')
      .orderBy('i.type')
      .execute(),
    indicatorRows(db, query)
      .where('d.fetched_at', '>=', since)
      .select([day.as('day'), 'i.type', (eb) => eb.fn.countAll<number | string>().as('n')])
      .groupBy([day, 'i.type'])
      .orderBy(day)
      .orderBy('i.type')
      .execute(),
    db
      .selectFrom('osint_documents as d')
      .where((eb) => markingWhere(eb, query.markings))
      .select('d.source')
      .distinct()
      .orderBy('d.source')
      .execute(),
  ]);
  return {
    documents,
    documentCount,
    indicators: indicators.map((r) => ({
      documentId: r.document_id,
      source: r.source,
      fetchedAt: r.fetched_at,
      type: r.type,
      value: r.value,
      port: Number(r.port),
      context: r.context,
    })),
    byType: byType.map((r) => ({ type: r.type, count: Number(r.n) })),
    daily: daily.map((r) => ({ day: r.day, type: r.type, count: Number(r.n) })),
    sources: sources.map((r) => r.source),
  };
}
