/**
 * Intel's writes: merging sightings into indicators, withdrawals and relationships, each in one
 * transaction with its tallies and audit record. Every write returns the changes it committed,
 * which index.ts announces on the change feed.
 */
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { InputError } from '../core/index.ts';
import type { Database, Store } from '../store/index.ts';
import type { IntelConfig } from './config.ts';
import type { IndicatorChange, IntelChange } from './feed.ts';
import {
  combineConfidence,
  indicatorChange,
  mergeBatch,
  nextModified,
  type MergeContext,
  type RecordResult,
} from './merge.ts';
import { indicatorKey, type IndicatorKey, type ParsedSighting } from './normalise.ts';
import { tallyStateOf, type IndicatorRow } from './rows.ts';
import { TallyChanges } from './tally.ts';
import type { AuditSink, IndicatorKind, Relationship } from './types.ts';

export { combineConfidence, type RecordResult } from './merge.ts';

export type IndicatorRef = string | { kind: IndicatorKind; value: string; port?: number; proto?: string };

/** The caller's open transaction, for writes that must commit together with its own. */
export interface WithinTransaction {
  trx: Transaction<Database>;
}

/** The store notification every committed write sends (PostgreSQL): other processes' feeds catch up on it. */
export const CHANGES_CHANNEL = 'intel_changes';

/** Serialises intel's writers across replicas on PostgreSQL when no audit log lends its lock. */
const INTEL_WRITE_LOCK_KEY = 0x7a5a_0003;

/**
 * The time a write transaction stamps its changes with: now, but strictly after every
 * modification already committed. Writers hold one advisory lock on PostgreSQL (SQLite has one
 * writer), so versions are stamped in commit order, and a follower of `changedSince` (the
 * change feed's catch-up, the publisher, on any replica) can never pass a watermark over a change
 * that commits later with an earlier stamp: what lost publications between two hubs.
 */
async function commitClock(trx: Transaction<Database>): Promise<Date> {
  const row = await trx
    .selectFrom('indicators')
    .select('modified_at')
    .orderBy('modified_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const now = Date.now();
  return new Date(row ? Math.max(now, Date.parse(row.modified_at) + 1) : now);
}

type Reader = Transaction<Database> | Store['db'];

/** What intel's writes need besides a transaction. */
interface WriteContext {
  store: Store;
  audit: AuditSink | undefined;
  /** The audit log's lock when there is one (its hash chain needs the same order), else intel's. */
  writeLock: number;
  /**
   * PostgreSQL: a writer locks the row it read, so two transactions merging into the same
   * indicator cannot both start from the same old state (the tallies move by its old state).
   */
  lockRows: boolean;
  ttlMs(kind: IndicatorKind): number;
}

/** The indicator with this key; `forUpdate` locks its row (PostgreSQL) for a merge. */
async function findByKey(trx: Reader, key: IndicatorKey, forUpdate = false) {
  return trx
    .selectFrom('indicators')
    .selectAll()
    .where('kind', '=', key.kind)
    .where('value', '=', key.value)
    .where('port', '=', key.port)
    .where('proto', '=', key.proto)
    .$if(forUpdate, (q) => q.forUpdate())
    .executeTakeFirst();
}

async function resolve(trx: Reader, ref: IndicatorRef, forUpdate = false) {
  if (typeof ref === 'string')
    return trx
      .selectFrom('indicators')
      .selectAll()
      .where('id', '=', ref)
      .$if(forUpdate, (q) => q.forUpdate())
      .executeTakeFirst();
  return findByKey(trx, indicatorKey(ref.kind, ref.value, ref.port, ref.proto), forUpdate);
}

async function upsertRelationship(
  trx: Transaction<Database>,
  fromId: string,
  toId: string,
  type: string,
  source: string,
  at: string,
): Promise<Relationship> {
  const existing = await trx
    .selectFrom('relationships')
    .selectAll()
    .where('from_id', '=', fromId)
    .where('to_id', '=', toId)
    .where('type', '=', type)
    .executeTakeFirst();
  if (existing) {
    const lastSeen = at > existing.last_seen ? at : existing.last_seen;
    await trx
      .updateTable('relationships')
      .set({ last_seen: lastSeen })
      .where('id', '=', existing.id)
      .execute();
    return {
      id: existing.id,
      fromId,
      toId,
      type,
      source: existing.source,
      firstSeen: existing.first_seen,
      lastSeen,
    };
  }
  const id = randomUUID();
  await trx
    .insertInto('relationships')
    .values({ id, from_id: fromId, to_id: toId, type, source, first_seen: at, last_seen: at })
    .execute();
  return { id, fromId, toId, type, source, firstSeen: at, lastSeen: at };
}

/** Withdraws an indicator row and moves its tallies; the caller writes the audit entry. */
async function markWithdrawn(trx: Transaction<Database>, found: IndicatorRow, reason: string) {
  const now = await commitClock(trx);
  const tallies = new TallyChanges();
  tallies.move(tallyStateOf(found), { ...tallyStateOf(found), withdrawn: true });
  await tallies.apply(trx);
  const changes = {
    withdrawn_at: now.toISOString(),
    withdrawn_reason: reason.slice(0, 500),
    modified_at: nextModified(now, found.modified_at),
  };
  await trx.updateTable('indicators').set(changes).where('id', '=', found.id).execute();
  return { ...found, ...changes };
}

/** What merging a batch needs from the writer: row locks, lifetimes, and the relationship upsert. */
function mergeContext(w: WriteContext): MergeContext {
  return {
    lockRows: w.lockRows,
    ttlMs: w.ttlMs,
    findId: async (trx, key) => (await findByKey(trx, key))?.id,
    relate: (trx, fromId, toId, source, at) =>
      upsertRelationship(trx, fromId, toId, 'communicates-with', source, at),
  };
}

export function createWrites(config: IntelConfig, deps: { store: Store; audit?: AuditSink }) {
  const w: WriteContext = {
    store: deps.store,
    audit: deps.audit,
    writeLock: deps.audit?.lockKey ?? INTEL_WRITE_LOCK_KEY,
    lockRows: deps.store.engine === 'postgres',
    ttlMs: (kind) => config.ttlDays[kind] * 86_400_000,
  };
  const { store, audit, writeLock } = w;
  const lockRows = w.lockRows;
  const merging = mergeContext(w);

  /** Runs `work` in the caller's transaction when given, else in its own under the write lock. */
  function inTransaction<T>(
    within: WithinTransaction | undefined,
    work: (trx: Transaction<Database>) => Promise<T>,
  ) {
    return within ? work(within.trx) : store.transaction(work, writeLock);
  }

  return {
    writeLock,
    /** The indicator a reference names (outside a transaction). */
    get: (ref: IndicatorRef) => resolve(store.db, ref),
    inTransaction,

    /** Merges parsed sightings in one transaction; returns the results and the changes made. */
    async record(
      parsed: readonly { sighting: ParsedSighting; key: IndicatorKey }[],
      actor: string,
      within: WithinTransaction | undefined,
    ): Promise<{ results: RecordResult[]; changes: IntelChange[] }> {
      return inTransaction(within, async (trx) => {
        const now = await commitClock(trx);
        const changes: IntelChange[] = [];
        const tallies = new TallyChanges();
        const results = await mergeBatch(merging, trx, parsed, now, tallies, changes);
        await tallies.apply(trx);
        if (results.length > 0) await store.notify?.(trx, CHANGES_CHANNEL);
        if (audit && results.length > 0) {
          const sources = [...new Set(parsed.map((p) => p.sighting.source))];
          await audit.append(trx, {
            actor,
            action: 'intel.record',
            target:
              results.length === 1 ? `indicator:${results[0]!.indicatorId}` : `indicators:${results.length}`,
            detail: { count: results.length, created: results.filter((r) => r.created).length, sources },
          });
        }
        return { results, changes };
      });
    },

    async withdraw(ref: IndicatorRef, reason: string, actor: string) {
      return store.transaction(async (trx) => {
        const found = await resolve(trx, ref, lockRows);
        if (!found) throw new InputError('no such indicator');
        const row = await markWithdrawn(trx, found, reason);
        await store.notify?.(trx, CHANGES_CHANNEL);
        await audit?.append(trx, {
          actor,
          action: 'intel.withdraw',
          target: `indicator:${found.id}`,
          reason: reason.slice(0, 500),
        });
        return indicatorChange('indicator.withdrawn', row);
      }, writeLock);
    },

    async withdrawSource(
      ref: IndicatorRef,
      source: string,
      reason: string,
      actor: string,
      within: WithinTransaction | undefined,
    ) {
      return inTransaction(within, async (trx) => {
        const found = await resolve(trx, ref, lockRows);
        if (!found) return { outcome: 'unknown' as const };
        const sighting = await trx
          .selectFrom('sightings')
          .selectAll()
          .where('indicator_id', '=', found.id)
          .where('source', '=', source)
          .executeTakeFirst();
        if (!sighting) return { outcome: 'unknown' as const, row: found };
        await trx.deleteFrom('sightings').where('id', '=', sighting.id).execute();
        const left = await trx
          .selectFrom('sightings')
          .select('confidence')
          .where('indicator_id', '=', found.id)
          .execute();
        const outcome = left.length === 0 ? ('withdrawn' as const) : ('source-removed' as const);
        let row = found;
        let change: IndicatorChange | undefined;
        if (outcome === 'withdrawn') {
          // Already withdrawn (by an analyst, say): the sighting goes, the withdrawal stays as it was.
          if (found.withdrawn_at === null) {
            row = await markWithdrawn(trx, found, reason);
            change = indicatorChange('indicator.withdrawn', row);
          }
        } else {
          const changes = {
            confidence: combineConfidence(left.map((r) => r.confidence)),
            modified_at: nextModified(await commitClock(trx), found.modified_at),
          };
          await trx.updateTable('indicators').set(changes).where('id', '=', found.id).execute();
          row = { ...found, ...changes };
          change = indicatorChange('indicator.updated', row);
        }
        if (change) await store.notify?.(trx, CHANGES_CHANNEL);
        await audit?.append(trx, {
          actor,
          action: 'intel.withdraw-source',
          target: `indicator:${found.id}`,
          reason: reason.slice(0, 500),
          detail: {
            source,
            outcome,
            sighting: {
              count: sighting.count,
              confidence: sighting.confidence,
              firstSeen: sighting.first_seen,
              lastSeen: sighting.last_seen,
            },
          },
        });
        return { outcome, row, change };
      });
    },

    async relate(from: IndicatorRef, to: IndicatorRef, type: string, source: string) {
      if (!/^[a-z][a-z0-9-]{0,62}$/.test(type)) throw new InputError(`bad relationship type "${type}"`);
      return store.transaction(async (trx) => {
        const a = await resolve(trx, from);
        const b = await resolve(trx, to);
        if (!a || !b) throw new InputError('both ends of a relationship must be known indicators');
        const rel = await upsertRelationship(trx, a.id, b.id, type, source, new Date().toISOString());
        await audit?.append(trx, {
          actor: source,
          action: 'intel.relate',
          target: `relationship:${rel.id}`,
          detail: { from: a.id, to: b.id, type },
        });
        return rel;
      }, writeLock);
    },
  };
}
