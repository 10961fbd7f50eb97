/**
 * The room's kit-path memory (kit-paths.ts) wired to its sources, store and metrics: listings of
 * the confirmed sources teach it as they are ingested, a new process reads the window's listings
 * back from the store once, and a scored URL on a kit's path is made malicious and counted.
 */
import type { Kysely } from 'kysely';
import { Counter, type Registry } from 'prom-client';
import type { WebConfig } from '../config.ts';
import { normaliseUrl, UrlInputError } from '../normalise.ts';
import type { NormalisedUrl, ScoredUrl, WebTables } from '../types.ts';
import { createKitPathMemory, withKitPath } from './kit-paths.ts';

/** The scorer's reason for a lexicon brand's own domain (score/model.ts). */
const OFFICIAL_DOMAIN = 'official_domain';

export interface KitPathIntake {
  /** The scored URL, made malicious when its path is a kit's as the memory stands at `at` (default now). */
  tie(scored: ScoredUrl, at?: Date): ScoredUrl;
  /** Whether a source's listings teach the memory. */
  confirms(source: string): boolean;
  learn(url: NormalisedUrl, listedAt: Date): void;
  /** Reads the window's listings of the confirmed sources from the store, once. */
  load(): Promise<void>;
  readonly size: number;
}

export function createKitPathIntake(
  config: Pick<WebConfig, 'kitPaths' | 'maxUrlLength'>,
  deps: { registry: Registry; db?: Kysely<WebTables>; now: () => Date; maliciousThreshold: number },
): KitPathIntake {
  const memory = createKitPathMemory(config.kitPaths);
  const sources = new Set(config.kitPaths.sources);
  const ties = new Counter({
    name: 'tsunagi_web_kit_path_ties_total',
    help: 'URLs made malicious because their path is a kit path the confirmed sources listed on other domains',
    registers: [deps.registry],
  });
  let loaded: Promise<void> | undefined;
  const readStore = async (db: Kysely<WebTables>) => {
    // The window before the newest listing, not before now: a store replayed from last year's
    // lists still ties last year's URLs (each match checks the window at its own time anyway).
    const newest = await db
      .selectFrom('web_sightings')
      .select((eb) => eb.fn.max('last_seen').as('last'))
      .where('source', 'in', [...sources])
      .executeTakeFirst();
    if (!newest?.last) return;
    const until = Math.min(deps.now().getTime(), Date.parse(newest.last));
    const since = new Date(until - config.kitPaths.windowDays * 86_400_000).toISOString();
    const rows = await db
      .selectFrom('web_sightings')
      .select(['url', 'last_seen'])
      .where('source', 'in', [...sources])
      .where('last_seen', '>=', since)
      .execute();
    for (const row of rows) {
      try {
        memory.learn(normaliseUrl(row.url, config.maxUrlLength), new Date(row.last_seen));
      } catch (error) {
        // A URL stored by an earlier version's looser normaliser: not a kit listing any more.
        if (!(error instanceof UrlInputError)) throw error;
      }
    }
  };
  return {
    tie(scored, at) {
      if (scored.verdict === 'malicious' || memory.size === 0) return scored;
      const match = memory.match(scored, at ?? deps.now());
      if (!match) return scored;
      // A kit that copies a brand's own path (`/vpass/login`) must not make the brand's site phishing.
      if (scored.reasons.some((r) => r.feature === OFFICIAL_DOMAIN)) return scored;
      ties.inc();
      return withKitPath(scored, match, deps.maliciousThreshold);
    },
    confirms: (source) => sources.has(source),
    learn: (url, listedAt) => memory.learn(url, listedAt),
    load() {
      const db = deps.db;
      loaded ??= db && sources.size > 0 ? readStore(db) : Promise.resolve();
      return loaded;
    },
    get size() {
      return memory.size;
    },
  };
}
