/**
 * The osint room wired to intel, as `tsunagi osint fetch` and `tsunagi start` both run it: each
 * new document's addresses, names and URLs go through intel's OSINT intake (`osint:<feed>`
 * sightings under the feed's TLP), counted for the rate line and the pipeline's health.
 */
import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import { type ComponentHealth, healthLevel, type Logger } from '../core/index.ts';
import { recordOsintDocument, type Intel } from '../intel/index.ts';
import { createOsint, type Osint, type OsintConfig, type OsintTables } from '../osint/index.ts';
import type { Store } from '../store/index.ts';

export interface OsintIntakeRun {
  osint: Osint;
  /** Intel sightings written from OSINT documents since start. */
  sightings(): number;
}

export function createOsintIntake(
  config: OsintConfig,
  deps: { store: Store; intel: Intel; logger: Logger; registry: Registry },
): OsintIntakeRun {
  let sightings = 0;
  const osint = createOsint(config, {
    logger: deps.logger,
    registry: deps.registry,
    db: deps.store.db as unknown as Kysely<OsintTables>,
    intake: async (document, indicators, feed) => {
      const recorded = await recordOsintDocument(
        deps.intel,
        {
          id: document.id,
          feed: feed.name,
          url: document.url,
          title: document.title,
          fetchedAt: document.fetchedAt,
        },
        indicators,
        { tlp: feed.tlp, ...(feed.tier ? { tier: feed.tier } : {}) },
      );
      sightings += recorded.length;
    },
  });
  return { osint, sightings: () => sightings };
}

/**
 * OSINT intake in the pipeline's health: documents handled; a feed or document that failed is a
 * warning, not a loss (it is read again next round), and so is a round overdue by two intervals.
 */
export function osintHealth(run: OsintIntakeRun, intervalMs: number, now = Date.now()): ComponentHealth {
  const s = run.osint.stats();
  const overdue = intervalMs > 0 && s.lastRoundAt > 0 && !s.running && now - s.lastRoundAt > 2 * intervalMs;
  return {
    component: 'osint',
    level: healthLevel(0, (s.lastRound?.errors ?? 0) > 0 || overdue),
    handled: s.documents + s.duplicates,
    dropped: 0,
    counters: {
      rounds: s.rounds,
      documents: s.documents,
      duplicates: s.duplicates,
      indicators: s.indicators,
      sightings: run.sightings(),
      errors: s.errors,
      lastRoundErrors: s.lastRound?.errors ?? 0,
      lastRoundAgeSeconds: s.lastRoundAt > 0 ? Math.round((now - s.lastRoundAt) / 1000) : -1,
    },
  };
}
