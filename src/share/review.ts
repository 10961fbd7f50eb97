/**
 * The review queue: public notice only by an analysis-centre decision. A submitter's claim of
 * the public tier is recorded at most as council and queued here; the analysis centre lists,
 * edits (the family printed, a note), approves or refuses it (console API and `tsunagi review`),
 * each decision audited. An approval publishes the public-notice copy at once (the publisher
 * keeps it up to date afterwards); a refusal of an approved entry revokes it.
 */
import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import { InputError } from '../core/index.ts';
import {
  type Intel,
  moreRestrictedTier,
  type SightingInput,
  type Tier,
  type WithinTransaction,
} from '../intel/index.ts';
import type { Database, Store } from '../store/index.ts';
import type { AuditLog } from './audit.ts';
import { COLLECTION_IDS, revokeProducts, writeProducts } from './collections.ts';
import { isPublicNotice, type PublicNoticeDecision } from './release/index.ts';
import { indicatorObjectId, infrastructureId, SANITISERS, type HubIdentity } from './stix.ts';

export const REVIEW_STATUSES = ['pending', 'approved', 'refused'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

export interface ReviewEntry {
  id: string;
  indicatorId: string;
  kind: string;
  value: string;
  port: number;
  proto: string;
  submittedBy: string;
  claimedTier: string;
  status: ReviewStatus;
  family: string;
  note: string;
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
}

/**
 * A submitter's claim narrows, never widens: a submission reaches at most the council tier, and a
 * claim of the public tier becomes a request for review. Returns the capped sightings and, by
 * position, which asked for public notice.
 */
export function capSubmission(sightings: readonly SightingInput[]): {
  sightings: SightingInput[];
  asksPublic: boolean[];
} {
  return {
    sightings: sightings.map((s) => ({
      ...s,
      tier: moreRestrictedTier((s.tier ?? 'full') as Tier, 'council'),
    })),
    asksPublic: sightings.map((s) => s.tier === 'public'),
  };
}

type Row = Database['share_reviews'];
function entryOf(r: {
  [K in keyof Row]: Row[K] extends { __select__: infer S } ? S : Row[K];
}): ReviewEntry {
  return {
    id: r.id,
    indicatorId: r.indicator_id,
    kind: r.kind,
    value: r.value,
    port: Number(r.port),
    proto: r.proto,
    submittedBy: r.submitted_by,
    claimedTier: r.claimed_tier,
    status: r.status as ReviewStatus,
    family: r.family,
    note: r.note,
    createdAt: r.created_at,
    decidedAt: r.decided_at,
    decidedBy: r.decided_by,
  };
}

/** The analysis centre's decisions on indicators (approved ones open public notice). */
/** Whether the analysis centre approved an indicator for public notice, as a condition on the indicators table. */
export function approvedForPublicNotice(eb: ExpressionBuilder<Database, 'indicators'>) {
  return eb.exists(
    eb
      .selectFrom('share_reviews')
      .select('share_reviews.id')
      .whereRef('share_reviews.indicator_id', '=', 'indicators.id')
      .where('share_reviews.status', '=', 'approved'),
  );
}

export async function publicNoticeDecisions(
  db: Kysely<Database>,
  indicatorIds: readonly string[],
): Promise<Map<string, PublicNoticeDecision>> {
  const out = new Map<string, PublicNoticeDecision>();
  for (let i = 0; i < indicatorIds.length; i += 500) {
    const rows = await db
      .selectFrom('share_reviews')
      .select(['indicator_id', 'family'])
      .where('status', '=', 'approved')
      .where('indicator_id', 'in', indicatorIds.slice(i, i + 500))
      .execute();
    for (const r of rows)
      out.set(r.indicator_id, { approved: true, ...(r.family ? { family: r.family } : {}) });
  }
  return out;
}

export interface Reviews {
  /** Queues the submissions that asked for public notice (one entry per indicator, kept if there). */
  /** With `within`, in the caller's transaction (a TAXII POST's, holding the audit lock). */
  queue(
    entries: readonly { indicatorId: string; sighting: SightingInput }[],
    submittedBy: string,
    within?: WithinTransaction,
  ): Promise<number>;
  list(status?: ReviewStatus, limit?: number): Promise<ReviewEntry[]>;
  get(id: string): Promise<ReviewEntry | undefined>;
  approve(id: string, actor: string): Promise<ReviewEntry>;
  refuse(id: string, actor: string, note?: string): Promise<ReviewEntry>;
  edit(id: string, changes: { family?: string; note?: string }, actor: string): Promise<ReviewEntry>;
}

export function createReviews(deps: {
  store: Store;
  audit: AuditLog;
  intel: Intel;
  hub: HubIdentity;
}): Reviews {
  const { store, audit, intel, hub } = deps;
  const db = store.db;

  async function mustGet(id: string): Promise<ReviewEntry> {
    const row = await db.selectFrom('share_reviews').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new InputError(`no review entry ${id}`);
    return entryOf(row);
  }

  async function decide(
    id: string,
    actor: string,
    status: ReviewStatus,
    note: string | undefined,
  ): Promise<ReviewEntry> {
    const entry = await mustGet(id);
    const indicator = await intel.get(entry.indicatorId);
    if (!indicator) throw new InputError(`the indicator of review ${id} is gone`);
    const decision: PublicNoticeDecision = {
      approved: true,
      ...(entry.family ? { family: entry.family } : {}),
    };
    if (status === 'approved' && !isPublicNotice(indicator, decision))
      throw new InputError(
        `the marking binds: a ${indicator.kind} of tier ${indicator.tier} under TLP:${indicator.tlp.toUpperCase()} cannot reach public notice`,
      );
    const now = new Date().toISOString();
    await store.transaction(async (trx) => {
      await trx
        .updateTable('share_reviews')
        .set({ status, decided_at: now, decided_by: actor, ...(note !== undefined ? { note } : {}) })
        .where('id', '=', id)
        .execute();
      await audit.append(trx, {
        actor,
        action: `review.${status === 'approved' ? 'approve' : 'refuse'}`,
        target: `indicator:${entry.indicatorId}`,
        detail: { review: id, before: entry.status, submittedBy: entry.submittedBy },
      });
      await publishDecision(trx, hub, indicator, decision, status, entry.status, now);
    }, audit.lockKey);
    return mustGet(id);
  }

  return {
    async queue(entries, submittedBy, within) {
      if (entries.length === 0) return 0;
      const now = new Date().toISOString();
      let queued = 0;
      const work = async (trx: Transaction<Database>) => {
        queued = await insertReviews(trx, entries, submittedBy, now);
        await audit.append(trx, {
          actor: submittedBy,
          action: 'review.queue',
          target: 'review-queue',
          detail: { asked: entries.length, queued },
        });
      };
      await (within ? work(within.trx) : store.transaction(work, audit.lockKey));
      return queued;
    },
    async list(status, limit = 200) {
      const rows = await db
        .selectFrom('share_reviews')
        .selectAll()
        .$if(status !== undefined, (q) => q.where('status', '=', status!))
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(entryOf);
    },
    async get(id) {
      const row = await db.selectFrom('share_reviews').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? entryOf(row) : undefined;
    },
    approve: (id, actor) => decide(id, actor, 'approved', undefined),
    refuse: (id, actor, note) => decide(id, actor, 'refused', note),
    async edit(id, changes, actor) {
      const entry = await mustGet(id);
      if (entry.status !== 'pending')
        throw new InputError(`review ${id} is ${entry.status}: only a pending entry is edited`);
      const family = changes.family?.trim().toLowerCase();
      if (family !== undefined && !/^[a-z0-9._-]{0,64}$/.test(family))
        throw new InputError('family: letters, digits, dot, dash, underscore; up to 64');
      if (changes.note !== undefined && changes.note.length > 500)
        throw new InputError('note: up to 500 characters');
      await store.transaction(async (trx) => {
        await trx
          .updateTable('share_reviews')
          .set({
            ...(family !== undefined ? { family } : {}),
            ...(changes.note !== undefined ? { note: changes.note } : {}),
          })
          .where('id', '=', id)
          .execute();
        await audit.append(trx, {
          actor,
          action: 'review.edit',
          target: `indicator:${entry.indicatorId}`,
          detail: {
            review: id,
            ...(family !== undefined ? { family } : {}),
            note: changes.note !== undefined,
          },
        });
      }, audit.lockKey);
      return mustGet(id);
    },
  };
}

/**
 * The public collection after a decision: an approval publishes the public sanitiser's product;
 * a refusal of an entry approved before revokes it.
 */
async function publishDecision(
  trx: Transaction<Database>,
  hub: HubIdentity,
  indicator: NonNullable<Awaited<ReturnType<Intel['get']>>>,
  decision: PublicNoticeDecision,
  status: ReviewStatus,
  before: ReviewStatus,
  now: string,
): Promise<void> {
  if (status === 'approved') {
    const objects = SANITISERS['public-v1'].apply({
      indicator,
      sightings: [],
      relationships: [],
      hub,
      publicNotice: decision,
    });
    await writeProducts(trx, COLLECTION_IDS.public, objects ?? [], now);
  } else if (before === 'approved') {
    await revokeProducts(
      trx,
      COLLECTION_IDS.public,
      [indicatorObjectId(indicator.id, 'public'), infrastructureId(indicator.id, 'public')],
      now,
      now,
    );
  }
}

/** Queues each submission's claim of public notice (one pending entry per indicator); how many were new. */
async function insertReviews(
  trx: Transaction<Database>,
  entries: Parameters<Reviews['queue']>[0],
  submittedBy: string,
  now: string,
): Promise<number> {
  let queued = 0;
  for (const { indicatorId, sighting } of entries) {
    const inserted = await trx
      .insertInto('share_reviews')
      .values({
        id: randomUUID(),
        indicator_id: indicatorId,
        kind: sighting.type,
        value: sighting.value,
        port: sighting.port ?? 0,
        proto: sighting.proto ?? '',
        submitted_by: submittedBy,
        claimed_tier: String(sighting.tier ?? 'public'),
        status: 'pending',
        family: '',
        note: '',
        created_at: now,
        decided_at: null,
        decided_by: null,
      })
      .onConflict((oc) => oc.column('indicator_id').doNothing())
      .executeTakeFirst();
    queued += Number(inserted.numInsertedOrUpdatedRows ?? 0);
  }
  return queued;
}
