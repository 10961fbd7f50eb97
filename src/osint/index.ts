/**
 * The osint room: threat information published as RSS/Atom feeds and documents (HTML, text,
 * PDF), kept with provenance, and the indicators in it (addresses with ports, domains, URLs,
 * hashes, CVE and ATT&CK ids, defanged or not, in English and Japanese). The only way in: other
 * rooms and the CLI import from here. Intel takes the indicators through its own OSINT intake.
 */
import type { Kysely } from 'kysely';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../core/index.ts';
import type { OsintConfig } from './config.ts';
import { readDocument, type DocumentText } from './document/read.ts';
import { extractIndicators } from './extract/extract.ts';
import type { ExtractedIndicator } from './extract/types.ts';
import { collectFeeds, type FetchRound, type OsintIntake } from './fetch/collect.ts';
import type { OsintTables } from './migrations.ts';
import { indicatorsOf, listDocuments, type DocumentSummary } from './store.ts';

export { OsintConfig, FeedConfig } from './config.ts';
export { osintMigrations, type OsintTables } from './migrations.ts';
export { extractIndicators } from './extract/extract.ts';
export { refang } from './extract/refang.ts';
export {
  OSINT_INDICATOR_TYPES,
  type ExtractedIndicator,
  type ExtractOptions,
  type OsintIndicatorType,
} from './extract/types.ts';
export {
  documentKind,
  htmlToText,
  DocumentError,
  type DocumentKind,
  type DocumentText,
} from './document/read.ts';
export { parseFeed, FeedFormatError, type FeedItem } from './fetch/feed.ts';
export type { FetchRound, OsintIntake } from './fetch/collect.ts';
export type { DocumentSummary, StoredDocument } from './store.ts';
export { documentLanguage, type DocumentLanguage } from './document/language.ts';
export {
  osintView,
  type OsintMarking,
  type OsintView,
  type OsintViewDocument,
  type OsintViewIndicator,
  type OsintViewQuery,
} from './view.ts';

/** What the component did since it started: for the rate line and the pipeline's health. */
export interface OsintStats {
  /** Rounds finished (each reads every configured feed once). */
  rounds: number;
  /** A round is under way now. */
  running: boolean;
  /** When the last round ended (ms since the epoch; 0: none yet). */
  lastRoundAt: number;
  /** The last round's own counts (feeds, items, documents, errors...). */
  lastRound: FetchRound | undefined;
  /** Totals over every round. */
  documents: number;
  duplicates: number;
  indicators: number;
  /** Feeds and documents that could not be read (retried next round: nothing is lost for good). */
  errors: number;
}

export interface OsintDeps {
  logger: Logger;
  registry: Registry;
  /** Where documents and their indicators are kept; `fetch` and the reads need it. */
  db?: Kysely<OsintTables>;
  /** Where each new document's indicators go next (intel's OSINT intake, wired by the CLI). */
  intake?: OsintIntake;
  now?: () => Date;
}

export interface Osint {
  readonly name: 'osint';
  /** Reads the feeds now and every `intervalMs` (when set and feeds are configured). */
  start(): Promise<void>;
  /** Stops the timer and waits for a round under way. */
  stop(): Promise<void>;
  /** The indicators in a text, refanged and canonical, once each. */
  extract(text: string): ExtractedIndicator[];
  /** A document's text: HTML stripped, PDF through pdftotext; `hint` is a file name or media type. */
  read(bytes: Uint8Array, hint: string): Promise<DocumentText>;
  /** One round over the configured feeds; a call during a round shares it. */
  fetch(): Promise<FetchRound>;
  /**
   * Resolves when the first round has ended (read or failed: `stats()` then holds its counts), at
   * once when `start()` reads nothing (no feeds or no interval), and on `stop()`. Never rejects.
   */
  firstRound(): Promise<void>;
  documents(limit?: number): Promise<DocumentSummary[]>;
  indicatorsOf(documentId: string): Promise<ExtractedIndicator[]>;
  /** Counts a rejected input (for the CLI's bad-input path). */
  countInputError(input: 'document' | 'config'): void;
  /** Counts since start (rounds, documents, indicators, errors). */
  stats(): OsintStats;
}

function metrics(registry: Registry) {
  return {
    documents: new Counter({
      name: 'tsunagi_osint_documents_total',
      help: 'Documents taken from feeds, by outcome (new, duplicate by content hash, error)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    indicators: new Counter({
      name: 'tsunagi_osint_indicators_total',
      help: 'Indicators extracted, by type',
      labelNames: ['type'],
      registers: [registry],
    }),
    feedErrors: new Counter({
      name: 'tsunagi_osint_feed_errors_total',
      help: 'Feeds that could not be read, by feed and reason (fetch, format)',
      labelNames: ['feed', 'reason'],
      registers: [registry],
    }),
    inputErrors: new Counter({
      name: 'tsunagi_osint_input_errors_total',
      help: 'Inputs rejected, by kind',
      labelNames: ['input'],
      registers: [registry],
    }),
    rounds: new Counter({
      name: 'tsunagi_osint_rounds_total',
      help: 'Rounds over the configured feeds finished',
      registers: [registry],
    }),
    lastRound: new Gauge({
      name: 'tsunagi_osint_last_round_timestamp_seconds',
      help: 'When the last round over the feeds ended (Unix time)',
      registers: [registry],
    }),
    extractSeconds: new Histogram({
      name: 'tsunagi_osint_extract_seconds',
      help: 'Time to extract the indicators of one text',
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2],
      registers: [registry],
    }),
  };
}

export function createOsint(config: OsintConfig, deps: OsintDeps): Osint {
  const m = metrics(deps.registry);
  const options = { hostsOfUrls: config.hostsOfUrls, contextChars: config.contextChars };
  const pdf = {
    command: config.pdftotext,
    timeoutMs: config.timeoutMs,
    maxOutputBytes: config.maxDocumentBytes * 4,
  };
  const needDb = (): Kysely<OsintTables> => {
    if (!deps.db) throw new Error('the osint room was created without a store');
    return deps.db;
  };
  const round = async () =>
    collectFeeds({
      config,
      db: needDb(),
      logger: deps.logger,
      ...(deps.intake ? { intake: deps.intake } : {}),
      now: deps.now ?? (() => new Date()),
      counters: {
        documents: (outcome) => m.documents.inc({ outcome }),
        indicators: (type, n) => m.indicators.inc({ type }, n),
        feedError: (feed, reason) => m.feedErrors.inc({ feed, reason }),
      },
    });
  const stats: OsintStats = {
    rounds: 0,
    running: false,
    lastRoundAt: 0,
    lastRound: undefined,
    documents: 0,
    duplicates: 0,
    indicators: 0,
    errors: 0,
  };
  const counted = (r: FetchRound): FetchRound => {
    stats.rounds++;
    stats.lastRoundAt = Date.now();
    m.rounds.inc();
    m.lastRound.set(stats.lastRoundAt / 1000);
    stats.lastRound = r;
    stats.documents += r.documents;
    stats.duplicates += r.duplicates;
    stats.indicators += r.indicators;
    stats.errors += r.errors;
    return r;
  };
  let firstRoundEnded!: () => void;
  const firstRound = new Promise<void>((resolve) => (firstRoundEnded = resolve));
  // One round at a time: two would race to store the same new document.
  let running: Promise<FetchRound> | undefined;
  const fetchOnce = (): Promise<FetchRound> => {
    running ??= round()
      .then(counted)
      .finally(() => {
        running = undefined;
        firstRoundEnded();
      });
    return running;
  };
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (running) return;
    fetchOnce().then(
      (r) => deps.logger.info({ ...r }, 'osint feeds read'),
      (error: unknown) => deps.logger.error({ err: error }, 'osint round failed'),
    );
  };
  return {
    name: 'osint',
    async start() {
      if (config.intervalMs === 0 || config.feeds.length === 0) return firstRoundEnded();
      needDb();
      tick();
      timer = setInterval(tick, config.intervalMs);
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
      firstRoundEnded();
    },
    extract(text) {
      const end = m.extractSeconds.startTimer();
      try {
        return extractIndicators(text, options);
      } finally {
        end();
      }
    },
    read: (bytes, hint) => readDocument(bytes, hint, pdf),
    fetch: fetchOnce,
    firstRound: () => firstRound,
    documents: (limit) => listDocuments(needDb(), limit),
    indicatorsOf: (id) => indicatorsOf(needDb(), id),
    countInputError: (input) => m.inputErrors.inc({ input }),
    stats: () => ({ ...stats, running: running !== undefined }),
  };
}
