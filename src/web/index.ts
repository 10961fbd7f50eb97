/**
 * The web room: malicious websites (issue #18). URLs are normalised (WHATWG URL, IDNA, the public
 * suffix list with private domains), scored by an additive model fitted offline on JPCERT/CC's
 * public phishing list and benign top-site lists (every verdict lists its reasons), and kept with
 * first/last seen per source. The only way in: other rooms and the CLI import from here.
 */
import type { Kysely } from 'kysely';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../core/index.ts';
import type { WebConfig } from './config.ts';
import type { CertstreamUpdate } from './input/certstream.ts';
import { withCertificate } from './input/certificate.ts';
import { certstreamIntake, type CertstreamIntake } from './input/intake.ts';
import { parseReports, reportDescription, reportSource } from './input/reports.ts';
import { normaliseUrl, UrlInputError } from './normalise.ts';
import {
  readHostUrls,
  readHosts,
  readKitPathTies,
  readVerdicts,
  type HostQuery,
  type KitPathTieRow,
  type VerdictQuery,
} from './read.ts';
import { createBrandIndex, LEXICON, type Brand } from './score/lexicon.ts';
import { createScorer, FITTED_MODEL, type FittedModel, type Thresholds } from './score/model.ts';
import { writeSightings, type SightingRow } from './store.ts';
import { createKitPathIntake, type KitPathIntake } from './campaign/kit-path-intake.ts';
import { isDomainTie, isSuffixPathTie, kitPathTieBasis } from './campaign/kit-paths.ts';
import { suffixRiskOf } from './campaign/suffix-paths.ts';
import type { TakedownRequest, TakedownStatus } from './takedown/requests.ts';
import type {
  CertificateFacts,
  HostSummary,
  IngestRecord,
  NormalisedUrl,
  ScoredUrl,
  StoredVerdict,
  Verdict,
  WebTables,
} from './types.ts';
import { VERDICTS } from './types.ts';

export { WebConfig } from './config.ts';
export { explainReason, groundsOf, type ExplainLanguage } from './score/explain.ts';
export { webMigrations } from './migrations.ts';
export { normaliseUrl, normaliseHost, UrlInputError } from './normalise.ts';
export {
  createLineReader,
  detectFormat,
  parseJsonArray,
  parseSeenAt,
  ListFormatError,
  type LineReader,
  type ListFormat,
} from './input/lists.ts';
export { parseCertstreamFrame, type CertstreamUpdate, type ParsedFrame } from './input/certstream.ts';
export { CERTIFICATE_FEATURES, certificateFactsOf, withCertificate } from './input/certificate.ts';
export type { CertstreamIntake, CertstreamStats } from './input/intake.ts';
export {
  MAX_REPORTS,
  parseReports,
  ReportInputError,
  reportSource,
  WebReport,
  WebReports,
} from './input/reports.ts';
export type { HostQuery, KitPathTieRow, VerdictQuery } from './read.ts';
export { blocksWholeHost, withWholeHost, worstVerdict } from './read.ts';
export {
  FEATURES,
  hostFeatures,
  labelBigrams,
  registrantLabel,
  suffixesOf,
  type Feature,
  type FeatureVector,
  type HostFeatures,
  type RiskTables,
} from './score/features.ts';
export {
  brandPlace,
  HOST_CONTEXT_FEATURES,
  hostContext,
  hostContextPart,
  hostShape,
  labelCvTrigrams,
  labelShape,
  riskBand,
  siteSubdomain,
  subdomainTokens,
  type HostContextFeature,
  type HostContextModel,
  type HostContextTables,
} from './score/host-context.ts';
export {
  createScorer,
  FITTED_MODEL,
  logistic,
  verdictOf,
  type FittedModel,
  type Scorer,
  type Thresholds,
} from './score/model.ts';
export {
  pathShape,
  pathTokens,
  urlFeatures,
  urlPart,
  URL_FEATURES,
  type UrlFeature,
  type UrlModel,
  type UrlTables,
} from './score/url-features.ts';
export { GATE_CENTRE, GATED_FEATURES, gatedValues, hostGate, type GatedModel } from './score/gated.ts';
export { LEXICON, createBrandIndex, type Brand, type BrandIndex, type Lexicon } from './score/lexicon.ts';
export * from './types.ts';

export interface WebDeps {
  logger: Logger;
  registry: Registry;
  /**
   * Where URLs and sightings are kept; `ingest` and the read API need it. Migrated with
   * `webMigrations` and `webTakedownMigrations` (the kit-path memory reads the takedown requests).
   */
  db?: Kysely<WebTables>;
  now?: () => Date;
  /** Another fitted model (the benchmark's fits); the shipped model.json when absent. */
  model?: FittedModel;
}

export interface IngestResult {
  /** Records read and scored. */
  urls: number;
  /** Records whose URL did not normalise (counted, skipped). */
  bad: number;
  newUrls: number;
  newSightings: number;
  verdicts: Record<Verdict, number>;
  /** Of the malicious, those made so by a kit path (campaign/kit-paths.ts). */
  kitPathTies: number;
  /** Of those, the ties that needed the room's own verdicts (`kit_path_judged`). */
  kitPathTiesJudged: number;
  /** Of the malicious, those made so by the room's verdicts on other hosts of their registered domain (`domain_judged`). */
  domainTies: number;
  /** Of the malicious, those made so by the room's verdicts on other registered domains under their risky suffix and path (`suffix_path_judged`). */
  suffixPathTies: number;
}

export interface Web {
  readonly name: 'web';
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly model: FittedModel;
  /** The host-name verdict's thresholds. */
  readonly thresholds: Thresholds;
  /** The URL verdict's (with `judgedLift`, the floor a tie on the room's own verdicts lifts from). */
  readonly urlThresholds: Thresholds;
  /** Throws UrlInputError (an InputError, exit code 2) when the text is not an http(s) URL or host. */
  normalise(text: string): NormalisedUrl;
  /**
   * Scores a URL or a bare host name; throws UrlInputError like `normalise`. A certificate's
   * facts, when known, join the reasons (see input/certificate.ts). A URL on a kit's path
   * (campaign/kit-paths.ts) as the confirmed sources had listed it by `at` (default now) is
   * malicious, with the reason `kit_path`.
   */
  score(input: string | NormalisedUrl, certificate?: CertificateFacts | null, at?: Date): ScoredUrl;
  /**
   * Teaches the kit-path memory a URL a confirmed source listed at `listedAt` (what `ingest` does
   * for the configured sources; `web score --known FILE` for a list without a store). Throws
   * UrlInputError like `normalise`.
   */
  learnKitPath(input: string | NormalisedUrl, listedAt: Date): void;
  /** Paths the kit-path memory holds. */
  readonly kitPaths: number;
  /**
   * Moves a host's takedown request on (takedown/requests.ts; TakedownError when it may not go
   * there). A request sent confirms its host as phishing: with `kitPaths.takedowns`, the host's
   * stored URLs teach the kit-path memory at once, as of the time it was sent; a refused one
   * teaches nothing. Needs the store.
   */
  takedownStatus(host: string, status: TakedownStatus): Promise<TakedownRequest>;
  /**
   * Scores and stores a source's records (first and last seen per source, latest verdict per
   * URL), `batchSize` at a time; bad URLs are counted, not thrown. `onBatch` sees each stored
   * batch's scored URLs (progress, intel intake).
   */
  ingest(
    records: Iterable<IngestRecord> | AsyncIterable<IngestRecord>,
    source: string,
    onBatch?: (scored: readonly ScoredUrl[], done: IngestResult) => void | Promise<void>,
  ): Promise<IngestResult>;
  /** Stored verdicts, URL order, paged through the store. */
  verdicts(query?: VerdictQuery): AsyncGenerator<StoredVerdict>;
  /** Stored hosts with their tallies and verdict, host order. */
  hosts(query?: HostQuery): AsyncGenerator<HostSummary>;
  /** The stored URLs of these hosts, host then URL order (a few queries for thousands of hosts). */
  hostUrls(hosts: readonly string[]): AsyncGenerator<{ host: string; url: string }>;
  /**
   * The stored URLs a kit path alone made malicious, on hosts whose host-name verdict is not
   * malicious (URL order): how such hosts join their kit's campaign.
   */
  kitPathTies(): AsyncGenerator<KitPathTieRow>;
  /** A lexicon brand by key (`smbc-card`): names in ja/en and official domains. */
  brand(key: string): Brand | undefined;
  readonly brands: readonly Brand[];
  /** Counts a rejected input (for the CLI's bad-input path). */
  countInputError(input: 'url' | 'list' | 'certstream'): void;
  /**
   * Watches the configured certstream websocket: each certificate name is scored as a host, and
   * those at `minVerdict` or worse are stored under source `certstream` (with a database) and
   * handed to `onVerdict`. Throws when no certstream URL is configured.
   */
  certstream(onVerdict?: (scored: ScoredUrl, update: CertstreamUpdate) => void): CertstreamIntake;
  /**
   * User reports (`{url, description?, brand?}` or a list, validated by `parseReports`: a
   * ReportInputError, exit code 2, for anything else), each scored and stored under source
   * `report:<organisation>`. Answers each report's verdict in order; a URL that does not
   * normalise is answered with its error and counted, not stored.
   */
  report(body: unknown, organisation: string): Promise<ReportResult>;
}

export interface ReportResult {
  source: string;
  reports: ({ ok: true; scored: ScoredUrl } | { ok: false; url: string; error: string })[];
}

/** The room's counters. */
function webMetrics(registry: Registry) {
  // Plain numbers per URL, handed to prom-client at scrape time: even a labelled child's inc
  // cost a fifth of a URL's scoring.
  const scoredBy: Record<Verdict, number> = { benign: 0, suspicious: 0, malicious: 0 };
  new Counter({
    name: 'tsunagi_web_urls_scored_total',
    help: 'URLs scored, by verdict',
    labelNames: ['verdict'],
    registers: [registry],
    collect() {
      this.reset();
      for (const verdict of VERDICTS) this.inc({ verdict }, scoredBy[verdict]);
    },
  });
  const inputErrors = new Counter({
    name: 'tsunagi_web_input_errors_total',
    help: 'Inputs rejected, by kind (url: a line that is no http(s) URL; list: a file that is no URL list; certstream: a frame that is no certstream message)',
    labelNames: ['input'],
    registers: [registry],
  });
  const reportsCounted = new Counter({
    name: 'tsunagi_web_reports_total',
    help: 'User reports received, by outcome (the verdict given, or bad for a URL that is no http(s) URL)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  return { scoredBy, inputErrors, reportsCounted };
}

/** Named increments: a computed key (`scoredBy[verdict]++`) was a keyed lookup per URL. */
function countScored(scoredBy: Record<Verdict, number>, verdict: Verdict) {
  if (verdict === 'benign') scoredBy.benign++;
  else if (verdict === 'suspicious') scoredBy.suspicious++;
  else scoredBy.malicious++;
}

/**
 * The scorer's own verdict (certificate facts included), and the verdict after the ties; apart,
 * so ingest keeps both and `score` allocates nothing more per URL.
 */
function tiedScoring(
  scorer: ReturnType<typeof createScorer>,
  model: FittedModel,
  maxUrlLength: number,
  kitPaths: Pick<KitPathIntake, 'tie'>,
  scoredBy: Record<Verdict, number>,
) {
  return {
    own(input: string | NormalisedUrl, certificate?: CertificateFacts | null) {
      const plain = scorer.score(typeof input === 'string' ? normaliseUrl(input, maxUrlLength) : input);
      return certificate
        ? withCertificate(plain, certificate, model, scorer.thresholds, scorer.urlThresholds)
        : plain;
    },
    tied(own: ScoredUrl, at?: Date) {
      const result = kitPaths.tie(own, at);
      countScored(scoredBy, result.verdict);
      return result;
    },
  };
}

export function createWeb(config: WebConfig, deps: WebDeps): Web {
  const model = deps.model ?? FITTED_MODEL;
  const brandIndex = createBrandIndex(LEXICON);
  const scorer = createScorer(model, brandIndex, config.thresholds ?? model.thresholds);
  const { scoredBy, inputErrors, reportsCounted } = webMetrics(deps.registry);
  const now = deps.now ?? (() => new Date());
  const database = () => {
    if (!deps.db) throw new Error('web: no database to keep URLs in');
    return deps.db;
  };
  const kitPaths = createKitPathIntake(config, {
    registry: deps.registry,
    ...(deps.db ? { db: deps.db } : {}),
    now,
    urlThresholds: scorer.urlThresholds,
    suffixRisk: suffixRiskOf(model.risk),
  });
  const scoring = tiedScoring(scorer, model, config.maxUrlLength, kitPaths, scoredBy);
  const score = (input: string | NormalisedUrl, certificate?: CertificateFacts | null, at?: Date) =>
    scoring.tied(scoring.own(input, certificate), at);
  const web: Web = {
    name: 'web',
    model,
    thresholds: scorer.thresholds,
    urlThresholds: scorer.urlThresholds,
    async start() {
      await kitPaths.load();
    },
    async stop() {},
    normalise: (text) => normaliseUrl(text, config.maxUrlLength),
    score,
    learnKitPath(input, listedAt) {
      kitPaths.learn(typeof input === 'string' ? normaliseUrl(input, config.maxUrlLength) : input, listedAt);
    },
    get kitPaths() {
      return kitPaths.size;
    },
    takedownStatus: (host, status) => kitPaths.takedownStatus(host, status),
    async ingest(records, source, onBatch) {
      const db = database();
      await kitPaths.load();
      // Requests another process (the CLI beside a running hub) moved on since the last ingest.
      await kitPaths.refresh();
      const confirmed = kitPaths.confirms(source);
      const result: IngestResult = {
        urls: 0,
        bad: 0,
        newUrls: 0,
        newSightings: 0,
        verdicts: { benign: 0, suspicious: 0, malicious: 0 },
        kitPathTies: 0,
        kitPathTiesJudged: 0,
        domainTies: 0,
        suffixPathTies: 0,
      };
      let batch: SightingRow[] = [];
      const flush = async () => {
        const written = await writeSightings(db, batch, model.version);
        result.newUrls += written.newUrls;
        result.newSightings += written.newSightings;
        const done = batch.map((row) => row.scored);
        batch = [];
        await onBatch?.(done, result);
      };
      for await (const record of records) {
        let row: ScoredUrl;
        let own: ScoredUrl;
        const seen = record.seenAt ? new Date(record.seenAt) : now();
        const seenAt = record.seenAt ?? seen.toISOString();
        try {
          own = scoring.own(record.url, record.certificate);
          row = scoring.tied(own, seen);
        } catch (error) {
          if (!(error instanceof UrlInputError)) throw error;
          result.bad++;
          inputErrors.inc({ input: 'url' });
          continue;
        }
        // Learnt after it is scored: a listing is evidence about other domains, never its own.
        if (confirmed) kitPaths.learn(row, seen);
        // By its own score, never a tie's raise; counted against a tie by the verdict after them.
        kitPaths.learnVerdict(own, row, seen);
        kitPaths.learnStored(row);
        result.urls++;
        result.verdicts[row.verdict]++;
        countTie(result, row);
        batch.push({ scored: row, source, seenAt, description: record.description ?? null });
        if (batch.length >= config.batchSize) await flush();
      }
      if (batch.length > 0) await flush();
      deps.logger.info({ source, ...result }, 'web ingest done');
      return result;
    },
    verdicts: (query) => readVerdicts(database(), query),
    hosts: (query) => readHosts(database(), query),
    hostUrls: (hosts) => readHostUrls(database(), hosts),
    kitPathTies: () => readKitPathTies(database()),
    brand: (key) => brandIndex.brand(key),
    brands: LEXICON.brands,
    countInputError: (input) => inputErrors.inc({ input }),
    certstream(onVerdict) {
      if (!config.certstream) throw new Error('web: no certstream URL configured');
      return certstreamIntake(config.certstream, {
        logger: deps.logger,
        stores: deps.db !== undefined,
        score,
        onVerdict,
        ingest: (records, source) => web.ingest(records, source),
        inputErrors,
      });
    },
    async report(body, organisation) {
      const reports = parseReports(body);
      const source = reportSource(organisation);
      // Each answer's place: an index into the stored records, or the error of a bad URL.
      const slots: (number | { url: string; error: string })[] = [];
      const records: IngestRecord[] = [];
      for (const report of reports) {
        try {
          web.normalise(report.url);
        } catch (error) {
          if (!(error instanceof UrlInputError)) throw error;
          inputErrors.inc({ input: 'url' });
          reportsCounted.inc({ outcome: 'bad' });
          slots.push({ url: report.url.slice(0, 200), error: error.message });
          continue;
        }
        const description = reportDescription(report);
        slots.push(records.length);
        records.push({ url: report.url, ...(description ? { description } : {}) });
      }
      const scored: ScoredUrl[] = [];
      if (records.length > 0) await web.ingest(records, source, (batch) => void scored.push(...batch));
      for (const row of scored) reportsCounted.inc({ outcome: row.verdict });
      return {
        source,
        reports: slots.map((slot) =>
          typeof slot === 'number'
            ? { ok: true as const, scored: scored[slot]! }
            : { ok: false as const, ...slot },
        ),
      };
    },
  };
  return web;
}

// Filtering outputs (export/), campaigns (campaign/), takedowns (takedown/), page checks (page/).
export {
  canonicaliseUrl,
  CanonicalUrlError,
  fullHash,
  hashPrefix,
  parseLegacyIpv4,
  suffixPrefixExpressions,
  type CanonicalUrl,
} from './export/safebrowsing.ts';
export {
  EXPORT_FORMATS,
  hostRefusal,
  hostsFile,
  rpzZone,
  SHARED_HOSTS,
  unboundConfig,
  urlList,
  urlListMatches,
  type ExportFormat,
  type HostCandidate,
  type HostRefusal,
  type RpzOptions,
  type UrlEntry,
  type UrlList,
} from './export/filters.ts';
export {
  clusterCampaigns,
  namingTemplate,
  subdomainPattern,
  webStatistics,
  type Campaign,
  type CampaignHost,
  type Tie,
  type TieKind,
  type WebStatistics,
} from './campaign/cluster.ts';
export {
  campaignHostOf,
  carriedTies,
  type CarriedTies,
  HostInfrastructure,
  KIT_PATHS_PER_HOST,
  kitPathOnlyHosts,
  parseInfrastructure,
  withKitPaths,
} from './campaign/hosts.ts';
export {
  createKitPathMemory,
  DEFAULT_KIT_PATHS,
  isKitPathTie,
  kitPathReasonKey,
  kitPathTieBasis,
  kitPathTemplate,
  liftableByJudged,
  teachesAsJudged,
  outnumbersUnjudged,
  countsAsUnjudged,
  nonEnglishPathWords,
  withKitPath,
  type KitPathMatch,
  type KitPathMemory,
  type KitPathOptions,
} from './campaign/kit-paths.ts';
export {
  createDomainMemory,
  DOMAIN_MIN_HOSTS,
  domainTieOf,
  teachesDomain,
  type DomainMemory,
  type TieMemory,
} from './campaign/domain-ties.ts';
export {
  createSuffixPathMemory,
  SUFFIX_PATH_MIN_DOMAINS,
  suffixPathKey,
  suffixPathTieOf,
  suffixRiskOf,
  type SuffixRisk,
} from './campaign/suffix-paths.ts';
export { abuseContacts, RdapInputError, rdapMismatch, type AbuseContact } from './takedown/rdap.ts';
export {
  LETTER_LANGUAGES,
  renderLetter,
  type Letter,
  type LetterFacts,
  type LetterLanguage,
} from './takedown/letters.ts';
export { webTakedownMigrations } from './takedown/migrations.ts';
export {
  draftTakedown,
  getTakedown,
  isTakedownStatus,
  listTakedowns,
  setTakedownStatus,
  CONFIRMING_STATUSES,
  TAKEDOWN_STATUSES,
  takedownConfirmations,
  takedownConfirmedAt,
  TakedownError,
  type TakedownConfirmation,
  type TakedownRequest,
  type TakedownStatus,
  type TakedownTables,
} from './takedown/requests.ts';
export {
  checkPage,
  DEFAULT_PAGE_LIMITS,
  KIT_MARKERS,
  kitMarkersIn,
  noBrowserCounters,
  PageCheckError,
  PageTimeoutError,
  type KitMarker,
  type PageCheck,
  type PageLimits,
  type BrowserCounters,
} from './page/check.ts';
export { BrowserStartError, openPageBrowser, type PageBrowser } from './page/browser.ts';
export {
  FAVICONS,
  FaviconEntry,
  faviconBrand,
  faviconHashes,
  FaviconTable,
  loadFavicons,
  mimeBase64,
  murmur3x86,
  type FaviconHashes,
} from './page/favicon.ts';
export { webOverview, type WebOverview } from './campaign/overview.ts';

/** An ingested URL's tie, if any, counted by kind: a kit path's (confirmed or judged), a registered domain's or a suffix path's. */
function countTie(result: IngestResult, row: ScoredUrl): void {
  const tie = kitPathTieBasis(row);
  if (tie === null) return;
  if (isDomainTie(row)) result.domainTies++;
  else if (isSuffixPathTie(row)) result.suffixPathTies++;
  else {
    result.kitPathTies++;
    if (tie === 'judged') result.kitPathTiesJudged++;
  }
}
