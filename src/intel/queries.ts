/**
 * The views over intel's tables the console shows: pages of indicators sorted and filtered in
 * SQL, and the aggregates of its hosts, darknet, survey and graph pages. Who may see what is the
 * caller's `scope` (share's release rule as a WHERE clause), applied to every query here.
 */
import { sql, type SelectQueryBuilder } from 'kysely';
import type { Database, Store } from '../store/index.ts';
import { indicatorFromRow } from './rows.ts';
import type { Indicator, IndicatorKind } from './types.ts';

export type IndicatorQueryBuilder<O> = SelectQueryBuilder<Database, 'indicators', O>;
/** Narrows a query on the indicators table to what one reader may see. */
export type IndicatorScope = <O>(query: IndicatorQueryBuilder<O>) => IndicatorQueryBuilder<O>;

export const SORT_COLUMNS = {
  created: 'created_at',
  value: 'value',
  port: 'port',
  family: 'family',
  confidence: 'confidence',
  lastSeen: 'last_seen',
} as const;
export type IndicatorSort = keyof typeof SORT_COLUMNS;

export interface IndicatorPageQuery {
  scope: IndicatorScope;
  /** Only active (not withdrawn, not expired) at this time; undefined: active or not. */
  activeAt?: Date;
  kind?: IndicatorKind;
  family?: string;
  minConfidence?: number;
  asn?: number;
  /** Values starting with this (lower-cased). */
  valuePrefix?: string;
  sort: IndicatorSort;
  dir: 'asc' | 'desc';
  /** Keyset: the last row's sort value and id (seeks instead of skipping). */
  after?: { value: string | number; id: string };
  offset?: number;
  limit: number;
}

/** The sort value of an indicator, as a keyset cursor names it. */
export function sortValueOf(indicator: Indicator, sort: IndicatorSort): string | number {
  switch (sort) {
    case 'created':
      return indicator.createdAt;
    case 'value':
      return indicator.value;
    case 'port':
      return indicator.port;
    case 'family':
      return indicator.family;
    case 'confidence':
      return indicator.confidence;
    case 'lastSeen':
      return indicator.lastSeen;
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function whereActive<O>(query: IndicatorQueryBuilder<O>, now: Date): IndicatorQueryBuilder<O> {
  return query
    .where('indicators.withdrawn_at', 'is', null)
    .where('indicators.expires_at', '>', now.toISOString());
}

/** Kinds that name a subscriber's host. */
const HOST_KINDS: IndicatorKind[] = ['bot', 'vulnerable-device'];

/** An attribute of the indicator (JSON text) as SQL, per engine. */
function attr(store: Store, name: string) {
  return store.engine === 'postgres'
    ? sql<string | null>`(indicators.attributes::jsonb ->> ${name})`
    : sql<string | null>`json_extract(indicators.attributes, ${`$.${name}`})`;
}

function filtered(store: Store, q: Omit<IndicatorPageQuery, 'sort' | 'dir' | 'limit'>) {
  let query = q.scope(store.db.selectFrom('indicators'));
  if (q.activeAt) query = whereActive(query, q.activeAt);
  if (q.kind) query = query.where('kind', '=', q.kind);
  if (q.family) query = query.where('family', '=', q.family.toLowerCase());
  if (q.minConfidence !== undefined) query = query.where('confidence', '>=', q.minConfidence);
  if (q.asn !== undefined) query = query.where('asn', '=', q.asn);
  if (q.valuePrefix)
    query = query.where(
      sql<boolean>`value like ${`${escapeLike(q.valuePrefix.toLowerCase())}%`} escape '\\'`,
    );
  return query;
}

/** One page in (sort, id) order; `more` when another follows. */
export async function indicatorPage(
  store: Store,
  q: IndicatorPageQuery,
): Promise<{ items: Indicator[]; more: boolean }> {
  const column = SORT_COLUMNS[q.sort];
  // The id breaks ties in the same direction, so (column, id) is one key an index can seek.
  let page = filtered(store, q).selectAll().orderBy(column, q.dir).orderBy('id', q.dir);
  if (q.after) {
    const { value, id } = q.after;
    page = page.where((eb) =>
      eb(eb.refTuple(column, 'id'), q.dir === 'asc' ? '>' : '<', eb.tuple(value as never, id)),
    );
  } else if (q.offset) page = page.offset(q.offset);
  const rows = await page.limit(q.limit + 1).execute();
  const more = rows.length > q.limit;
  return { items: rows.slice(0, q.limit).map(indicatorFromRow), more };
}

/** How many match, counted up to `cap + 1` rows (enough to say "cap+"). */
export async function countIndicators(
  store: Store,
  q: Omit<IndicatorPageQuery, 'sort' | 'dir' | 'limit'>,
  cap: number,
): Promise<number> {
  const row = await store.db
    .selectFrom(
      filtered(store, q)
        .select(sql<number>`1`.as('one'))
        .limit(cap + 1)
        .as('capped'),
    )
    .select(sql<number>`count(*)`.as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The newest active indicators of a kind the scope allows, newest first. */
export async function newest(
  store: Store,
  scope: IndicatorScope,
  kind: IndicatorKind,
  limit: number,
  now: Date,
): Promise<Indicator[]> {
  const rows = await scope(whereActive(store.db.selectFrom('indicators'), now))
    .where('kind', '=', kind)
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(indicatorFromRow);
}

/** The active indicators of these kinds whose value is exactly `value` (the self-check's address). */
export async function activeWithValue(
  store: Store,
  value: string,
  kinds: readonly IndicatorKind[],
  now: Date,
  limit: number,
) {
  const rows = await whereActive(store.db.selectFrom('indicators'), now)
    .selectAll()
    .where('kind', 'in', [...kinds])
    .where('value', '=', value)
    .limit(limit)
    .execute();
  return rows.map(indicatorFromRow);
}

/** Active infected hosts and vulnerable devices by AS, country (attribute), family and kind. */
export async function hostBreakdown(store: Store, now: Date, placeByAddress: number) {
  const hosts = () => whereActive(store.db.selectFrom('indicators'), now).where('kind', 'in', HOST_KINDS);
  const [byAsn, byCountry, byFamily, totals, withoutAsn] = await Promise.all([
    hosts()
      .where('asn', 'is not', null)
      .select(['kind', 'asn', sql<number>`count(*)`.as('n')])
      .groupBy(['kind', 'asn'])
      .orderBy(sql`count(*)`, 'desc')
      .limit(40)
      .execute(),
    hosts()
      .select(['kind', attr(store, 'country').as('country'), sql<number>`count(*)`.as('n')])
      .groupBy(['kind', attr(store, 'country')])
      .orderBy(sql`count(*)`, 'desc')
      .limit(200)
      .execute(),
    hosts()
      .select(['kind', 'family', sql<number>`count(*)`.as('n')])
      .groupBy(['kind', 'family'])
      .orderBy(sql`count(*)`, 'desc')
      .limit(40)
      .execute(),
    hosts()
      .select(['kind', sql<number>`count(*)`.as('n')])
      .groupBy('kind')
      .execute(),
    // Hosts reported without an AS (a darknet sensor knows only the address): up to
    // `placeByAddress` for the caller to place (no sort, so the work stays bounded).
    hosts().where('asn', 'is', null).select(['kind', 'value']).limit(placeByAddress).execute(),
  ]);
  return {
    byAsn: byAsn.map((r) => ({ kind: r.kind, asn: Number(r.asn), count: Number(r.n) })),
    byCountry: byCountry.map((r) => ({ kind: r.kind, country: r.country ?? '', count: Number(r.n) })),
    byFamily: byFamily.map((r) => ({ kind: r.kind, family: r.family, count: Number(r.n) })),
    totals: totals.map((r) => ({ kind: r.kind, count: Number(r.n) })),
    withoutAsn,
  };
}

/**
 * Bots reported by darknet sensors (sightings whose source starts with `sourcePrefix`, a
 * constant without LIKE wildcards): new
 * per hour since `since` (ISO hour), the newest `sample` hosts' attributes, and how many in all.
 */
export async function darknetBots(store: Store, sourcePrefix: string, since: string, sample: number) {
  const fromDarknet = () =>
    store.db
      .selectFrom('indicators')
      .innerJoin('sightings', 'sightings.indicator_id', 'indicators.id')
      .where('sightings.source', 'like', `${sourcePrefix}%`)
      .where('indicators.kind', '=', 'bot');
  const [perHour, recent, total] = await Promise.all([
    fromDarknet()
      .where('sightings.first_seen', '>=', since)
      .select([sql<string>`substr(sightings.first_seen, 1, 13)`.as('hour'), sql<number>`count(*)`.as('n')])
      .groupBy(sql`substr(sightings.first_seen, 1, 13)`)
      .execute(),
    fromDarknet()
      .select(['indicators.attributes', 'indicators.family'])
      .orderBy('sightings.last_seen', 'desc')
      .limit(sample)
      .execute(),
    fromDarknet()
      .select(sql<number>`count(*)`.as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return {
    perHour: perHour.map((r) => ({ hour: r.hour, count: Number(r.n) })),
    recent,
    total: Number(total.n),
  };
}

/** Active vulnerable devices by product, notification state and service (attributes). */
export async function deviceBreakdown(store: Store, now: Date) {
  const devices = () =>
    whereActive(store.db.selectFrom('indicators'), now).where('kind', '=', 'vulnerable-device');
  const [byProduct, byNotification, byService] = await Promise.all([
    devices()
      .select([attr(store, 'product').as('product'), sql<number>`count(*)`.as('n')])
      .groupBy(attr(store, 'product'))
      .orderBy(sql`count(*)`, 'desc')
      .limit(20)
      .execute(),
    devices()
      .select([attr(store, 'notification').as('state'), sql<number>`count(*)`.as('n')])
      .groupBy(attr(store, 'notification'))
      .execute(),
    devices()
      .select([attr(store, 'service').as('service'), sql<number>`count(*)`.as('n')])
      .groupBy(attr(store, 'service'))
      .orderBy(sql`count(*)`, 'desc')
      .limit(20)
      .execute(),
  ]);
  return {
    byProduct: byProduct.map((r) => ({ product: r.product ?? '', count: Number(r.n) })),
    byService: byService.map((r) => ({ service: r.service ?? '', count: Number(r.n) })),
    byNotification: byNotification.map((r) => ({ state: r.state ?? '', count: Number(r.n) })),
  };
}

/**
 * Infected hosts around C&C servers: active bots per family (of `families`), and bots seen
 * talking to each server (per family and server, and distinct per family).
 */
export async function botGroups(
  store: Store,
  c2Ids: readonly string[],
  families: readonly string[],
  now: Date,
) {
  const talkers = () =>
    store.db
      .selectFrom('relationships')
      .innerJoin('indicators', 'indicators.id', 'relationships.from_id')
      .where('relationships.to_id', 'in', [...c2Ids])
      .where('relationships.type', '=', 'communicates-with')
      .where('indicators.kind', '=', 'bot');
  const [perFamily, links, talking] = await Promise.all([
    families.length
      ? whereActive(store.db.selectFrom('indicators'), now)
          .where('kind', '=', 'bot')
          .where('family', 'in', [...families])
          .select(['family', sql<number>`count(*)`.as('n')])
          .groupBy('family')
          .execute()
      : [],
    c2Ids.length
      ? talkers()
          .select(['indicators.family', 'relationships.to_id', sql<number>`count(*)`.as('n')])
          .groupBy(['indicators.family', 'relationships.to_id'])
          .execute()
      : [],
    c2Ids.length
      ? talkers()
          .select(['indicators.family', sql<number>`count(distinct relationships.from_id)`.as('n')])
          .groupBy('indicators.family')
          .execute()
      : [],
  ]);
  return {
    perFamily: perFamily.map((r) => ({ family: r.family, count: Number(r.n) })),
    links: links.map((r) => ({ family: r.family, c2Id: r.to_id, count: Number(r.n) })),
    talking: talking.map((r) => ({ family: r.family, count: Number(r.n) })),
  };
}

/** The queries bound to one store (what `intel.queries` is). */
export function createQueries(store: Store) {
  const bound =
    <A extends unknown[], R>(query: (store: Store, ...args: A) => R) =>
    (...args: A) =>
      query(store, ...args);
  return {
    indicatorPage: bound(indicatorPage),
    countIndicators: bound(countIndicators),
    newest: bound(newest),
    activeWithValue: bound(activeWithValue),
    hostBreakdown: bound(hostBreakdown),
    darknetBots: bound(darknetBots),
    deviceBreakdown: bound(deviceBreakdown),
    botGroups: bound(botGroups),
  };
}

export type IntelQueries = ReturnType<typeof createQueries>;
