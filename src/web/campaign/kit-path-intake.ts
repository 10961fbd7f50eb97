/**
 * The room's kit-path memory (kit-paths.ts) wired to its sources, store and metrics. Two kinds of
 * confirmation teach it:
 *
 * - listings of the confirmed sources (`kitPaths.sources`), learnt as they are ingested;
 * - the room's own takedown requests (`kitPaths.takedowns`): once a host's request is sent
 *   (takedown/requests.ts `takedownConfirmedAt` decides), every stored URL of the host is learnt
 *   as of the time it was sent, and forgotten again when the request is refused.
 *
 * With `kitPaths.ownVerdicts`, a third memory holds the URLs the scorer itself judged suspicious
 * or malicious (never a kit tie's): a tie that needs them is marked judged (`kit_path_judged`) and
 * raises only a URL the scorer already scores near suspicious (at the model's `judgedLift` floor,
 * above all but 2e-3 of the tuning benign rows), so a plainly benign-looking page is never made
 * malicious by the room's own guesses alone. The public lists arrive late (JPCERT/CC's in
 * batches, months after), the room's verdicts at once.
 *
 * A new process reads the window's confirmations of every kind back from the store once, and
 * the benign-looking URLs that count against its own verdicts' ties; a running one picks up
 * requests another process moved on at its next ingest. A scored URL on a kit's path is made
 * malicious and counted.
 */
import { PostgresAdapter, sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { WebConfig } from '../config.ts';
import { normaliseStoredUrl } from '../normalise.ts';
import { readHostUrls } from '../read.ts';
import {
  setTakedownStatus,
  takedownConfirmations,
  takedownConfirmedAt,
  type TakedownConfirmation,
  type TakedownRequest,
  type TakedownStatus,
  type TakedownTables,
} from '../takedown/requests.ts';
import type { Thresholds } from '../score/model.ts';
import type { NormalisedUrl, Reason, ScoredUrl, WebTables } from '../types.ts';
import {
  countsAsUnjudged,
  createKitPathMemory,
  judgedFloor,
  liftableByJudged,
  matchAcross,
  NO_MEMORIES,
  outnumbersUnjudged,
  scoreBeforeTie,
  teachesAsJudged,
  UNJUDGED_PER_JUDGED,
  withDomainTie,
  withKitPath,
  withSuffixPathTie,
  type KitPathMatch,
  type KitPathMemory,
} from './kit-paths.ts';
import { createDomainMemory, domainTieOf, teachesDomain, type TieMemory } from './domain-ties.ts';
import { createSuffixPathMemory, suffixPathTieOf, type SuffixRisk } from './suffix-paths.ts';

/**
 * The room's own verdicts as evidence: the URLs the scorer finds near suspicious or worse name
 * their kit path (asked after the confirmed memories), those it judges suspicious or worse their
 * registered domain (domain-ties.ts) and their risky suffix and path (suffix-paths.ts); the
 * benign-looking URLs seen on a named path, domain or suffix path once it is named are counted
 * against it, fewer than UNJUDGED_PER_JUDGED per named domain or host of which a judged tie needs
 * (outnumbersUnjudged). A new process reads both back from the store
 * (`readOwnVerdicts`): the judged URLs first, then the benign ones through `learnStored`, counted
 * as `learn` counts them.
 */
function createOwnVerdicts(
  options: WebConfig['kitPaths'],
  thresholds: Thresholds,
  suffixRisk: SuffixRisk,
  counters: Pick<ReturnType<typeof intakeMetrics>, 'domainTies' | 'suffixPathTies'>,
) {
  const verdicts = createKitPathMemory(options);
  const unjudged = createKitPathMemory(options);
  const domainOptions = { windowDays: options.windowDays, maxDomains: options.maxPaths };
  const domains = createDomainMemory(domainOptions);
  const unjudgedHosts = createDomainMemory(domainOptions);
  const suffixPaths = createSuffixPathMemory(options, suffixRisk);
  const unjudgedOnSuffixPaths = createSuffixPathMemory(options, suffixRisk);
  // Each counted no further than the guard can ask (its own domain or host may be named too): a
  // vendor's path on 100,000 sites keeps no 100,000 domains.
  /** A benign-looking URL on a path the judged verdicts name (`named`: verdicts.listedOn at `at`). */
  const countOnPath = (url: NormalisedUrl, at: Date, named: { domains: readonly string[] }) => {
    const counted = unjudged.listedOn(url, at)?.domains.length ?? 0;
    if (counted < UNJUDGED_PER_JUDGED * (named.domains.length + 1)) unjudged.learn(url, at);
  };
  /**
   * A URL scored benign under a key (registered domain, suffix path) the judged verdicts name
   * (`named`: their listedOn at `at`), counted in `against`.
   */
  const countAgainst = (
    against: TieMemory,
    url: NormalisedUrl,
    at: Date,
    named: { members: readonly string[] },
  ) => {
    const counted = against.listedOn(url, at)?.members.length ?? 0;
    if (counted < UNJUDGED_PER_JUDGED * (named.members.length + 1)) against.learn(url, at);
  };
  const countOnDomain = countAgainst.bind(null, unjudgedHosts);
  const countOnSuffixPath = countAgainst.bind(null, unjudgedOnSuffixPaths);
  return {
    /** What `tie` asks as judged memories, kept rather than made per scored URL. */
    memories: [verdicts] as const,
    domains,
    suffixPaths,
    /** `own`: the scorer's verdict before any tie, which teaches; `final`: after them, which counts against. */
    learn(own: ScoredUrl, final: ScoredUrl, at: Date) {
      // Named when a judged URL was learnt on the path (domain) before this one arrived.
      // A registered domain and a suffix path are named by a suspicious verdict or worse only:
      // two honest sites that merely score near suspicious must not lift each other.
      if (teachesDomain(own)) {
        domains.learn(own, at);
        suffixPaths.learn(own, at);
      } else if (final.verdict === 'benign') {
        const named = domains.listedOn(own, at);
        if (named !== null) countOnDomain(own, at, named);
        const onSuffixPath = suffixPaths.listedOn(own, at);
        if (onSuffixPath !== null) countOnSuffixPath(own, at, onSuffixPath);
      }
      if (teachesAsJudged(own, thresholds)) verdicts.learn(own, at);
      else if (countsAsUnjudged(final, thresholds)) {
        const named = verdicts.listedOn(own, at);
        if (named !== null) countOnPath(own, at, named);
      }
    },
    /**
     * A stored benign URL read back at its last sighting, after the window's judged URLs and in
     * last-sighting order (so the caps keep the earliest, as `learn` does). The order they
     * arrived in is not stored, so "named before it" is read by time: another domain's (host's)
     * judged URL was last seen no later. Unlike `learn`, a path (domain) named only by the URL's
     * own domain (host), or only by judged URLs since gone from the window, does not count it; a
     * judged URL seen both before and after this one names it only from its later sighting; and a
     * benign URL seen before and after the naming counts, as it did live at its later sighting.
     */
    learnStored(url: NormalisedUrl, lastSeen: Date, score: number) {
      const onDomain = domains.listedOn(url, lastSeen);
      if (onDomain !== null && onDomain.members.length > 0) countOnDomain(url, lastSeen, onDomain);
      const onSuffixPath = suffixPaths.listedOn(url, lastSeen);
      if (onSuffixPath !== null && onSuffixPath.members.length > 0)
        countOnSuffixPath(url, lastSeen, onSuffixPath);
      // At the floor it taught instead (read back with the judged URLs).
      if (score >= judgedFloor(thresholds)) return;
      const onPath = verdicts.listedOn(url, lastSeen);
      if (onPath !== null && onPath.domains.length > 0) countOnPath(url, lastSeen, onPath);
    },
    /** A judged tie stands: not a vendor's path seen mostly on benign-looking sites. */
    holds: (match: KitPathMatch, url: NormalisedUrl, at: Date) =>
      outnumbersUnjudged(match, unjudged.listedOn(url, at)?.domains.length ?? 0),
    /** Whether a domain or suffix-path tie could lift anything yet. */
    mayTie: () => domains.size > 0 || suffixPaths.size > 0,
    /**
     * A near-suspicious URL made malicious by the room's verdicts on other hosts of its
     * registered domain (domainTieOf), else on other domains under its risky suffix and path
     * (suffixPathTieOf), as they stand at `at`, and counted; null when neither ties it.
     */
    tie(scored: ScoredUrl, at: Date): ScoredUrl | null {
      const domain = domainTieOf(domains, unjudgedHosts, scored, at);
      if (domain) {
        counters.domainTies.inc();
        return withDomainTie(scored, domain, thresholds.malicious);
      }
      const suffixPath = suffixPathTieOf(suffixPaths, unjudgedOnSuffixPaths, scored, at);
      if (!suffixPath) return null;
      counters.suffixPathTies.inc();
      return withSuffixPathTie(scored, suffixPath, thresholds.malicious);
    },
  };
}

/** The scorer's reason for a lexicon brand's own domain (score/model.ts). */
const OFFICIAL_DOMAIN = 'official_domain';
const DAY_MS = 86_400_000;

export interface KitPathIntake {
  /** The scored URL, made malicious when its path is a kit's as the memory stands at `at` (default now). */
  tie(scored: ScoredUrl, at?: Date): ScoredUrl;
  /** Whether a source's listings teach the memory. */
  confirms(source: string): boolean;
  learn(url: NormalisedUrl, listedAt: Date): void;
  /**
   * A URL the room scored at `at` (`ownVerdicts`): its path kept when the scorer's own score
   * (`own`, before any tie) is at the judgedLift floor, its registered domain when its own verdict
   * is suspicious or worse; counted against both when its verdict after the ties (`final`) is benign.
   */
  learnVerdict(own: ScoredUrl, final: ScoredUrl, at: Date): void;
  /**
   * A URL about to be stored: learnt when its host's takedown request confirmed the host, so a
   * URL stored after the request was sent teaches as one stored before it does.
   */
  learnStored(url: NormalisedUrl): void;
  /**
   * Moves a host's takedown request on (the room's `takedownStatus`): a request that now
   * confirms its host teaches the host's stored URLs at once, a withdrawn one is forgotten.
   */
  takedownStatus(host: string, status: TakedownStatus): Promise<TakedownRequest>;
  /**
   * Reads the window's confirmations (listings, takedowns and, with `ownVerdicts`, the judged
   * URLs and the benign-looking ones that count against them) from the store, once.
   */
  load(): Promise<void>;
  /** After `load`: the takedown requests changed since the last read (by another process too). */
  refresh(): Promise<void>;
  /** Paths remembered (a path two memories hold counts twice). */
  readonly size: number;
}

export interface KitPathIntakeDeps {
  registry: Registry;
  db?: Kysely<WebTables>;
  now: () => Date;
  urlThresholds: Thresholds;
  /** The fitted risk of a URL's suffix, which a suffix-path tie needs above even (suffix-paths.ts). */
  suffixRisk: SuffixRisk;
}

export function createKitPathIntake(
  config: Pick<WebConfig, 'kitPaths' | 'maxUrlLength'>,
  deps: KitPathIntakeDeps,
): KitPathIntake {
  const listings = createKitPathMemory(config.kitPaths);
  /** Cleared and relearnt from `confirmed` when a request is withdrawn: a memory cannot unlearn one host. */
  const takedowns = createKitPathMemory(config.kitPaths);
  /** What `tie` asks, kept rather than made per scored URL; each memory is the same object for good. */
  const memories = [listings, takedowns];
  /** Host -> when its request confirmed it, and its stored URLs by URL. */
  const confirmed = new Map<string, { at: Date; urls: Map<string, NormalisedUrl> }>();
  const sources = new Set(config.kitPaths.sources);
  const fromTakedowns = config.kitPaths.takedowns;
  const fromVerdicts = config.kitPaths.ownVerdicts;
  const metrics = intakeMetrics(deps.registry, () => confirmed.size);
  const { ties } = metrics;
  const own = createOwnVerdicts(config.kitPaths, deps.urlThresholds, deps.suffixRisk, metrics);
  const verdicts = own.memories[0];
  const windowMs = config.kitPaths.windowDays * DAY_MS;
  /** The newest `updated_at` of the takedown requests read; a refresh reads from it on. */
  let takedownsReadFrom: string | undefined;
  const normalised = (url: string) => normaliseStoredUrl(url, config.maxUrlLength);
  const learnRows = (memory: Pick<KitPathMemory, 'learn'>, rows: readonly StoredRow[]) =>
    learnStoredRows(memory, rows, config.maxUrlLength);
  const readListings = async (db: Kysely<WebTables>) =>
    learnRows(listings, await listingsInWindow(db, [...sources], windowMs, deps.now()));
  const readVerdicts = (db: Kysely<WebTables>) =>
    readOwnVerdicts(db, own, deps.urlThresholds, windowMs, deps.now(), config.maxUrlLength);

  /** Teaches the stored URLs of these hosts, each as of its request's confirmation. */
  const confirm = async (db: Kysely<WebTables>, hosts: ReadonlyMap<string, Date>) => {
    for (const [host, at] of hosts) if (!confirmed.has(host)) confirmed.set(host, { at, urls: new Map() });
    for await (const row of readHostUrls(db, [...hosts.keys()])) {
      const host = confirmed.get(row.host);
      const url = host && normalised(row.url);
      if (!host || !url) continue;
      host.urls.set(url.url, url);
      takedowns.learn(url, host.at);
    }
  };
  const withdraw = (host: string) => {
    if (!confirmed.delete(host)) return;
    takedowns.clear();
    for (const { at, urls } of confirmed.values()) for (const url of urls.values()) takedowns.learn(url, at);
  };
  const newestUpdate = (rows: readonly TakedownConfirmation[]) => {
    for (const row of rows)
      if (takedownsReadFrom === undefined || row.updatedAt > takedownsReadFrom)
        takedownsReadFrom = row.updatedAt;
  };

  const readTakedowns = async (db: Kysely<WebTables>) => {
    const rows = await takedownConfirmations(takedownDb(db));
    newestUpdate(rows);
    await confirm(db, confirmedInWindow(rows, windowMs, deps.now()));
  };

  const takedownChanged = async (
    db: Kysely<WebTables>,
    change: Pick<TakedownConfirmation, 'host' | 'confirmedAt'>,
  ) => {
    if (!fromTakedowns) return;
    if (change.confirmedAt === null) withdraw(change.host);
    else if (!confirmed.has(change.host)) await confirm(db, new Map([[change.host, change.confirmedAt]]));
  };

  let loaded: Promise<void> | undefined;
  const load = () => {
    const db = deps.db;
    loaded ??= db
      ? Promise.all([
          sources.size > 0 ? readListings(db) : undefined,
          fromTakedowns ? readTakedowns(db) : undefined,
          fromVerdicts ? readVerdicts(db) : undefined,
        ]).then(() => undefined)
      : Promise.resolve();
    return loaded;
  };

  /** Whether any memory may hold the URL's path: nearly every scored URL stops here, at one short hash. */
  const mayTie = (url: NormalisedUrl) =>
    listings.mayList(url) || takedowns.mayList(url) || verdicts.mayList(url);

  return {
    tie(scored, at) {
      if (scored.verdict === 'malicious') return scored;
      // The room's own verdicts may only lift a URL near suspicious; the confirmed memories, any.
      const liftable = liftableByJudged(scored, deps.urlThresholds);
      // No memory may hold the path, and no domain or suffix-path tie could lift it: nearly every
      // URL stops here.
      if (!mayTie(scored) && !(liftable && own.mayTie())) return scored;
      const when = at ?? deps.now();
      const match = matchAcross(
        memories,
        scored,
        when,
        config.kitPaths.minDomains,
        liftable ? own.memories : NO_MEMORIES,
      );
      const kit = match && (match.basis === 'confirmed' || own.holds(match, scored, when)) ? match : null;
      if (!kit && !liftable) return scored;
      // A kit that copies a brand's own path (`/vpass/login`) must not make the brand's site
      // phishing, nor a phishing host under a brand's domain the brand's other sites.
      if (scored.reasons.some((r) => r.feature === OFFICIAL_DOMAIN)) return scored;
      if (kit) {
        ties.inc({ basis: kit.basis });
        return withKitPath(scored, kit, deps.urlThresholds.malicious);
      }
      return own.tie(scored, when) ?? scored;
    },
    confirms: (source) => sources.has(source),
    learn: (url, listedAt) => listings.learn(url, listedAt),
    learnVerdict(scored, final, at) {
      if (fromVerdicts) own.learn(scored, final, at);
    },
    learnStored(url) {
      const host = confirmed.get(url.host);
      if (!host || host.urls.has(url.url)) return;
      host.urls.set(url.url, url);
      takedowns.learn(url, host.at);
    },
    async takedownStatus(host, status) {
      if (!deps.db) throw new Error('web: no database to keep takedown requests in');
      await load();
      const request = await setTakedownStatus(takedownDb(deps.db), host, status, deps.now());
      await takedownChanged(deps.db, { host: request.host, confirmedAt: takedownConfirmedAt(request) });
      return request;
    },
    load,
    async refresh() {
      const db = deps.db;
      if (!db || !fromTakedowns) return;
      if (!loaded) return load();
      await loaded;
      // From the newest change read, inclusive: a change in the same millisecond is not missed,
      // and one read twice changes nothing.
      const rows = await takedownConfirmations(takedownDb(db), takedownsReadFrom);
      newestUpdate(rows);
      for (const row of rows) await takedownChanged(db, row);
    },
    get size() {
      return listings.size + takedowns.size + verdicts.size;
    },
  };
}

interface StoredRow {
  url: string;
  last_seen: string;
}

/** Stored URLs of a window (listings or verdicts), each as of its last sighting. */
function learnStoredRows(
  memory: Pick<KitPathMemory, 'learn'>,
  rows: readonly StoredRow[],
  maxUrlLength: number,
) {
  for (const row of rows) {
    const url = normaliseStoredUrl(row.url, maxUrlLength);
    if (url) memory.learn(url, new Date(row.last_seen));
  }
}

/** The intake's ties by kind, and the hosts its sent takedown requests confirm (`takedownHosts`). */
function intakeMetrics(registry: Registry, takedownHosts: () => number) {
  new Gauge({
    name: 'tsunagi_web_kit_path_takedown_hosts',
    help: 'Hosts whose sent takedown request teaches the kit-path memory',
    registers: [registry],
    collect() {
      this.set(takedownHosts());
    },
  });
  return {
    ties: new Counter({
      name: 'tsunagi_web_kit_path_ties_total',
      help: "URLs made malicious because their path is a kit path named on other domains: by the confirmed sources or sent takedown requests (basis confirmed), or only with the room's own verdicts (basis judged)",
      labelNames: ['basis'],
      registers: [registry],
    }),
    domainTies: new Counter({
      name: 'tsunagi_web_domain_ties_total',
      help: "URLs made malicious because the room's own verdicts stood on other hosts of their registered domain",
      registers: [registry],
    }),
    suffixPathTies: new Counter({
      name: 'tsunagi_web_suffix_path_ties_total',
      help: "URLs made malicious because the room's own verdicts stood on other registered domains under their risky suffix and path",
      registers: [registry],
    }),
  };
}

/**
 * The confirmed sources' listings within the window before the newest of them, not before now: a
 * store replayed from last year's lists still ties last year's URLs (each match checks the window
 * at its own time anyway).
 */
async function listingsInWindow(db: Kysely<WebTables>, sources: string[], windowMs: number, now: Date) {
  const newest = await db
    .selectFrom('web_sightings')
    .select((eb) => eb.fn.max('last_seen').as('last'))
    .where('source', 'in', sources)
    .executeTakeFirst();
  if (!newest?.last) return [];
  const until = Math.min(now.getTime(), Date.parse(newest.last));
  return db
    .selectFrom('web_sightings')
    .select(['url', 'last_seen'])
    .where('source', 'in', sources)
    .where('last_seen', '>=', new Date(until - windowMs).toISOString())
    .execute();
}

/**
 * The window's own verdicts read back into `own`: the judged URLs, each as of its last sighting
 * (their paths, and the registered domains of the suspicious or worse), then the benign ones of
 * the same window (`learnStored`), which count only on a path or domain named already.
 */
async function readOwnVerdicts(
  db: Kysely<WebTables>,
  own: ReturnType<typeof createOwnVerdicts>,
  thresholds: Thresholds,
  windowMs: number,
  now: Date,
  maxUrlLength: number,
): Promise<void> {
  const floor = judgedFloor(thresholds);
  const since = await verdictsSince(db, floor, windowMs, now);
  if (since === null) return;
  const [verdicts] = own.memories;
  /** A stored URL the scorer's own verdict judged: its path, and its domain and suffix path when `namesDomain`. */
  const teach = (row: StoredRow, namesDomain: boolean) => {
    const url = normaliseStoredUrl(row.url, maxUrlLength);
    if (!url) return;
    const at = new Date(row.last_seen);
    verdicts.learn(url, at);
    if (!namesDomain) return;
    own.domains.learn(url, at);
    own.suffixPaths.learn(url, at);
  };
  const rows = await judgedRows(db, floor)
    .select(['url', 'last_seen', 'verdict'])
    .where('last_seen', '>=', since)
    .execute();
  // teachesDomain as the store keeps it: the rows are no ties already.
  for (const row of rows) teach(row, row.verdict !== 'benign');
  // A tied URL teaches by the score the scorer gave it before the tie (as `learn` is given it).
  for (const row of await tiedSince(db, since)) {
    const score = scoreBeforeTie({ score: row.score, reasons: JSON.parse(row.reasons) as Reason[] });
    if (score >= floor) teach(row, score >= thresholds.suspicious);
  }
  if (verdicts.size === 0 && own.domains.size === 0 && own.suffixPaths.size === 0) return;
  await eachRow(db, unjudgedSince(db, since), (row) => {
    const url = normaliseStoredUrl(row.url, maxUrlLength);
    if (url) own.learnStored(url, new Date(row.last_seen), row.score);
  });
}

/** The stored URLs a tie made malicious, last seen since `since` (few: the partial index's). */
const tiedSince = (db: Kysely<WebTables>, since: string) =>
  db
    .selectFrom('web_urls')
    .select(['url', 'last_seen', 'score', 'reasons'])
    .where('kit_tie', 'is not', null)
    .where('last_seen', '>=', since)
    .execute();

/**
 * The stored URLs the scorer itself scored near suspicious or worse, teachesAsJudged as the store
 * keeps it (at the floor or not benign, no `kit_tie`; a tied URL's own score is read from its
 * reasons instead, `tiedSince`).
 */
const judgedRows = (db: Kysely<WebTables>, floor: number) =>
  db
    .selectFrom('web_urls')
    .where((eb) => eb.or([eb('verdict', 'in', ['suspicious', 'malicious']), eb('score', '>=', floor)]))
    .where('kit_tie', 'is', null);

/**
 * Where the own verdicts' window starts: the window before the newest judged URL, not before now
 * (as listingsInWindow); null when none is stored.
 */
async function verdictsSince(db: Kysely<WebTables>, floor: number, windowMs: number, now: Date) {
  const newest = await judgedRows(db, floor)
    .select((eb) => eb.fn.max('last_seen').as('last'))
    .executeTakeFirst();
  if (!newest?.last) return null;
  return new Date(Math.min(now.getTime(), Date.parse(newest.last)) - windowMs).toISOString();
}

/**
 * The stored URLs that may count against judged ties (a benign verdict: a tie's is malicious; the
 * path's guard takes those below the floor, countsAsUnjudged), last seen since `since`, oldest
 * first: the order `learnStored` caps them in. Streamed, never held: a proxy log's benign URLs may
 * be millions.
 */
const unjudgedSince = (db: Kysely<WebTables>, since: string) =>
  db
    .selectFrom('web_urls')
    .select(['url', 'last_seen', 'score'])
    .where('verdict', '=', 'benign')
    .where('last_seen', '>=', since)
    .orderBy('last_seen')
    .orderBy('url');

/** Rows fetched at a time from a PostgreSQL cursor. */
const CURSOR_ROWS = 1000;

/**
 * Each row of `query`, in its order, one sorted read rather than a page query each (no index
 * orders web_urls by time, so keyset pages would each sort the table again): SQLite streams the
 * statement; PostgreSQL, whose kysely driver streams only with the pg-cursor package, reads a
 * cursor of its own in a transaction.
 */
async function eachRow<R>(
  db: Kysely<WebTables>,
  query: SelectQueryBuilder<WebTables, 'web_urls', R>,
  visit: (row: R) => void,
): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) {
    for await (const row of query.stream(CURSOR_ROWS)) visit(row);
    return;
  }
  await db.transaction().execute(async (tx) => {
    await sql`DECLARE web_rows NO SCROLL CURSOR FOR ${query}`.execute(tx);
    for (;;) {
      const { rows } = await sql<R>`FETCH FORWARD ${sql.lit(CURSOR_ROWS)} FROM web_rows`.execute(tx);
      for (const row of rows) visit(row);
      if (rows.length < CURSOR_ROWS) break;
    }
  });
}

/** The hosts these requests confirm, within the window before the newest confirmation (as above). */
function confirmedInWindow(rows: readonly TakedownConfirmation[], windowMs: number, now: Date) {
  const sent = rows.filter(
    (row): row is TakedownConfirmation & { confirmedAt: Date } => row.confirmedAt !== null,
  );
  const newest = sent.reduce((latest, row) => Math.max(latest, row.confirmedAt.getTime()), 0);
  const since = Math.min(now.getTime(), newest) - windowMs;
  return new Map(
    sent.filter((row) => row.confirmedAt.getTime() >= since).map((row) => [row.host, row.confirmedAt]),
  );
}

/** The room's store holds the takedown tables too (webTakedownMigrations beside webMigrations). */
const takedownDb = (db: Kysely<WebTables>) => db as unknown as Kysely<TakedownTables>;
