/**
 * TAXII benchmark (not a test): tsunagi's hub against OASIS medallion on the same STIX data, both
 * servers whole processes of their own on 127.0.0.1 and the client (the same code for both) in
 * this process. tsunagi's store is filled here (indicators recorded through intel and published as
 * tiered STIX), closed, and served by `tsunagi serve`; medallion gets the same objects in its
 * memory backend. Times `GET objects?limit=50` walks (first page, then `next`) and POST envelopes
 * of 1000 objects, the two servers taking turns block by block; around each block the server
 * process's CPU time is read from /proc/PID/stat.
 *
 * The ratio is the server's CPU time per request (medallion's over tsunagi's), which the machine's
 * load moves far less than wall time; requests/s (from the latencies) is a second, labelled ratio.
 * Ratios only between the two servers holding the same data and making the same requests: reads
 * at 1000 indicators (medallion's first page sorts the whole collection against its manifest,
 * minutes of CPU there), writes at 1000 and 3000. A p99 is printed only over at least 100 requests
 * (else the maximum, labelled so), each percentile with its request count. tsunagi alone also
 * makes 100 first pages at each size, and a larger size (e.g. 1,000,000) is tsunagi alone.
 *
 * Run: npm run bench:taxii [-- --write BENCHMARKS.md] [-- LARGE_INDICATORS]; with --large-only
 * only that size runs (tsunagi alone), into its own section "TAXII at N indicators".
 * env: TAXII_BENCH_MEDALLION_INDICATORS (1000), TAXII_BENCH_SAME_DATA_INDICATORS (3000),
 * TAXII_BENCH_PAGE (50 objects per GET page, both servers), TAXII_BENCH_NEXT_PAGES (100 `next`
 * requests at least), TAXII_BENCH_WALKS (1 whole walk, both servers), TAXII_BENCH_BLOCK (25 `next`
 * pages per turn), TAXII_BENCH_GETS (100 first pages, tsunagi alone), TAXII_BENCH_POSTS (10, both
 * servers), TAXII_BENCH_LOAD_BUDGET_MIN (40, loading the large size), MEDALLION_DIR (a medallion
 * 3.0.0 source tree, see bench/taxii/README.md; unset: medallion and the ratios are skipped, and
 * the run says so), MEDALLION_PYTHON (/usr/bin/python3), TSUNAGI_BENCH_DATABASE_URL (PostgreSQL:
 * a database per size is created there and dropped), TAXII_BENCH_KEEP=1 keeps the large run's
 * SQLite directory for post-profile.ts and prints it.
 */
import { parseArgs } from 'node:util';
import { commandLine, machineLoad, markdownTable, publishReport } from '../lib/report.ts';
import { COLLECTION_IDS } from '../../src/share/index.ts';
import { makeEnvelopes } from './data.ts';
import { locateMedallion, startMedallion, type Medallion } from './medallion.ts';
import {
  closeClient,
  firstPages,
  interleavedPosts,
  interleavedWalks,
  MIN_FOR_P99,
  type GetTallies,
  type Server,
  type Tally,
  type Timing,
  type WalkPlan,
} from './measure.ts';
import { cpuPressure, LOAD_STEP, prepareStore, startTsunagi, type PreparedStore } from './tsunagi.ts';
import { caveatsOf, type RunFacts } from './caveats.ts';

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
const env = process.env;
/** A tsunagi-only size beyond what medallion can hold (0: none). */
const INDICATORS = Number(positionals[0] ?? env.TAXII_BENCH_INDICATORS ?? 0);
const SMALL = Number(env.TAXII_BENCH_MEDALLION_INDICATORS ?? 1000);
/**
 * A second size at which both servers hold the same data, for writes only (0: none). medallion's
 * POST scans the collection per posted object, so its write cost grows with size; its first GET
 * page is quadratic in the collection (minutes at SMALL), so reads are compared at SMALL alone.
 */
const MIDDLE = Number(env.TAXII_BENCH_SAME_DATA_INDICATORS ?? 3000);
const PLAN: WalkPlan = {
  /**
   * Objects per GET page, both servers: one whole walk at SMALL (about 6300 objects) makes over
   * 100 `next` requests, so both servers' `next`-page percentiles rest on 100 requests or more.
   */
  page: Number(env.TAXII_BENCH_PAGE ?? 50),
  walks: Number(env.TAXII_BENCH_WALKS ?? 1),
  nextPages: Number(env.TAXII_BENCH_NEXT_PAGES ?? 100),
  blockPages: Number(env.TAXII_BENCH_BLOCK ?? 25),
};
/** tsunagi's first pages on their own (medallion's only its walks' own: 100 would take it hours). */
const FIRST_PAGES = Number(env.TAXII_BENCH_GETS ?? 100);
const POSTS = Number(env.TAXII_BENCH_POSTS ?? 10);
const ADMIN_URL = env.TSUNAGI_BENCH_DATABASE_URL;
const KEEP = env.TAXII_BENCH_KEEP === '1';
const LOAD_BUDGET_MS = Number(env.TAXII_BENCH_LOAD_BUDGET_MIN ?? 40) * 60_000;

/** Each timed phase with the machine's CPU pressure before and after it, for the section's caveats. */
const phasePressure: string[] = [];

/** Runs a timed phase and notes the machine's CPU pressure before and after it (2 shared cores). */
async function underPressure<T>(label: string, phase: () => Promise<T>): Promise<T> {
  const before = cpuPressure();
  const result = await phase();
  const after = cpuPressure();
  phasePressure.push(`${label}: ${before}% before, ${after}% after`);
  process.stderr.write(`  ${label}: CPU pressure (some, avg10) ${before}% before, ${after}% after\n`);
  return result;
}

interface SizeRun {
  prepared: Omit<PreparedStore, 'dump'>;
  /** medallion's object count (one fewer: see the extension-definition caveat). */
  medallionObjects?: number;
  get?: { tsunagi: GetTallies; medallion?: GetTallies };
  /** tsunagi's first pages on their own. */
  firstAlone?: Tally;
  post: { tsunagi: Tally; medallion?: Tally };
}

/**
 * One size: tsunagi's store filled and served, medallion (when it runs here) given the same
 * objects; then the GET walks (interleaved with medallion's when `medallionGets`, else tsunagi
 * alone), tsunagi's first pages alone, and the POSTs (interleaved).
 */
async function runSize(
  indicators: number,
  envelopes: readonly string[],
  peer: { where: { dir: string; python: string }; gets: boolean } | undefined,
): Promise<SizeRun> {
  const prepared = await prepareStore(indicators, {
    dump: peer !== undefined,
    budgetMs: LOAD_BUDGET_MS,
    adminUrl: ADMIN_URL,
  });
  console.log(
    `tsunagi ${prepared.indicators} indicators: intel ${fmt(prepared.recordPerSecond)}/s, publish ${fmt(prepared.publishPerSecond)} indicators/s, ${prepared.rows} stored STIX rows`,
  );
  // medallion 3.0.0 fails (HTTP 500) on an extension-definition's `version` property; leave it out.
  const objects = prepared.dump?.filter((o) => o.object.type !== 'extension-definition');
  delete prepared.dump;
  const hub = await startTsunagi(prepared);
  let medallion: Medallion | undefined;
  try {
    const tsunagi: Server = {
      name: 'tsunagi',
      objectsUrl: `${hub.url}/full/collections/${COLLECTION_IDS.full}/objects/`,
      authorization: `Bearer ${prepared.token}`,
      pid: hub.pid,
    };
    if (peer && objects) medallion = await startMedallion(peer.where, objects);
    const other: Server | undefined = medallion && { name: 'medallion', ...medallion };
    const both = other ? [other, tsunagi] : [tsunagi];
    const size = `${prepared.indicators}`;
    let get: SizeRun['get'];
    if (other && peer?.gets) {
      const [m, t] = await underPressure(`GET at ${size}, medallion and tsunagi in turns`, () =>
        interleavedWalks(both, PLAN),
      );
      get = { medallion: m!, tsunagi: t! };
    } else {
      // Beyond medallion's reach, as many `next` pages from the start, tsunagi alone.
      const [t] = await underPressure(`GET at ${size}, tsunagi alone`, () =>
        interleavedWalks([tsunagi], { ...PLAN, walks: indicators === SMALL ? PLAN.walks : 0 }),
      );
      get = { tsunagi: t! };
    }
    const firstAlone = await underPressure(`GET first pages at ${size}, tsunagi alone`, () =>
      firstPages(tsunagi, PLAN.page, FIRST_PAGES),
    );
    const posts = await underPressure(
      `POST at ${size}${other ? ', medallion and tsunagi in turns' : ''}`,
      () => interleavedPosts(both, envelopes),
    );
    const post = other ? { medallion: posts[0]!, tsunagi: posts[1]! } : { tsunagi: posts[0]! };
    return { prepared, ...(objects ? { medallionObjects: objects.length } : {}), get, firstAlone, post };
  } finally {
    await Promise.all([hub.stop(), medallion?.stop()]);
    await prepared.remove(KEEP && indicators === INDICATORS);
  }
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(n > 0 && n < 1 ? Math.max(digits, 2) : digits) : '—';
}
const cpuPerRequest = (t: Timing) => t.cpuMs / t.requests;
const perSecond = (t: Timing) => t.requests / t.seconds;

const rows: string[][] = [];
/** One row; with a peer timing, the CPU-per-request ratio and the requests/s ratio to it. */
function row(server: string, size: string, what: string, t: Timing, peer?: Timing | string) {
  const ratios =
    peer === undefined
      ? ['', '']
      : typeof peer === 'string'
        ? [peer, '']
        : [
            // A block shorter than the kernel's 10 ms tick may read 0 ms: no ratio rather than infinity.
            t.cpuMs > 0 ? `${fmt(cpuPerRequest(peer) / cpuPerRequest(t), 1)}x` : '—',
            `${fmt(perSecond(t) / perSecond(peer), 1)}x`,
          ];
  rows.push([
    server,
    size,
    what,
    String(t.requests),
    fmt(cpuPerRequest(t), 1),
    fmt(perSecond(t), 1),
    `${fmt(t.p50, 1)} (${t.requests})`,
    // Fewer than MIN_FOR_P99 requests have no p99 worth the name: say it is the maximum.
    Number.isFinite(t.p99) ? `p99 ${fmt(t.p99, 1)} (${t.requests})` : `max ${fmt(t.max, 1)} (${t.requests})`,
    fmt(t.max, 1),
    ...ratios,
  ]);
}

const ALONE = 'tsunagi alone';
/** The rows of one size: medallion's, then tsunagi's with the ratios to them. */
function sizeRows(run: SizeRun) {
  const sizeOf = (stored: number) => `${run.prepared.indicators} ind. (${stored} obj.)`;
  const t = sizeOf(run.prepared.fullObjects);
  const m = run.medallionObjects !== undefined ? sizeOf(run.medallionObjects) : '';
  const page = `GET limit=${PLAN.page}`;
  const get = run.get;
  if (get?.medallion) {
    row('medallion', m, `${page}, whole walks`, get.medallion.walk.timing());
    row('medallion', m, `${page}: first pages`, get.medallion.first.timing());
    row('medallion', m, `${page}: pages by \`next\``, get.medallion.next.timing());
  }
  if (run.post.medallion) row('medallion', m, 'POST 1000', run.post.medallion.timing());
  if (get) {
    const peer = (tally?: Tally) => (tally ? tally.timing() : get.medallion ? undefined : ALONE);
    if (get.medallion)
      row('tsunagi', t, `${page}, whole walks`, get.tsunagi.walk.timing(), peer(get.medallion.walk));
    if (get.medallion)
      row('tsunagi', t, `${page}: first pages`, get.tsunagi.first.timing(), peer(get.medallion.first));
    row('tsunagi', t, `${page}: pages by \`next\``, get.tsunagi.next.timing(), peer(get.medallion?.next));
  }
  if (run.firstAlone) row('tsunagi', t, `${page}: first pages on their own`, run.firstAlone.timing(), ALONE);
  row(
    'tsunagi',
    t,
    'POST 1000',
    run.post.tsunagi.timing(),
    run.post.medallion ? run.post.medallion.timing() : ALONE,
  );
}

// One more than timed: the first is every server's warm-up.
const envelopes = makeEnvelopes(POSTS + 1);
const engine = ADMIN_URL ? 'PostgreSQL' : 'SQLite';
console.log(
  `TAXII bench: tsunagi (${engine}, \`tsunagi serve\`) and medallion (memory backend), each a process of its own, at ${SMALL} and ${MIDDLE} indicators` +
    `${INDICATORS > MIDDLE ? `, tsunagi alone at ${INDICATORS}` : ''}; GET limit=${PLAN.page}: ${PLAN.walks} whole walk(s) and >= ${PLAN.nextPages} \`next\` pages each in turns of ${PLAN.blockPages}, ${FIRST_PAGES} first pages (tsunagi alone), ${POSTS} POSTs each after one warm-up`,
);
if (LARGE_ONLY && !(INDICATORS > MIDDLE)) {
  process.stderr.write(`bench:taxii: --large-only needs a size above ${MIDDLE} indicators, e.g. 1000000\n`);
  process.exit(2);
}
const where = locateMedallion();
const peerAt = (gets: boolean) => ('skip' in where ? undefined : { where, gets });
if ('skip' in where && !LARGE_ONLY) console.log(`medallion skipped: ${where.skip}`);
const small = LARGE_ONLY ? undefined : await runSize(SMALL, envelopes, peerAt(true));
const middle = !LARGE_ONLY && MIDDLE > SMALL ? await runSize(MIDDLE, envelopes, peerAt(false)) : undefined;
const large = INDICATORS > MIDDLE ? await runSize(INDICATORS, envelopes, undefined) : undefined;
closeClient();
for (const run of [small, middle, large]) if (run) sizeRows(run);

const header = [
  'server',
  'size',
  'request',
  'requests',
  'server CPU ms / request',
  'req/s',
  'p50 ms (requests)',
  `tail ms: p99, or max under ${MIN_FOR_P99} requests (requests)`,
  'max ms',
  'vs medallion: CPU per request',
  'vs medallion: req/s',
];
const facts: RunFacts = {
  largeOnly: LARGE_ONLY,
  plan: PLAN,
  firstPages: FIRST_PAGES,
  posts: POSTS,
  small: SMALL,
  middle: middle ? MIDDLE : undefined,
  asked: INDICATORS,
  reached: large?.prepared.indicators,
  loadStep: LOAD_STEP,
  loadBudgetMin: LOAD_BUDGET_MS / 60_000,
  medallionSkipped: 'skip' in where ? where.skip : undefined,
  medallionFirst: small?.get?.medallion?.first.timing(),
  medallionWalk: small?.get?.medallion?.walk.timing(),
  medallionObjects: small?.medallionObjects,
  tsunagiNext: small?.get?.tsunagi.next.timing(),
  phasePressure,
};
const alone = LARGE_ONLY || 'skip' in where;
publishReport(
  {
    title: LARGE_ONLY ? `TAXII at ${INDICATORS.toLocaleString('en-US')} indicators` : 'TAXII',
    command: commandLine('bench:taxii'),
    method: LARGE_ONLY
      ? `tsunagi's hub (\`tsunagi serve\`, ${engine}, a process of its own) alone with the full collection it publishes for ${(large?.prepared.indicators ?? INDICATORS).toLocaleString('en-US')} indicators (recorded through intel, published as tiered STIX, by the benchmark's process before the server starts). ` +
        `GET asks for the first page and follows \`next\` with \`limit=${PLAN.page}\`; POST sends envelopes of 1000 new indicators; client node:http, keep-alive, over 127.0.0.1, in the benchmark's process. ` +
        `Server CPU is the server process's user + system time (/proc/PID/stat) over the requests. The comparison with medallion at equal sizes is the "TAXII" section.`
      : `tsunagi's hub (\`tsunagi serve\`, ${engine}) against OASIS medallion 3.0.0 (memory backend, Debian python3-flask), each a process of its own, on the same STIX objects: ` +
        `the full collection tsunagi publishes for the first N indicators. GET walks the collection with \`limit=${PLAN.page}\` and \`next\`; POST sends envelopes of 1000 new indicators. ` +
        `Same client (node:http, keep-alive, in the benchmark's process) for both, over 127.0.0.1, the servers taking turns. ` +
        `The ratio is the server process's CPU time (user + system, /proc/PID/stat, every thread) per request, medallion's over tsunagi's; req/s (from the latencies) is the second, labelled ratio.`,
    started: startedAt,
    loadBefore,
    loadAfter: machineLoad(),
    tables: [
      markdownTable(alone ? header.slice(0, -2) : header, alone ? rows.map((r) => r.slice(0, -2)) : rows, [
        'l',
        'l',
        'l',
        'r',
        'r',
        'r',
        'r',
        'r',
        'r',
        'r',
        'r',
      ]),
    ],
    caveats: caveatsOf(facts),
  },
  cli.write,
);
