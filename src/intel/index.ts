/**
 * Intel: indicators built from sightings by named sources. The same C&C server reported by three
 * ISPs is one indicator with three sightings; confidence combines them; indicators expire when
 * no longer seen and can be withdrawn. No network I/O happens here.
 */
import { randomUUID } from 'node:crypto';
import type { Selectable, Transaction } from 'kysely';
import { Counter, type Registry } from 'prom-client';
import { type Component, InputError, type Logger } from '../core/index.ts';
import type { Database, IndicatorTable, RelationshipTable, SightingTable, Store } from '../store/index.ts';
import { IntelConfig } from './config.ts';
import { readTallies, TallyChanges, type TallyReading, type TallyState } from './tally.ts';
import {
  indicatorKey,
  parseSighting,
  type IndicatorKey,
  type ParsedSighting,
  type SightingInput,
} from './normalise.ts';
import {
  TIERS,
  moreRestrictedTier,
  moreRestrictedTlp,
  tierAllows,
  type AuditSink,
  type Indicator,
  type IndicatorKind,
  type Relationship,
  type Sighting,
  type Tier,
  type Tlp,
} from './types.ts';

export * from './types.ts';
export { IntelConfig } from './config.ts';
export { SightingInput, indicatorKey, canonicalIp } from './normalise.ts';
export type { IndicatorKey } from './normalise.ts';
export { readTallies, type TallyClass, type TallyReading } from './tally.ts';
export {
  sightingsFromCandidates,
  sightingsFromInfectedHosts,
  sightingsFromSurveyFindings,
  familyOfDarknetFingerprint,
  protocolName,
} from './adapters.ts';
export type { CandidateLike, SurveyFindingLike } from './adapters.ts';

export interface IntelDeps {
  store: Store;
  logger: Logger;
  registry: Registry;
  audit?: AuditSink;
}

export interface ListQuery {
  kinds?: IndicatorKind[];
  family?: string;
  minConfidence?: number;
  /** Only indicators releasable to this tier. */
  releasableTo?: Tier;
  source?: string;
  includeWithdrawn?: boolean;
  includeExpired?: boolean;
  /** Opaque cursor from a previous page. */
  cursor?: string;
  limit?: number;
  now?: Date;
}

export interface RecordResult {
  indicatorId: string;
  created: boolean;
}

export interface SourceWithdrawal {
  /** withdrawn: it was the last source; source-removed: others still report it; unknown: the
   * indicator does not exist or this source never reported it (nothing changed). */
  outcome: 'withdrawn' | 'source-removed' | 'unknown';
  indicator?: Indicator;
}

export type IndicatorRef = string | { kind: IndicatorKind; value: string; port?: number; proto?: string };

/** The caller's open transaction, for writes that must commit together with its own. */
export interface WithinTransaction {
  trx: Transaction<Database>;
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
  sightings(indicatorId: string): Promise<Sighting[]>;
  relationships(indicatorId: string): Promise<Relationship[]>;
  /** Sightings of many indicators at once, by indicator id (for publishing pages). */
  sightingsOf(indicatorIds: readonly string[]): Promise<Map<string, Sighting[]>>;
  /** Relationships starting at many indicators at once, by source indicator id. */
  relationshipsFrom(indicatorIds: readonly string[]): Promise<Map<string, Relationship[]>>;
  /** Indicators modified after a watermark, oldest first: what a publisher follows. */
  changedSince(after: { modifiedAt: string; id: string } | undefined, limit: number): Promise<Indicator[]>;
  /**
   * Active, new-in-24-hours and per-hour counts per (kind, tier, TLP) class at `now`, read from
   * the tallies this component keeps with every write (no indicator rows are counted).
   */
  tallies(now?: Date): Promise<TallyReading>;
}

function tallyStateOf(row: Selectable<IndicatorTable>): TallyState {
  return {
    kind: row.kind,
    tier: row.tier,
    tlp: row.tlp,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    withdrawn: row.withdrawn_at !== null,
  };
}

/** An indicator row as intel's shape; a damaged attributes column reads as empty rather than failing. */
export function indicatorFromRow(row: Selectable<IndicatorTable>): Indicator {
  let attributes: Record<string, string> = {};
  try {
    const parsed: unknown = JSON.parse(row.attributes);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      attributes = parsed as Record<string, string>;
  } catch {
    // A damaged attributes column shows as empty rather than failing the page.
  }
  return {
    id: row.id,
    kind: row.kind as IndicatorKind,
    value: row.value,
    port: row.port,
    proto: row.proto,
    family: row.family,
    confidence: row.confidence,
    tier: row.tier as Tier,
    tlp: row.tlp as Tlp,
    asn: row.asn === null ? null : Number(row.asn),
    attributes,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    expiresAt: row.expires_at,
    withdrawnAt: row.withdrawn_at,
    withdrawnReason: row.withdrawn_reason,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
  };
}

function sightingFromRow(r: Selectable<SightingTable>): Sighting {
  return {
    id: r.id,
    indicatorId: r.indicator_id,
    source: r.source,
    confidence: r.confidence,
    count: r.count,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
  };
}

function relationshipFromRow(r: Selectable<RelationshipTable>): Relationship {
  return {
    id: r.id,
    fromId: r.from_id,
    toId: r.to_id,
    type: r.type,
    source: r.source,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
  };
}

/** Independent sources: the chance all of them are wrong is the product of each being wrong. */
export function combineConfidence(confidences: readonly number[]): number {
  let allWrong = 1;
  for (const c of confidences) allWrong *= 1 - Math.min(100, Math.max(0, c)) / 100;
  return Math.round((1 - allWrong) * 100);
}

/** Serialises intel's writers across replicas on PostgreSQL when no audit log lends its lock. */
const INTEL_WRITE_LOCK_KEY = 0x7a5a_0003;

/**
 * The time a write transaction stamps its changes with: now, but strictly after every
 * modification already committed. Writers hold one advisory lock on PostgreSQL (SQLite has one
 * writer), so versions are stamped in commit order, and a follower of `changedSince` (the
 * publisher, the console's live feed, on any replica) can never pass a watermark over a change
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

function encodeCursor(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}
function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text || text.length > 200) throw new InputError('bad cursor');
  return text;
}

export function createIntel(config: IntelConfig, deps: IntelDeps): Intel {
  const { store, audit } = deps;
  const db = store.db;
  // The audit log's lock when there is one (its hash chain needs the same order), else intel's.
  const writeLock = audit?.lockKey ?? INTEL_WRITE_LOCK_KEY;
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

  const ttlMs = (kind: IndicatorKind) => config.ttlDays[kind] * 86_400_000;

  // PostgreSQL: a writer locks the row it read, so two transactions merging into the same
  // indicator cannot both start from the same old state (the tallies move by its old state).
  const lockRows = store.engine === 'postgres';

  async function findByKey(trx: Transaction<Database> | typeof db, key: IndicatorKey, lock = false) {
    return trx
      .selectFrom('indicators')
      .selectAll()
      .where('kind', '=', key.kind)
      .where('value', '=', key.value)
      .where('port', '=', key.port)
      .where('proto', '=', key.proto)
      .$if(lock && lockRows, (q) => q.forUpdate())
      .executeTakeFirst();
  }

  async function resolve(trx: Transaction<Database> | typeof db, ref: IndicatorRef, lock = false) {
    if (typeof ref === 'string')
      return trx
        .selectFrom('indicators')
        .selectAll()
        .where('id', '=', ref)
        .$if(lock && lockRows, (q) => q.forUpdate())
        .executeTakeFirst();
    return findByKey(trx, indicatorKey(ref.kind, ref.value, ref.port, ref.proto), lock);
  }

  async function mergeOne(
    trx: Transaction<Database>,
    sighting: ParsedSighting,
    key: IndicatorKey,
    now: Date,
    tallies: TallyChanges,
  ): Promise<RecordResult> {
    const observed = sighting.observedAt ? new Date(sighting.observedAt).toISOString() : now.toISOString();
    const family = (sighting.family ?? '').trim().toLowerCase();
    const existing = await findByKey(trx, key, true);
    let indicatorId: string;
    let created = false;
    if (!existing) {
      indicatorId = randomUUID();
      created = true;
      const expiresAt = new Date(Date.parse(observed) + ttlMs(key.kind)).toISOString();
      tallies.move(undefined, {
        kind: key.kind,
        tier: sighting.tier,
        tlp: sighting.tlp,
        expiresAt,
        createdAt: now.toISOString(),
        withdrawn: false,
      });
      await trx
        .insertInto('indicators')
        .values({
          id: indicatorId,
          kind: key.kind,
          value: key.value,
          port: key.port,
          proto: key.proto,
          family,
          confidence: Math.round(sighting.confidence),
          tier: sighting.tier,
          tlp: sighting.tlp,
          asn: sighting.asn ?? null,
          attributes: JSON.stringify(sighting.attributes ?? {}),
          first_seen: observed,
          last_seen: observed,
          expires_at: expiresAt,
          withdrawn_at: null,
          withdrawn_reason: null,
          created_at: now.toISOString(),
          modified_at: now.toISOString(),
        })
        .execute();
    } else {
      indicatorId = existing.id;
    }

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
    } else {
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
    }

    if (existing) {
      const all = await trx
        .selectFrom('sightings')
        .select('confidence')
        .where('indicator_id', '=', indicatorId)
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
        family: existing.family || family,
        // Merging keeps the most careful classification any source asked for.
        tier: moreRestrictedTier(existing.tier as Tier, sighting.tier),
        tlp: moreRestrictedTlp(existing.tlp as Tlp, sighting.tlp),
        asn: existing.asn ?? sighting.asn ?? null,
        attributes: JSON.stringify(attributes),
        first_seen: observed < existing.first_seen ? observed : existing.first_seen,
        last_seen: lastSeen,
        expires_at: new Date(Date.parse(lastSeen) + ttlMs(key.kind)).toISOString(),
        withdrawn_at: revived ? null : existing.withdrawn_at,
        withdrawn_reason: revived ? null : existing.withdrawn_reason,
        modified_at: nextModified(now, existing.modified_at),
      };
      tallies.move(tallyStateOf(existing), {
        kind: existing.kind,
        tier: changes.tier,
        tlp: changes.tlp,
        expiresAt: changes.expires_at,
        createdAt: existing.created_at,
        withdrawn: changes.withdrawn_at !== null,
      });
      await trx.updateTable('indicators').set(changes).where('id', '=', indicatorId).execute();
    }

    if (sighting.c2 && key.kind === 'bot') {
      const target = await findByKey(
        trx,
        indicatorKey('c2', sighting.c2.value, sighting.c2.port, sighting.c2.proto),
      );
      if (target)
        await upsertRelationship(trx, indicatorId, target.id, 'communicates-with', sighting.source, observed);
    }
    return { indicatorId, created };
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
  async function markWithdrawn(
    trx: Transaction<Database>,
    found: Selectable<IndicatorTable>,
    reason: string,
  ) {
    const now = await commitClock(trx);
    const tallies = new TallyChanges();
    tallies.move(tallyStateOf(found), { ...tallyStateOf(found), withdrawn: true });
    await tallies.apply(trx);
    await trx
      .updateTable('indicators')
      .set({
        withdrawn_at: now.toISOString(),
        withdrawn_reason: reason.slice(0, 500),
        modified_at: nextModified(now, found.modified_at),
      })
      .where('id', '=', found.id)
      .execute();
  }

  /** Runs `work` in the caller's transaction when given, else in its own under the write lock. */
  function inTransaction<T>(
    within: WithinTransaction | undefined,
    work: (trx: Transaction<Database>) => Promise<T>,
  ) {
    return within ? work(within.trx) : store.transaction(work, writeLock);
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
    const results = await inTransaction(within, async (trx) => {
      const now = await commitClock(trx);
      const out: RecordResult[] = [];
      const tallies = new TallyChanges();
      for (const { sighting, key } of parsed) out.push(await mergeOne(trx, sighting, key, now, tallies));
      await tallies.apply(trx);
      if (audit && out.length > 0) {
        const sources = [...new Set(parsed.map((p) => p.sighting.source))];
        await audit.append(trx, {
          actor,
          action: 'intel.record',
          target: out.length === 1 ? `indicator:${out[0]!.indicatorId}` : `indicators:${out.length}`,
          detail: { count: out.length, created: out.filter((r) => r.created).length, sources },
        });
      }
      return out;
    });
    counts.recorded += results.length;
    counts.created += results.filter((r) => r.created).length;
    return results;
  }

  return {
    name: 'intel',
    async start() {},
    async stop() {},
    async recordSighting(input, actor) {
      return (await recordSightings([input], actor))[0]!;
    },
    recordSightings,

    async withdraw(ref, reason, actor) {
      if (!reason.trim()) throw new InputError('a withdrawal needs a reason');
      const row = await store.transaction(async (trx) => {
        const found = await resolve(trx, ref, true);
        if (!found) throw new InputError('no such indicator');
        await markWithdrawn(trx, found, reason);
        await audit?.append(trx, {
          actor,
          action: 'intel.withdraw',
          target: `indicator:${found.id}`,
          reason: reason.slice(0, 500),
        });
        return trx.selectFrom('indicators').selectAll().where('id', '=', found.id).executeTakeFirstOrThrow();
      }, writeLock);
      counts.withdrawn++;
      return indicatorFromRow(row);
    },

    async withdrawSource(ref, source, reason, actor, within) {
      if (!reason.trim()) throw new InputError('a withdrawal needs a reason');
      let newlyWithdrawn = false;
      const result = await inTransaction(within, async (trx): Promise<SourceWithdrawal> => {
        const found = await resolve(trx, ref, true);
        if (!found) return { outcome: 'unknown' };
        const sighting = await trx
          .selectFrom('sightings')
          .selectAll()
          .where('indicator_id', '=', found.id)
          .where('source', '=', source)
          .executeTakeFirst();
        if (!sighting) return { outcome: 'unknown', indicator: indicatorFromRow(found) };
        await trx.deleteFrom('sightings').where('id', '=', sighting.id).execute();
        const left = await trx
          .selectFrom('sightings')
          .select('confidence')
          .where('indicator_id', '=', found.id)
          .execute();
        const outcome = left.length === 0 ? 'withdrawn' : 'source-removed';
        if (outcome === 'withdrawn') {
          // Already withdrawn (by an analyst, say): the sighting goes, the withdrawal stays as it was.
          if (found.withdrawn_at === null) {
            await markWithdrawn(trx, found, reason);
            newlyWithdrawn = true;
          }
        } else {
          await trx
            .updateTable('indicators')
            .set({
              confidence: combineConfidence(left.map((r) => r.confidence)),
              modified_at: nextModified(await commitClock(trx), found.modified_at),
            })
            .where('id', '=', found.id)
            .execute();
        }
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
        const row = await trx
          .selectFrom('indicators')
          .selectAll()
          .where('id', '=', found.id)
          .executeTakeFirstOrThrow();
        return { outcome, indicator: indicatorFromRow(row) };
      });
      if (newlyWithdrawn) counts.withdrawn++;
      return result;
    },

    async relate(from, to, type, source) {
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

    async get(ref) {
      const row = await resolve(db, ref);
      return row ? indicatorFromRow(row) : undefined;
    },

    async list(query = {}) {
      const limit = Math.min(Math.max(query.limit ?? 100, 1), 10_000);
      const now = (query.now ?? new Date()).toISOString();
      let q = db
        .selectFrom('indicators')
        .selectAll()
        .orderBy('id')
        .limit(limit + 1);
      if (query.kinds?.length) q = q.where('kind', 'in', query.kinds);
      if (query.family) q = q.where('family', '=', query.family.toLowerCase());
      if (query.minConfidence !== undefined) q = q.where('confidence', '>=', query.minConfidence);
      if (query.releasableTo) {
        // Releasable to a reader at tier R: the indicator's broadest tier is R or less restricted.
        const reader = query.releasableTo;
        q = q.where(
          'tier',
          'in',
          TIERS.filter((t) => tierAllows(reader, t)),
        );
      }
      if (query.source) {
        const source = query.source;
        q = q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('sightings')
              .select('sightings.id')
              .whereRef('sightings.indicator_id', '=', 'indicators.id')
              .where('sightings.source', '=', source),
          ),
        );
      }
      if (!query.includeWithdrawn) q = q.where('withdrawn_at', 'is', null);
      if (!query.includeExpired) q = q.where('expires_at', '>', now);
      if (query.cursor) q = q.where('id', '>', decodeCursor(query.cursor));
      const rows = await q.execute();
      const items = rows.slice(0, limit).map(indicatorFromRow);
      return rows.length > limit ? { items, next: encodeCursor(items[items.length - 1]!.id) } : { items };
    },

    async sightings(indicatorId) {
      const rows = await db
        .selectFrom('sightings')
        .selectAll()
        .where('indicator_id', '=', indicatorId)
        .orderBy('source')
        .execute();
      return rows.map(sightingFromRow);
    },

    async relationships(indicatorId) {
      const rows = await db
        .selectFrom('relationships')
        .selectAll()
        .where((eb) => eb.or([eb('from_id', '=', indicatorId), eb('to_id', '=', indicatorId)]))
        .orderBy('id')
        .execute();
      return rows.map(relationshipFromRow);
    },

    async sightingsOf(indicatorIds) {
      const out = new Map<string, Sighting[]>();
      for (let i = 0; i < indicatorIds.length; i += 500) {
        const rows = await db
          .selectFrom('sightings')
          .selectAll()
          .where('indicator_id', 'in', indicatorIds.slice(i, i + 500))
          .orderBy('indicator_id')
          .orderBy('source')
          .execute();
        for (const r of rows) {
          let list = out.get(r.indicator_id);
          if (!list) out.set(r.indicator_id, (list = []));
          list.push(sightingFromRow(r));
        }
      }
      return out;
    },

    async relationshipsFrom(indicatorIds) {
      const out = new Map<string, Relationship[]>();
      for (let i = 0; i < indicatorIds.length; i += 500) {
        const rows = await db
          .selectFrom('relationships')
          .selectAll()
          .where('from_id', 'in', indicatorIds.slice(i, i + 500))
          .orderBy('id')
          .execute();
        for (const r of rows) {
          let list = out.get(r.from_id);
          if (!list) out.set(r.from_id, (list = []));
          list.push(relationshipFromRow(r));
        }
      }
      return out;
    },

    async changedSince(after, limit) {
      let q = db.selectFrom('indicators').selectAll().orderBy('modified_at').orderBy('id').limit(limit);
      if (after) {
        // A row-value comparison lets both engines seek in the (modified_at, id) index; the
        // equivalent OR scans from the start on every page.
        q = q.where((eb) => eb(eb.refTuple('modified_at', 'id'), '>', eb.tuple(after.modifiedAt, after.id)));
      }
      return (await q.execute()).map(indicatorFromRow);
    },

    tallies(now = new Date()) {
      return readTallies(db, now);
    },
  };
}
