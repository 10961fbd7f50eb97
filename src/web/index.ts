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
import { watchCertstream, type CertstreamUpdate } from './input/certstream.ts';
import { normaliseUrl, UrlInputError } from './normalise.ts';
import { readHosts, readVerdicts, type HostQuery, type VerdictQuery } from './read.ts';
import { createBrandIndex, LEXICON, type Brand } from './score/lexicon.ts';
import { createScorer, FITTED_MODEL, type FittedModel, type Thresholds } from './score/model.ts';
import { writeSightings, type SightingRow } from './store.ts';
import type {
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
export type { HostQuery, VerdictQuery } from './read.ts';
export { worstVerdict } from './read.ts';
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
  createScorer,
  FITTED_MODEL,
  logistic,
  verdictOf,
  type FittedModel,
  type Scorer,
  type Thresholds,
} from './score/model.ts';
export { LEXICON, createBrandIndex, type Brand, type BrandIndex, type Lexicon } from './score/lexicon.ts';
export * from './types.ts';

export interface WebDeps {
  logger: Logger;
  registry: Registry;
  /** Where URLs and sightings are kept; `ingest` and the read API need it. */
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
}

export interface Web {
  readonly name: 'web';
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly model: FittedModel;
  readonly thresholds: Thresholds;
  /** Throws UrlInputError (an InputError, exit code 2) when the text is not an http(s) URL or host. */
  normalise(text: string): NormalisedUrl;
  /** Scores a URL or a bare host name; throws UrlInputError like `normalise`. */
  score(input: string | NormalisedUrl): ScoredUrl;
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
}

export interface CertstreamIntake {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly connected: Promise<void>;
  /** Resolves when every write queued so far has been tried. */
  settled(): Promise<void>;
  readonly stats: { updates: number; names: number; badFrames: number; badNames: number; kept: number };
}

export function createWeb(config: WebConfig, deps: WebDeps): Web {
  const model = deps.model ?? FITTED_MODEL;
  const brandIndex = createBrandIndex(LEXICON);
  const scorer = createScorer(model, brandIndex, config.thresholds ?? model.thresholds);
  // Plain numbers per URL, handed to prom-client at scrape time: even a labelled child's inc
  // cost a fifth of a URL's scoring.
  const scoredBy: Record<Verdict, number> = { benign: 0, suspicious: 0, malicious: 0 };
  new Counter({
    name: 'tsunagi_web_urls_scored_total',
    help: 'URLs scored, by verdict',
    labelNames: ['verdict'],
    registers: [deps.registry],
    collect() {
      this.reset();
      for (const verdict of VERDICTS) this.inc({ verdict }, scoredBy[verdict]);
    },
  });
  const inputErrors = new Counter({
    name: 'tsunagi_web_input_errors_total',
    help: 'Inputs rejected, by kind (url: a line that is no http(s) URL; list: a file that is no URL list; certstream: a frame that is no certstream message)',
    labelNames: ['input'],
    registers: [deps.registry],
  });
  const now = deps.now ?? (() => new Date());
  const database = () => {
    if (!deps.db) throw new Error('web: no database to keep URLs in');
    return deps.db;
  };
  const score = (input: string | NormalisedUrl) => {
    const result = scorer.score(typeof input === 'string' ? normaliseUrl(input, config.maxUrlLength) : input);
    scoredBy[result.verdict]++;
    return result;
  };

  const web: Web = {
    name: 'web',
    model,
    thresholds: scorer.thresholds,
    async start() {},
    async stop() {},
    normalise: (text) => normaliseUrl(text, config.maxUrlLength),
    score,
    async ingest(records, source, onBatch) {
      const db = database();
      const result: IngestResult = {
        urls: 0,
        bad: 0,
        newUrls: 0,
        newSightings: 0,
        verdicts: { benign: 0, suspicious: 0, malicious: 0 },
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
        try {
          row = score(record.url);
        } catch (error) {
          if (!(error instanceof UrlInputError)) throw error;
          result.bad++;
          inputErrors.inc({ input: 'url' });
          continue;
        }
        result.urls++;
        result.verdicts[row.verdict]++;
        batch.push({
          scored: row,
          source,
          seenAt: record.seenAt ?? now().toISOString(),
          description: record.description ?? null,
        });
        if (batch.length >= config.batchSize) await flush();
      }
      if (batch.length > 0) await flush();
      deps.logger.info({ source, ...result }, 'web ingest done');
      return result;
    },
    verdicts: (query) => readVerdicts(database(), query),
    hosts: (query) => readHosts(database(), query),
    brand: (key) => brandIndex.brand(key),
    brands: LEXICON.brands,
    countInputError: (input) => inputErrors.inc({ input }),
    certstream(onVerdict) {
      if (!config.certstream) throw new Error('web: no certstream URL configured');
      return certstreamIntake(config.certstream, {
        deps,
        score,
        onVerdict,
        ingest: (records, source) => web.ingest(records, source),
        inputErrors,
      });
    },
  };
  return web;
}

const RANK: Record<Verdict, number> = { benign: 0, suspicious: 1, malicious: 2 };

function certstreamIntake(
  config: NonNullable<WebConfig['certstream']>,
  parts: {
    deps: WebDeps;
    score: (input: string) => ScoredUrl;
    onVerdict: ((scored: ScoredUrl, update: CertstreamUpdate) => void) | undefined;
    ingest: Web['ingest'];
    inputErrors: Counter;
  },
): CertstreamIntake {
  const stats = { updates: 0, names: 0, badFrames: 0, badNames: 0, kept: 0 };
  let writes = Promise.resolve();
  const onUpdate = (update: CertstreamUpdate) => {
    stats.updates++;
    const kept: ScoredUrl[] = [];
    for (const name of update.domains) {
      stats.names++;
      let scored: ScoredUrl;
      try {
        scored = parts.score(`https://${name}/`);
      } catch (error) {
        if (!(error instanceof UrlInputError)) throw error;
        stats.badNames++;
        continue;
      }
      if (RANK[scored.verdict] < RANK[config.minVerdict]) continue;
      stats.kept++;
      kept.push(scored);
      parts.onVerdict?.(scored, update);
    }
    if (kept.length === 0 || !parts.deps.db) return;
    const records = kept.map((s) => ({ url: s.url, seenAt: update.seenAt }));
    // In order, one at a time; a failed write is logged and the stream goes on.
    writes = writes
      .then(() => parts.ingest(records, 'certstream'))
      .then(
        () => undefined,
        (error: unknown) => parts.deps.logger.error({ err: error }, 'web: certstream write failed'),
      );
  };
  const watch = watchCertstream({
    url: config.url,
    reconnectMs: config.reconnectMs,
    maxMessageBytes: config.maxMessageBytes,
    logger: parts.deps.logger,
    onUpdate,
    onBadFrame: () => {
      stats.badFrames++;
      parts.inputErrors.inc({ input: 'certstream' });
    },
  });
  return {
    start: () => watch.start(),
    async stop() {
      await watch.stop();
      await writes;
    },
    connected: watch.connected,
    settled: () => writes,
    stats,
  };
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
  webStatistics,
  type Campaign,
  type CampaignHost,
  type Tie,
  type TieKind,
  type WebStatistics,
} from './campaign/cluster.ts';
export { campaignHostOf, HostInfrastructure, parseInfrastructure } from './campaign/hosts.ts';
export { abuseContacts, RdapInputError, type AbuseContact } from './takedown/rdap.ts';
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
  TAKEDOWN_STATUSES,
  TakedownError,
  type TakedownRequest,
  type TakedownStatus,
  type TakedownTables,
} from './takedown/requests.ts';
export {
  checkPage,
  DEFAULT_PAGE_LIMITS,
  FAVICONS,
  KIT_MARKERS,
  kitMarkersIn,
  PageCheckError,
  type FaviconEntry,
  type KitMarker,
  type PageCheck,
  type PageLimits,
} from './page/check.ts';
export { webOverview, type WebOverview } from './campaign/overview.ts';
