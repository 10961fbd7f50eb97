/** Intel's reads over its own tables: single indicators, pages, sightings, relationships, changes. */
import { InputError } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import type { ChangeCursor } from './feed.ts';
import { indicatorKey } from './normalise.ts';
import {
  decodeCursor,
  encodeCursor,
  indicatorFromRow,
  relationshipFromRow,
  sightingFromRow,
} from './rows.ts';
import {
  TIERS,
  tierAllows,
  type Indicator,
  type IndicatorKind,
  type Relationship,
  type Sighting,
  type SightingDocument,
  type Tier,
} from './types.ts';

export interface ListQuery {
  kinds?: IndicatorKind[];
  family?: string;
  minConfidence?: number;
  /** Only indicators releasable to this tier. */
  releasableTo?: Tier;
  source?: string;
  includeWithdrawn?: boolean;
  includeExpired?: boolean;
  /** Opaque cursor from a previous page. */
  cursor?: string;
  limit?: number;
  now?: Date;
}

/** Groups rows by a key, in batches of 500 ids (the bound-parameter limit stays far away). */
async function byIds<R, T>(
  ids: readonly string[],
  fetch: (batch: string[]) => Promise<R[]>,
  keyOf: (row: R) => string,
  map: (row: R) => T,
): Promise<Map<string, T[]>> {
  const out = new Map<string, T[]>();
  for (let i = 0; i < ids.length; i += 500) {
    for (const r of await fetch(ids.slice(i, i + 500))) {
      let list = out.get(keyOf(r));
      if (!list) out.set(keyOf(r), (list = []));
      list.push(map(r));
    }
  }
  return out;
}

/** The documents naming the indicator, oldest first: at most `limit`, and how many there are. */
async function readSightingDocuments(
  db: Store['db'],
  indicatorId: string,
  limit: number,
): Promise<{ total: number; items: SightingDocument[] }> {
  const of = db
    .selectFrom('sighting_documents as d')
    .innerJoin('sightings as s', 's.id', 'd.sighting_id')
    .where('s.indicator_id', '=', indicatorId);
  const [rows, count] = await Promise.all([
    of
      .select(['s.source', 'd.document', 'd.url', 'd.title', 'd.context', 'd.first_seen'])
      .orderBy('d.first_seen')
      .orderBy('s.source')
      .orderBy('d.document')
      .limit(limit)
      .execute(),
    of.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return {
    total: Number(count.n),
    items: rows.map((r) => ({
      source: r.source,
      document: r.document,
      url: r.url,
      title: r.title,
      context: r.context,
      firstSeen: r.first_seen,
    })),
  };
}

/**
 * Indicators of one kind by value, each as `get({ kind, value })` finds it (the value
 * canonicalised, port 0, no protocol), withdrawn and expired ones too, in a query per 500 values
 * rather than one each; keyed by the value as asked, unknown and malformed ones left out.
 */
async function readByValues(
  db: Store['db'],
  kind: IndicatorKind,
  values: readonly string[],
): Promise<Map<string, Indicator>> {
  /** Canonical value -> the values asked that are it. */
  const asked = new Map<string, string[]>();
  for (const value of values) {
    let canonical: string;
    try {
      canonical = indicatorKey(kind, value).value;
    } catch (error) {
      if (error instanceof InputError) continue;
      throw error;
    }
    const same = asked.get(canonical);
    if (same) same.push(value);
    else asked.set(canonical, [value]);
  }
  const found = await byIds(
    [...asked.keys()],
    (batch) =>
      db
        .selectFrom('indicators')
        .selectAll()
        .where('kind', '=', kind)
        .where('value', 'in', batch)
        .where('port', '=', 0)
        .where('proto', '=', '')
        .execute(),
    (r) => r.value,
    indicatorFromRow,
  );
  const out = new Map<string, Indicator>();
  for (const [canonical, [indicator]] of found)
    for (const value of asked.get(canonical) ?? []) out.set(value, indicator!);
  return out;
}

export function createReads(store: Store) {
  const db = store.db;
  return {
    async list(query: ListQuery = {}): Promise<{ items: Indicator[]; next?: string }> {
      const limit = Math.min(Math.max(query.limit ?? 100, 1), 10_000);
      const now = (query.now ?? new Date()).toISOString();
      let q = db
        .selectFrom('indicators')
        .selectAll()
        .orderBy('id')
        .limit(limit + 1);
      if (query.kinds?.length) q = q.where('kind', 'in', query.kinds);
      if (query.family) q = q.where('family', '=', query.family.toLowerCase());
      if (query.minConfidence !== undefined) q = q.where('confidence', '>=', query.minConfidence);
      if (query.releasableTo) {
        // Releasable to a reader at tier R: the indicator's broadest tier is R or less restricted.
        const reader = query.releasableTo;
        q = q.where(
          'tier',
          'in',
          TIERS.filter((t) => tierAllows(reader, t)),
        );
      }
      if (query.source) {
        const source = query.source;
        q = q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('sightings')
              .select('sightings.id')
              .whereRef('sightings.indicator_id', '=', 'indicators.id')
              .where('sightings.source', '=', source),
          ),
        );
      }
      if (!query.includeWithdrawn) q = q.where('withdrawn_at', 'is', null);
      if (!query.includeExpired) q = q.where('expires_at', '>', now);
      if (query.cursor) q = q.where('id', '>', decodeCursor(query.cursor));
      const rows = await q.execute();
      const items = rows.slice(0, limit).map(indicatorFromRow);
      return rows.length > limit ? { items, next: encodeCursor(items[items.length - 1]!.id) } : { items };
    },

    /** Indicators by id (unknown ids are left out). */
    async byIds(ids: readonly string[]): Promise<Map<string, Indicator>> {
      const found = await byIds(
        ids,
        (batch) => db.selectFrom('indicators').selectAll().where('id', 'in', batch).execute(),
        (r) => r.id,
        indicatorFromRow,
      );
      return new Map([...found].map(([id, [indicator]]) => [id, indicator!]));
    },

    /**
     * Indicators of one kind by value, each as `get({ kind, value })` finds it, withdrawn and
     * expired ones too, a query per 500 values (readByValues).
     */
    byValues: (kind: IndicatorKind, values: readonly string[]) => readByValues(db, kind, values),

    async sightings(indicatorId: string): Promise<Sighting[]> {
      const rows = await db
        .selectFrom('sightings')
        .selectAll()
        .where('indicator_id', '=', indicatorId)
        .orderBy('source')
        .execute();
      return rows.map(sightingFromRow);
    },

    sightingDocuments: (indicatorId: string, limit = 200) => readSightingDocuments(db, indicatorId, limit),

    async relationships(indicatorId: string): Promise<Relationship[]> {
      const rows = await db
        .selectFrom('relationships')
        .selectAll()
        .where((eb) => eb.or([eb('from_id', '=', indicatorId), eb('to_id', '=', indicatorId)]))
        .orderBy('id')
        .execute();
      return rows.map(relationshipFromRow);
    },

    sightingsOf(indicatorIds: readonly string[]): Promise<Map<string, Sighting[]>> {
      return byIds(
        indicatorIds,
        (batch) =>
          db
            .selectFrom('sightings')
            .selectAll()
            .where('indicator_id', 'in', batch)
            .orderBy('indicator_id')
            .orderBy('source')
            .execute(),
        (r) => r.indicator_id,
        sightingFromRow,
      );
    },

    relationshipsFrom(indicatorIds: readonly string[]): Promise<Map<string, Relationship[]>> {
      return byIds(
        indicatorIds,
        (batch) =>
          db.selectFrom('relationships').selectAll().where('from_id', 'in', batch).orderBy('id').execute(),
        (r) => r.from_id,
        relationshipFromRow,
      );
    },

    /** Every source that holds a sighting of any indicator. */
    async sightingSources(): Promise<string[]> {
      const rows = await db.selectFrom('sightings').select('source').distinct().execute();
      return rows.map((r) => r.source);
    },

    async changedSince(after: ChangeCursor | undefined, limit: number): Promise<Indicator[]> {
      let q = db.selectFrom('indicators').selectAll().orderBy('modified_at').orderBy('id').limit(limit);
      if (after) {
        // A row-value comparison lets both engines seek in the (modified_at, id) index; the
        // equivalent OR scans from the start on every page.
        q = q.where((eb) => eb(eb.refTuple('modified_at', 'id'), '>', eb.tuple(after.modifiedAt, after.id)));
      }
      return (await q.execute()).map(indicatorFromRow);
    },

    async newest(): Promise<ChangeCursor | undefined> {
      const last = await db
        .selectFrom('indicators')
        .select(['modified_at', 'id'])
        .orderBy('modified_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return last ? { modifiedAt: last.modified_at, id: last.id } : undefined;
    },
  };
}
