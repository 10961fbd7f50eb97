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
import { cursorOf, type IndicatorChange, type IntelChange } from './feed.ts';
import { indicatorKey, type IndicatorKey, type ParsedSighting } from './normalise.ts';
import { indicatorFromRow, tallyStateOf, type IndicatorRow } from './rows.ts';
import { TallyChanges } from './tally.ts';
import {
  moreRestrictedTier,
  moreRestrictedTlp,
  type AuditSink,
  type IndicatorKind,
  type Relationship,
  type Tier,
  type Tlp,
} from './types.ts';

export type IndicatorRef = string | { kind: IndicatorKind; value: string; port?: number; proto?: string };

/** The caller's open transaction, for writes that must commit together with its own. */
export interface WithinTransaction {
  trx: Transaction<Database>;
}

export interface RecordResult {
  indicatorId: string;
  created: boolean;
}

/** Independent sources: the chance all of them are wrong is the product of each being wrong. */
export function combineConfidence(confidences: readonly number[]): number {
  let allWrong = 1;
  for (const c of confidences) allWrong *= 1 - Math.min(100, Math.max(0, c)) / 100;
  return Math.round((1 - allWrong) * 100);
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

/** A version timestamp strictly after `previous`, as STIX needs for a new version. */
function nextModified(now: Date, previous: string | undefined): string {
  let t = now.getTime();
  if (previous) t = Math.max(t, Date.parse(previous) + 1);
  return new Date(t).toISOString();
}

function indicatorChange(kind: IndicatorChange['kind'], row: IndicatorRow): IndicatorChange {
  const indicator = indicatorFromRow(row);
  return { kind, indicator, cursor: cursorOf(indicator), local: true };
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

/** Inserts or updates this source's sighting; true when it is the source's first. */
async function upsertSighting(
  trx: Transaction<Database>,
  indicatorId: string,
  sighting: ParsedSighting,
  observed: string,
): Promise<boolean> {
  const previous = await trx
    .selectFrom('sightings')
    .selectAll()
    .where('indicator_id', '=', indicatorId)
    .where('source', '=', sighting.source)
    .executeTakeFirst();
  if (previous) {
    await trx
      .updateTable('sightings')
      .set({
        count: previous.count + 1,
        confidence: Math.max(previous.confidence, Math.round(sighting.confidence)),
        first_seen: observed < previous.first_seen ? observed : previous.first_seen,
        last_seen: observed > previous.last_seen ? observed : previous.last_seen,
      })
      .where('id', '=', previous.id)
      .execute();
    return false;
  }
  await trx
    .insertInto('sightings')
    .values({
      id: randomUUID(),
      indicator_id: indicatorId,
      source: sighting.source,
      confidence: Math.round(sighting.confidence),
      count: 1,
      first_seen: observed,
      last_seen: observed,
    })
    .execute();
  return true;
}

async function insertIndicator(
  w: WriteContext,
  trx: Transaction<Database>,
  sighting: ParsedSighting,
  key: IndicatorKey,
  observed: string,
  now: Date,
  tallies: TallyChanges,
): Promise<IndicatorRow> {
  const row: IndicatorRow = {
    id: randomUUID(),
    kind: key.kind,
    value: key.value,
    port: key.port,
    proto: key.proto,
    family: (sighting.family ?? '').trim().toLowerCase(),
    confidence: Math.round(sighting.confidence),
    tier: sighting.tier,
    tlp: sighting.tlp,
    asn: sighting.asn ?? null,
    attributes: JSON.stringify(sighting.attributes ?? {}),
    first_seen: observed,
    last_seen: observed,
    expires_at: new Date(Date.parse(observed) + w.ttlMs(key.kind)).toISOString(),
    withdrawn_at: null,
    withdrawn_reason: null,
    created_at: now.toISOString(),
    modified_at: now.toISOString(),
  };
  tallies.move(undefined, tallyStateOf(row));
  await trx.insertInto('indicators').values(row).execute();
  return row;
}

/** The existing indicator after a new sighting: sources recombined, the most careful marking kept. */
async function updateIndicator(
  w: WriteContext,
  trx: Transaction<Database>,
  existing: IndicatorRow,
  sighting: ParsedSighting,
  key: IndicatorKey,
  observed: string,
  now: Date,
  tallies: TallyChanges,
): Promise<IndicatorRow> {
  const all = await trx
    .selectFrom('sightings')
    .select('confidence')
    .where('indicator_id', '=', existing.id)
    .execute();
  const lastSeen = observed > existing.last_seen ? observed : existing.last_seen;
  const attributes = {
    ...(JSON.parse(existing.attributes) as Record<string, string>),
    ...(sighting.attributes ?? {}),
  };
  // A later sighting brings a withdrawn indicator back; an older report does not. One of
  // the same millisecond is not older: a detector that withdraws and re-publishes within
  // one millisecond must not leave the indicator withdrawn.
  const revived = existing.withdrawn_at !== null && observed >= existing.withdrawn_at;
  const changes = {
    confidence: combineConfidence(all.map((r) => r.confidence)),
    family: existing.family || (sighting.family ?? '').trim().toLowerCase(),
    // Merging keeps the most careful classification any source asked for.
    tier: moreRestrictedTier(existing.tier as Tier, sighting.tier),
    tlp: moreRestrictedTlp(existing.tlp as Tlp, sighting.tlp),
    asn: existing.asn ?? sighting.asn ?? null,
    attributes: JSON.stringify(attributes),
    first_seen: observed < existing.first_seen ? observed : existing.first_seen,
    last_seen: lastSeen,
    expires_at: new Date(Date.parse(lastSeen) + w.ttlMs(key.kind)).toISOString(),
    withdrawn_at: revived ? null : existing.withdrawn_at,
    withdrawn_reason: revived ? null : existing.withdrawn_reason,
    modified_at: nextModified(now, existing.modified_at),
  };
  const row = { ...existing, ...changes };
  tallies.move(tallyStateOf(existing), tallyStateOf(row));
  await trx.updateTable('indicators').set(changes).where('id', '=', existing.id).execute();
  return row;
}

async function mergeOne(
  w: WriteContext,
  trx: Transaction<Database>,
  sighting: ParsedSighting,
  key: IndicatorKey,
  now: Date,
  tallies: TallyChanges,
  changes: IntelChange[],
): Promise<RecordResult> {
  const observed = sighting.observedAt ? new Date(sighting.observedAt).toISOString() : now.toISOString();
  const existing = await findByKey(trx, key, w.lockRows);
  const id = existing?.id ?? '';
  let row: IndicatorRow;
  let newSource: boolean;
  if (!existing) {
    row = await insertIndicator(w, trx, sighting, key, observed, now, tallies);
    newSource = await upsertSighting(trx, row.id, sighting, observed);
  } else {
    newSource = await upsertSighting(trx, id, sighting, observed);
    row = await updateIndicator(w, trx, existing, sighting, key, observed, now, tallies);
  }
  changes.push(indicatorChange(existing ? 'indicator.updated' : 'indicator.added', row), {
    kind: 'sighting.added',
    indicatorId: row.id,
    source: sighting.source,
    confidence: Math.round(sighting.confidence),
    observedAt: observed,
    newSource,
    local: true,
  });
  if (sighting.c2 && key.kind === 'bot') {
    const target = await findByKey(
      trx,
      indicatorKey('c2', sighting.c2.value, sighting.c2.port, sighting.c2.proto),
    );
    if (target)
      await upsertRelationship(trx, row.id, target.id, 'communicates-with', sighting.source, observed);
  }
  return { indicatorId: row.id, created: !existing };
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
        const results: RecordResult[] = [];
        const changes: IntelChange[] = [];
        const tallies = new TallyChanges();
        for (const { sighting, key } of parsed)
          results.push(await mergeOne(w, trx, sighting, key, now, tallies, changes));
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
