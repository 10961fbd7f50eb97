/**
 * TAXII benchmark (not a test): tsunagi's hub against OASIS medallion on the same STIX data.
 * Loads indicators through intel, publishes them as tiered STIX, then times
 * `GET objects?limit=1000` pages and POST envelopes of 1000 objects over real sockets on
 * 127.0.0.1, printing requests/s, objects/s, latency and the ratio to medallion.
 *
 * Ratios only between the two servers holding the same data: reads at 1000 indicators (medallion's
 * memory backend sorts the whole collection on each first page, so larger reads take it minutes),
 * writes at 1000 and 3000 (10,000 with TAXII_BENCH_SAME_DATA_INDICATORS). Both servers get the same requests: the same envelopes, one untimed
 * warm-up envelope each, and GET walks of the collection repeated until the request count is met.
 * A p99 is printed only over at least 100 requests. A larger tsunagi-only size (e.g. 1,000,000)
 * is shown without a ratio.
 *
 * Run: npm run bench:taxii [-- --write BENCHMARKS.md] [-- LARGE_INDICATORS]
 * env: TAXII_BENCH_MEDALLION_INDICATORS (1000), TAXII_BENCH_SAME_DATA_INDICATORS (3000; 10,000 takes medallion tens of minutes),
 * TAXII_BENCH_GETS (100 requests; medallion: TAXII_BENCH_MEDALLION_GETS, one walk),
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
import { makeEnvelopes, sighting } from './data.ts';
import { parseArgs } from 'node:util';
import { commandLine, machineLoad, markdownTable, publishReport } from '../lib/report.ts';
import { locateMedallion, startMedallion } from './medallion.ts';

const { values: cli, positionals } = parseArgs({
  options: { write: { type: 'string' } },
  allowPositionals: true,
});
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
/** GET requests per phase for tsunagi: walks of the collection repeated until this many. */
const PAGES = Number(process.env.TAXII_BENCH_GETS ?? 100);
/** medallion's first page costs it seconds to minutes: one walk of the small collection by default. */
const MEDALLION_PAGES = Number(process.env.TAXII_BENCH_MEDALLION_GETS ?? 0);
const POSTS = Number(process.env.TAXII_BENCH_POSTS ?? 10);
/** Below this many requests no p99 is printed: it would be the maximum or near it. */
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

/** Runs a timed phase and notes the machine's CPU pressure before and after it (2 shared cores). */
async function underPressure<T>(label: string, phase: () => Promise<T>): Promise<T> {
  const before = cpuPressure();
  const result = await phase();
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

/**
 * Walks the collection from its start with limit=1000 pages, following `next`, and starts again
 * at the end until `pages` requests were made (0: one walk).
 */
async function measureGet(objectsUrl: string, authorization: string, pages: number): Promise<Timing> {
  const latencies: number[] = [];
  let objects = 0;
  let next: string | undefined;
  const start = performance.now();
  for (let i = 0; pages === 0 || i < pages; i++) {
    const began = performance.now();
    const res = await request(`${objectsUrl}?limit=1000${next ? `&next=${encodeURIComponent(next)}` : ''}`, {
      headers: { accept: TAXII, authorization },
    });
    if (res.status !== 200) throw new Error(`GET ${res.status}: ${res.text.slice(0, 300)}`);
    const body = JSON.parse(res.text) as { objects?: unknown[]; next?: string; more?: boolean };
    latencies.push(performance.now() - began);
    objects += body.objects?.length ?? 0;
    next = body.more ? body.next : undefined;
    if (!next && pages === 0) break;
  }
  return timing(latencies, objects, (performance.now() - start) / 1000);
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
  get: Timing;
  post: Timing;
  /** The full collection's objects, for medallion (only when asked). */
  dump?: { object: Record<string, unknown>; dateAdded: string; version: string }[];
}

async function runTsunagi(
  indicators: number,
  envelopes: readonly string[],
  dump: boolean,
): Promise<TsunagiRun> {
  const dir = mkdtempSync(join(tmpdir(), 'taxii-bench-'));
  const schema = `taxii_bench_${process.pid}_${indicators}`;
  const store = DATABASE_URL
    ? await openStore({ databaseUrl: DATABASE_URL, schema })
    : await openStore({ dataDir: dir });
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
    let began = performance.now();
    const batch = 5000;
    for (let b = 0; b < indicators; b += batch) {
      await intel.recordSightings(
        Array.from({ length: Math.min(batch, indicators - b) }, (_, i) => sighting(b + i)),
      );
      if (indicators >= 100_000 && (b / batch) % 20 === 19) {
        const s = (performance.now() - began) / 1000;
        process.stderr.write(
          `  intel: ${b + batch} indicators recorded in ${s.toFixed(0)} s (${((b + batch) / s).toFixed(0)}/s), CPU pressure ${cpuPressure()}%\n`,
        );
      }
    }
    const recordPerSecond = indicators / ((performance.now() - began) / 1000);
    began = performance.now();
    // Progress from the publisher's own counter (no query: SQLite has one connection, busy here).
    const published = registry.getSingleMetric('tsunagi_share_published_indicators_total');
    const progress =
      indicators >= 100_000 && published
        ? setInterval(() => {
            void Promise.resolve(published.get()).then((m) => {
              const n = m.values[0]?.value ?? 0;
              const s = (performance.now() - began) / 1000;
              process.stderr.write(
                `  publish: ${n} indicators in ${s.toFixed(0)} s (${(n / s).toFixed(0)}/s), CPU pressure ${cpuPressure()}%\n`,
              );
            });
          }, 30_000)
        : undefined;
    await hub.publisher.sync().finally(() => clearInterval(progress));
    const publishPerSecond = indicators / ((performance.now() - began) / 1000);
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
      measureGet(objectsUrl, authorization, PAGES),
    );
    const post = await underPressure(`tsunagi ${indicators} POST`, () =>
      measurePost(objectsUrl, authorization, envelopes),
    );
    return {
      indicators,
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
    fmt(t.p50, 1),
    fmt(t.p99, 1),
    fmt(t.max, 1),
    ratio,
  ]);
}

// One more than timed: the first is tsunagi's warm-up.
const envelopes = makeEnvelopes(POSTS + 1);
const engine = DATABASE_URL ? 'PostgreSQL' : 'SQLite';
console.log(
  `TAXII bench: tsunagi (${engine}) and medallion (memory backend) at ${SMALL} and ${MIDDLE} indicators` +
    `${INDICATORS > MIDDLE ? `, tsunagi alone at ${INDICATORS}` : ''}; ${PAGES} GET requests (medallion ${MEDALLION_PAGES || 'one walk'}), ${POSTS} POSTs each after one warm-up`,
);

const small = await runTsunagi(SMALL, envelopes, true);
console.log(
  `tsunagi ${SMALL} indicators: intel ${fmt(small.recordPerSecond)}/s, publish ${fmt(small.publishPerSecond)} indicators/s, ${small.rows} stored STIX rows`,
);
let medallion: { get: Timing; post: Timing; objects: number } | undefined;
const where = locateMedallion();
if ('skip' in where) {
  console.log(`medallion skipped: ${where.skip}`);
} else {
  // medallion 3.0.0 fails (HTTP 500) on an extension-definition's `version` property; leave it out.
  const objects = small.dump!.filter((o) => o.object.type !== 'extension-definition');
  const server = await startMedallion(where, objects);
  try {
    const get = await underPressure('medallion GET', () =>
      measureGet(server.objectsUrl, server.authorization, MEDALLION_PAGES),
    );
    const post = await underPressure('medallion POST', () =>
      measurePost(server.objectsUrl, server.authorization, envelopes),
    );
    medallion = { get, post, objects: objects.length };
  } finally {
    await server.stop();
  }
}
delete small.dump;

let middle: { tsunagi: TsunagiRun; medallionPost?: Timing; medallionObjects: number } | undefined;
if (MIDDLE > SMALL) {
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
    `tsunagi ${INDICATORS} indicators: intel ${fmt(large.recordPerSecond)}/s, publish ${fmt(large.publishPerSecond)} indicators/s, ${large.rows} stored STIX rows`,
  );
}

const sizeOf = (indicators: number, stored: number) => `${indicators} ind. (${stored} obj.)`;
const peerOrSkip = (t: Timing | undefined): Timing | 'none' => t ?? 'none';
if (medallion) {
  row('medallion', sizeOf(SMALL, medallion.objects), 'GET limit=1000', medallion.get);
  row('medallion', sizeOf(SMALL, medallion.objects), 'POST 1000', medallion.post);
}
row('tsunagi', sizeOf(SMALL, small.fullObjects), 'GET limit=1000', small.get, peerOrSkip(medallion?.get));
row('tsunagi', sizeOf(SMALL, small.fullObjects), 'POST 1000', small.post, peerOrSkip(medallion?.post));
if (middle) {
  if (middle.medallionPost)
    row('medallion', sizeOf(MIDDLE, middle.medallionObjects), 'POST 1000', middle.medallionPost);
  row('tsunagi', sizeOf(MIDDLE, middle.tsunagi.fullObjects), 'GET limit=1000', middle.tsunagi.get, 'none');
  row(
    'tsunagi',
    sizeOf(MIDDLE, middle.tsunagi.fullObjects),
    'POST 1000',
    middle.tsunagi.post,
    peerOrSkip(middle.medallionPost),
  );
}
if (large) {
  row('tsunagi', sizeOf(large.indicators, large.fullObjects), 'GET limit=1000', large.get, 'none');
  row('tsunagi', sizeOf(large.indicators, large.fullObjects), 'POST 1000', large.post, 'none');
}
const header = [
  'server',
  'size',
  'request',
  'requests',
  'req/s',
  'objects/s',
  'p50 ms',
  'p99 ms',
  'max ms',
  'vs medallion',
];
const caveats = [
  'The machine has 2 cores shared with other sessions: figures move by tens of percent between runs.',
  `A p99 is printed only over ${MIN_FOR_P99} requests or more ("—" otherwise); see the requests column.`,
  "The client runs in the benchmark's process, which also holds tsunagi's hub (one event loop for both); medallion runs in a process of its own.",
  "medallion 3.0.0 fails on the extension-definition's `version` property, so it holds one object fewer than tsunagi.",
  `No read ratio at ${MIDDLE} indicators: medallion's memory backend sorts the whole collection against its manifest on each first page.`,
];
if ('skip' in where) caveats.unshift(`medallion was not run (${where.skip}), so this run has no ratio.`);
publishReport(
  {
    title: 'TAXII',
    command: commandLine('bench:taxii'),
    method:
      `tsunagi's hub (${engine}, one process) against OASIS medallion 3.0.0 (memory backend, Debian python3-flask) on the same STIX objects: ` +
      `the full collection tsunagi publishes for the first N indicators. GET walks the collection with \`limit=1000\` and \`next\`; POST sends envelopes of 1000 new indicators. ` +
      `Same client (node:http, keep-alive) for both, over 127.0.0.1.`,
    started: startedAt,
    loadBefore,
    loadAfter: machineLoad(),
    tables: [markdownTable(header, rows, ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'])],
    caveats,
  },
  cli.write,
);
agent.destroy();
