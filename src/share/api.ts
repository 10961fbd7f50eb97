/**
 * The JSON API under /api/ (for the web console and for curl): who am I, indicators with
 * server-side filters and cursor pages, organisations and the audit log for the analysis center,
 * and the plain exports (C&C CSV and ip:port, bot lists per ISP, RPZ, Suricata, STIX bundle).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PrefixSet } from '../core/ip.ts';
import type { Indicator, IndicatorKind, ListQuery } from '../intel/index.ts';
import { INDICATOR_KINDS, type Tier } from '../intel/types.ts';
import { botList, c2Csv, c2Text, rpzZone, suricataRules } from './exports.ts';
import { mispFeed } from './misp.ts';
import { HttpError, isRestrictedTlp, notFound, principalOf, recordRead, type HubContext } from './http.ts';
import type { Principal } from './orgs.ts';
import {
  mapFull,
  SANITISERS,
  tlpMarkingDefinition,
  tierExtensionDefinition,
  type StixObject,
} from './stix.ts';

/** Kinds that name a subscriber's host: shown below the full tier only as an ISP's own bot list. */
const HOST_KINDS: readonly IndicatorKind[] = ['bot', 'vulnerable-device'];

/** Every indicator a reader at `tier` may see (in pages, so memory stays bounded per page). */
export async function* releasable(
  ctx: HubContext,
  tier: Tier,
  query: Omit<ListQuery, 'cursor' | 'limit' | 'releasableTo'>,
): AsyncGenerator<Indicator> {
  let cursor: string | undefined;
  do {
    const page = await ctx.intel.list({
      ...query,
      releasableTo: tier,
      limit: 5000,
      ...(cursor ? { cursor } : {}),
    });
    for (const ind of page.items) {
      if (tier !== 'full' && (ind.tlp === 'red' || HOST_KINDS.includes(ind.kind))) continue;
      yield ind;
    }
    cursor = page.next;
  } while (cursor);
}

/** Collects a generator into a list in a stable order (address, then port), so exports diff well. */
async function collect(gen: AsyncGenerator<Indicator>): Promise<Indicator[]> {
  const out: Indicator[] = [];
  for await (const x of gen) out.push(x);
  return out.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : a.port - b.port));
}

/** What a reader at each tier sees of one indicator. */
function view(ind: Indicator, tier: Tier) {
  const base = {
    id: ind.id,
    kind: ind.kind,
    value: ind.value,
    port: ind.port || undefined,
    proto: ind.proto || undefined,
    family: ind.family || undefined,
  };
  if (tier === 'public') return base;
  if (tier === 'council')
    return {
      ...base,
      confidence: ind.confidence,
      tlp: ind.tlp === 'clear' || ind.tlp === 'green' ? ind.tlp : 'amber+strict',
      revoked: ind.withdrawnAt ? true : undefined,
    };
  return ind;
}

export type ExportName = 'c2.csv' | 'c2.txt' | 'c2.stix.json' | 'bots.txt' | 'domains.rpz' | 'suricata.rules';
export const EXPORT_NAMES: readonly ExportName[] = [
  'c2.csv',
  'c2.txt',
  'c2.stix.json',
  'bots.txt',
  'domains.rpz',
  'suricata.rules',
];

export interface ExportReader {
  tier: Tier;
  /** For bot lists: the reader's own prefixes and AS numbers. */
  prefixes?: PrefixSet;
  asns?: number[];
}

/** Builds one export for a reader; `restricted` says whether it held AMBER+STRICT or RED data. */
export async function buildExport(
  ctx: HubContext,
  name: ExportName,
  reader: ExportReader,
): Promise<{ contentType: string; body: string; count: number; restricted: boolean }> {
  const tier = reader.tier;
  const restrictedOf = (items: Indicator[]) =>
    tier !== 'public' && items.some((i) => tier === 'council' || isRestrictedTlp(i.tlp));
  switch (name) {
    case 'c2.csv':
    case 'c2.txt':
    case 'suricata.rules': {
      const items = await collect(
        releasable(ctx, tier, { kinds: name === 'suricata.rules' ? ['c2', 'domain'] : ['c2'] }),
      );
      const body =
        name === 'c2.csv'
          ? c2Csv(items, { withConfidence: tier !== 'public' })
          : name === 'c2.txt'
            ? c2Text(items)
            : suricataRules(items);
      return {
        contentType: name === 'c2.csv' ? 'text/csv; charset=utf-8' : 'text/plain; charset=utf-8',
        body,
        count: items.length,
        restricted: restrictedOf(items),
      };
    }
    case 'domains.rpz': {
      const items = await collect(releasable(ctx, tier, { kinds: ['domain'] }));
      return {
        contentType: 'text/dns; charset=utf-8',
        body: rpzZone(items, 'rpz.tsunagi', Math.floor(Date.now() / 1000)),
        count: items.length,
        restricted: restrictedOf(items),
      };
    }
    case 'bots.txt': {
      // Bot lists go to the ISP that owns the addresses, whatever its tier; the full tier sees all.
      const items: Indicator[] = [];
      let cursor: string | undefined;
      do {
        const page = await ctx.intel.list({ kinds: ['bot'], limit: 5000, ...(cursor ? { cursor } : {}) });
        items.push(...page.items);
        cursor = page.next;
      } while (cursor);
      const body = botList(items, {
        prefixes: reader.prefixes ?? new PrefixSet(),
        asns: reader.asns ?? [],
        all: tier === 'full',
      });
      const count = body ? body.trimEnd().split('\n').length : 0;
      return { contentType: 'text/plain; charset=utf-8', body, count, restricted: count > 0 };
    }
    case 'c2.stix.json': {
      const items = await collect(releasable(ctx, tier, { kinds: ['c2'] }));
      const objects = new Map<string, StixObject>();
      for (const o of [
        ...(['clear', 'green', 'amber', 'amber+strict', 'red'] as const).map(tlpMarkingDefinition),
        tierExtensionDefinition(ctx.hub),
      ])
        objects.set(o.id, o);
      for (const indicator of items) {
        const input = {
          indicator,
          sightings: tier === 'full' ? await ctx.intel.sightings(indicator.id) : [],
          relationships: [],
          hub: ctx.hub,
        };
        const out =
          tier === 'full'
            ? mapFull(input)
            : (SANITISERS[tier === 'council' ? 'council-v1' : 'public-v1'].apply(input) ?? []);
        for (const o of out) objects.set(o.id, o);
      }
      const bundle = { type: 'bundle', id: `bundle--${randomUUID()}`, objects: [...objects.values()] };
      return {
        contentType: 'application/stix+json;version=2.1',
        body: JSON.stringify(bundle),
        count: items.length,
        restricted: restrictedOf(items),
      };
    }
  }
}

const IndicatorQuery = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: [...INDICATOR_KINDS] },
    family: { type: 'string', maxLength: 100 },
    source: { type: 'string', maxLength: 200 },
    min_confidence: { type: 'integer', minimum: 0, maximum: 100 },
    include_withdrawn: { type: 'boolean' },
    limit: { type: 'integer', minimum: 1, maximum: 10_000 },
    cursor: { type: 'string', maxLength: 400 },
  },
  additionalProperties: false,
} as const;

function requireAnalysis(p: Principal) {
  if (p.org.role !== 'analysis' || !p.scopes.includes('read')) throw notFound();
}

export function registerApi(app: FastifyInstance, ctx: HubContext): void {
  const auditRead = (
    request: FastifyRequest,
    p: Principal,
    target: string,
    detail: Record<string, unknown>,
  ) => recordRead(ctx.audit, request, p, { channel: 'api', purpose: 'api', target, detail });

  app.get('/api/me', async (request) => {
    const p = principalOf(request);
    return {
      organisation: p.org.name,
      role: p.org.role,
      tier: p.org.tier,
      consent: Boolean(p.org.consentAt),
      scopes: p.scopes,
    };
  });

  app.get<{
    Querystring: {
      kind?: IndicatorKind;
      family?: string;
      source?: string;
      min_confidence?: number;
      include_withdrawn?: boolean;
      limit?: number;
      cursor?: string;
    };
  }>('/api/indicators', { schema: { querystring: IndicatorQuery } }, async (request) => {
    const p = principalOf(request);
    if (!p.scopes.includes('read')) throw new HttpError(403, 'Forbidden', 'This token may not read.');
    const q = request.query;
    const tier = p.org.tier;
    if (tier !== 'full' && (q.source || (q.kind && HOST_KINDS.includes(q.kind)))) {
      // Sources and hosts belong to the full analysis: answer as if there were none.
      return { items: [] };
    }
    const page = await ctx.intel.list({
      releasableTo: tier,
      ...(q.kind
        ? { kinds: [q.kind] }
        : tier === 'full'
          ? {}
          : { kinds: INDICATOR_KINDS.filter((k) => !HOST_KINDS.includes(k)) }),
      ...(q.family ? { family: q.family } : {}),
      ...(q.source ? { source: q.source } : {}),
      ...(q.min_confidence !== undefined ? { minConfidence: q.min_confidence } : {}),
      ...(q.include_withdrawn && tier === 'full' ? { includeWithdrawn: true } : {}),
      limit: q.limit ?? 100,
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
    const items = page.items.filter((i) => tier === 'full' || i.tlp !== 'red');
    if (tier !== 'public' && items.some((i) => tier === 'council' || isRestrictedTlp(i.tlp))) {
      await auditRead(request, p, 'indicators', { count: items.length });
    }
    return { items: items.map((i) => view(i, tier)), ...(page.next ? { next: page.next } : {}) };
  });

  app.get<{ Params: { id: string } }>(
    '/api/indicators/:id',
    { schema: { params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } } } },
    async (request) => {
      const p = principalOf(request);
      if (p.org.tier !== 'full' || !p.scopes.includes('read')) throw notFound();
      const ind = await ctx.intel.get(request.params.id);
      if (!ind) throw notFound();
      const [sightings, relationships] = await Promise.all([
        ctx.intel.sightings(ind.id),
        ctx.intel.relationships(ind.id),
      ]);
      await auditRead(request, p, `indicator:${ind.id}`, {});
      return { indicator: ind, sightings, relationships };
    },
  );

  app.get('/api/organisations', async (request) => {
    const p = principalOf(request);
    requireAnalysis(p);
    return { items: await ctx.orgs.list() };
  });

  app.get<{ Querystring: { after?: number; limit?: number } }>(
    '/api/audit',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            after: { type: 'integer', minimum: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 10_000 },
          },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const p = principalOf(request);
      requireAnalysis(p);
      const items = await ctx.audit.list(request.query.after ?? 0, request.query.limit ?? 100);
      return { items, ...(items.length ? { next: items[items.length - 1]!.seq } : {}) };
    },
  );

  app.get<{ Params: { file: string } }>(
    '/api/export/misp/:file',
    {
      schema: {
        params: {
          type: 'object',
          properties: {
            file: { type: 'string', pattern: '^(manifest\\.json|hashes\\.csv|[0-9a-f-]{36}\\.json)$' },
          },
        },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      if (!p.scopes.includes('read')) throw new HttpError(403, 'Forbidden', 'This token may not read.');
      const tier = p.org.tier;
      const items = await collect(releasable(ctx, tier, { kinds: ['c2', 'domain', 'url'] }));
      const feed = mispFeed(items, tier, { name: ctx.hub.name });
      const file = request.params.file;
      if (file === 'manifest.json')
        return reply.header('content-type', 'application/json').send(feed.manifest);
      if (file !== 'hashes.csv' && file !== `${feed.eventUuid}.json`) throw notFound();
      // The hashes name every value as surely as the event does.
      if (tier !== 'public' && items.length > 0)
        await auditRead(request, p, `export:misp/${file}`, { count: items.length });
      if (file === 'hashes.csv')
        return reply.header('content-type', 'text/csv; charset=utf-8').send(feed.hashes);
      return reply.header('content-type', 'application/json').send(feed.event);
    },
  );

  app.get<{ Params: { name: string } }>(
    '/api/export/:name',
    {
      schema: {
        params: { type: 'object', properties: { name: { type: 'string', enum: [...EXPORT_NAMES] } } },
      },
    },
    async (request, reply: FastifyReply) => {
      const p = principalOf(request);
      if (!p.scopes.includes('read')) throw new HttpError(403, 'Forbidden', 'This token may not read.');
      const name = request.params.name as ExportName;
      const result = await buildExport(ctx, name, {
        tier: p.org.tier,
        prefixes: ctx.orgs.prefixSet(p.org),
        asns: p.org.asns,
      });
      if (result.restricted) await auditRead(request, p, `export:${name}`, { count: result.count });
      return reply.header('content-type', result.contentType).send(result.body);
    },
  );
}
