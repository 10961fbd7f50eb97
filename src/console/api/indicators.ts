/**
 * GET /console/api/indicators (a page, filtered by the reader's tier in SQL so tables paginate
 * and count server-side) and GET /console/api/indicators/:ref (one indicator; sources,
 * relationships, where it was shared and its evidence at the full tier, an audited read).
 */
import type { FastifyInstance } from 'fastify';
import {
  INDICATOR_KINDS,
  SORT_COLUMNS,
  sortValueOf,
  type IndicatorSort,
  type Tier,
} from '../../intel/index.ts';
import { HttpError, isRestrictedTlp, notFound, principalOf } from '../../share/index.ts';
import { indicatorRef, parseRef, viewOf, visibleAt, visibleClass, whereVisible } from '../view.ts';
import { auditRead, decisionsFor, type RouteContext } from './common.ts';
import { evidenceOf } from './evidence.ts';
import type { IndicatorDetailBody, IndicatorPageBody } from './types.ts';

/** Sorting by observation time would reveal it: only the full tier may. */
const FULL_ONLY_SORT: readonly IndicatorSort[] = ['lastSeen'];
const NUMERIC_SORT: readonly IndicatorSort[] = ['port', 'confidence'];

/** Counting stops here: "10,000+" says enough and keeps a count over 1M rows cheap. */
export const COUNT_CAP = 10_000;

const ListQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: [...INDICATOR_KINDS] },
    q: { type: 'string', maxLength: 100 },
    family: { type: 'string', maxLength: 100 },
    minConfidence: { type: 'integer', minimum: 0, maximum: 100 },
    asn: { type: 'integer', minimum: 0, maximum: 4294967295 },
    sort: { type: 'string', enum: Object.keys(SORT_COLUMNS) },
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
  sort?: IndicatorSort;
  dir?: 'asc' | 'desc';
  offset?: number;
  after?: string;
  count?: boolean;
  limit?: number;
  inactive?: boolean;
}

/** A keyset cursor names the sort it belongs to and the last row's sort value and id. */
function encodeCursor(sort: IndicatorSort, dir: 'asc' | 'desc', value: string | number, id: string): string {
  return Buffer.from(JSON.stringify([sort, dir, value, id]), 'utf8').toString('base64url');
}

function decodeCursor(
  cursor: string,
  sort: IndicatorSort,
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

export function registerIndicators(app: FastifyInstance, ctx: RouteContext): void {
  registerIndicatorPage(app, ctx);
  registerIndicatorDetail(app, ctx);
}

/** GET /console/api/indicators: a page at the reader's tier, with a count (exact or capped). */
function registerIndicatorPage(app: FastifyInstance, ctx: RouteContext): void {
  const { intel } = ctx.deps;
  app.get<{ Querystring: ListQuery }>(
    '/console/api/indicators',
    { schema: { querystring: ListQuerySchema } },
    async (request): Promise<IndicatorPageBody> => {
      const p = principalOf(request);
      const tier = p.org.tier;
      const qs = request.query;
      const now = new Date();
      const sort = qs.sort ?? 'created';
      if (tier !== 'full' && (FULL_ONLY_SORT.includes(sort) || qs.asn !== undefined || qs.inactive))
        throw new HttpError(403, 'Forbidden', 'That sort or filter needs the full-analysis tier.');
      if (tier === 'public' && (sort === 'confidence' || qs.minConfidence !== undefined))
        throw new HttpError(403, 'Forbidden', 'Confidence is not part of public notice.');
      const limit = Math.min(qs.limit ?? 50, ctx.config.maxPageSize);
      const offset = qs.offset ?? 0;
      if (qs.after !== undefined && offset !== 0)
        throw new HttpError(400, 'Bad Request', 'Give either after or offset, not both.');
      const dir = qs.dir ?? (sort === 'value' || sort === 'port' || sort === 'family' ? 'asc' : 'desc');
      const filter = {
        scope: <O>(q: Parameters<typeof whereVisible<O>>[0]) => whereVisible(q, tier),
        ...(qs.inactive ? {} : { activeAt: now }),
        ...(qs.kind ? { kind: qs.kind } : {}),
        ...(qs.family ? { family: qs.family } : {}),
        ...(qs.minConfidence !== undefined ? { minConfidence: qs.minConfidence } : {}),
        ...(qs.asn !== undefined ? { asn: qs.asn } : {}),
        ...(qs.q ? { valuePrefix: qs.q } : {}),
      };
      // Active rows of a kind (or all kinds) with no other filter: intel's tallies know the exact
      // number, so nothing is counted; any other filter counts up to COUNT_CAP rows.
      const byTally =
        !qs.inactive && !qs.q && !qs.family && qs.minConfidence === undefined && qs.asn === undefined;
      const [page, counted] = await Promise.all([
        intel.queries.indicatorPage({
          ...filter,
          sort,
          dir,
          limit,
          ...(qs.after !== undefined ? { after: decodeCursor(qs.after, sort, dir) } : { offset }),
        }),
        qs.count === false
          ? undefined
          : byTally
            ? intel.tallies(now).then((t) => ({
                n: t.classes
                  .filter((c) => (!qs.kind || c.kind === qs.kind) && visibleClass(tier, c))
                  .reduce((sum, c) => sum + c.active, 0),
                exact: true,
              }))
            : intel.queries.countIndicators(filter, COUNT_CAP).then((n) => ({ n, exact: false })),
      ]);
      const last = page.items[page.items.length - 1];
      const next = page.more && last ? encodeCursor(sort, dir, sortValueOf(last, sort), last.id) : undefined;
      const decisions = await decisionsFor(ctx, tier, page.items);
      const items = page.items.map((i) => viewOf(i, tier, now, decisions.get(i.id)));
      const restricted = items.filter((i) => isRestrictedTlp(i.tlp)).length;
      if (restricted > 0)
        await auditRead(ctx, request, p, 'console:indicators', {
          objects: items.length,
          restricted,
          kind: qs.kind ?? 'any',
          offset,
        });
      if (!counted) return { items, offset, limit, ...(next ? { next } : {}) };
      return {
        items,
        total: counted.exact ? counted.n : Math.min(counted.n, COUNT_CAP),
        totalCapped: !counted.exact && counted.n > COUNT_CAP,
        offset,
        limit,
        ...(next ? { next } : {}),
      };
    },
  );
}

/** GET /console/api/indicators/:ref: one indicator; below the full tier only its view. */
function registerIndicatorDetail(app: FastifyInstance, ctx: RouteContext): void {
  const { intel } = ctx.deps;
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
    async (request): Promise<IndicatorDetailBody> => {
      const p = principalOf(request);
      const tier = p.org.tier;
      const now = new Date();
      let key;
      try {
        key = parseRef(request.params.ref);
      } catch {
        throw notFound();
      }
      const indicator = await intel.get(key);
      const decision = indicator ? (await decisionsFor(ctx, tier, [indicator])).get(indicator.id) : undefined;
      if (!indicator || !visibleAt(indicator, tier, undefined, decision)) throw notFound();
      const view = viewOf(indicator, tier, now, decision);
      if (tier !== 'full') return { indicator: view };
      const detail = await fullDetail(ctx, indicator);
      await auditRead(ctx, request, p, `indicator:${indicator.id}`, { tlp: indicator.tlp });
      return { indicator: view, ...detail };
    },
  );
}

/**
 * What the full tier sees besides the view: sources, the documents naming it and relationships
 * (200 at most each), where it was shared, its network and its evidence.
 */
async function fullDetail(
  ctx: RouteContext,
  indicator: NonNullable<Awaited<ReturnType<RouteContext['deps']['intel']['get']>>>,
): Promise<Omit<IndicatorDetailBody, 'indicator'>> {
  const { intel, share } = ctx.deps;
  const [sightings, documents, relationships, collections, orgs] = await Promise.all([
    intel.sightings(indicator.id),
    intel.sightingDocuments(indicator.id, 200),
    intel.relationships(indicator.id),
    share.collections(),
    share.organisations(),
    ctx.asns.ready(),
  ]);
  const asn = indicator.asn ?? ctx.asns.asnOf(indicator.value);
  // Where it went: the tiers share's sanitisers publish it to, and who may read those.
  const tiers: Tier[] = (['full', 'council', 'public'] as const).filter((t) => visibleAt(indicator, t));
  const sharedWith = tiers.map((t) => ({
    tier: t,
    collections: collections.filter((c) => c.readTier === t && c.ceiling === t).map((c) => c.title),
    organisations: orgs
      .filter((o) => (t === 'full' ? o.tier === 'full' : t === 'council' ? o.tier !== 'public' : true))
      .map((o) => o.name),
  }));
  const otherIds = relationships.map((r) => (r.fromId === indicator.id ? r.toId : r.fromId)).slice(0, 200);
  const byId = await intel.byIds(otherIds);
  return {
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
    documents: documents.items,
    documentsTotal: documents.total,
    sharedWith,
    network: {
      asn,
      name: asn === null ? undefined : ctx.asns.nameOf(asn),
      /** The AS came from the bundled database, not from the reporter. */
      byAddress: indicator.asn === null && asn !== null,
    },
    evidence: evidenceOf(indicator.attributes),
  };
}
