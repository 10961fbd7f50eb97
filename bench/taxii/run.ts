/**
 * TAXII benchmark (not a test): tsunagi's hub against OASIS medallion on the same STIX data.
 * Loads indicators through intel, publishes them as tiered STIX, then times
 * `GET objects?limit=50` pages and POST envelopes of 1000 objects over real sockets on
 * 127.0.0.1, printing requests/s, objects/s, latency and the ratio to medallion.
 *
 * Ratios only between the two servers holding the same data: reads at 1000 indicators (medallion's
 * memory backend sorts the whole collection on each first page, so larger reads take it minutes),
 * writes at 1000 and 3000 (10,000 with TAXII_BENCH_SAME_DATA_INDICATORS). Both servers get the same requests: the same envelopes, one untimed
 * warm-up envelope each, and the same whole GET walks of the collection with the same page size,
 * which give both at least 100 `next` requests; tsunagi alone also times 100 first pages.
 * A p99 is printed only over at least 100 requests (else the maximum, labelled so), each
 * percentile with its request count. A larger tsunagi-only size (e.g. 1,000,000)
 * is shown without a ratio.
 *
 * Run: npm run bench:taxii [-- --write BENCHMARKS.md] [-- LARGE_INDICATORS]; with --large-only
 * only that size runs (tsunagi alone), into its own section "TAXII at N indicators".
 * env: TAXII_BENCH_MEDALLION_INDICATORS (1000), TAXII_BENCH_SAME_DATA_INDICATORS (3000; 10,000 takes medallion tens of minutes),
 * TAXII_BENCH_PAGE (50 objects per GET page, both servers), TAXII_BENCH_NEXT_PAGES (100 `next`
 * requests at least), TAXII_BENCH_WALKS (1 whole walk, both servers), TAXII_BENCH_GETS (100
 * first pages, tsunagi; medallion only its walks' own),
 * TAXII_BENCH_POSTS (10, both servers), MEDALLION_DIR (a medallion 3.0.0 source tree, see
 * bench/taxii/README.md; unset: medallion and the ratios are skipped, and the run says so),
 * MEDALLION_PYTHON (/usr/bin/python3), TSUNAGI_BENCH_DATABASE_URL for PostgreSQL, TAXII_BENCH_KEEP=1
 * keeps the large run's SQLite directory for post-profile.ts and prints it.
 */
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { silentLogger } from '../../src/core/index.ts';
import { COLLECTION_IDS, HubConfig, wireHub } from '../../src/share/index.ts';
import { openStore } from '../../src/store/index.ts';
import { ROOM_MIGRATIONS } from '../../src/cli/testing.ts';
import { makeEnvelopes, sighting } from './data.ts';
import { parseArgs } from 'node:util';
import { commandLine, machineLoad, markdownTable, publishReport } from '../lib/report.ts';
import { locateMedallion, startMedallion } from './medallion.ts';

const { values: cli, positionals } = parseArgs({
  options: {
    write: { type: 'string' },
    /** Only the tsunagi-only size (its own section): the run with the peer takes long enough. */
    'large-only': { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const LARGE_ONLY = cli['large-only'];
const startedAt = new Date();
const loadBefore = machineLoad();
/** A tsunagi-only size beyond what medallion can hold (0: none). */
const INDICATORS = Number(positionals[0] ?? process.env.TAXII_BENCH_INDICATORS ?? 0);
const SMALL = Number(process.env.TAXII_BENCH_MEDALLION_INDICATORS ?? 1000);
/**
 * A second size at which both servers hold the same data, for writes only (0: none). medallion's
 * POST scans the collection per posted object, so its write speed falls with size; its first GET
 * page is quadratic (minutes at SMALL), so reads are compared at SMALL alone.
 */
const MIDDLE = Number(process.env.TAXII_BENCH_SAME_DATA_INDICATORS ?? 3000);
/**
 * Objects per GET page, the same for both servers. Small enough that one whole walk of the
 * collection at SMALL indicators (about 6300 objects) makes over 100 `next` requests, so the
 * `next`-page percentiles of both servers rest on at least 100 requests each.
 */
const PAGE = Number(process.env.TAXII_BENCH_PAGE ?? 50);
/** `next` requests per server and size at least (walks are repeated until reached). */
const NEXT_PAGES = Number(process.env.TAXII_BENCH_NEXT_PAGES ?? 100);
/**
 * Whole walks of the collection per server at SMALL (1 by default), the same for both. Each
 * starts with a first page, which medallion answers by sorting the whole collection against its
 * manifest (minutes of CPU at 1000 indicators on a loaded machine).
 */
const WALKS = Number(process.env.TAXII_BENCH_WALKS ?? 1);
/**
 * First-page requests for tsunagi (its walks' own and more on their own). medallion's first pages
 * are only its walks' own: 100 of them would take it hours; its row is labelled "max".
 */
const FIRST_PAGES = Number(process.env.TAXII_BENCH_GETS ?? 100);
const POSTS = Number(process.env.TAXII_BENCH_POSTS ?? 10);
/** Below this many requests the tail is printed as the maximum: a "p99" of fewer would be it. */
const MIN_FOR_P99 = 100;
const DATABASE_URL = process.env.TSUNAGI_BENCH_DATABASE_URL;
const KEEP = process.env.TAXII_BENCH_KEEP === '1';
const TAXII = 'application/taxii+json;version=2.1';

interface Timing {
  requests: number;
  objects: number;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
}

function timing(latencies: number[], objects: number, seconds: number): Timing {
  const sorted = [...latencies].sort((a, b) => a - b);
  // Nearest rank: the p99 of 100 requests is the 99th, not the 100th (the maximum).
  const at = (q: number) => sorted[Math.max(0, Math.ceil(sorted.length * q) - 1)] ?? NaN;
  return {
    requests: sorted.length,
    objects,
    seconds,
    p50: at(0.5),
    p99: sorted.length >= MIN_FOR_P99 ? at(0.99) : NaN,
    max: sorted.at(-1) ?? NaN,
  };
}

/** The share of time some task waited for a CPU over the last 10 s (Linux PSI), or '?'. */
function cpuPressure(): string {
  try {
    return /some avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

/** Each timed phase with the machine's CPU pressure before and after it, for the section's caveats. */
const phasePressure: string[] = [];

/** Runs a timed phase and notes the machine's CPU pressure before and after it (2 shared cores). */
async function underPressure<T>(label: string, phase: () => Promise<T>): Promise<T> {
  const before = cpuPressure();
  const result = await phase();
  const line = `${label}: ${before}% before, ${cpuPressure()}% after`;
  phasePressure.push(line);
  process.stderr.write(`  ${label}: CPU pressure (some, avg10) ${before}% before, ${cpuPressure()}% after\n`);
  return result;
}

const agent = new http.Agent({ keepAlive: true });

/**
 * One request over node:http with no time limit: medallion's first page can take minutes on a
 * loaded machine, past fetch's fixed 300 s header timeout. Same client for both servers.
 */
function request(
  url: string,
  options: { method?: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

interface GetTimings {
  /** The requests of the whole walks (first page to the last `next` page); absent when none ended. */
  walk?: Timing;
  /** First pages (no `next`): the walks' own, then any asked for on their own. */
  first: Timing;
  /** The pages reached with `next`. */
  next: Timing;
}

interface GetTarget {
  /** Whole walks to finish (a walk started is always finished when this is above 0). */
  walks: number;
  /** `next` requests to make at least, walking on (and starting again at the end) until then. */
  nextPages: number;
  /** First-page requests to make at least, the ones beyond the walks' own made on their own. */
  firstPages: number;
}

/**
 * Walks the collection from its start with `limit=PAGE` pages, following `next`, until at least
 * `walks` whole walks and `nextPages` `next` requests were made, then asks for the first page on
 * its own until `firstPages` first pages were timed. Seconds are sums of request latencies (one
 * request at a time), so the figures add up.
 */
async function measureGet(objectsUrl: string, authorization: string, target: GetTarget): Promise<GetTimings> {
  type Timed = { ms: number; objects: number };
  const first: Timed[] = [];
  const following: Timed[] = [];
  /** Every request of the walking loop, in order. */
  const walked: Timed[] = [];
  const get = async (next?: string) => {
    const began = performance.now();
    const res = await request(
      `${objectsUrl}?limit=${PAGE}${next ? `&next=${encodeURIComponent(next)}` : ''}`,
      {
        headers: { accept: TAXII, authorization },
      },
    );
    if (res.status !== 200) throw new Error(`GET ${res.status}: ${res.text.slice(0, 300)}`);
    const body = JSON.parse(res.text) as { objects?: unknown[]; next?: string; more?: boolean };
    const timed = { ms: performance.now() - began, objects: body.objects?.length ?? 0 };
    (next ? following : first).push(timed);
    return { timed, next: body.more ? body.next : undefined };
  };
  let next: string | undefined;
  let walks = 0;
  // With walks asked for, a walk once started is finished, so the loop's requests are whole walks.
  while (following.length < target.nextPages || walks < target.walks || (next && target.walks > 0)) {
    const page = await get(next);
    walked.push(page.timed);
    next = page.next;
    if (!next) walks++;
  }
  while (first.length < target.firstPages) await get();
  const of = (requests: Timed[]) =>
    timing(
      requests.map((r) => r.ms),
      requests.reduce((sum, r) => sum + r.objects, 0),
      requests.reduce((sum, r) => sum + r.ms, 0) / 1000,
    );
  return { ...(target.walks > 0 ? { walk: of(walked) } : {}), first: of(first), next: of(following) };
}

/**
 * POSTs each envelope in turn; the first is an untimed warm-up on both servers (on tsunagi it
 * pays V8's compile of the write path; medallion's collection grows by the same 1000 objects).
 */
async function measurePost(objectsUrl: string, authorization: string, envelopes: readonly string[]) {
  const warmUp = true;
  const latencies: number[] = [];
  let objects = 0;
  let start = performance.now();
  for (const [i, envelope] of envelopes.entries()) {
    if (warmUp && i === 1) {
      latencies.length = 0;
      objects = 0;
      start = performance.now();
    }
    const began = performance.now();
    const res = await request(objectsUrl, {
      method: 'POST',
      headers: { accept: TAXII, 'content-type': TAXII, authorization },
      body: envelope,
    });
    const status = JSON.parse(res.text) as { success_count?: number };
    latencies.push(performance.now() - began);
    if (res.status !== 202) throw new Error(`POST ${res.status}: ${JSON.stringify(status)}`);
    objects += status.success_count ?? 0;
  }
  return timing(latencies, objects, (performance.now() - start) / 1000);
}

interface TsunagiRun {
  indicators: number;
  /** STIX rows stored over all collections. */
  rows: number;
  /** Latest objects in the full collection (what GET pages walk). */
  fullObjects: number;
  recordPerSecond: number;
  publishPerSecond: number;
  get: GetTimings;
  post: Timing;
  /** The full collection's objects, for medallion (only when asked). */
  dump?: { object: Record<string, unknown>; dateAdded: string; version: string }[];
}

/** Sightings per intel call (its maxBatch is 10,000): one transaction each. */
const RECORD_BATCH = 10_000;
/**
 * The large size is loaded in steps of this many indicators, each recorded then published, so a
 * load that runs out of its time budget stops at a step with everything recorded also published.
 */
const LOAD_STEP = 100_000;
/** The large size's time budget for loading (recording and publishing), minutes. */
const LOAD_BUDGET_MS = Number(process.env.TAXII_BENCH_LOAD_BUDGET_MIN ?? 40) * 60_000;

interface Loaded {
  /** Indicators recorded and published (fewer than asked when the budget ran out). */
  reached: number;
  recordSeconds: number;
  publishSeconds: number;
}

/**
 * Records `indicators` C&C sightings through intel and publishes them through the hub's
 * publisher, in steps of LOAD_STEP; past LOAD_BUDGET_MS it stops after the step it is in.
 */
async function load(
  indicators: number,
  intel: ReturnType<typeof wireHub>['intel'],
  hub: ReturnType<typeof wireHub>['hub'],
  registry: Registry,
): Promise<Loaded> {
  const loud = indicators >= 100_000;
  const startedAt = performance.now();
  let recordMs = 0;
  let publishMs = 0;
  let reached = 0;
  // Progress from the publisher's own counter (no query: SQLite has one connection, busy here).
  const published = registry.getSingleMetric('tsunagi_share_published_indicators_total');
  while (reached < indicators) {
    const stepEnd = Math.min(indicators, reached + LOAD_STEP);
    let began = performance.now();
    for (let b = reached; b < stepEnd; b += RECORD_BATCH)
      await intel.recordSightings(
        Array.from({ length: Math.min(RECORD_BATCH, stepEnd - b) }, (_, i) => sighting(b + i)),
      );
    recordMs += performance.now() - began;
    began = performance.now();
    const progress =
      loud && published
        ? setInterval(() => {
            void Promise.resolve(published.get()).then((m) => {
              const n = m.values[0]?.value ?? 0;
              process.stderr.write(
                `  publish: ${n} of ${stepEnd} recorded indicators published, CPU pressure ${cpuPressure()}%\n`,
              );
            });
          }, 30_000)
        : undefined;
    await hub.publisher.sync().finally(() => clearInterval(progress));
    publishMs += performance.now() - began;
    reached = stepEnd;
    if (loud)
      process.stderr.write(
        `  loaded ${reached} indicators in ${((performance.now() - startedAt) / 1000).toFixed(0)} s: ` +
          `intel ${(reached / (recordMs / 1000)).toFixed(0)}/s, publish ${(reached / (publishMs / 1000)).toFixed(0)}/s, CPU pressure ${cpuPressure()}%\n`,
      );
    if (reached < indicators && performance.now() - startedAt > LOAD_BUDGET_MS) {
      process.stderr.write(
        `  load budget of ${LOAD_BUDGET_MS / 60_000} min spent: measuring at ${reached} of ${indicators} indicators\n`,
      );
      break;
    }
  }
  return { reached, recordSeconds: recordMs / 1000, publishSeconds: publishMs / 1000 };
}

async function runTsunagi(
  indicators: number,
  envelopes: readonly string[],
  dump: boolean,
): Promise<TsunagiRun> {
  const dir = mkdtempSync(join(tmpdir(), 'taxii-bench-'));
  const schema = `taxii_bench_${process.pid}_${indicators}`;
  const store = DATABASE_URL
    ? await openStore({ databaseUrl: DATABASE_URL, schema }, { migrations: ROOM_MIGRATIONS })
    : await openStore({ dataDir: dir }, { migrations: ROOM_MIGRATIONS });
  const logger = silentLogger();
  const registry = new Registry();
  const { intel, hub } = wireHub(
    {
      hub: HubConfig.parse({
        listen: '127.0.0.1:0',
        publishIntervalMs: 0,
        rateLimit: { perSecond: 1e6, burst: 1e6 },
      }),
    },
    { store, logger, registry },
  );
  try {
    await hub.start();
    await hub.orgs.add({ name: 'bench-analysis', role: 'analysis' }, 'bench');
    const { token } = await hub.orgs.createToken('bench-analysis', {}, 'bench');
    const loaded = await load(indicators, intel, hub, registry);
    const recordPerSecond = loaded.reached / loaded.recordSeconds;
    const publishPerSecond = loaded.reached / loaded.publishSeconds;
    const count = await store.db
      .selectFrom('stix_objects')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const full = await store.db
      .selectFrom('stix_objects')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('collection_id', '=', COLLECTION_IDS.full)
      .where('is_latest', '=', 1)
      .executeTakeFirstOrThrow();
    const objectsUrl = `${hub.url()}/full/collections/${COLLECTION_IDS.full}/objects/`;
    const authorization = `Bearer ${token}`;
    let dumped: TsunagiRun['dump'];
    if (dump) {
      const rows = await store.db
        .selectFrom('stix_objects')
        .select(['body', 'date_added', 'version'])
        .where('collection_id', '=', COLLECTION_IDS.full)
        .where('is_latest', '=', 1)
        .orderBy('seq')
        .execute();
      dumped = rows.map((r) => ({
        object: JSON.parse(r.body) as Record<string, unknown>,
        dateAdded: r.date_added,
        version: r.version,
      }));
    }
    const get = await underPressure(`tsunagi ${indicators} GET`, () =>
      // Whole walks at the size shared with medallion; beyond it, as many `next` pages from the start.
      measureGet(objectsUrl, authorization, {
        walks: indicators === SMALL ? WALKS : 0,
        nextPages: NEXT_PAGES,
        firstPages: FIRST_PAGES,
      }),
    );
    const post = await underPressure(`tsunagi ${indicators} POST`, () =>
      measurePost(objectsUrl, authorization, envelopes),
    );
    return {
      indicators: loaded.reached,
      rows: Number(count.n),
      fullObjects: Number(full.n),
      recordPerSecond,
      publishPerSecond,
      get,
      post,
      ...(dumped ? { dump: dumped } : {}),
    };
  } finally {
    await hub.stop();
    if (DATABASE_URL) {
      const { sql } = await import('kysely');
      await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(store.db);
    }
    await store.close();
    if (KEEP && !DATABASE_URL && indicators === INDICATORS) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toFixed(n > 0 && n < 1 ? Math.max(digits, 2) : digits) : '—';
const rows: string[][] = [];
/** The whole-walk GET row (where walks ended), then first pages and `next` pages, each with the same peer. */
function getRows(server: string, size: string, t: GetTimings, peer?: GetTimings | 'none') {
  const pick = <K extends keyof GetTimings>(part: K) =>
    peer === undefined || peer === 'none' ? peer : (peer[part] as Timing | undefined);
  if (t.walk)
    row(
      server,
      size,
      `GET limit=${PAGE}, whole walks`,
      t.walk,
      peer === undefined ? undefined : (pick('walk') ?? 'none'),
    );
  row(server, size, `GET limit=${PAGE}: first pages`, t.first, pick('first'));
  row(server, size, `GET limit=${PAGE}: pages by \`next\``, t.next, pick('next'));
}

function row(server: string, size: string, what: string, t: Timing, peer?: Timing | 'none') {
  const ratio =
    peer === undefined
      ? ''
      : peer === 'none'
        ? 'no peer at this size'
        : `${fmt(t.objects / t.seconds / (peer.objects / peer.seconds), 1)}x`;
  rows.push([
    server,
    size,
    what,
    String(t.requests),
    fmt(t.requests / t.seconds, 1),
    fmt(t.objects / t.seconds),
    `${fmt(t.p50, 1)} (${t.requests})`,
    // Fewer than MIN_FOR_P99 requests have no p99 worth the name: say it is the maximum.
    Number.isFinite(t.p99) ? `p99 ${fmt(t.p99, 1)} (${t.requests})` : `max ${fmt(t.max, 1)} (${t.requests})`,
    fmt(t.max, 1),
    ratio,
  ]);
}

// One more than timed: the first is tsunagi's warm-up.
const envelopes = makeEnvelopes(POSTS + 1);
const engine = DATABASE_URL ? 'PostgreSQL' : 'SQLite';
console.log(
  `TAXII bench: tsunagi (${engine}) and medallion (memory backend) at ${SMALL} and ${MIDDLE} indicators` +
    `${INDICATORS > MIDDLE ? `, tsunagi alone at ${INDICATORS}` : ''}; GET limit=${PAGE}: ${WALKS} whole walk(s) and >= ${NEXT_PAGES} \`next\` pages each, ${FIRST_PAGES} first pages (tsunagi), ${POSTS} POSTs each after one warm-up`,
);

if (LARGE_ONLY && !(INDICATORS > MIDDLE)) {
  process.stderr.write(`bench:taxii: --large-only needs a size above ${MIDDLE} indicators, e.g. 1000000\n`);
  process.exit(2);
}
const small = LARGE_ONLY ? undefined : await runTsunagi(SMALL, envelopes, true);
if (small)
  console.log(
    `tsunagi ${SMALL} indicators: intel ${fmt(small.recordPerSecond)}/s, publish ${fmt(small.publishPerSecond)} indicators/s, ${small.rows} stored STIX rows`,
  );
let medallion: { get: GetTimings; post: Timing; objects: number } | undefined;
const where = locateMedallion();
if (!small) {
  // --large-only: no peer at that size.
} else if ('skip' in where) {
  console.log(`medallion skipped: ${where.skip}`);
} else {
  // medallion 3.0.0 fails (HTTP 500) on an extension-definition's `version` property; leave it out.
  const objects = small.dump!.filter((o) => o.object.type !== 'extension-definition');
  const server = await startMedallion(where, objects);
  try {
    const get = await underPressure('medallion GET', () =>
      measureGet(server.objectsUrl, server.authorization, {
        walks: WALKS,
        nextPages: NEXT_PAGES,
        firstPages: 0,
      }),
    );
    const post = await underPressure('medallion POST', () =>
      measurePost(server.objectsUrl, server.authorization, envelopes),
    );
    medallion = { get, post, objects: objects.length };
  } finally {
    await server.stop();
  }
}
if (small) delete small.dump;

let middle: { tsunagi: TsunagiRun; medallionPost?: Timing; medallionObjects: number } | undefined;
if (MIDDLE > SMALL && !LARGE_ONLY) {
  const run = await runTsunagi(MIDDLE, envelopes, true);
  console.log(
    `tsunagi ${MIDDLE} indicators: publish ${fmt(run.publishPerSecond)} indicators/s, ${run.rows} stored STIX rows`,
  );
  let medallionPost: Timing | undefined;
  const objects = (run.dump ?? []).filter((o) => o.object.type !== 'extension-definition');
  if (!('skip' in where)) {
    const server = await startMedallion(where, objects);
    try {
      medallionPost = await underPressure(`medallion POST at ${MIDDLE}`, () =>
        measurePost(server.objectsUrl, server.authorization, envelopes),
      );
    } finally {
      await server.stop();
    }
  }
  delete run.dump;
  middle = { tsunagi: run, medallionPost, medallionObjects: objects.length };
}

let large: TsunagiRun | undefined;
if (INDICATORS > MIDDLE) {
  large = await runTsunagi(INDICATORS, envelopes, false);
  console.log(
    `tsunagi ${large.indicators} indicators: intel ${fmt(large.recordPerSecond)}/s, publish ${fmt(large.publishPerSecond)} indicators/s, ${large.rows} stored STIX rows`,
  );
}

const sizeOf = (indicators: number, stored: number) => `${indicators} ind. (${stored} obj.)`;
const peerOrSkip = (t: Timing | undefined): Timing | 'none' => t ?? 'none';
if (medallion) {
  getRows('medallion', sizeOf(SMALL, medallion.objects), medallion.get);
  row('medallion', sizeOf(SMALL, medallion.objects), 'POST 1000', medallion.post);
}
if (small) {
  getRows('tsunagi', sizeOf(SMALL, small.fullObjects), small.get, medallion?.get ?? 'none');
  row('tsunagi', sizeOf(SMALL, small.fullObjects), 'POST 1000', small.post, peerOrSkip(medallion?.post));
}
if (middle) {
  if (middle.medallionPost)
    row('medallion', sizeOf(MIDDLE, middle.medallionObjects), 'POST 1000', middle.medallionPost);
  getRows('tsunagi', sizeOf(MIDDLE, middle.tsunagi.fullObjects), middle.tsunagi.get, 'none');
  row(
    'tsunagi',
    sizeOf(MIDDLE, middle.tsunagi.fullObjects),
    'POST 1000',
    middle.tsunagi.post,
    peerOrSkip(middle.medallionPost),
  );
}
if (large) {
  getRows('tsunagi', sizeOf(large.indicators, large.fullObjects), large.get, 'none');
  row('tsunagi', sizeOf(large.indicators, large.fullObjects), 'POST 1000', large.post, 'none');
}
const header = [
  'server',
  'size',
  'request',
  'requests',
  'req/s',
  'objects/s',
  'p50 ms (requests)',
  `tail ms: p99, or max under ${MIN_FOR_P99} requests (requests)`,
  'max ms',
  'vs medallion',
];
/** When medallion's whole walk is mostly its first page, the whole-walk ratio is that page: say so. */
function firstPageCaveat(): string[] {
  const get = medallion?.get;
  if (!get?.walk || get.first.seconds < get.walk.seconds / 2) return [];
  return [
    `medallion's whole-walk GET figure rests on its ${get.first.requests} first page${get.first.requests === 1 ? '' : 's'} (${fmt(get.first.seconds)} s of its ${fmt(get.walk.seconds)} s here, on a machine whose load is printed above): the whole-walk ratio is mostly ${get.first.requests === 1 ? 'that one request' : 'those requests'}; the \`next\`-page ratio is over ${get.next.requests} medallion and ${small?.get.next.requests ?? 0} tsunagi requests.`,
  ];
}

const ALONE_AT_SCALE = `${(large?.indicators ?? INDICATORS).toLocaleString('en-US')} indicators are tsunagi alone, without a ratio: medallion's memory backend holds its collection in one JSON document and sorts it on each first page (minutes of CPU already at 1000 indicators), so it was not run at that size.`;
/** Said first when the large size's load ran out of its budget. */
const SHORT_OF_SIZE =
  large && large.indicators < INDICATORS
    ? [
        `Measured at ${large.indicators.toLocaleString('en-US')} indicators, not the ${INDICATORS.toLocaleString('en-US')} asked for: loading (recording, then publishing, in steps of ${LOAD_STEP.toLocaleString('en-US')}) ran past its budget of ${LOAD_BUDGET_MS / 60_000} min (TAXII_BENCH_LOAD_BUDGET_MIN) on this shared machine, so the run stopped growing after that step.`,
      ]
    : [];
const caveats = LARGE_ONLY
  ? [
      ...SHORT_OF_SIZE,
      'The machine has 2 cores shared with other sessions: figures move by tens of percent between runs.',
      ALONE_AT_SCALE,
      `Every percentile is printed with the number of requests it is over: GET rows over ${FIRST_PAGES} first pages and ${NEXT_PAGES} \`next\` pages from the first (\`limit=${PAGE}\`), POST rows over ${POSTS} requests after one untimed warm-up, their tail printed as the maximum ("max").`,
      "The client runs in the benchmark's process, which also holds tsunagi's hub (one event loop for both).",
    ]
  : [
      'The machine has 2 cores shared with other sessions: figures move by tens of percent between runs.',
      `Every percentile is printed with the number of requests it is over; a tail over fewer than ${MIN_FOR_P99} is the maximum, labelled "max". Both servers make the same ${WALKS} whole walk${WALKS === 1 ? '' : 's'} of the collection with \`limit=${PAGE}\` (at least ${NEXT_PAGES} \`next\` pages each), so the whole-walk and \`next\`-page rows are equal work over the same requests. First pages are a row of their own: tsunagi's over ${FIRST_PAGES} requests, medallion's over its walks' own only (each sorts the whole collection against its manifest, minutes of CPU here, so ${FIRST_PAGES} would take it hours). medallion's paging sessions are kept for an hour (\`session_timeout\`; its default of 30 s would expire a walk on this machine). POST rows are over ${POSTS} requests each (after one untimed warm-up): medallion's POST slows as its collection grows, so ${MIN_FOR_P99} POSTs would measure a different size.`,
      "The client runs in the benchmark's process, which also holds tsunagi's hub (one event loop for both); medallion runs in a process of its own.",
      "medallion 3.0.0 fails on the extension-definition's `version` property, so it holds one object fewer than tsunagi.",
      ...(middle
        ? [
            `No read ratio at ${MIDDLE} indicators: medallion's memory backend sorts the whole collection against its manifest on each first page.`,
          ]
        : []),
      ...(large
        ? [ALONE_AT_SCALE]
        : [
            'tsunagi alone at 1,000,000 indicators (no ratio) is measured by `npm run bench:taxii -- --large-only 1000000`, into a section of its own.',
          ]),
      ...firstPageCaveat(),
      `medallion's \`next\` page costs about the same at any page size (it looks the page's first and last objects up in the whole manifest for its headers), so its objects/s there grows with the page size and the \`next\`-page ratio depends on \`limit=${PAGE}\`; both servers get the same page size.`,
    ];
// The phases run one after the other on a machine other sessions share: how busy it was in each.
caveats.push(
  `CPU pressure (Linux PSI, some avg10) around each timed phase, which other sessions' load moves: ${phasePressure.join('; ')}.`,
);
if ('skip' in where && !LARGE_ONLY)
  caveats.unshift(`medallion was not run (${where.skip}), so this run has no ratio.`);
publishReport(
  {
    title: LARGE_ONLY ? `TAXII at ${INDICATORS.toLocaleString('en-US')} indicators` : 'TAXII',
    command: commandLine('bench:taxii'),
    method: LARGE_ONLY
      ? `tsunagi's hub (${engine}, one process) alone with the full collection it publishes for ${(large?.indicators ?? INDICATORS).toLocaleString('en-US')} indicators (recorded through intel, published as tiered STIX). ` +
        `GET asks for the first page and follows \`next\` with \`limit=${PAGE}\`; POST sends envelopes of 1000 new indicators; client node:http, keep-alive, over 127.0.0.1. ` +
        `The comparison with medallion at equal sizes is the "TAXII" section.`
      : `tsunagi's hub (${engine}, one process) against OASIS medallion 3.0.0 (memory backend, Debian python3-flask) on the same STIX objects: ` +
        `the full collection tsunagi publishes for the first N indicators. GET walks the collection with \`limit=${PAGE}\` and \`next\`; POST sends envelopes of 1000 new indicators. ` +
        `Same client (node:http, keep-alive) for both, over 127.0.0.1.`,
    started: startedAt,
    loadBefore,
    loadAfter: machineLoad(),
    tables: [
      markdownTable(
        LARGE_ONLY ? header.slice(0, -1) : header,
        LARGE_ONLY ? rows.map((r) => r.slice(0, -1)) : rows,
        ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    ],
    caveats,
  },
  cli.write,
);
agent.destroy();
