/**
 * bench:web — the web room's verdicts on JPCERT/CC's EVALUATION months (never seen by the fit,
 * bench/web/data.ts) against the evaluation half of the benign hosts and of the benign URLs with
 * paths, beside x0rz/phishing_catcher's keyword scoring on the same hosts in the same run. Both of
 * our verdicts are reported: the URL verdict (host name and path) and the host-name verdict (name
 * only, what the host-level exports use).
 *
 *   npm run bench:web -- --data DIR [--peer DIR] [--write BENCHMARKS.md]
 *
 * DIR (or TSUNAGI_WEB_DATA) holds the checkouts bench/web/README.md names; --peer (or
 * TSUNAGI_PHISHING_CATCHER, else DIR/phishing_catcher) is a phishing_catcher checkout, run with
 * TSUNAGI_PYTHON (default python3) and its Python dependencies (Debian: python3-yaml,
 * python3-levenshtein, python3-tld, python3-termcolor, python3-tqdm).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { silentLogger } from '../../src/core/index.ts';
import {
  blocksWholeHost,
  createBrandIndex,
  createWeb,
  DEFAULT_KIT_PATHS,
  WebConfig,
  liftableByJudged,
  teachesAsJudged,
  teachesDomain,
  countsAsUnjudged,
  DOMAIN_MIN_HOSTS,
  SUFFIX_PATH_MIN_DOMAINS,
  suffixRiskOf,
  type NormalisedUrl,
  type ScoredUrl,
  type Thresholds,
  type Web,
} from '../../src/web/index.ts';
import { replayDomainTies, replaySuffixPathTies, type DomainReplay } from './domain-replay.ts';
import { replayAsPublished, replayKitPaths, type KitReplay, type KitReplayTeaching } from './kit-replay.ts';
import { replayInRoom, type RoomReplay } from './room-replay.ts';
import { commandLine, machineLoad, markdownTable, publishReport } from '../lib/report.ts';
import {
  dataDirectory,
  EVALUATION_FIRST_MONTH,
  loadSplit,
  publicationTimes,
  TUNING_FIRST_MONTH,
  TUNING_LAST_MONTH,
  type LabelledHost,
  type Listing,
  type Split,
} from './data.ts';
import { runBench } from '../lib/main.ts';

/** phishing_catcher writes a domain to its suspicious-domains log from this score on. */
const PEER_LOGGED = 75;
/** and prints it as "Suspicious" from this one. */
const PEER_SUSPICIOUS = 90;

interface Counts {
  tp: number;
  fp: number;
  fn: number;
}

function prf(c: Counts) {
  const precision = c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? 0 : c.tp / (c.tp + c.fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

function runPeer(
  checkout: string,
  hosts: readonly string[],
): { cpuSeconds: number; scores: number[] } | string {
  const python = process.env.TSUNAGI_PYTHON ?? 'python3';
  const driver = join(dirname(fileURLToPath(import.meta.url)), 'phishing_catcher.py');
  const run = spawnSync(python, [driver, checkout], {
    input: hosts.join('\n'),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  // A missing module ends the driver before it reads the hosts: writing them then fails with EPIPE,
  // which says nothing; the driver's line says what is missing.
  const missing = /missing Python modules: (.+)/.exec(run.stderr ?? '');
  if (missing)
    return (
      `${python} lacks the peer's modules ${missing[1]} (bench/web/README.md: apt-get install python3-yaml ` +
      'python3-levenshtein python3-tld python3-termcolor python3-tqdm, or TSUNAGI_PYTHON names a Python that has them)'
    );
  if (run.error) return `${python} did not run: ${run.error.message}`;
  if (run.status !== 0)
    return `phishing_catcher exited ${run.status}: ${(run.stderr || run.stdout).trim().split('\n').at(-1)}`;
  return JSON.parse(run.stdout) as { cpuSeconds: number; scores: number[] };
}

interface Side {
  name: string;
  flagged: (index: number) => boolean;
}

function monthRows(
  sides: Side[],
  months: { month: string; offset: number; size: number }[],
  benign: { offset: number; size: number },
) {
  const rows: (string | number)[][] = [];
  const summary = new Map<string, { f1: number[]; recall: number[]; precision: number[] }>();
  let fpOf = (side: Side) => {
    let fp = 0;
    for (let i = benign.offset; i < benign.offset + benign.size; i++) if (side.flagged(i)) fp++;
    return fp;
  };
  for (const side of sides) {
    const fp = fpOf(side);
    const s = { f1: [] as number[], recall: [] as number[], precision: [] as number[] };
    for (const m of months) {
      let tp = 0;
      for (let i = m.offset; i < m.offset + m.size; i++) if (side.flagged(i)) tp++;
      const r = prf({ tp, fp, fn: m.size - tp });
      s.f1.push(r.f1);
      s.recall.push(r.recall);
      s.precision.push(r.precision);
      rows.push([side.name, m.month, m.size, tp, fp, pct(r.precision), pct(r.recall), pct(r.f1)]);
    }
    summary.set(side.name, s);
  }
  fpOf = () => 0;
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const summaryRows = [...summary].map(([name, s]) => [
    name,
    pct(mean(s.precision)),
    pct(Math.min(...s.precision)),
    pct(mean(s.recall)),
    pct(Math.min(...s.recall)),
    pct(mean(s.f1)),
    pct(Math.min(...s.f1)),
  ]);
  return { rows, summaryRows };
}

function perBrand(
  hosts: readonly LabelledHost[],
  byUrl: (i: number) => boolean,
  byName: (i: number) => boolean,
  byUrlOrKit: (i: number) => boolean,
) {
  const brands = createBrandIndex();
  const tally = new Map<string, { hosts: number; url: number; name: number; kit: number }>();
  hosts.forEach((h, i) => {
    const key =
      brands.brandOfDescription(h.description) ?? `(${h.description || 'none'}: not in the lexicon)`;
    const t = tally.get(key) ?? { hosts: 0, url: 0, name: 0, kit: 0 };
    t.hosts++;
    if (byUrl(i)) t.url++;
    if (byName(i)) t.name++;
    if (byUrlOrKit(i)) t.kit++;
    tally.set(key, t);
  });
  return [...tally]
    .sort((a, b) => b[1].hosts - a[1].hosts)
    .slice(0, 15)
    .map(([brand, t]) => [brand, t.hosts, pct(t.url / t.hosts), pct(t.name / t.hosts), pct(t.kit / t.hosts)]);
}

/** The highest-scoring benign items each verdict flagged, ten each. */
function falsePositiveRows(benign: readonly ScoredUrl[]) {
  const reasons = (row: ScoredUrl) =>
    row.reasons
      .slice(0, 3)
      .map((r) => `${r.feature} ${r.contribution}`)
      .join(', ');
  const byUrl = benign
    .filter((row) => row.verdict !== 'benign')
    .sort((a, b) => b.score - a.score)
    .slice(0, 10)
    .map((row) => [row.url.slice(0, 80), 'URL', row.verdict, row.score.toFixed(4), reasons(row)]);
  const seen = new Set<string>();
  const byName = benign
    .filter((row) => row.hostVerdict !== 'benign' && !seen.has(row.host) && seen.add(row.host))
    .sort((a, b) => b.hostScore - a.hostScore)
    .slice(0, 10)
    .map((row) => [
      row.host,
      'host name',
      row.hostVerdict,
      row.hostScore.toFixed(4),
      // The host name's own features (their contributions in reasons are as the URL verdict weighs them).
      row.reasons
        .filter((r) => !URL_REASON.test(r.feature))
        .slice(0, 3)
        .map((r) => r.feature)
        .join(', '),
    ]);
  return [...byUrl, ...byName];
}

/** The URL part's reasons (score/url-features.ts), left out when the host name's verdict is shown. */
const URL_REASON =
  /^(path_|root_path|ip_host_url|punycode_url|url_bias|sub_token_|sub_style|host_shape|brand_place|label_shape|label_cv)/;

/** What run.ts reads of model.json's fit record. */
interface ModelFit {
  tuningMonths?: string;
  url?: {
    /** The URL verdict's malicious threshold rule (bench/web/threshold.ts, fit-url.ts). */
    maliciousRule?: {
      tailShare: number;
      expectedBenignHosts: number;
      heldOutBenignFlagged: number;
      heldOutRecallMean: number;
    };
  };
}

function fail(message: string): never {
  throw new Error(message);
}

/** Passes over the same URLs after the first, for the rate a long-running intake sees. */
const STEADY_PASSES = 9;

/**
 * Median CPU seconds of one pass of each scorer once the code is compiled (a feed intake runs for
 * hours). The scorers take turns, pass by pass, so a spell of a busy machine falls on both alike
 * instead of on whichever ran during it.
 */
function steadyStates(urls: readonly string[], scorers: readonly ((url: string) => ScoredUrl)[]): number[] {
  const seconds = scorers.map(() => [] as number[]);
  for (let pass = 0; pass < STEADY_PASSES; pass++)
    scorers.forEach((score, i) => {
      const before = process.cpuUsage();
      for (const url of urls) score(url);
      const cpu = process.cpuUsage(before);
      seconds[i]!.push((cpu.user + cpu.system) / 1e6);
    });
  return seconds.map((list) => list.sort((a, b) => a - b)[Math.floor(STEADY_PASSES / 2)]!);
}

const JUDGED_SIDE =
  "tsunagi web URL verdict (malicious) OR near suspicious on a kit path, registered domain or risky suffix and path of the room's own earlier verdicts (no list fed)";
const ROOM_SIDE =
  "the same, by the room itself: a new room ingests each month's rows in the list's order as one source (SQLite in memory), the benign rows at the start and each month's end";
const JUDGED_STRICT_SIDE =
  'the same, replayed without the rows listed at the same minute (no URL of a batch teaches another)';
/** The benign rows any verdict flagged: every set's evaluation half, and Japan's governments' sites whole (data.ts). */
const FALSE_POSITIVE_COLUMNS = [
  "benign flagged (evaluation halves; the governments' sites whole)",
  'by',
  'verdict',
  'score',
  'largest reasons',
];
const KIT_SIDE =
  'tsunagi web URL verdict (malicious) OR kit path of earlier days (a room fed confirmed listings daily)';

/** The speed table: our first pass, our steady state without and with kit paths, the peer. */
function speedRowsOf(
  urlCount: number,
  ourCpuSeconds: number,
  steadyCpuSeconds: number,
  withKits: { paths: number; cpuSeconds: number },
  peer: { cpuSeconds: number } | string,
  hostCount: number,
): (string | number)[][] {
  const speedRows: (string | number)[][] = [
    [
      'tsunagi web (normalise + score, full URL), first pass: V8 still warming up',
      urlCount,
      ourCpuSeconds.toFixed(3),
      Math.round(urlCount / ourCpuSeconds),
    ],
    [
      `tsunagi web (normalise + score, full URL), steady state: median of ${STEADY_PASSES} more passes`,
      urlCount,
      steadyCpuSeconds.toFixed(3),
      Math.round(urlCount / steadyCpuSeconds),
    ],
    [
      `the same, steady state with the kit-path memory of the last month's listings loaded (${withKits.paths} kit paths)`,
      urlCount,
      withKits.cpuSeconds.toFixed(3),
      Math.round(urlCount / withKits.cpuSeconds),
    ],
  ];
  if (typeof peer !== 'string')
    speedRows.push([
      'phishing_catcher score_domain (host)',
      hostCount,
      peer.cpuSeconds.toFixed(3),
      Math.round(hostCount / peer.cpuSeconds),
    ]);

  return speedRows;
}

/**
 * A room whose kit-path memory holds the evaluation's last month of JPCERT/CC's listings, every
 * URL judged at that month's end, after one warm-up pass: what a deployment's intake pays for the
 * lookup (a path hash per URL; a template and a map lookup for the few that pass it).
 */
function kitLoadedRoom(split: Split, urls: readonly string[], lastMonth: string) {
  const web = createWeb(WebConfig.parse({}), { logger: silentLogger(), registry: new Registry() });
  for (const listing of split.months.find((m) => m.month === lastMonth)?.listings ?? [])
    web.learnKitPath(listing.url, new Date(listing.seenAt));
  const at = new Date(Date.UTC(Number(lastMonth.slice(0, 4)), Number(lastMonth.slice(5)), 1));
  const score = (url: string) => web.score(url, null, at);
  for (const url of urls) score(url);
  return { paths: web.kitPaths, score };
}

/** The steady state of the room as the benchmark scores with it, and of a room with kit paths loaded. */
function steadySpeeds(web: Web, split: Split, urls: readonly string[], lastMonth: string) {
  const kitRoom = kitLoadedRoom(split, urls, lastMonth);
  const [steadyCpuSeconds, kitCpuSeconds] = steadyStates(urls, [web.score, kitRoom.score]) as [
    number,
    number,
  ];
  return { steadyCpuSeconds, withKits: { paths: kitRoom.paths, cpuSeconds: kitCpuSeconds } };
}

/** The room's own-verdict ties replayed: kit paths, registered domains, suffix paths. */
interface OwnVerdictReplay {
  kitPaths: KitReplay;
  domains: DomainReplay;
  suffixPaths: DomainReplay;
}

/** Our two verdicts at both cuts, the kit-path memory, and the peer's two cuts when it ran. */
function sidesOf(
  scored: readonly ScoredUrl[],
  peer: { scores: number[] } | string,
  kit: {
    replay: KitReplay;
    judged: OwnVerdictReplay;
    judgedByTime: OwnVerdictReplay;
    room: RoomReplay;
    benignOffset: number;
    asPublished: boolean[] | string;
    thresholds: Thresholds;
  },
): Side[] {
  /** Row i (phishing hosts first, then the benign ones) tied by a replay of either kind. */
  const tiedBy = (replay: Pick<KitReplay | DomainReplay, 'phishingTied' | 'benignTied'>) => (i: number) =>
    i < kit.benignOffset ? replay.phishingTied[i]! : replay.benignTied[i - kit.benignOffset]!;
  const tied = tiedBy(kit.replay);
  /** The own verdicts' ties lift only a URL at the model's judgedLift floor (kit-path-intake.ts). */
  const flaggedByOwn = (own: OwnVerdictReplay) => {
    const [byKit, byDomain, bySuffixPath] = [own.kitPaths, own.domains, own.suffixPaths].map(tiedBy);
    return (i: number) =>
      scored[i]!.verdict === 'malicious' ||
      (liftableByJudged(scored[i]!, kit.thresholds) && (byKit!(i) || byDomain!(i) || bySuffixPath!(i)));
  };
  const { asPublished } = kit;
  const sides: Side[] = [
    { name: 'tsunagi web URL verdict (malicious)', flagged: (i) => scored[i]!.verdict === 'malicious' },
    { name: JUDGED_SIDE, flagged: flaggedByOwn(kit.judged) },
    {
      name: ROOM_SIDE,
      flagged: (i) =>
        i < kit.benignOffset ? kit.room.phishingCaught[i]! : kit.room.benignFlagged[i - kit.benignOffset]!,
    },
    { name: JUDGED_STRICT_SIDE, flagged: flaggedByOwn(kit.judgedByTime) },
    {
      name: KIT_SIDE,
      flagged: (i) => scored[i]!.verdict === 'malicious' || tied(i),
    },
    { name: 'tsunagi web kit paths alone (JPCERT/CC listings of earlier days)', flagged: tied },
    ...(typeof asPublished === 'string'
      ? []
      : [
          {
            // Benign: the daily replay's ties, an upper bound (this memory holds a subset of it).
            name: "tsunagi web kit paths alone, as JPCERT/CC's public repository published the listings (batches)",
            flagged: (i: number) => (i < kit.benignOffset ? asPublished[i]! : tied(i)),
          },
        ]),
    {
      name: 'tsunagi web URL verdict (suspicious or worse)',
      flagged: (i) => scored[i]!.verdict !== 'benign',
    },
    {
      name: 'tsunagi web host-name verdict (malicious)',
      flagged: (i) => scored[i]!.hostVerdict === 'malicious',
    },
    {
      name: 'tsunagi web host-name verdict (suspicious or worse)',
      flagged: (i) => scored[i]!.hostVerdict !== 'benign',
    },
    {
      // What the RPZ, Unbound and hosts exports list (src/web/read.ts): both verdicts malicious, names only.
      name: 'tsunagi web whole-host exports (host-name AND URL verdict malicious)',
      flagged: (i) => blocksWholeHost(scored[i]!),
    },
  ];
  if (typeof peer !== 'string')
    sides.push(
      { name: `phishing_catcher (score >= ${PEER_LOGGED})`, flagged: (i) => peer.scores[i]! >= PEER_LOGGED },
      {
        name: `phishing_catcher (score >= ${PEER_SUSPICIOUS})`,
        flagged: (i) => peer.scores[i]! >= PEER_SUSPICIOUS,
      },
    );
  return sides;
}

/** What the tables cannot say by themselves. */
function caveatsOf(
  peer: { scores: number[] } | string,
  ipBenign: number,
  ipPhishing: readonly ScoredUrl[],
  timed: readonly ScoredUrl[],
) {
  // By the normalised host, the key the memos compare (a port is not part of it).
  const sameHost = timed.filter((r, i) => i > 0 && r.host === timed[i - 1]!.host).length;
  return [
    ...(typeof peer === 'string' ? [`phishing_catcher: blocked (${peer}).`] : []),
    "The host-name verdict was thresholded on benign top-site hosts only; the benign URLs' hosts (small sites crawled from IP2Location, ISCX-URL-2016's sites, the test lists' sites, Japan's governments' sites) are new to it, so its false positives among them are counted here too.",
    "ESDAUNG/PhishDataset's legitimate URLs were sampled from IP2Location domains its authors assume legitimate; a phishing URL among them counts as a false positive here.",
    `IP hosts: the tuning half of the benign URLs holds ${ipBenign} IP-hosted pages (the host lists none), so the URL part can learn little about them (its ip_host_url weight is near 0) and an IP alone is weak evidence in the URL verdict, which leans on the host name's log-odds with a small weight: of the ${ipPhishing.length} evaluation phishing hosts that are IP addresses, the URL verdict flags ${ipPhishing.filter((r) => r.verdict === 'malicious').length} malicious, the host-name verdict ${ipPhishing.filter((r) => r.hostVerdict === 'malicious').length} (host exports never list an IP).`,
    "The OpenDNS top list counts DNS lookups, not visits: it holds random-letter .cn names that look like JPCERT/CC's hosts; they stay benign here, and with small sites' login pages they make the benign scores' upper tail that the URL verdict's malicious threshold is fitted to, and they set the host-name verdict's.",
    "The URL verdict's malicious threshold aims at no false positive on a benign set the evaluation half's size, not a guarantee: the tail model expects a few tenths of a benign host above it, and the nested check that chose it had 20 held-out halves of the same tuning data, not independent samples. It sits higher than the highest tuning benign score, so recall is lower than at that score.",
    "phishing_catcher scores certificate names and adds 10 for a Let's Encrypt issuer; there is no certificate here, so that part is not applied.",
    "The steady-state passes run with the loaded data set and the first pass's scored rows still on the heap, so the garbage collector's marking is part of what they measure.",
    `The normaliser and the scorer keep the last host's work (feeds list a host's URLs together): ${sameHost} of the ${timed.length} timed URLs follow one on the same host here, in the lists' own order, and reuse it.`,
  ];
}

function kitCaveat(replay: KitReplay): string {
  return (
    `Kit paths (src/web/campaign/kit-paths.ts; the "OR kit path" and "kit paths alone" rows) are runtime memory, not a fit: ` +
    `a room fed confirmed listings daily (a confirmed source named in web.kitPaths.sources) learns each listed URL's path, and a URL on another ` +
    `registered domain under a path listed on ${DEFAULT_KIT_PATHS.minDomains} other domains within ` +
    `${DEFAULT_KIT_PATHS.windowDays} days is malicious. Replayed here (bench/web/kit-replay.ts): each evaluation host is judged ` +
    `at its first URL's listing time by every row JPCERT/CC listed on EARLIER days (Japan's calendar; so evaluation months' ` +
    `earlier days are read as a deployment would have read them, never the host's own day or later); each evaluation benign URL ` +
    `counts as flagged if the memory would have tied it at ANY moment of the evaluation months. A path counts only when it ` +
    `holds a word neither English (word-list) nor used in paths by the tuning-half benign URLs (common-path-words.json, ` +
    `bench/web/path-words.ts). The two settings (${DEFAULT_KIT_PATHS.minDomains} domains, ${DEFAULT_KIT_PATHS.windowDays} days) were chosen by ` +
    `bench/web/kit-check.ts on tuning data only (bench/web/README.md). The memory held ${replay.paths} kit paths at the end. ` +
    `JPCERT/CC's listing times stand in for such a feed's: its public repository itself is published in batches one to three months late ` +
    `(2025-08..10 on 2025-11-18), and a room reading only that repository would hold none of a month's listings while they are fresh.`
  );
}

/** What the "own earlier verdicts" row measures, and what it stands for. */
function judgedCaveat(taught: number, unjudged: number, own: OwnVerdictReplay): string {
  return (
    `The "own earlier verdicts" row needs no list: a room keeps the paths of the URLs its scorer itself scores ` +
    `near suspicious or worse (at the model's judgedLift floor, above all but 2e-3 of the tuning benign rows; web.kitPaths.ownVerdicts; by the scorer's own score, never a tie's raise) ` +
    `and the registered domains and suffix paths of those it judges suspicious or worse, and makes a URL ` +
    `the scorer scores at that floor (never a plainly benign-looking one) malicious when it is on another registered domain under a path kept on ` +
    `${DEFAULT_KIT_PATHS.minDomains} other domains within ${DEFAULT_KIT_PATHS.windowDays} days (reason kit_path_judged), ` +
    `or on another host (never the domain's own site) of a registered domain ${DOMAIN_MIN_HOSTS} of whose hosts were kept within the same window (reason domain_judged), ` +
    `or on another registered domain under a suffix the model finds riskier than even and a path (any but the top page, plain words too) kept on ${SUFFIX_PATH_MIN_DOMAINS} other domains within the window (reason suffix_path_judged), ` +
    `while those domains (hosts) outnumber the ones it saw on the path (domain) with a benign-looking score once it was named (outnumbersUnjudged: a vendor's path on many sites, a hosting company's domain, is no kit). ` +
    `Replayed like the confirmed feed but URL by URL, as the room learns them: each host judged by every row before its own in the list's order ` +
    `(its listing time, then its place in the list), as \`web ingest\` scores a batch one URL after the other and learns each before the next. JPCERT/CC lists a campaign's hosts in batches at one minute ` +
    `(66 hosts of one registered domain at one minute of May 2025, a tuning month); the row after next replays them as if no URL of a batch taught another (every listing strictly before the host's listing time), which the room does not do. ` +
    `The next row is the room itself (bench/web/room-replay.ts): a new room with the shipped model and settings and a SQLite store in memory ingests the benign rows at the period's start, then each month's listings in the list's order as one source, then the benign rows again at the month's end; a host counts caught when its first URL's verdict was malicious as it was ingested, a benign row flagged when any of its verdicts (at the start and at each month's end) was. It must agree with the replay; where it does not, the replay is wrong. ` +
    `Taught only the ${taught} evaluation-month listings (and benign rows) the shipped ` +
    `model scores near suspicious or worse, at their listing times, the ${unjudged} it scores below that counting against ties: it stands for a room that scored those URLs when JPCERT/CC listed them ` +
    `(from user reports, a partner's feed or its own crawl). Tuning months' listings teach it nothing (the model was fitted on them). ` +
    `The settings were judged on the forward check's tuning folds only, but the domain rule was tightened after a first reading of these months flagged 2 benign URLs (bench/web/README.md). The suffix-path rule was chosen on the tuning folds and then read here once; so was the replay row by row (the rules unchanged), which was these months' fourth reading. The domain tie's two hosts and its sparing of a domain's own site, and the rule that a path naming another site is a kit's only for a brand's, were made after Citizen Lab's test lists showed the ties' false positives, costed on the tuning folds, and read here as these months' sixth reading (bench/web/README.md). The model was then refitted with the test lists split in halves like the other sets and with host shapes that tell English words from random letters (both judged on the tuning folds), and these months read once more, their seventh reading. The memory held ${own.kitPaths.paths} kit paths, ${own.domains.domains} registered domains and ${own.suffixPaths.domains} suffix paths at the end.`
  );
}

/**
 * The kit-path memory replayed (kit-replay.ts): each evaluation host judged by every earlier day's
 * listings (a room fed confirmed listings daily) or every row before its own (a room's own
 * verdicts, learnt URL by URL as they are scored), each benign URL at every moment of the
 * evaluation months.
 */
function kitReplayOf(
  listings: readonly Listing[],
  hosts: readonly LabelledHost[],
  phishingCount: number,
  benignOffset: number,
  lastMonth: string,
  teaching: KitReplayTeaching,
  unjudged: readonly Listing[] = [],
): KitReplay {
  const lastDay = new Date(Date.UTC(Number(lastMonth.slice(0, 4)), Number(lastMonth.slice(5)), 0))
    .toISOString()
    .slice(0, 10);
  const undated = hosts.slice(0, phishingCount).filter((h) => !h.seenAt).length;
  if (undated > 0) throw new Error(`${undated} evaluation hosts have no listing time`);
  return replayKitPaths(
    listings,
    hosts.slice(0, phishingCount).map((h) => ({ url: h.url, seenAt: h.seenAt!, row: h.row })),
    hosts.slice(benignOffset).map((h) => h.url),
    { from: `${EVALUATION_FIRST_MONTH}-01`, to: lastDay },
    DEFAULT_KIT_PATHS,
    teaching,
    unjudged,
  );
}

/**
 * What a room's own verdicts teach its memory (web.kitPaths.ownVerdicts): the evaluation months'
 * listings the scorer itself judged suspicious or malicious, at their listing times, and the
 * benign rows it so judged, from the period's start (a benign URL's false verdict could tie
 * another's); and the rest, scored benign, which count against a tie on their path
 * (`unjudged`, outnumbersUnjudged). The tuning months' listings are left out: the model was fitted
 * on them, so its verdicts there are no forecast.
 */
function ownVerdictListings(
  split: Split,
  scorer: { score: (url: NormalisedUrl) => ScoredUrl; thresholds: Thresholds },
  benign: readonly { host: LabelledHost; scored: ScoredUrl }[],
): { taught: Listing[]; unjudged: Listing[]; domainTaught: Listing[]; domainUnjudged: Listing[] } {
  const periodStart = new Date(`${EVALUATION_FIRST_MONTH}-01T00:00:00+09:00`).toISOString();
  const seen = [
    ...split.months
      .filter((m) => m.month >= EVALUATION_FIRST_MONTH)
      .flatMap((m) => m.listings)
      .map((listing) => ({ listing, scored: scorer.score(listing.url) })),
    ...benign.map(({ host, scored }) => ({ listing: { url: host.url, seenAt: periodStart }, scored })),
  ];
  return {
    taught: seen.filter((s) => teachesAsJudged(s.scored, scorer.thresholds)).map((s) => s.listing),
    unjudged: seen.filter((s) => countsAsUnjudged(s.scored, scorer.thresholds)).map((s) => s.listing),
    // A registered domain is named by a suspicious verdict or worse only (domain-ties.ts).
    domainTaught: seen.filter((s) => teachesDomain(s.scored)).map((s) => s.listing),
    domainUnjudged: seen.filter((s) => s.scored.verdict === 'benign').map((s) => s.listing),
  };
}

/**
 * When each listing became public: the publication of the monthly file it came from (a listing
 * early on the 1st in Japan is in that month's file, though its UTC date is the month before).
 */
function publishedAtOf(split: Split, published: ReadonlyMap<string, string>) {
  const at = new Map<Listing, number>();
  for (const m of split.months) {
    const time = published.get(m.month);
    if (time !== undefined) for (const listing of m.listings) at.set(listing, Date.parse(time));
  }
  return (listing: Listing) => at.get(listing);
}

/**
 * The kit-path memory's replays: fed confirmed listings daily, taught the room's own verdicts (row
 * by row and strictly by time), and fed JPCERT/CC's public repository as it was published; and
 * the room itself over the same months, the check that the own-verdict replay is what it does.
 */
async function kitReplaysOf(
  run: {
    split: Split;
    dir: string;
    hosts: readonly LabelledHost[];
    scored: readonly ScoredUrl[];
    phishingCount: number;
    benignOffset: number;
    lastMonth: string;
  },
  web: Pick<Web, 'score' | 'urlThresholds' | 'model'>,
) {
  const scorer = { score: (url: NormalisedUrl) => web.score(url), thresholds: web.urlThresholds };
  const { split, hosts, scored, phishingCount, benignOffset, lastMonth } = run;
  const allListings = split.months.flatMap((m) => m.listings);
  const kitReplay = kitReplayOf(allListings, hosts, phishingCount, benignOffset, lastMonth, 'earlier-days');
  const own = ownVerdictListings(
    split,
    scorer,
    hosts.slice(benignOffset).map((host, i) => ({ host, scored: scored[benignOffset + i]! })),
  );
  const judged = hosts.slice(0, phishingCount).map((h) => ({ url: h.url, seenAt: h.seenAt!, row: h.row }));
  const benignUrls = hosts.slice(benignOffset).map((h) => h.url);
  const from = { from: `${EVALUATION_FIRST_MONTH}-01` };
  /** The three ties of the room's own verdicts, each host judged by the rows before it (`teaching`). */
  const ownReplay = (teaching: Exclude<KitReplayTeaching, 'earlier-days'>): OwnVerdictReplay => {
    const byRow = teaching === 'earlier-rows';
    return {
      kitPaths: kitReplayOf(
        own.taught,
        hosts,
        phishingCount,
        benignOffset,
        lastMonth,
        teaching,
        own.unjudged,
      ),
      domains: replayDomainTies(
        own.domainTaught,
        judged,
        benignUrls,
        from,
        { windowDays: DEFAULT_KIT_PATHS.windowDays, maxDomains: DEFAULT_KIT_PATHS.maxPaths },
        own.domainUnjudged,
        byRow,
      ),
      suffixPaths: replaySuffixPathTies(
        own.domainTaught,
        judged,
        benignUrls,
        from,
        DEFAULT_KIT_PATHS,
        suffixRiskOf(web.model.risk),
        own.domainUnjudged,
        byRow,
      ),
    };
  };
  const published = publicationTimes(run.dir);
  const asPublished =
    typeof published === 'string'
      ? published
      : replayAsPublished(
          allListings,
          hosts.slice(0, phishingCount).map((h) => ({ url: h.url, seenAt: h.seenAt! })),
          publishedAtOf(split, published),
          DEFAULT_KIT_PATHS,
        );
  return {
    replay: kitReplay,
    judged: ownReplay('earlier-rows'),
    judgedByTime: ownReplay('earlier-times'),
    room: await replayInRoom(
      split.months.filter((m) => m.month >= EVALUATION_FIRST_MONTH),
      judged,
      benignUrls,
      web.model,
    ),
    taught: own.taught.length,
    unjudged: own.unjudged.length,
    asPublished,
  };
}

async function main() {
  const { values } = parseArgs({
    options: { data: { type: 'string' }, peer: { type: 'string' }, write: { type: 'string' } },
    strict: true,
  });
  const started = new Date();
  const loadBefore = machineLoad();
  const dir = dataDirectory(values.data);
  const split = await loadSplit(dir);
  const web = createWeb(WebConfig.parse({}), { logger: silentLogger(), registry: new Registry() });
  const fit = web.model.fit as ModelFit;
  if (fit.tuningMonths !== `${TUNING_FIRST_MONTH}..${TUNING_LAST_MONTH}`)
    throw new Error(
      `model.json was fitted on ${fit.tuningMonths}, not the tuning months; run bench/web/fit.ts`,
    );
  const rule =
    fit.url?.maliciousRule ?? fail('model.json has no fit.url.maliciousRule; run bench/web/fit.ts');

  const months: { month: string; offset: number; size: number }[] = [];
  const hosts: LabelledHost[] = [];
  for (const m of split.evaluation.months) {
    months.push({ month: m.month, offset: hosts.length, size: m.phishing.length });
    hosts.push(...m.phishing);
  }
  const phishingCount = hosts.length;
  // Negatives: the benign hosts (as https://host/) and the benign URLs with paths, evaluation halves.
  const benign = {
    offset: hosts.length,
    size: split.evaluation.benign.length + split.evaluation.benignUrls.length,
  };
  hosts.push(...split.evaluation.benign, ...split.evaluation.benignUrls);

  // Ours: the full URL as the list gave it (normalising included), CPU time of this process.
  const urls = hosts.map((h) => h.url.url);
  const cpuBefore = process.cpuUsage();
  const scored: ScoredUrl[] = urls.map((u) => web.score(u));
  const cpu = process.cpuUsage(cpuBefore);
  const ourCpuSeconds = (cpu.user + cpu.system) / 1e6;
  const { steadyCpuSeconds, withKits } = steadySpeeds(web, split, urls, months.at(-1)!.month);

  const peerDir = values.peer ?? process.env.TSUNAGI_PHISHING_CATCHER ?? join(dir, 'phishing_catcher');
  const peer = existsSync(join(peerDir, 'catch_phishing.py'))
    ? runPeer(
        peerDir,
        hosts.map((h) => h.url.host),
      )
    : `no phishing_catcher checkout at --peer / TSUNAGI_PHISHING_CATCHER / DATA/phishing_catcher`;

  const kit = await kitReplaysOf(
    {
      split,
      dir,
      hosts,
      scored,
      phishingCount,
      benignOffset: benign.offset,
      lastMonth: months.at(-1)!.month,
    },
    web,
  );
  const sides = sidesOf(scored, peer, { ...kit, benignOffset: benign.offset, thresholds: web.urlThresholds });
  const { rows, summaryRows } = monthRows(sides, months, benign);
  const speedRows = speedRowsOf(urls.length, ourCpuSeconds, steadyCpuSeconds, withKits, peer, hosts.length);

  const phishingHosts = hosts.slice(0, phishingCount);
  const falsePositives = falsePositiveRows(scored.slice(benign.offset));
  const ipPhishing = scored.slice(0, phishingCount).filter((row) => row.hostKind !== 'domain');
  const ipBenign = split.tuning.benignUrls.filter((h) => h.url.hostKind !== 'domain').length;
  publishReport(
    {
      title: 'Malicious websites (web room)',
      command: commandLine('bench:web'),
      method:
        `Host-level verdicts on JPCERT/CC's public phishing list (github.com/JPCERTCC/phishurl-list), evaluation months ` +
        `${EVALUATION_FIRST_MONTH} onwards only: the model (src/web/score/model.json) was fitted by bench/web/fit.ts on ` +
        `${TUNING_FIRST_MONTH}..${TUNING_LAST_MONTH} and on the tuning half of the benign hosts; thresholds too. Each host ` +
        `counts once per month (its first URL, caught when that URL is flagged); ${split.dropped.seenInTuning} evaluation ` +
        `hosts that a tuning month already had are left out. Negatives, the evaluation half (by a salted SHA-256 of the ` +
        `host) of each benign set: ${split.evaluation.benign.length} hosts of the OpenDNS top 10,000, the Moz top 500 and ` +
        `every lexicon brand's official domains (as https://host/), and ${split.evaluation.benignUrls.length} benign URLs ` +
        `with paths (ESDAUNG/PhishDataset's legitimate rows, ISCX-URL-2016's benign list, Citizen Lab's test lists, whose evaluation half was read whole once before they were split; and the whole of code4fukui/localgovjp, the sites of Japan's prefectures and municipalities, which no fit or design choice has read; ` +
        `${split.dropped.benignUrlsListedAsPhishing} whose host JPCERT/CC ever listed left out), the same for every month ` +
        `(so a month's precision counts the same false positives). Two verdicts of ours: the URL verdict (host name and ` +
        `path features) and the host-name verdict (the name alone), each ` +
        `flagged at malicious or suspicious (1e-3 of the tuning benign rows above it). The host-name verdict's malicious ` +
        `threshold is just above every tuning benign host. The RPZ, Unbound and hosts exports list a host only when ` +
        `both verdicts of a URL of it are malicious and it is a name, not an address (the whole-host exports row). The URL verdict's is a tail model of the tuning benign ` +
        `hosts' cross-fitted scores (table values and weights fitted on the other fold of the tuning hosts; ` +
        `bench/web/threshold.ts): an exponential fitted to the top ${pct(rule.tailShare)} of ` +
        `them, the threshold where it expects ${rule.expectedBenignHosts} benign hosts above it on a benign set the ` +
        `tuning half's size (never below the highest tuning benign score), its parameters kept by a nested check on ` +
        `tuning data only (fitted on one half of the tuning benign rows, counted on the other, 20 ways: ` +
        `${rule.heldOutBenignFlagged} held-out benign rows flagged, held-out recall ${pct(rule.heldOutRecallMean)} mean). ` +
        `The peer is x0rz/phishing_catcher's ` +
        `own score_domain over suspicious.yaml (run from its checkout by bench/web/phishing_catcher.py), on the same hosts, ` +
        `flagged at its log (>= ${PEER_LOGGED}) and "Suspicious" (>= ${PEER_SUSPICIOUS}) cuts. Speed is CPU seconds of ` +
        `the scoring loop alone on each side: ours once cold (the first pass, in which V8 interprets and ` +
        `compiles the code) and as the median of ${STEADY_PASSES} further passes over the same URLs, the room without and the room with ` +
        `kit paths taking turns pass by pass; the peer's one pass.`,
      started,
      loadBefore,
      loadAfter: machineLoad(),
      tables: [
        markdownTable(
          ['side', 'precision mean', 'precision worst', 'recall mean', 'recall worst', 'F1 mean', 'F1 worst'],
          summaryRows,
          ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
        ),
        markdownTable(
          ['side', 'month', 'phishing hosts', 'caught', 'benign flagged', 'precision', 'recall', 'F1'],
          rows,
          ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
        ),
        markdownTable(
          [
            'brand (JPCERT/CC description)',
            'hosts',
            'URL verdict recall (malicious)',
            'host-name verdict recall (malicious)',
            'URL verdict OR kit path recall',
          ],
          perBrand(
            phishingHosts,
            (i) => scored[i]!.verdict === 'malicious',
            (i) => scored[i]!.hostVerdict === 'malicious',
            (i) => scored[i]!.verdict === 'malicious' || kit.replay.phishingTied[i]!,
          ),
          ['l', 'r', 'r', 'r', 'r'],
        ),
        markdownTable(FALSE_POSITIVE_COLUMNS, falsePositives, ['l', 'l', 'l', 'r', 'l']),
        markdownTable(['scorer', 'hosts/URLs', 'CPU s', 'per CPU-second'], speedRows, ['l', 'r', 'r', 'r']),
      ],
      caveats: [
        ...caveatsOf(peer, ipBenign, ipPhishing, scored),
        kitCaveat(kit.replay),
        judgedCaveat(kit.taught, kit.unjudged, kit.judged),
        ...(typeof kit.asPublished === 'string'
          ? [`Kit paths as published: not measured (${kit.asPublished}).`]
          : []),
      ],
    },
    values.write,
  );
}

await runBench('bench:web', main);
