/**
 * The console's JSON API under /console/api/: the same bearer tokens, scopes and tier rules as
 * TAXII. Every answer is filtered by the reader's tier in SQL (see view.ts) so tables paginate
 * and count server-side; reads of restricted detail are written to the audit log.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { INDICATOR_KINDS, type Tier } from '../intel/index.ts';
import { canRead, canWrite, loadCollections } from '../share/collections.ts';
import {
  HttpError,
  isRestrictedTlp,
  notFound,
  principalOf,
  recordRead,
  type HubContext,
} from '../share/http.ts';
import {
  mayReadAudit,
  mayReadOrganisations,
  readerOf,
  type PublicNoticeDecision,
} from '../share/release/index.ts';
import { publicNoticeDecisions } from '../share/review.ts';
import { registerReview } from './review.ts';
import type { Principal } from '../share/orgs.ts';
import type { Database } from '../store/index.ts';
import { asnDirectory } from './asn.ts';
import type { ConsoleConfig } from './config.ts';
import { indicatorFromRow } from '../intel/index.ts';
import {
  HOST_KINDS,
  indicatorRef,
  parseRef,
  viewOf,
  visibleAt,
  visibleClass,
  whereActive,
  whereVisible,
} from './view.ts';

const SORTABLE = {
  created: 'created_at',
  value: 'value',
  port: 'port',
  family: 'family',
  confidence: 'confidence',
  lastSeen: 'last_seen',
} as const;
type SortKey = keyof typeof SORTABLE;
/** Sorting by observation time would reveal it: only the full tier may. */
const FULL_ONLY_SORT: readonly SortKey[] = ['lastSeen'];

const ListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: [...INDICATOR_KINDS] },
    q: { type: 'string', maxLength: 100 },
    family: { type: 'string', maxLength: 100 },
    minConfidence: { type: 'integer', minimum: 0, maximum: 100 },
    asn: { type: 'integer', minimum: 0, maximum: 4294967295 },
    sort: { type: 'string', enum: Object.keys(SORTABLE) },
    dir: { type: 'string', enum: ['asc', 'desc'] },
    offset: { type: 'integer', minimum: 0, maximum: 1_000_000 },
    /** Keyset cursor (`next` of the previous page): seeks instead of skipping `offset` rows. */
    after: { type: 'string', maxLength: 1500, pattern: '^[A-Za-z0-9_-]+$' },
    /** false: skip the capped count (a client paging on with a cursor already has it). */
    count: { type: 'boolean' },
    limit: { type: 'integer', minimum: 1, maximum: 1000 },
    inactive: { type: 'boolean' },
  },
} as const;
interface ListQuery {
  kind?: (typeof INDICATOR_KINDS)[number];
  q?: string;
  family?: string;
  minConfidence?: number;
  asn?: number;
  sort?: SortKey;
  dir?: 'asc' | 'desc';
  offset?: number;
  after?: string;
  count?: boolean;
  limit?: number;
  inactive?: boolean;
}

/** Hosts without an AS placed by their address per hosts request. */
const HOSTS_ASN_LOOKUPS = 20_000;

const NUMERIC_SORT: readonly SortKey[] = ['port', 'confidence'];

/** A keyset cursor names the sort it belongs to and the last row's sort value and id. */
function encodeCursor(sort: SortKey, dir: 'asc' | 'desc', value: string | number, id: string): string {
  return Buffer.from(JSON.stringify([sort, dir, value, id]), 'utf8').toString('base64url');
}

function decodeCursor(
  cursor: string,
  sort: SortKey,
  dir: 'asc' | 'desc',
): { value: string | number; id: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new HttpError(400, 'Bad Request', 'after: not a cursor this console handed out');
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 4 ||
    typeof parsed[3] !== 'string' ||
    parsed[3].length > 100 ||
    (NUMERIC_SORT.includes(sort)
      ? !Number.isInteger(parsed[2])
      : typeof parsed[2] !== 'string' || parsed[2].length > 1000)
  )
    throw new HttpError(400, 'Bad Request', 'after: not a cursor this console handed out');
  if (parsed[0] !== sort || parsed[1] !== dir)
    throw new HttpError(400, 'Bad Request', 'after: the cursor belongs to another sort order');
  return { value: parsed[2] as string | number, id: parsed[3] };
}

/** Counting stops here: "10,000+" says enough and keeps a count over 1M rows cheap. */
export const COUNT_CAP = 10_000;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function hourBuckets(hours: number, now: Date): string[] {
  const out: string[] = [];
  const end = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
  for (let i = hours - 1; i >= 0; i--) out.push(new Date(end - i * 3_600_000).toISOString().slice(0, 13));
  return out;
}

export interface ApiState {
  overviewCache: Map<Tier, { at: number; body: unknown }>;
  overviewRefresh: Map<Tier, Promise<unknown>>;
  /** Set by registerApi: recounts a tier's overview (to warm up, and after changes). */
  refreshOverview?: (tier: Tier) => Promise<unknown>;
}

export function registerApi(
  app: FastifyInstance,
  ctx: HubContext,
  config: ConsoleConfig,
  state: ApiState,
): void {
  const db: Kysely<Database> = ctx.store.db;
  const asns = asnDirectory();
  const engine = ctx.store.engine;
  const attr = (name: string) =>
    engine === 'postgres'
      ? sql<string | null>`(indicators.attributes::jsonb ->> ${name})`
      : sql<string | null>`json_extract(indicators.attributes, ${`$.${name}`})`;

  function requireFull(p: Principal): void {
    if (p.org.tier !== 'full')
      throw new HttpError(403, 'Forbidden', 'This view needs the full-analysis tier.');
  }

  /** The analysis centre's public-notice decisions on rows a public reader is about to see. */
  async function decisionsFor(tier: Tier, rows: readonly { id: string }[]) {
    if (tier !== 'public' || rows.length === 0) return new Map<string, PublicNoticeDecision>();
    return publicNoticeDecisions(
      db,
      rows.map((r) => r.id),
    );
  }

  const auditRead = (
    request: FastifyRequest,
    p: Principal,
    target: string,
    detail: Record<string, unknown>,
  ) => recordRead(ctx.audit, request, p, { channel: 'console', purpose: 'console', target, detail });

  app.get('/console/api/me', async (request) => {
    const p = principalOf(request);
    return {
      org: p.org.name,
      role: p.org.role,
      tier: p.org.tier,
      scopes: p.scopes,
      consent: p.org.consentAt !== null,
    };
  });

  /**
   * Counters and trend come from intel's tallies (a few hundred rows, whatever the store holds);
   * the newest C&C servers walk the (kind, created_at, id) index backwards. Nothing here counts
   * indicator rows, so the overview costs the same at 1M indicators as at 100.
   */
  async function computeOverview(tier: Tier): Promise<unknown> {
    const now = new Date();
    const [tallies, newest] = await Promise.all([
      ctx.intel.tallies(now),
      whereVisible(whereActive(db.selectFrom('indicators'), now), tier)
        .where('kind', '=', 'c2')
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(10)
        .execute(),
    ]);
    const active: Record<string, number> = {};
    const new24h: Record<string, number> = {};
    const trend: Record<string, number[]> = {};
    for (const c of tallies.classes) {
      if (!visibleClass(tier, c)) continue;
      if (c.active) active[c.kind] = (active[c.kind] ?? 0) + c.active;
      if (c.new24h) new24h[c.kind] = (new24h[c.kind] ?? 0) + c.new24h;
      if (c.perHour.some((n) => n !== 0)) {
        const series = (trend[c.kind] ??= new Array<number>(tallies.hours.length).fill(0));
        c.perHour.forEach((n, i) => (series[i]! += n));
      }
    }
    const body = {
      tier,
      at: now.toISOString(),
      active,
      new24h,
      hours: tallies.hours,
      trend,
      newestC2: await (async () => {
        const decisions = await decisionsFor(tier, newest);
        return newest.map((r) => viewOf(indicatorFromRow(r), tier, now, decisions.get(r.id)));
      })(),
    };
    state.overviewCache.set(tier, { at: performance.now(), body });
    return body;
  }

  /** Recounts one tier's overview once at a time; callers share the promise. */
  function refreshOverview(tier: Tier): Promise<unknown> {
    let running = state.overviewRefresh.get(tier);
    if (!running) {
      running = computeOverview(tier).finally(() => state.overviewRefresh.delete(tier));
      state.overviewRefresh.set(tier, running);
    }
    return running;
  }
  state.refreshOverview = refreshOverview;

  // Counting a million rows takes a while: a reader gets the last counts at once while a
  // recount runs behind (stale-while-revalidate); only a request before the first count waits.
  app.get('/console/api/overview', async (request) => {
    const tier = principalOf(request).org.tier;
    const cached = state.overviewCache.get(tier);
    if (!cached) return refreshOverview(tier);
    if (performance.now() - cached.at >= config.overviewCacheMs) {
      refreshOverview(tier).catch((error: unknown) =>
        ctx.logger.error({ err: error }, 'console overview recount failed'),
      );
    }
    return cached.body;
  });

  app.get<{ Querystring: ListQuery }>(
    '/console/api/indicators',
    { schema: { querystring: ListQuery } },
    async (request) => {
      const p = principalOf(request);
      const tier = p.org.tier;
      const qs = request.query;
      const now = new Date();
      const sort = qs.sort ?? 'created';
      if (tier !== 'full' && (FULL_ONLY_SORT.includes(sort) || qs.asn !== undefined || qs.inactive))
        throw new HttpError(403, 'Forbidden', 'That sort or filter needs the full-analysis tier.');
      if (tier === 'public' && (sort === 'confidence' || qs.minConfidence !== undefined))
        throw new HttpError(403, 'Forbidden', 'Confidence is not part of public notice.');
      const limit = Math.min(qs.limit ?? 50, config.maxPageSize);
      const offset = qs.offset ?? 0;
      if (qs.after !== undefined && offset !== 0)
        throw new HttpError(400, 'Bad Request', 'Give either after or offset, not both.');
      let q = whereVisible(db.selectFrom('indicators'), tier);
      if (!qs.inactive) q = whereActive(q, now);
      if (qs.kind) q = q.where('kind', '=', qs.kind);
      if (qs.family) q = q.where('family', '=', qs.family.toLowerCase());
      if (qs.minConfidence !== undefined) q = q.where('confidence', '>=', qs.minConfidence);
      if (qs.asn !== undefined) q = q.where('asn', '=', qs.asn);
      if (qs.q) q = q.where(sql<boolean>`value like ${`${escapeLike(qs.q.toLowerCase())}%`} escape '\\'`);
      const column = SORTABLE[sort];
      const dir = qs.dir ?? (sort === 'value' || sort === 'port' || sort === 'family' ? 'asc' : 'desc');
      // The id breaks ties in the same direction, so (column, id) is one key an index can seek.
      let page = q.selectAll().orderBy(column, dir).orderBy('id', dir);
      if (qs.after !== undefined) {
        const { value, id } = decodeCursor(qs.after, sort, dir);
        page = page.where((eb) =>
          eb(eb.refTuple(column, 'id'), dir === 'asc' ? '>' : '<', eb.tuple(value as never, id)),
        );
      } else if (offset > 0) page = page.offset(offset);
      // Active rows of a kind (or all kinds) with no other filter: intel's tallies know the exact
      // number, so nothing is counted; any other filter counts up to COUNT_CAP rows.
      const byTally =
        !qs.inactive && !qs.q && !qs.family && qs.minConfidence === undefined && qs.asn === undefined;
      const [rows, counted] = await Promise.all([
        page.limit(limit + 1).execute(),
        qs.count === false
          ? undefined
          : byTally
            ? ctx.intel.tallies(now).then((t) => ({
                n: t.classes
                  .filter((c) => (!qs.kind || c.kind === qs.kind) && visibleClass(tier, c))
                  .reduce((sum, c) => sum + c.active, 0),
                exact: true,
              }))
            : db
                .selectFrom(
                  q
                    .select(sql<number>`1`.as('one'))
                    .limit(COUNT_CAP + 1)
                    .as('capped'),
                )
                .select(sql<number>`count(*)`.as('n'))
                .executeTakeFirstOrThrow(),
      ]);
      const more = rows.length > limit;
      if (more) rows.pop();
      const last = rows[rows.length - 1];
      const next = more && last ? encodeCursor(sort, dir, last[column], last.id) : undefined;
      const decisions = await decisionsFor(tier, rows);
      const items = rows.map((r) => viewOf(indicatorFromRow(r), tier, now, decisions.get(r.id)));
      const restricted = items.filter((i) => isRestrictedTlp(i.tlp)).length;
      if (restricted > 0)
        await auditRead(request, p, 'console:indicators', {
          objects: items.length,
          restricted,
          kind: qs.kind ?? 'any',
          offset,
        });
      if (!counted) return { items, offset, limit, ...(next ? { next } : {}) };
      const n = Number(counted.n);
      const exact = 'exact' in counted;
      return {
        items,
        total: exact ? n : Math.min(n, COUNT_CAP),
        totalCapped: !exact && n > COUNT_CAP,
        offset,
        limit,
        ...(next ? { next } : {}),
      };
    },
  );

  app.get<{ Params: { ref: string } }>(
    '/console/api/indicators/:ref',
    {
      schema: {
        params: {
          type: 'object',
          required: ['ref'],
          properties: { ref: { type: 'string', maxLength: 3000 } },
        },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const tier = p.org.tier;
      const now = new Date();
      let key;
      try {
        key = parseRef(request.params.ref);
      } catch {
        throw notFound();
      }
      const indicator = await ctx.intel.get(key);
      const decision = indicator ? (await decisionsFor(tier, [indicator])).get(indicator.id) : undefined;
      if (!indicator || !visibleAt(indicator, tier, ctx.hub, decision)) throw notFound();
      const view = viewOf(indicator, tier, now, decision);
      if (tier !== 'full') return { indicator: view };
      const [sightings, relationships, collections, orgs] = await Promise.all([
        ctx.intel.sightings(indicator.id),
        ctx.intel.relationships(indicator.id),
        loadCollections(ctx.store),
        ctx.orgs.list(),
        asns.ready(),
      ]);
      const asn = indicator.asn ?? asns.asnOf(indicator.value);
      // Where it went: the tiers share's sanitisers publish it to, and who may read those.
      const tiers: Tier[] = (['full', 'council', 'public'] as const).filter((t) =>
        visibleAt(indicator, t, ctx.hub),
      );
      const sharedWith = tiers.map((t) => ({
        tier: t,
        collections: collections.filter((c) => c.readTier === t && c.ceiling === t).map((c) => c.title),
        organisations: orgs
          .filter((o) => (t === 'full' ? o.tier === 'full' : t === 'council' ? o.tier !== 'public' : true))
          .map((o) => o.name),
      }));
      const otherIds = relationships
        .map((r) => (r.fromId === indicator.id ? r.toId : r.fromId))
        .slice(0, 200);
      const others = otherIds.length
        ? await db.selectFrom('indicators').selectAll().where('id', 'in', otherIds).execute()
        : [];
      const byId = new Map(others.map((r) => [r.id, indicatorFromRow(r)]));
      await auditRead(request, p, `indicator:${indicator.id}`, { tlp: indicator.tlp });
      return {
        indicator: view,
        sightings: sightings.map((s) => ({
          source: s.source,
          confidence: s.confidence,
          count: s.count,
          firstSeen: s.firstSeen,
          lastSeen: s.lastSeen,
        })),
        relationships: relationships.slice(0, 200).map((r) => {
          const other = byId.get(r.fromId === indicator.id ? r.toId : r.fromId);
          return {
            type: r.type,
            direction: r.fromId === indicator.id ? 'out' : 'in',
            source: r.source,
            other: other
              ? {
                  ref: indicatorRef(other.kind, other.value, other.port, other.proto),
                  kind: other.kind,
                  value: other.value,
                  port: other.port,
                }
              : null,
            firstSeen: r.firstSeen,
            lastSeen: r.lastSeen,
          };
        }),
        relationshipsTotal: relationships.length,
        sharedWith,
        network: {
          asn,
          name: asn === null ? undefined : asns.nameOf(asn),
          /** The AS came from the bundled database, not from the reporter. */
          byAddress: indicator.asn === null && asn !== null,
        },
        evidence: evidenceOf(indicator.attributes),
      };
    },
  );

  /** Infected hosts and vulnerable devices by AS, country and family (hosts are full tier only). */
  app.get('/console/api/hosts', async (request) => {
    const p = principalOf(request);
    requireFull(p);
    const now = new Date();
    const hosts = () => whereActive(db.selectFrom('indicators'), now).where('kind', 'in', [...HOST_KINDS]);
    const [byAsn, byCountry, byFamily, totals, withoutAsn] = await Promise.all([
      hosts()
        .where('asn', 'is not', null)
        .select(['kind', 'asn', sql<number>`count(*)`.as('n')])
        .groupBy(['kind', 'asn'])
        .orderBy(sql`count(*)`, 'desc')
        .limit(40)
        .execute(),
      hosts()
        .select(['kind', attr('country').as('country'), sql<number>`count(*)`.as('n')])
        .groupBy(['kind', attr('country')])
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
      // Hosts reported without an AS (a darknet sensor knows only the address): up to 20,000
      // are placed by the bundled database (no sort, so the work per request stays bounded).
      hosts().where('asn', 'is', null).select(['kind', 'value']).limit(HOSTS_ASN_LOOKUPS).execute(),
      asns.ready(),
    ]);
    const perAsn = new Map<string, { kind: string; asn: number | null; count: number }>();
    const add = (kind: string, asn: number | null, count: number) => {
      const key = `${kind}|${asn ?? ''}`;
      const row = perAsn.get(key) ?? { kind, asn, count: 0 };
      row.count += count;
      perAsn.set(key, row);
    };
    for (const r of byAsn) add(r.kind, Number(r.asn), Number(r.n));
    for (const r of withoutAsn) add(r.kind, asns.asnOf(r.value), 1);
    return {
      totals: Object.fromEntries(totals.map((r) => [r.kind, Number(r.n)])),
      byAsn: [...perAsn.values()]
        .sort((a, b) => b.count - a.count)
        .slice(0, 40)
        .map((r) => ({ ...r, name: r.asn === null ? undefined : asns.nameOf(r.asn) })),
      /** Hosts without an AS beyond the ones placed by address (then byAsn is a sample). */
      asnSampled: withoutAsn.length === HOSTS_ASN_LOOKUPS,
      byCountry: byCountry.map((r) => ({ kind: r.kind, country: r.country ?? '', count: Number(r.n) })),
      byFamily: byFamily.map((r) => ({ kind: r.kind, family: r.family, count: Number(r.n) })),
    };
  });

  /**
   * Darknet statistics from the hosts the darknet reported (sightings whose source starts with
   * "darknet"): new scanners per hour, surges, fingerprints, and ports from the `ports` attribute.
   */
  app.get('/console/api/darknet', async (request) => {
    const p = principalOf(request);
    requireFull(p);
    const now = new Date();
    const hours = hourBuckets(48, now);
    const since = `${hours[0]}:00:00.000Z`;
    const fromDarknet = () =>
      db
        .selectFrom('indicators')
        .innerJoin('sightings', 'sightings.indicator_id', 'indicators.id')
        .where('sightings.source', 'like', 'darknet%')
        .where('indicators.kind', '=', 'bot');
    const [perHour, recent, total] = await Promise.all([
      fromDarknet()
        .where('sightings.first_seen', '>=', since)
        .select([sql<string>`substr(sightings.first_seen, 1, 13)`.as('hour'), sql<number>`count(*)`.as('n')])
        .groupBy(sql`substr(sightings.first_seen, 1, 13)`)
        .execute(),
      // Ports and fingerprints from the newest 20,000 scanners: bounded work per request.
      fromDarknet()
        .select(['indicators.attributes', 'indicators.family'])
        .orderBy('sightings.last_seen', 'desc')
        .limit(20_000)
        .execute(),
      fromDarknet()
        .select(sql<number>`count(*)`.as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    const series = new Array<number>(hours.length).fill(0);
    for (const r of perHour) {
      const i = hours.indexOf(r.hour);
      if (i >= 0) series[i] = Number(r.n);
    }
    const mean = series.reduce((a, b) => a + b, 0) / series.length;
    const sd = Math.sqrt(series.reduce((a, b) => a + (b - mean) ** 2, 0) / series.length);
    const surges = hours
      .map((h, i) => ({ hour: h, count: series[i]! }))
      .filter((s) => s.count >= 10 && s.count > mean + 3 * sd);
    const ports = new Map<number, number>();
    const fingerprints = new Map<string, number>();
    for (const r of recent) {
      let a: Record<string, string> = {};
      try {
        a = JSON.parse(r.attributes) as Record<string, string>;
      } catch {
        continue;
      }
      const fp = a.fingerprint || r.family || 'unknown';
      fingerprints.set(fp, (fingerprints.get(fp) ?? 0) + 1);
      for (const part of String(a.ports ?? '').split(/[;, ]+/)) {
        const port = Number(part.replace('+', ''));
        if (part && Number.isInteger(port) && port >= 0 && port <= 65535)
          ports.set(port, (ports.get(port) ?? 0) + 1);
      }
    }
    const top = <K>(m: Map<K, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
    return {
      scanners: Number(total.n),
      sampled: recent.length,
      hours,
      newScannersPerHour: series,
      surges,
      topPorts: top(ports, 20).map(([port, count]) => ({ port, count })),
      fingerprints: top(fingerprints, 20).map(([name, count]) => ({ name, count })),
    };
  });

  /** Survey findings (vulnerable devices) by product and their notification state. */
  app.get('/console/api/survey', async (request) => {
    const p = principalOf(request);
    requireFull(p);
    const now = new Date();
    const devices = () =>
      whereActive(db.selectFrom('indicators'), now).where('kind', '=', 'vulnerable-device');
    const [byProduct, byNotification, byService] = await Promise.all([
      devices()
        .select([attr('product').as('product'), sql<number>`count(*)`.as('n')])
        .groupBy(attr('product'))
        .orderBy(sql`count(*)`, 'desc')
        .limit(20)
        .execute(),
      devices()
        .select([attr('notification').as('state'), sql<number>`count(*)`.as('n')])
        .groupBy(attr('notification'))
        .execute(),
      devices()
        .select([attr('service').as('service'), sql<number>`count(*)`.as('n')])
        .groupBy(attr('service'))
        .orderBy(sql`count(*)`, 'desc')
        .limit(20)
        .execute(),
    ]);
    return {
      byProduct: byProduct.map((r) => ({ product: r.product ?? '', count: Number(r.n) })),
      byService: byService.map((r) => ({ service: r.service ?? '', count: Number(r.n) })),
      notification: byNotification.map((r) => ({ state: r.state || 'not-sent', count: Number(r.n) })),
    };
  });

  /** Organisations, consent, collections and tokens, as far as the reader may know them. */
  app.get('/console/api/sharing', async (request) => {
    const p = principalOf(request);
    // Every organisation only for the analysis centre (release decides); others see themselves.
    const full = mayReadOrganisations(readerOf(p));
    const admin = p.scopes.includes('admin');
    const [orgs, collections] = await Promise.all([ctx.orgs.list(), loadCollections(ctx.store)]);
    const visibleCollections = collections.filter((c) => canRead(p, c) || canWrite(p, c));
    const counts = visibleCollections.length
      ? await db
          .selectFrom('stix_objects')
          .select(['collection_id', sql<number>`count(*)`.as('n')])
          .where('is_latest', '=', 1)
          .where(
            'collection_id',
            'in',
            visibleCollections.map((c) => c.id),
          )
          .groupBy('collection_id')
          .execute()
      : [];
    const tokenRows = await db
      .selectFrom('tokens')
      .select(['id', 'label', 'scopes', 'created_at', 'revoked_at'])
      .where('org_id', '=', p.org.id)
      .$if(!admin, (q) => q.where('id', '=', p.tokenId))
      .orderBy('created_at')
      .execute();
    return {
      organisations: (full ? orgs : orgs.filter((o) => o.id === p.org.id)).map((o) => ({
        name: o.name,
        role: o.role,
        tier: o.tier,
        consentAt: o.consentAt,
        consentTerms: o.consentTerms,
        prefixes: o.prefixes.length,
        asns: o.asns.length,
      })),
      collections: visibleCollections.map((c) => ({
        id: c.id,
        apiRoot: c.apiRoot,
        title: c.title,
        ceiling: c.ceiling,
        canRead: canRead(p, c),
        canWrite: canWrite(p, c),
        objects: Number(counts.find((x) => x.collection_id === c.id)?.n ?? 0),
      })),
      tokens: tokenRows.map((t) => ({
        id: t.id,
        label: t.label,
        scopes: JSON.parse(t.scopes) as string[],
        createdAt: t.created_at,
        revokedAt: t.revoked_at,
        current: t.id === p.tokenId,
      })),
    };
  });

  let verified: { at: number; result: unknown } | undefined;
  app.get<{ Querystring: { before?: number; limit?: number } }>(
    '/console/api/audit',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            before: { type: 'integer', minimum: 1 },
            limit: { type: 'integer', minimum: 1, maximum: 500 },
          },
        },
      },
    },
    async (request) => {
      const p = principalOf(request);
      if (!mayReadAudit(readerOf(p)))
        throw new HttpError(403, 'Forbidden', 'The audit log is for the analysis centre.');
      const limit = request.query.limit ?? 50;
      let q = db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(limit);
      if (request.query.before) q = q.where('seq', '<', request.query.before);
      const rows = await q.execute();
      // Verifying reads the whole chain: reuse the answer for a few seconds.
      if (!verified || performance.now() - verified.at > 10_000)
        verified = { at: performance.now(), result: await ctx.audit.verify() };
      return {
        verification: verified.result,
        records: rows.map((r) => ({
          seq: Number(r.seq),
          at: r.at,
          actor: r.actor,
          action: r.action,
          target: r.target,
          reason: r.reason,
          detail: r.detail,
          hash: r.hash,
        })),
      };
    },
  );

  /**
   * The correlation graph: the newest C&C servers, their families and (full tier) the infected
   * hosts, aggregated into one node per family so a thousand bots stay readable. A bot group is
   * joined to its family and to each C&C server its members were seen talking to (with how many).
   */
  app.get<{ Querystring: { limit?: number } }>(
    '/console/api/graph',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 200 } },
        },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const tier = p.org.tier;
      const now = new Date();
      const c2Rows = await whereVisible(whereActive(db.selectFrom('indicators'), now), tier)
        .where('kind', '=', 'c2')
        .selectAll()
        .orderBy('created_at', 'desc')
        .limit(request.query.limit ?? 60)
        .execute();
      const nodes: GraphNode[] = [];
      const edges: { from: string; to: string; type: string; count?: number }[] = [];
      const families = new Map<string, number>();
      const idToNode = new Map<string, string>();
      for (const r of c2Rows) {
        const ind = indicatorFromRow(r);
        const ref = indicatorRef(ind.kind, ind.value, ind.port, ind.proto);
        idToNode.set(ind.id, ref);
        // The detector's own count of distinct bots, when the reader may see its evidence.
        const bots = tier === 'full' ? detectorBotCount(ind.attributes) : undefined;
        nodes.push({
          id: ref,
          kind: 'c2',
          label: `${ind.value}:${ind.port}`,
          family: ind.family,
          ...(bots !== undefined ? { count: bots } : {}),
        });
        if (ind.family) {
          families.set(ind.family, (families.get(ind.family) ?? 0) + 1);
          edges.push({ from: ref, to: `family:${ind.family}`, type: 'member-of' });
        }
      }
      if (tier === 'full' && c2Rows.length) await addBotGroups(c2Rows, families, idToNode, nodes, edges, now);
      for (const [family, count] of families)
        nodes.push({ id: `family:${family}`, kind: 'family', label: family, family, count });
      return { nodes, edges };
    },
  );

  registerReview(app, ctx);

  /** Active bots of the shown families, and bots seen talking to the shown servers, one node per family. */
  async function addBotGroups(
    c2Rows: { id: string }[],
    families: Map<string, number>,
    idToNode: Map<string, string>,
    nodes: GraphNode[],
    edges: { from: string; to: string; type: string; count?: number }[],
    now: Date,
  ): Promise<void> {
    const talkers = () =>
      db
        .selectFrom('relationships')
        .innerJoin('indicators', 'indicators.id', 'relationships.from_id')
        .where(
          'relationships.to_id',
          'in',
          c2Rows.map((r) => r.id),
        )
        .where('relationships.type', '=', 'communicates-with')
        .where('indicators.kind', '=', 'bot');
    const [perFamily, links, talking] = await Promise.all([
      families.size
        ? whereActive(db.selectFrom('indicators'), now)
            .where('kind', '=', 'bot')
            .where('family', 'in', [...families.keys()])
            .select(['family', sql<number>`count(*)`.as('n')])
            .groupBy('family')
            .execute()
        : [],
      talkers()
        .select(['indicators.family', 'relationships.to_id', sql<number>`count(*)`.as('n')])
        .groupBy(['indicators.family', 'relationships.to_id'])
        .execute(),
      talkers()
        .select(['indicators.family', sql<number>`count(distinct relationships.from_id)`.as('n')])
        .groupBy('indicators.family')
        .execute(),
    ]);
    const groups = new Map<string, number>();
    for (const r of perFamily) groups.set(r.family, Number(r.n));
    for (const r of talking) groups.set(r.family, Math.max(groups.get(r.family) ?? 0, Number(r.n)));
    for (const l of links) {
      edges.push({
        from: `bots:${l.family}`,
        to: idToNode.get(l.to_id)!,
        type: 'communicates-with',
        count: Number(l.n),
      });
    }
    for (const [family, count] of groups) {
      nodes.push({ id: `bots:${family}`, kind: 'bots', label: family, family, count });
      if (family && families.has(family))
        edges.push({ from: `bots:${family}`, to: `family:${family}`, type: 'member-of', count });
    }
  }
}

interface GraphNode {
  id: string;
  /** c2, family, or bots (all infected hosts of one family, full tier only). */
  kind: 'c2' | 'family' | 'bots';
  label: string;
  family: string;
  /** c2: the detector's distinct bots; family: C&C servers shown; bots: hosts in the group. */
  count?: number;
}

/**
 * An indicator's attributes as flat key/value pairs for the detail view: the detector's evidence
 * (JSON in `attributes.evidence`) is unpacked, nested keys joined with a dot (`sub.bots`).
 */
export function evidenceOf(attributes: Record<string, string>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  const put = (key: string, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value))
      for (const [k, v] of Object.entries(value)) put(`${key}.${k}`, v);
    else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string')
      out[key] = value;
    else if (Array.isArray(value)) out[key] = value.map(String).join(', ');
  };
  for (const [key, value] of Object.entries(attributes)) {
    if (key !== 'evidence') {
      out[key] = value;
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      out[key] = value; // cut or foreign: still shown, as text
      continue;
    }
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      for (const [k, v] of Object.entries(parsed)) put(k, v);
    else put(key, parsed);
  }
  return out;
}

/** `bots` from the detector's evidence (attributes.evidence, JSON), if there is one. */
function detectorBotCount(attributes: Record<string, string>): number | undefined {
  try {
    const evidence = JSON.parse(attributes.evidence ?? 'null') as { bots?: unknown } | null;
    if (typeof evidence?.bots === 'number') return evidence.bots;
  } catch {
    // not the detector's evidence
  }
  const bots = Number(attributes.bots);
  return attributes.bots !== undefined && Number.isFinite(bots) ? bots : undefined;
}
