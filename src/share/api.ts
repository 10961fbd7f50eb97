/**
 * The JSON API under /api/ (for the web console and for curl): who am I, indicators with
 * server-side filters and cursor pages, organisations and the audit log for the analysis center,
 * and the plain exports (C&C CSV and ip:port, bot lists per ISP, RPZ, Suricata, STIX bundle).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PrefixSet } from '../core/index.ts';
import { INDICATOR_KINDS, type IndicatorKind, type ListQuery } from '../intel/index.ts';
import { botList, c2Csv, c2FeodoCsv, c2Text, rpzZone, suricataRules } from './exports.ts';
import { mispFeed } from './misp.ts';
import { HttpError, isRestrictedTlp, notFound, principalOf, recordRead, type HubContext } from './http.ts';
import type { Principal } from './orgs.ts';
import {
  isHostKind,
  mayReadAudit,
  mayReadOrganisations,
  readerOf,
  releasedTo,
  type Reader,
  type ReleasedIndicator,
} from './release/index.ts';
import { publicNoticeDecisions } from './review.ts';
import {
  mapFull,
  SANITISERS,
  tlpMarkingDefinition,
  tierExtensionDefinition,
  type StixObject,
} from './stix.ts';

/**
 * Every indicator a reader may receive, as the copy the release rule gives it (in pages, so
 * memory stays bounded per page). Public notice also takes what the analysis centre approved
 * from the council tier, so a public reader's pages are read at the council tier and filtered.
 */
export async function* releasable(
  ctx: HubContext,
  reader: Reader,
  query: Omit<ListQuery, 'cursor' | 'limit' | 'releasableTo'>,
): AsyncGenerator<ReleasedIndicator> {
  let cursor: string | undefined;
  do {
    // Hosts go to their holders whatever their tier (the release rule weighs the marking).
    const addressed = query.kinds !== undefined && query.kinds.every(isHostKind);
    const page = await ctx.intel.list({
      ...query,
      ...(addressed ? {} : { releasableTo: reader.tier === 'public' ? 'council' : reader.tier }),
      limit: 5000,
      ...(cursor ? { cursor } : {}),
    });
    const decisions =
      reader.tier === 'public'
        ? await publicNoticeDecisions(
            ctx.store.db,
            page.items.map((i) => i.id),
          )
        : new Map();
    for (const ind of page.items) {
      const copy = releasedTo(ind, reader, decisions.get(ind.id));
      if (copy) yield copy;
    }
    cursor = page.next;
  } while (cursor);
}

/** Collects a generator into a list in a stable order (address, then port), so exports diff well. */
async function collect(gen: AsyncGenerator<ReleasedIndicator>): Promise<ReleasedIndicator[]> {
  const out: ReleasedIndicator[] = [];
  for await (const x of gen) out.push(x);
  return out.sort((x, y) => {
    const a = x.indicator;
    const b = y.indicator;
    return a.value < b.value ? -1 : a.value > b.value ? 1 : a.port - b.port;
  });
}

/** What a reader sees of one released copy: the full row at the full tier, less below. */
function view(copy: ReleasedIndicator) {
  const ind = copy.indicator;
  const base = {
    id: ind.id,
    kind: ind.kind,
    value: ind.value,
    port: ind.port || undefined,
    proto: ind.proto || undefined,
    family: ind.family || undefined,
  };
  if (copy.tier === 'public') return { ...base, tlp: copy.tlp };
  if (copy.tier === 'council')
    return {
      ...base,
      confidence: ind.confidence,
      tlp: copy.tlp,
      revoked: ind.withdrawnAt ? true : undefined,
    };
  return ind;
}

/** Whether a list of copies holds restricted data (AMBER and above): such reads are audited. */
function restrictedOf(items: readonly ReleasedIndicator[]): boolean {
  return items.some((i) => isRestrictedTlp(i.tlp));
}

export type ExportName =
  | 'c2.csv'
  | 'c2.feodo.csv'
  | 'c2.txt'
  | 'c2.stix.json'
  | 'misp.json'
  | 'bots.txt'
  | 'domains.rpz'
  | 'suricata.rules';
export const EXPORT_NAMES: readonly ExportName[] = [
  'c2.csv',
  'c2.feodo.csv',
  'c2.txt',
  'misp.json',
  'c2.stix.json',
  'bots.txt',
  'domains.rpz',
  'suricata.rules',
];

/** Who an export is for: the release rule's reader (an organisation, or a tier for the CLI). */
export type ExportReader = Reader;

/** Builds one export for a reader; `restricted` says whether it held AMBER+STRICT or RED data. */
export async function buildExport(
  ctx: HubContext,
  name: ExportName,
  reader: ExportReader,
): Promise<{
  contentType: string;
  body: string;
  count: number;
  restricted: boolean;
  /** For misp.json: the files of a MISP feed directory (manifest.json, hashes.csv, UUID.json). */
  files?: Record<string, string>;
}> {
  const tier = reader.tier;
  // Every export but the bot list names what networks block, so each reads through this one
  // place: an indicator below the floor (an address an advisory merely names) stays in intel,
  // the console and TAXII, out of these lists.
  const blockable = (kinds: ListQuery['kinds']) =>
    collect(releasable(ctx, reader, { kinds, minConfidence: ctx.config.exportMinConfidence }));
  switch (name) {
    case 'c2.csv':
    case 'c2.feodo.csv':
    case 'c2.txt':
    case 'suricata.rules': {
      const items = await blockable(name === 'suricata.rules' ? ['c2', 'domain'] : ['c2']);
      const facts = items.map((i) => i.indicator);
      const body =
        name === 'c2.csv'
          ? c2Csv(facts, { withConfidence: tier !== 'public' })
          : name === 'c2.feodo.csv'
            ? c2FeodoCsv(facts, { withConfidence: tier !== 'public' })
            : name === 'c2.txt'
              ? c2Text(facts)
              : suricataRules(facts);
      return {
        contentType: name.endsWith('.csv') ? 'text/csv; charset=utf-8' : 'text/plain; charset=utf-8',
        body,
        count: items.length,
        restricted: restrictedOf(items),
      };
    }
    case 'misp.json': {
      // The event of the MISP feed that /api/export/misp/ serves, with the feed's other files.
      const items = await blockable(['c2', 'domain', 'url']);
      const feed = mispFeed(
        items.map((i) => i.indicator),
        tier,
        { name: ctx.hub.name },
      );
      const body = `${JSON.stringify(feed.event, null, 1)}\n`;
      return {
        contentType: 'application/json',
        body,
        count: items.length,
        restricted: restrictedOf(items),
        files: {
          'manifest.json': `${JSON.stringify(feed.manifest, null, 1)}\n`,
          'hashes.csv': feed.hashes,
          [`${feed.eventUuid}.json`]: body,
        },
      };
    }
    case 'domains.rpz': {
      const items = await blockable(['domain', 'c2']);
      return {
        contentType: 'text/dns; charset=utf-8',
        body: rpzZone(
          items.map((i) => i.indicator),
          'rpz.tsunagi',
          Math.floor(Date.now() / 1000),
        ),
        count: items.length,
        restricted: restrictedOf(items),
      };
    }
    case 'bots.txt': {
      // Bots go to the organisation holding their addresses, as the release rule lets it have
      // them (an addressed AMBER+STRICT product: never RED, never to an unconsented organisation);
      // the full tier sees all.
      const items = await collect(releasable(ctx, reader, { kinds: ['bot'] }));
      const body = botList(
        items.map((i) => i.indicator),
        { prefixes: new PrefixSet(), asns: [], all: true },
      );
      return {
        contentType: 'text/plain; charset=utf-8',
        body,
        count: items.length,
        restricted: items.length > 0,
      };
    }
    case 'c2.stix.json': {
      const items = await blockable(['c2']);
      const objects = new Map<string, StixObject>();
      for (const o of [
        ...(['clear', 'green', 'amber', 'amber+strict', 'red'] as const).map(tlpMarkingDefinition),
        tierExtensionDefinition(ctx.hub),
      ])
        objects.set(o.id, o);
      for (const { indicator } of items) {
        const input = {
          indicator,
          sightings: tier === 'full' ? await ctx.intel.sightings(indicator.id) : [],
          relationships: [],
          hub: ctx.hub,
          // The copy was released: for public notice that took the analysis centre's decision.
          ...(tier === 'public' ? { publicNotice: { approved: true } } : {}),
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

export function registerApi(app: FastifyInstance, ctx: HubContext): void {
  registerIndicatorRoutes(app, ctx);
  registerDirectoryRoutes(app, ctx);
  registerExportRoutes(app, ctx);
}

/** Notes a read of restricted data through the API; written before the answer is sent. */
function auditRead(
  ctx: HubContext,
  request: FastifyRequest,
  p: Principal,
  target: string,
  detail: Record<string, unknown>,
) {
  return recordRead(ctx.audit, request, p, { channel: 'api', purpose: 'api', target, detail });
}

/** Who the caller is, and the indicators its tier may read (a list, and one in full). */
function registerIndicatorRoutes(app: FastifyInstance, ctx: HubContext): void {
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
    if (tier !== 'full' && (q.source || (q.kind && isHostKind(q.kind)))) {
      // Sources and hosts belong to the full analysis: answer as if there were none.
      return { items: [] };
    }
    const reader = readerOf(p);
    const page = await ctx.intel.list({
      // Public notice also holds council-tier indicators the analysis centre approved.
      releasableTo: tier === 'public' ? 'council' : tier,
      ...(q.kind
        ? { kinds: [q.kind] }
        : tier === 'full'
          ? {}
          : { kinds: INDICATOR_KINDS.filter((k) => !isHostKind(k)) }),
      ...(q.family ? { family: q.family } : {}),
      ...(q.source ? { source: q.source } : {}),
      ...(q.min_confidence !== undefined ? { minConfidence: q.min_confidence } : {}),
      ...(q.include_withdrawn && tier === 'full' ? { includeWithdrawn: true } : {}),
      limit: q.limit ?? 100,
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
    const decisions =
      tier === 'public'
        ? await publicNoticeDecisions(
            ctx.store.db,
            page.items.map((i) => i.id),
          )
        : new Map();
    const items = page.items.flatMap((i) => releasedTo(i, reader, decisions.get(i.id)) ?? []);
    if (restrictedOf(items)) await auditRead(ctx, request, p, 'indicators', { count: items.length });
    return { items: items.map(view), ...(page.next ? { next: page.next } : {}) };
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
      await auditRead(ctx, request, p, `indicator:${ind.id}`, {});
      return { indicator: ind, sightings, relationships };
    },
  );
}

/** The organisations and the audit log, for those the release rule lets read them. */
function registerDirectoryRoutes(app: FastifyInstance, ctx: HubContext): void {
  app.get('/api/organisations', async (request) => {
    const p = principalOf(request);
    if (!mayReadOrganisations(readerOf(p))) throw notFound();
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
      if (!mayReadAudit(readerOf(p))) throw notFound();
      const items = await ctx.audit.list(request.query.after ?? 0, request.query.limit ?? 100);
      return { items, ...(items.length ? { next: items[items.length - 1]!.seq } : {}) };
    },
  );
}

/** The exports: the MISP feed's files and the named exports. */
function registerExportRoutes(app: FastifyInstance, ctx: HubContext): void {
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
      const items = await collect(releasable(ctx, readerOf(p), { kinds: ['c2', 'domain', 'url'] }));
      const feed = mispFeed(
        items.map((i) => i.indicator),
        tier,
        { name: ctx.hub.name },
      );
      const file = request.params.file;
      if (file === 'manifest.json')
        return reply.header('content-type', 'application/json').send(feed.manifest);
      if (file !== 'hashes.csv' && file !== `${feed.eventUuid}.json`) throw notFound();
      // The hashes name every value as surely as the event does.
      if (tier !== 'public' && items.length > 0)
        await auditRead(ctx, request, p, `export:misp/${file}`, { count: items.length });
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
      const result = await buildExport(ctx, name, readerOf(p));
      if (result.restricted) await auditRead(ctx, request, p, `export:${name}`, { count: result.count });
      return reply.header('content-type', result.contentType).send(result.body);
    },
  );
}
