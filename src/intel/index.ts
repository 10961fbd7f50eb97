/**
 * Intel: indicators built from sightings by named sources. The same C&C server reported by three
 * ISPs is one indicator with three sightings; confidence combines them; indicators expire when
 * no longer seen and can be withdrawn; every committed change goes out on the change feed. No
 * network I/O happens here.
 *
 * The parts: write.ts (merging, withdrawals, relationships), read.ts (pages and lookups),
 * feed.ts (the change feed), queries.ts (the console's aggregate views), adapters/ (each
 * source's intake), bots.ts (the bot list the detector follows).
 */
import { Counter, type Registry } from 'prom-client';
import { type Component, type Logger, InputError } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { IntelConfig } from './config.ts';
import { createChangeFeed, type ChangeCursor, type ChangeFeed } from './feed.ts';
import { parseSighting, type SightingInput } from './normalise.ts';
import { createQueries, type IntelQueries } from './queries.ts';
import { linkRelay, registerRelayMetrics, relayCounts, type ChangeRelay } from './relay.ts';
import { createReads, type ListQuery } from './read.ts';
import { indicatorFromRow } from './rows.ts';
import { readTallies, type TallyReading } from './tally.ts';
import {
  CHANGES_CHANNEL,
  createWrites,
  type IndicatorRef,
  type RecordResult,
  type WithinTransaction,
} from './write.ts';
import type {
  AuditSink,
  Indicator,
  IndicatorKind,
  Relationship,
  Sighting,
  SightingDocument,
} from './types.ts';

export * from './types.ts';
export { IntelConfig } from './config.ts';
export { intelMigrations } from './migrations.ts';
// The room's tables (they also join store's Database type).
export type { IndicatorTable, IndicatorTallyTable, RelationshipTable, SightingTable } from './tables.ts';
export { SightingInput, indicatorKey, canonicalIp } from './normalise.ts';
export type { IndicatorKey } from './normalise.ts';
export { readTallies, type TallyClass, type TallyReading } from './tally.ts';
export { indicatorFromRow } from './rows.ts';
export { combineConfidence } from './write.ts';
export type { IndicatorRef, RecordResult, WithinTransaction } from './write.ts';
export type { ListQuery } from './read.ts';
export {
  SORT_COLUMNS,
  sortValueOf,
  type IndicatorPageQuery,
  type IndicatorQueryBuilder,
  type IndicatorScope,
  type IndicatorSort,
  type IntelQueries,
} from './queries.ts';
export {
  compareCursors,
  type ChangeCursor,
  type ChangeFeed,
  type ChangeKind,
  type ChangeListener,
  type IndicatorChange,
  type IntelChange,
  type SightingChange,
  type SubscribeOptions,
  type Subscription,
} from './feed.ts';
export * from './adapters/index.ts';
export { followBots, type BotFollower, type BotFollowerOptions } from './bots.ts';
export {
  changeSubject,
  decodeChange,
  DEFAULT_CHANGE_SUBJECT_PREFIX,
  encodeChange,
  followRelayedChanges,
  type ChangeRelay,
  type RelayCounts,
  type RelayedChanges,
} from './relay.ts';

export interface IntelDeps {
  store: Store;
  logger: Logger;
  registry: Registry;
  audit?: AuditSink;
  /**
   * Scaled out: the change feed also goes out and comes in on this relay's subjects
   * (`<intel.feed.subjectPrefix>.<kind>`, see relay.ts); it must be started before intel.
   */
  relay?: ChangeRelay;
}

export interface SourceWithdrawal {
  /** withdrawn: it was the last source; source-removed: others still report it; unknown: the
   * indicator does not exist or this source never reported it (nothing changed). */
  outcome: 'withdrawn' | 'source-removed' | 'unknown';
  indicator?: Indicator;
}

export interface Intel extends Component {
  /** Records one sighting (merging into an existing indicator). Throws InputError on bad input. */
  recordSighting(input: SightingInput, actor?: string): Promise<RecordResult>;
  /**
   * Records many in one transaction: all or nothing. With `within`, in the caller's transaction
   * (which must hold the audit lock), so a request's other writes commit or fail with them.
   */
  recordSightings(
    inputs: readonly SightingInput[],
    actor?: string,
    within?: WithinTransaction,
  ): Promise<RecordResult[]>;
  /** Marks an indicator withdrawn (a false positive or cleaned up); it stays for history. */
  withdraw(ref: IndicatorRef, reason: string, actor: string): Promise<Indicator>;
  /**
   * One source takes its report back: its sighting goes (kept in the audit log), and the
   * indicator is withdrawn when no other source still reports it, else its confidence is
   * recombined from the sources left.
   */
  withdrawSource(
    ref: IndicatorRef,
    source: string,
    reason: string,
    actor: string,
    within?: WithinTransaction,
  ): Promise<SourceWithdrawal>;
  relate(from: IndicatorRef, to: IndicatorRef, type: string, source: string): Promise<Relationship>;
  get(ref: IndicatorRef): Promise<Indicator | undefined>;
  list(query?: ListQuery): Promise<{ items: Indicator[]; next?: string }>;
  /** Indicators by id, unknown ids left out. */
  byIds(ids: readonly string[]): Promise<Map<string, Indicator>>;
  /**
   * Indicators of one kind by value, as `get({ kind, value })` finds each, in a few queries
   * (withdrawn and expired ones too); keyed by the value as asked, unknown ones left out.
   */
  byValues(kind: IndicatorKind, values: readonly string[]): Promise<Map<string, Indicator>>;
  sightings(indicatorId: string): Promise<Sighting[]>;
  /**
   * The published documents that name it (every one, once per source and document; oldest first,
   * at most `limit`, 200 by default) and how many there are.
   */
  sightingDocuments(
    indicatorId: string,
    limit?: number,
  ): Promise<{ total: number; items: SightingDocument[] }>;
  relationships(indicatorId: string): Promise<Relationship[]>;
  /** Sightings of many indicators at once, by indicator id (for publishing pages). */
  sightingsOf(indicatorIds: readonly string[]): Promise<Map<string, Sighting[]>>;
  /** Relationships starting at many indicators at once, by source indicator id. */
  relationshipsFrom(indicatorIds: readonly string[]): Promise<Map<string, Relationship[]>>;
  /** Every source holding a sighting of any indicator. */
  sightingSources(): Promise<string[]>;
  /** Indicators modified after a cursor, in commit order: what a durable follower resumes from. */
  changedSince(after: ChangeCursor | undefined, limit: number): Promise<Indicator[]>;
  /** The change feed: subscribe to what intel commits (see feed.ts). */
  readonly changes: ChangeFeed;
  /** The console's views: scoped pages and aggregates (see queries.ts). */
  readonly queries: IntelQueries;
  /**
   * Active, new-in-24-hours and per-hour counts per (kind, tier, TLP) class at `now`, read from
   * the tallies this component keeps with every write (no indicator rows are counted).
   */
  tallies(now?: Date): Promise<TallyReading>;
}

export function createIntel(config: IntelConfig, deps: IntelDeps): Intel {
  const { store } = deps;
  const counts = { recorded: 0, created: 0, rejected: 0, withdrawn: 0 };
  new Counter({
    name: 'tsunagi_intel_sightings_total',
    help: 'Sightings recorded, by outcome (created a new indicator, merged into one, rejected as bad input)',
    labelNames: ['outcome'],
    registers: [deps.registry],
    collect() {
      this.reset();
      this.inc({ outcome: 'created' }, counts.created);
      this.inc({ outcome: 'merged' }, counts.recorded - counts.created);
      this.inc({ outcome: 'rejected' }, counts.rejected);
    },
  });
  new Counter({
    name: 'tsunagi_intel_withdrawn_total',
    help: 'Indicators withdrawn',
    registers: [deps.registry],
    collect() {
      this.reset();
      this.inc(counts.withdrawn);
    },
  });

  const reads = createReads(store);
  const writes = createWrites(config, deps);
  const feed = createChangeFeed(reads, deps.logger);
  const relayed = relayCounts();
  if (deps.relay) registerRelayMetrics(deps.registry, relayed);
  let unlinkRelay: (() => void) | undefined;

  /** Announces a committed write; one inside a caller's transaction once the catch-up finds it. */
  function announce(within: WithinTransaction | undefined, changes: Parameters<typeof feed.publish>[0]) {
    if (within) feed.expectCommit(changes);
    else feed.publish(changes);
  }

  async function recordSightings(
    inputs: readonly SightingInput[],
    actor = 'intel',
    within?: WithinTransaction,
  ): Promise<RecordResult[]> {
    if (inputs.length > config.maxBatch) {
      counts.rejected += inputs.length;
      throw new InputError(`too many sightings in one call: ${inputs.length} > ${config.maxBatch}`);
    }
    const parsed: ReturnType<typeof parseSighting>[] = [];
    for (const input of inputs) {
      try {
        parsed.push(parseSighting(input));
      } catch (error) {
        counts.rejected++;
        throw error;
      }
    }
    const done = within ? undefined : feed.writing();
    try {
      const { results, changes } = await writes.record(parsed, actor, within);
      counts.recorded += results.length;
      counts.created += results.filter((r) => r.created).length;
      announce(within, changes);
      return results;
    } finally {
      done?.();
    }
  }

  return {
    name: 'intel',
    async start() {
      const listen = store.listen?.bind(store);
      await feed.start(
        config.feed.catchUpMs,
        listen && config.feed.listen ? (onNotify) => listen(CHANGES_CHANNEL, onNotify) : undefined,
      );
      if (deps.relay)
        unlinkRelay = linkRelay(feed, deps.relay, {
          prefix: config.feed.subjectPrefix,
          logger: deps.logger,
          counts: relayed,
        });
    },
    async stop() {
      unlinkRelay?.();
      unlinkRelay = undefined;
      await feed.stop();
    },
    async recordSighting(input, actor) {
      return (await recordSightings([input], actor))[0]!;
    },
    recordSightings,

    async withdraw(ref, reason, actor) {
      if (!reason.trim()) throw new InputError('a withdrawal needs a reason');
      const done = feed.writing();
      try {
        const change = await writes.withdraw(ref, reason, actor);
        counts.withdrawn++;
        feed.publish([change]);
        return change.indicator;
      } finally {
        done();
      }
    },

    async withdrawSource(ref, source, reason, actor, within) {
      if (!reason.trim()) throw new InputError('a withdrawal needs a reason');
      const done = within ? undefined : feed.writing();
      try {
        const { outcome, row, change } = await writes.withdrawSource(ref, source, reason, actor, within);
        if (change?.kind === 'indicator.withdrawn') counts.withdrawn++;
        if (change) announce(within, [change]);
        return row ? { outcome, indicator: change?.indicator ?? indicatorFromRow(row) } : { outcome };
      } finally {
        done?.();
      }
    },

    relate: writes.relate,

    async get(ref) {
      const row = await writes.get(ref);
      return row ? indicatorFromRow(row) : undefined;
    },
    list: reads.list,
    byIds: reads.byIds,
    byValues: reads.byValues,
    sightings: reads.sightings,
    sightingDocuments: reads.sightingDocuments,
    relationships: reads.relationships,
    sightingsOf: reads.sightingsOf,
    relationshipsFrom: reads.relationshipsFrom,
    sightingSources: reads.sightingSources,
    changedSince: reads.changedSince,
    changes: feed,
    queries: createQueries(store),
    tallies(now = new Date()) {
      return readTallies(store.db, now);
    },
  };
}
