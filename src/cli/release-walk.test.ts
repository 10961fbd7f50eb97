/**
 * The release rule, walked: fast-check makes organisations of every role (with and without
 * consent, prefixes and AS numbers), the hub's analysis holds indicators of every kind x tier x
 * TLP, every organisation posts objects of every claimed tier x TLP to every collection, and the
 * analysis centre approves some submissions. Then EVERY route of the server (read from fastify's
 * own route table; a route the walk does not know fails the test) is called as every reader, and
 * each planted value found in an answer must be one the rule lets that reader learn. The rule
 * here is written again from the README's table, independently of release/index.ts, and the
 * module is checked against it for every (fact, reader) pair. OSINT sightings under every TLP x
 * feed tier carry their naming documents (`sighting_documents`, and the latest in the indicator's
 * attributes), each naming planted values of its own: a document reaches only readers of its
 * marking, wherever it would travel.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Kysely } from 'kysely';
import {
  INDICATOR_KINDS,
  moreRestrictedTier,
  osintSightingTier,
  recordOsintDocument,
  tierOfTlp,
  TIERS,
  TLPS,
  type IndicatorKind,
  type SightingInput,
  type Tier,
  type Tlp,
} from '../intel/index.ts';
import {
  COLLECTION_IDS,
  EXPORT_NAMES,
  organisationIdentityId,
  readerOfOrg,
  releasedTo,
  ROLES,
  TIER_EXTENSION_ID,
  tlpMarkingId,
  type Organisation,
  type OrganisationInput,
  type Role,
  type StixObject,
} from '../share/index.ts';
import type { OsintTables } from '../osint/index.ts';
import { storeDocument } from '../osint/testing.ts';
import { testEngines } from '../store/testing.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';
import { startReleaseHub, type ReleaseHub } from './testing.ts';

/** What the test knows of one planted value: the facts the rule weighs. */
interface Fact {
  value: string;
  kind: IndicatorKind;
  tier: Tier;
  tlp: Tlp;
  /** Organisations holding the address (hosts only). */
  holders: Set<string>;
  approved: boolean;
  /** Set for objects that only live in a collection (never in intel): who may read it there. */
  onlyIn?: 'full' | 'submissions';
}

interface WalkOrg {
  name: string;
  role: Role;
  consent: boolean;
  prefix?: string;
  asn?: number;
}

/** The README's release table, restated: may this organisation learn this fact? */
function mayLearn(org: WalkOrg, fact: Fact): boolean {
  const tier: Tier =
    org.role === 'analysis' || org.role === 'government'
      ? 'full'
      : (org.role === 'council' || org.role === 'isp') && org.consent
        ? 'council'
        : 'public';
  if (tier === 'full') return true;
  if (fact.onlyIn) return false; // the full and submissions collections are read at the full tier
  if (fact.kind === 'bot' || fact.kind === 'vulnerable-device')
    return tier === 'council' && fact.holders.has(org.name) && fact.tlp !== 'red';
  if (tier === 'council') return fact.tier !== 'full' && fact.tlp !== 'red';
  return (fact.tier === 'public' || (fact.approved && fact.tier === 'council')) && fact.tlp === 'clear';
}

const orgArb = (role: Role, i: number) =>
  fc.record({ consent: fc.boolean(), prefix: fc.boolean(), asn: fc.boolean() }).map((o): WalkOrg => ({
    name: `${role}-${i}`,
    role,
    consent: o.consent,
    ...(o.prefix ? { prefix: `10.${ROLES.indexOf(role) * 2 + i}.0.0/16` } : {}),
    ...(o.asn ? { asn: 64600 + ROLES.indexOf(role) * 2 + i } : {}),
  }));
const orgsArb = fc.tuple(...ROLES.flatMap((role) => [orgArb(role, 0), orgArb(role, 1)]));

/** Tokens in an answer that may be planted values (addresses, our domains and URLs, MD5s of them). */
const TOKEN = /(?<![\d.])10\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d])|[a-z]\d+\.walk\.example|\b[0-9a-f]{32}\b/g;
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

const ENVELOPE_TIERS = [...TIERS, undefined] as const;
const ENVELOPE_TLPS = [...TLPS, undefined] as const;

for (const engine of testEngines(ROOM_MIGRATIONS)) {
  describe(`release walk on ${engine.name}`, { skip: engine.skip }, () => {
    test('every route, every reader: nothing reaches a reader the release rule does not allow', async () => {
      await fc.assert(
        fc.asyncProperty(orgsArb, fc.integer({ min: 0, max: 1000 }), async (orgs, seed) => {
          const h = await startReleaseHub(
            await engine.open(),
            orgs.map((o): OrganisationInput => ({
              name: o.name,
              role: o.role,
              consent: o.consent,
              prefixes: o.prefix ? [o.prefix] : [],
              asns: o.asn ? [o.asn] : [],
            })),
          );
          try {
            await walk(h, orgs, seed);
          } finally {
            await h.close();
          }
        }),
        { numRuns: Number(process.env.WALK_RUNS ?? 1), endOnFailure: true },
      );
    });
  });
}

async function walk(h: ReleaseHub, orgs: readonly WalkOrg[], seed: number): Promise<void> {
  const started = performance.now();
  const phase = (name: string) =>
    process.env.WALK_DEBUG && process.stderr.write(`${name} ${Math.round(performance.now() - started)} ms\n`);
  const { facts, fresh, plant, analysis } = plantedFacts(orgs, seed);

  await h.intel.recordSightings(analysis());
  await plantDocuments(h, fresh, plant);
  await plantSightingDocuments(h, fresh, plant);
  phase('analysis');
  // One entry at the self-check's own address, of a random tier and marking.
  const selfTier = TIERS[seed % 3]!;
  const selfTlp = TLPS[seed % 5]!;
  await h.intel.recordSightings([
    {
      type: 'c2',
      value: '127.0.0.1',
      port: 4444,
      proto: 'tcp',
      source: 'walk',
      confidence: 90,
      tier: selfTier,
      tlp: selfTlp,
    },
  ]);

  const { statusIds, posted } = await postEverywhere(h, orgs, fresh, plant);

  phase('posts');
  // The analysis centre approves every other pending review (those whose marking allows it).
  const pending = await h.hub.reviews.list('pending', 10_000);
  for (const [i, entry] of pending.entries()) {
    if (i % 2) continue;
    try {
      await h.hub.reviews.approve(entry.id, 'walk');
      facts.get(entry.value)!.approved = true;
      facts.get(md5(entry.value))!.approved = true;
    } catch (error) {
      assert.match((error as Error).message, /the marking binds/);
    }
  }

  phase('approvals');
  // The module agrees with the restated rule on every (fact, reader) pair it decides.
  const byName = new Map<string, Organisation>();
  for (const o of orgs) byName.set(o.name, (await h.hub.orgs.get(o.name))!);
  const held = new Map(
    (await h.intel.list({ limit: 10_000, includeExpired: true, includeWithdrawn: true })).items.map((i) => [
      i.value,
      i,
    ]),
  );
  let pairs = 0;
  for (const fact of new Set(facts.values())) {
    const ind = held.get(fact.value);
    if (fact.onlyIn || !ind) continue;
    for (const o of orgs) {
      const decision = fact.approved ? { approved: true } : undefined;
      const released = releasedTo(ind, readerOfOrg(byName.get(o.name)!), decision);
      const expected = mayLearn(o, { ...fact, tier: ind.tier, tlp: ind.tlp });
      assert.equal(
        released !== undefined,
        expected,
        `release(${fact.value} ${ind.tier} ${ind.tlp}, ${o.name})`,
      );
      pairs++;
    }
  }
  assert.ok(pairs > 1000, `the rule was checked on ${pairs} pairs`);

  phase('pairs');
  // Walk every route as every reader (and anonymously).
  const table = await routeWalk(h, orgs, statusIds);
  const unknown = h.routes.filter((r) => !table.has(r));
  assert.deepEqual(unknown, [], 'routes the walk does not cover');
  let calls = 0;
  const check = (reader: WalkOrg | undefined, where: string, body: string) => {
    for (const token of new Set(body.match(TOKEN) ?? [])) {
      const fact = facts.get(token);
      if (!fact) continue;
      assert.ok(
        reader && mayLearn(reader, fact),
        `${reader?.name ?? 'anonymous'} learned ${fact.value} (${fact.kind} ${fact.tier} ${fact.tlp}${fact.approved ? ' approved' : ''}) from ${where}`,
      );
    }
  };
  phase('table');
  for (const [route, requests] of table)
    for (const reader of [undefined, ...orgs])
      for (const request of requests(reader)) {
        const res = await h.req(request.method, request.url, reader?.name, request.body);
        check(reader, `${route} ${request.url}`, res.body);
        calls++;
        request.expect?.(res.statusCode, reader, res.body);
      }

  phase('routes');
  phase(`${calls} calls`);
  // The self-check tells only public notice about the caller's own address.
  const self = (await h.req('GET', '/console/api/self-check', undefined)).json() as { listed: boolean };
  assert.equal(self.listed, selfTier === 'public' && selfTlp === 'clear', 'self-check');

  // The live stream: a new batch of every kind x tier x TLP reaches each reader as the rule says.
  const streams = await Promise.all(orgs.map((o) => openStream(h, o.name)));
  await h.intel.recordSightings(analysis());
  await h.console.live!.flush();
  for (const [i, o] of orgs.entries()) check(o, 'GET /console/api/live', await streams[i]!());

  phase('live');
  await checkOwnership(h, orgs, posted, byName);
}

/** The walk's planted indicators by host and by md5, fresh values, and the hub's own analysis of every kind x tier x TLP. */
function plantedFacts(orgs: readonly WalkOrg[], seed: number) {
  const facts = new Map<string, Fact>();
  let n = seed * 1000;
  const fresh = (kind: IndicatorKind, holder?: WalkOrg): { value: string; asn?: number } => {
    n++;
    if (kind === 'url') return { value: `http://u${n}.walk.example/p` };
    if (kind === 'domain') return { value: `d${n}.walk.example` };
    const host = `${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
    if (holder?.prefix) return { value: `${holder.prefix.split('.').slice(0, 2).join('.')}.${host}` };
    if (holder?.asn) return { value: `10.250.${host}`, asn: holder.asn };
    return { value: `10.240.${host}` };
  };
  const plant = (value: string, fact: Omit<Fact, 'value'>) => {
    const key = value.startsWith('http://') ? value.slice(7, value.indexOf('/', 7)) : value;
    facts.set(key, { value, ...fact });
    facts.set(md5(value), { value, ...fact });
  };

  // The hub's own analysis: every kind x tier x TLP; hosts spread over the holders (and nobody).
  const holders = [undefined, ...orgs.filter((o) => o.prefix || o.asn)];
  const analysis = (): SightingInput[] => {
    const out: SightingInput[] = [];
    let i = seed;
    for (const kind of INDICATOR_KINDS)
      for (const tier of TIERS)
        for (const tlp of TLPS) {
          const holder =
            kind === 'bot' || kind === 'vulnerable-device' ? holders[i++ % holders.length] : undefined;
          const { value, asn } = fresh(kind, holder);
          plant(value, {
            kind,
            tier,
            tlp,
            holders: new Set(holder ? [holder.name] : []),
            approved: false,
          });
          out.push({
            type: kind,
            value,
            ...(kind === 'c2' || kind === 'vulnerable-device'
              ? { port: 1000 + (n % 60000), proto: 'tcp' }
              : {}),
            ...(asn ? { asn } : {}),
            source: 'walk-analysis',
            confidence: 70,
            tier,
            tlp,
            family: 'walkfam',
          });
        }
    return out;
  };
  return { facts, fresh, plant, analysis };
}

type Planted = ReturnType<typeof plantedFacts>;

/**
 * Published documents (the osint room's) under every TLP x feed tier a feed may carry, each naming
 * a fresh domain and address in its title, indicators and context: the OSINT page must give them
 * only to readers of that marking (the tier intel's OSINT intake gives the TLP, narrowed by the feed's).
 */
async function plantDocuments(
  h: ReleaseHub,
  fresh: Planted['fresh'],
  plant: Planted['plant'],
): Promise<void> {
  const db = h.store.db as unknown as Kysely<OsintTables>;
  let n = 0;
  for (const tlp of TLPS)
    for (const feedTier of [undefined, ...TIERS]) {
      const derived = tierOfTlp(tlp);
      const tier = feedTier ? moreRestrictedTier(derived, feedTier) : derived;
      const domain = fresh('domain').value;
      const address = fresh('c2').value;
      for (const [value, kind] of [
        [domain, 'domain'],
        [address, 'c2'],
      ] as const)
        plant(value, { kind, tier, tlp, holders: new Set(), approved: false });
      n++;
      await storeDocument(
        db,
        {
          id: md5(domain).repeat(2),
          source: `walk-feed-${n}`,
          url: `https://news.example.org/${n}`,
          title: `Campaign at ${domain}`,
          contentType: 'text/html',
          bytes: 100,
          fetchedAt: new Date().toISOString(),
          tlp,
          ...(feedTier ? { feedTier } : {}),
          language: 'en',
        },
        [
          { type: 'domain', value: domain, context: `C2 at ${domain}` },
          { type: 'ipv4', value: address, port: 443, context: `server ${address}:443` },
        ],
      );
    }
}

/**
 * OSINT sightings, through intel's own intake, from a document under every TLP x feed tier. The
 * document's URL, title and the context around each value name planted hosts of the document's
 * own marking (the tier its TLP gives, narrowed by the feed's: what the OSINT page may show), and
 * the values it names are indicators of the tier intel gives OSINT sightings (council at most).
 * So any path that carries a naming document to a reader its marking does not allow fails. The
 * analysis centre puts the CLEAR ones in public notice (as it may any council indicator), so the
 * public reads values whose documents a feed's tier keeps at the council or full tier.
 */
async function plantSightingDocuments(
  h: ReleaseHub,
  fresh: Planted['fresh'],
  plant: Planted['plant'],
): Promise<void> {
  let n = 0;
  for (const tlp of TLPS)
    for (const feedTier of [undefined, ...TIERS]) {
      const derived = tierOfTlp(tlp);
      const documentTier = feedTier ? moreRestrictedTier(derived, feedTier) : derived;
      const named = (what: string) => {
        const { value } = fresh('domain');
        plant(value, { kind: 'domain', tier: documentTier, tlp, holders: new Set(), approved: false });
        return `${what} ${value}`;
      };
      const domain = fresh('domain').value;
      const address = fresh('c2').value;
      const indicatorTier = osintSightingTier(tlp, feedTier);
      plant(domain, { kind: 'domain', tier: indicatorTier, tlp, holders: new Set(), approved: false });
      plant(address, { kind: 'c2', tier: indicatorTier, tlp, holders: new Set(), approved: false });
      n++;
      const url = `https://${named('').trim()}/advisory`;
      const recorded = await recordOsintDocument(
        h.intel,
        {
          id: createHash('sha256').update(url).digest('hex'),
          feed: `walk-advisories-${n}`,
          url,
          title: named('Advisory on'),
          fetchedAt: new Date().toISOString(),
        },
        [
          { type: 'domain', value: domain, context: named('seen beside') },
          { type: 'ipv4', value: address, port: 443, context: named('hosted with') },
        ],
        { tlp, ...(feedTier ? { tier: feedTier } : {}) },
      );
      assert.equal(recorded.length, 2);
      // Public notice takes a CLEAR indicator below the full tier.
      if (tlp !== 'clear' || indicatorTier === 'full') continue;
      const values = [
        { type: 'domain', value: domain },
        { type: 'c2', value: address, port: 443, proto: 'tcp' },
      ] as const;
      await h.hub.reviews.queue(
        recorded.map((r, i) => ({
          indicatorId: r.indicatorId,
          sighting: { ...values[i]!, source: 'NISC', confidence: 20, tier: 'public', tlp },
        })),
        'NISC',
      );
      for (const entry of await h.hub.reviews.list('pending', 10_000))
        if (entry.value === domain || entry.value === address) {
          await h.hub.reviews.approve(entry.id, 'walk');
          const kind = entry.value === domain ? 'domain' : 'c2';
          plant(entry.value, { kind, tier: indicatorTier, tlp, holders: new Set(), approved: true });
        }
    }
}

/** Every organisation posts every claimed tier x TLP to every collection of the fixed roots; only allowed writers store. */
async function postEverywhere(
  h: ReleaseHub,
  orgs: readonly WalkOrg[],
  fresh: Planted['fresh'],
  plant: Planted['plant'],
) {
  const statusIds: { root: string; id: string; org: string }[] = [];
  const posted: { org: WalkOrg; collection: string; object: StixObject }[] = [];
  for (const org of orgs)
    for (const [root, collection] of [
      ['full', COLLECTION_IDS.full],
      ['council', COLLECTION_IDS.submissions],
      ['public', COLLECTION_IDS.public],
    ] as const) {
      const objects: StixObject[] = [];
      for (const tier of ENVELOPE_TIERS)
        for (const tlp of ENVELOPE_TLPS) {
          const { value } = fresh('c2');
          const object = c2Object(value, tier, tlp);
          objects.push(object);
          posted.push({ org, collection, object });
          // Stored as posted: unlabelled counts as full, unmarked as AMBER+STRICT. Ingested
          // submissions reach at most the council until the analysis centre approves them (an
          // unlabelled submission is council-releasable: what an ISP's C&C list is for).
          const storedTier = tier ?? 'full';
          const ingested = collection === COLLECTION_IDS.submissions;
          plant(value, {
            kind: 'c2',
            tier: ingested ? (tier === 'full' ? 'full' : 'council') : storedTier,
            tlp: tlp ?? 'amber+strict',
            holders: new Set(),
            approved: false,
            ...(ingested ? {} : { onlyIn: 'full' as const }),
          });
        }
      const res = await h.req('POST', `/${root}/collections/${collection}/objects/`, org.name, { objects });
      if (res.statusCode === 202) statusIds.push({ root, id: res.json().id as string, org: org.name });
      const writes = res.statusCode === 202 && (res.json().success_count as number) > 0;
      const mayWrite =
        (collection === COLLECTION_IDS.full && (org.role === 'analysis' || org.role === 'government')) ||
        (collection === COLLECTION_IDS.submissions &&
          (org.role === 'analysis' ||
            org.role === 'government' ||
            ((org.role === 'council' || org.role === 'isp') && org.consent)));
      assert.equal(writes, mayWrite, `${org.name} writing ${collection}`);
    }
  await h.hub.publisher.sync();
  return { statusIds, posted };
}

/** Nobody but the owner or the analysis centre deletes a posted object, and the hub names each stored post's writer. */
async function checkOwnership(
  h: ReleaseHub,
  orgs: readonly WalkOrg[],
  posted: Awaited<ReturnType<typeof postEverywhere>>['posted'],
  byName: Map<string, Organisation>,
): Promise<void> {
  // Ownership: nobody but the owner or the analysis centre deletes a posted object.
  const analysisLast = [...orgs].sort(
    (a, b) => Number(a.role === 'analysis') - Number(b.role === 'analysis'),
  );
  for (const { org: owner, collection, object } of posted.filter((_, i) => i % 37 === 0))
    for (const o of analysisLast) {
      const root =
        collection === COLLECTION_IDS.full
          ? 'full'
          : collection === COLLECTION_IDS.public
            ? 'public'
            : 'council';
      const res = await h.req('DELETE', `/${root}/collections/${collection}/objects/${object.id}/`, o.name);
      if (res.statusCode === 200) {
        assert.ok(o.name === owner.name || o.role === 'analysis', `${o.name} deleted ${owner.name}'s object`);
        break;
      }
    }
  // Where a post was stored, the hub named its writer, whatever the body said.
  const stored = (
    await h.req(
      'GET',
      `/full/collections/${COLLECTION_IDS.full}/objects/?limit=10000`,
      orgs.find((o) => o.role === 'analysis')!.name,
    )
  ).json().objects as StixObject[];
  for (const { org, object } of posted) {
    const copy = stored.find((s) => s.id === object.id);
    if (copy) assert.equal(copy.created_by_ref, organisationIdentityId(byName.get(org.name)!.id));
  }
}

function c2Object(ip: string, tier: Tier | undefined, tlp: Tlp | undefined): StixObject {
  const t = '2026-01-01T00:00:00.000Z';
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--${crypto.randomUUID()}`,
    created: t,
    modified: t,
    // Every writer claims to be the hub: the hub must set the creator from the token.
    created_by_ref: 'identity--00000000-0000-4000-8000-000000000000',
    pattern: `[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '${ip}' AND network-traffic:dst_port = 4444 AND network-traffic:protocols[*] = 'tcp']`,
    pattern_type: 'stix',
    valid_from: t,
    confidence: 60,
    ...(tlp ? { object_marking_refs: [tlpMarkingId(tlp)] } : {}),
    ...(tier ? { extensions: { [TIER_EXTENSION_ID]: { extension_type: 'property-extension', tier } } } : {}),
  };
}

interface WalkRequest {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  body?: unknown;
  expect?: (status: number, reader: WalkOrg | undefined, body: string) => void;
}

/** Whether an organisation reads at the council tier or above (the README's tier table). */
function clearedForCouncil(org: WalkOrg | undefined): boolean {
  if (!org) return false;
  if (org.role === 'analysis' || org.role === 'government') return true;
  return (org.role === 'council' || org.role === 'isp') && org.consent;
}

/** An indicator a published document names (every one is walked where indicators are sampled). */
const named = (indicator: { attributes: Record<string, string> }) =>
  indicator.attributes.document !== undefined;

type RouteRequests = (reader: WalkOrg | undefined) => WalkRequest[];
type RouteEntry = readonly [string, RouteRequests];

const get =
  (...urls: string[]): RouteRequests =>
  () =>
    urls.map((url): WalkRequest => ({ method: 'GET', url }));

/** The single-page app's shell, its assets and the health probe. */
function siteRoutes(): RouteEntry[] {
  return [
    ['GET /', get('/')],
    ['GET /check', get('/check')],
    ['GET /assets/:file', get('/assets/app.js')],
    ['GET /favicon.svg', get('/favicon.svg')],
    ['GET /healthz', get('/healthz')],
  ];
}

/** The JSON API and its curl exports. */
async function apiRoutes(h: ReleaseHub, orgs: readonly WalkOrg[]): Promise<RouteEntry[]> {
  const analysisName = orgs.find((o) => o.role === 'analysis')!.name;
  const indicators = (await h.intel.list({ limit: 10_000, includeExpired: true, includeWithdrawn: true }))
    .items;
  const manifest = (await h.req('GET', '/api/export/misp/manifest.json', analysisName)).json() as Record<
    string,
    unknown
  >;
  return [
    ['GET /api/me', get('/api/me')],
    [
      'GET /api/indicators',
      get(
        '/api/indicators?limit=10000',
        ...INDICATOR_KINDS.map((k) => `/api/indicators?kind=${k}&limit=10000`),
      ),
    ],
    [
      'GET /api/indicators/:id',
      get(...indicators.filter((d, i) => i % 7 === 0 || named(d)).map((i) => `/api/indicators/${i.id}`)),
    ],
    ['GET /api/organisations', get('/api/organisations')],
    ['GET /api/audit', get('/api/audit?limit=10000')],
    ['GET /api/export/:name', get(...EXPORT_NAMES.map((name) => `/api/export/${name}`))],
    [
      'GET /api/export/misp/:file',
      get(
        '/api/export/misp/manifest.json',
        '/api/export/misp/hashes.csv',
        ...Object.keys(manifest).map((u) => `/api/export/misp/${u}.json`),
      ),
    ],
  ];
}

/** TAXII: discovery, every root, status, and every collection (fixed and own-network) with its objects. */
async function taxiiRoutes(
  h: ReleaseHub,
  statusIds: { root: string; id: string; org: string }[],
): Promise<RouteEntry[]> {
  // Every collection (fixed and own-network) under every root, and the objects in each.
  const collections = await h.store.db.selectFrom('collections').select(['id', 'api_root']).execute();
  const roots = ['full', 'council', 'public', 'network', 'nosuchroot'];
  const objectIds = new Map<string, string[]>();
  for (const c of collections) {
    const rows = await h.store.db
      .selectFrom('stix_objects')
      .select('object_id')
      .distinct()
      .where('collection_id', '=', c.id)
      .where('object_type', 'in', ['indicator', 'ipv4-addr', 'domain-name', 'url'])
      .orderBy('object_id')
      .execute();
    objectIds.set(
      c.id,
      rows
        .map((r) => r.object_id)
        .filter((_, i) => i % 9 === 0)
        .slice(0, 40),
    );
  }
  const inEveryCollection = (suffix: (c: { id: string; api_root: string }) => string[]) => () =>
    roots.flatMap((root) =>
      collections.flatMap((c) =>
        suffix(c).map((s): WalkRequest => ({ method: 'GET', url: `/${root}/collections/${c.id}/${s}` })),
      ),
    );
  return [
    ['GET /taxii2/', get('/taxii2/')],
    ['GET /:root/', get(...roots.map((r) => `/${r}/`))],
    // Each status under its own root and under another one.
    [
      'GET /:root/status/:id/',
      get(...statusIds.flatMap((s) => [`/${s.root}/status/${s.id}/`, `/full/status/${s.id}/`])),
    ],
    ['GET /:root/collections/', get(...roots.map((r) => `/${r}/collections/`))],
    ['GET /:root/collections/:collection/', inEveryCollection(() => [''])],
    [
      'GET /:root/collections/:collection/objects/',
      inEveryCollection(() => ['objects/?limit=10000', 'objects/?match[version]=all&limit=10000']),
    ],
    ['GET /:root/collections/:collection/manifest/', inEveryCollection(() => ['manifest/?limit=10000'])],
    [
      'GET /:root/collections/:collection/objects/:object/',
      inEveryCollection((c) => (objectIds.get(c.id) ?? []).map((id) => `objects/${id}/?match[version]=all`)),
    ],
    [
      'GET /:root/collections/:collection/objects/:object/versions/',
      inEveryCollection((c) => (objectIds.get(c.id) ?? []).map((id) => `objects/${id}/versions/`)),
    ],
    // Writes are walked above (every writer posts to every collection; deletes at the end).
    ['POST /:root/collections/:collection/objects/', () => []],
    ['DELETE /:root/collections/:collection/objects/:object/', () => []],
  ];
}

/** The console's reads open to every signed-in reader (each filtered by the release decision). */
async function consoleRoutes(h: ReleaseHub): Promise<RouteEntry[]> {
  const indicators = (await h.intel.list({ limit: 10_000, includeExpired: true, includeWithdrawn: true }))
    .items;
  const refs = indicators
    .filter((d, i) => i % 5 === 0 || named(d))
    .map((i) => Buffer.from(`${i.kind}|${i.value}|${i.port}|${i.proto}`, 'utf8').toString('base64url'));
  return [
    ['GET /console/api/me', get('/console/api/me')],
    ['GET /console/api/overview', get('/console/api/overview')],
    [
      'GET /console/api/indicators',
      get(
        '/console/api/indicators?limit=1000',
        ...INDICATOR_KINDS.map((k) => `/console/api/indicators?kind=${k}&limit=1000&inactive=true`),
      ),
    ],
    ['GET /console/api/indicators/:ref', get(...refs.map((r) => `/console/api/indicators/${r}`))],
    ['GET /console/api/hosts', get('/console/api/hosts')],
    ['GET /console/api/darknet', get('/console/api/darknet')],
    ['GET /console/api/survey', get('/console/api/survey')],
    ['GET /console/api/sharing', get('/console/api/sharing')],
    ['GET /console/api/audit', get('/console/api/audit?limit=500')],
    ['GET /console/api/graph', get('/console/api/graph?limit=200')],
    ['GET /console/api/review', get('/console/api/review?status=all')],
    [
      'GET /console/api/osint',
      get('/console/api/osint', '/console/api/osint?type=ipv4', '/console/api/osint?q=walk'),
    ],
  ];
}

/** Console reads gated by tier: operator health, hygiene per organisation, sensors, the runbook. */
function consoleGatedRoutes(): RouteEntry[] {
  return [
    // The pipeline's health (hosts and processes of the operator): full-tier readers only.
    [
      'GET /console/api/health',
      (reader) =>
        reader
          ? [
              {
                method: 'GET',
                url: '/console/api/health',
                expect: (status, who, body) => {
                  assert.equal(status, 200);
                  const watched = (JSON.parse(body) as { watched: boolean }).watched;
                  assert.equal(
                    watched,
                    who?.role === 'analysis' || who?.role === 'government',
                    `${who?.name} pipeline health`,
                  );
                },
              },
            ]
          : [],
    ],
    // Hygiene: sector aggregates for every reader, per-organisation results from the council tier up.
    [
      'GET /console/api/hygiene',
      (reader) =>
        reader
          ? [
              {
                method: 'GET',
                url: '/console/api/hygiene',
                expect: (status, who, body) => {
                  assert.equal(status, 200);
                  const withheld = (JSON.parse(body) as { organisations: unknown }).organisations === null;
                  assert.equal(withheld, !clearedForCouncil(who), `${who?.name} hygiene organisations`);
                },
              },
            ]
          : [],
    ],
    [
      'GET /console/api/hygiene/organisations/:name',
      (reader) =>
        reader
          ? [
              {
                method: 'GET',
                url: '/console/api/hygiene/organisations/Example%20Bank',
                // No survey is stored in the walk: 404 when cleared, 403 when not.
                expect: (status, who) => assert.equal(status, clearedForCouncil(who) ? 404 : 403),
              },
            ]
          : [],
    ],
    // Endpoint sensors per ministry: the full tier only (analysis centre and government).
    [
      'GET /console/api/sensors',
      (reader) =>
        reader
          ? [
              {
                method: 'GET',
                url: '/console/api/sensors',
                expect: (status, who) =>
                  assert.equal(
                    status,
                    who?.role === 'analysis' || who?.role === 'government' ? 200 : 403,
                    `${who?.name} sensors`,
                  ),
              },
            ]
          : [],
    ],
    // Malicious sites: every reader, each seeing only the hosts the release rule gives it (the
    // body goes through the same leak check as every other route's).
    [
      'GET /console/api/web',
      (reader) =>
        reader
          ? [
              {
                method: 'GET',
                url: '/console/api/web',
                expect: (status, who) => assert.equal(status, 200, `${who?.name} web`),
              },
            ]
          : [],
    ],
    // User reports: every token here may write, so every organisation may report; the answer
    // holds the verdict of the URL sent and nothing the hub knew (the leak check reads it too).
    [
      'POST /console/api/web/reports',
      (reader) => [
        {
          method: 'POST',
          url: '/console/api/web/reports',
          body: [
            { url: `https://report-${reader?.name ?? 'anonymous'}.walk.example/login`, brand: 'amazon' },
          ],
          expect: (status, who, body) => {
            assert.equal(status, who ? 200 : 401, `${who?.name ?? 'anonymous'} report`);
            if (who) assert.deepEqual(Object.keys(JSON.parse(body) as object).sort(), ['reports', 'source']);
          },
        },
      ],
    ],
    // The runbook names the operator's ports, paths and commands: the full tier only.
    [
      'GET /console/api/runbook',
      (reader) =>
        reader
          ? [
              {
                method: 'GET',
                url: '/console/api/runbook?lang=en',
                expect: (status, who) =>
                  assert.equal(
                    status,
                    who?.role === 'analysis' || who?.role === 'government' ? 200 : 403,
                    `${who?.name} runbook`,
                  ),
              },
            ]
          : [],
    ],
  ];
}

/** Review decisions, attempted by everyone but the analysis centre. */
async function reviewRoutes(h: ReleaseHub): Promise<RouteEntry[]> {
  const reviews = (await h.hub.reviews.list(undefined, 10_000)).slice(0, 3);
  const onlyAnalysis = (status: number, reader: WalkOrg | undefined) =>
    assert.ok(
      status !== 200 || reader?.role === 'analysis',
      `a ${reader?.role ?? 'anonymous'} decided a review`,
    );
  return [
    // Only the analysis centre decides; the others' attempts must fail (and change nothing).
    ...(['approve', 'refuse', 'edit'] as const).map(
      (action) =>
        [
          `POST /console/api/review/:id/${action}`,
          (reader: WalkOrg | undefined) =>
            reader?.role === 'analysis'
              ? []
              : reviews.map((r): WalkRequest => ({
                  method: 'POST',
                  url: `/console/api/review/${r.id}/${action}`,
                  body: {},
                  expect: onlyAnalysis,
                })),
        ] as const,
    ),
    // Walked separately: anonymous at its own address, and as a stream for every reader.
    ['GET /console/api/self-check', () => []],
    ['GET /console/api/live', () => []],
  ];
}

/** For each route of the server, the concrete requests the walk makes as a reader. */
async function routeWalk(
  h: ReleaseHub,
  orgs: readonly WalkOrg[],
  statusIds: { root: string; id: string; org: string }[],
): Promise<Map<string, RouteRequests>> {
  const t = new Map<string, RouteRequests>([
    ...siteRoutes(),
    ...(await apiRoutes(h, orgs)),
    ...(await taxiiRoutes(h, statusIds)),
    ...(await consoleRoutes(h)),
    ...consoleGatedRoutes(),
    ...(await reviewRoutes(h)),
  ]);
  // Org lists, the audit log and the review queue: other organisations' names stay with the
  // analysis centre (one place decides: mayReadOrganisations / mayReadAudit).
  for (const route of [
    'GET /api/organisations',
    'GET /api/audit',
    'GET /console/api/sharing',
    'GET /console/api/audit',
    'GET /console/api/review',
  ]) {
    const requests = t.get(route)!;
    t.set(route, (reader) =>
      requests(reader).map((r) => ({
        ...r,
        expect: (_status, who, body) => {
          if (who?.role === 'analysis') return;
          for (const other of orgs)
            if (other.name !== who?.name)
              assert.ok(
                !body.includes(`"${other.name}"`),
                `${who?.name ?? 'anonymous'} read ${other.name} from ${route}`,
              );
        },
      })),
    );
  }
  return t;
}

/** Opens the live stream as an organisation; the returned function ends it and gives what came. */
async function openStream(h: ReleaseHub, org: string): Promise<() => Promise<string>> {
  const controller = new AbortController();
  const res = await fetch(`${h.url}/console/api/live`, {
    headers: { authorization: `Bearer ${h.tokens[org]}` },
    signal: controller.signal,
  });
  let text = '';
  const reading = (async () => {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
    } catch {
      // aborted
    }
  })();
  return async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    await reading;
    return text;
  };
}
