/**
 * A POST of objects to a collection: each object checked (STIX 2.1, under the collection's
 * ceiling, the poster's to version), merged into intel when the collection ingests, stored, and
 * answered by a status record. Sightings, reviews, withdrawals, objects, status and audit record
 * commit together: a request that fails anywhere leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { InputError } from '../../core/index.ts';
import { indicatorKey, SightingInput, type WithinTransaction } from '../../intel/index.ts';
import type { Database } from '../../store/index.ts';
import {
  addObjects,
  ownersOf,
  recordOwners,
  underCeiling,
  versionOf,
  type Collection,
} from '../collections.ts';
import type { HubContext } from '../http.ts';
import { applyWithdrawals, sightingsFromStix } from '../ingest.ts';
import type { Principal } from '../orgs.ts';
import { mayChange } from '../release/index.ts';
import { capSubmission } from '../review.ts';
import { isStixCommon, stampCreator, StixCommon, tierOf, type StixObject } from '../stix.ts';

type Failure = { id: string; version?: string; message: string };

export interface Submission {
  /** The objects that passed the checks, stamped with their creator. */
  accepted: StixObject[];
  /** The objects refused so far, with why. */
  failures: Failure[];
  /** How many objects were posted. */
  total: number;
  requestTimestamp: string;
}

/** Checks each posted object: valid STIX 2.1 and within the collection's tier ceiling. */
export function checkSubmitted(
  p: Principal,
  c: Collection,
  objects: readonly unknown[],
): Omit<Submission, 'requestTimestamp'> {
  const failures: Failure[] = [];
  const accepted: StixObject[] = [];
  for (const raw of objects) {
    const id =
      typeof (raw as { id?: unknown }).id === 'string'
        ? String((raw as { id: string }).id).slice(0, 300)
        : '';
    // The quick check passes almost every object; the schema runs only to word a failure.
    if (!isStixCommon(raw)) {
      const parsed = StixCommon.safeParse(raw);
      const issue = parsed.error?.issues[0];
      failures.push({
        id,
        message: `not a valid STIX 2.1 object: ${issue?.path.join('.') || '(object)'} ${issue?.message ?? 'rejected'}`,
      });
      continue;
    }
    const object = raw;
    // An unlabelled object is treated as the most restricted tier until someone says otherwise.
    const tier = tierOf(object) ?? 'full';
    if (!underCeiling(tier, c.ceiling)) {
      failures.push({ id, message: `tier ${tier} is above this collection's ceiling (${c.ceiling})` });
      continue;
    }
    accepted.push(stampCreator(object, p.org.id));
  }
  return { accepted, failures, total: objects.length };
}

/** Stores a checked submission in one transaction; the status record's JSON, as answered. */
export async function storeSubmission(
  ctx: HubContext,
  p: Principal,
  c: Collection,
  submission: Submission,
): Promise<string> {
  const { store, audit } = ctx;
  const { failures, total, requestTimestamp } = submission;
  const successes: { id: string; version: string; message?: string }[] = [];
  // Ownership: only the organisation that wrote an object (or the analysis centre) versions it.
  const { objects: owned } = await changeable(p, c, submission.accepted, store.db, failures);
  const dateAdded = new Date().toISOString();
  const statusId = randomUUID();
  let statusJson = '';
  await store.transaction(async (trx) => {
    const ingestFailed =
      c.ingest && owned.length > 0 ? await ingest(ctx, p, owned, { trx }) : new Map<string, string>();
    const toStore = owned.filter((o) => !ingestFailed.has(o.id));
    for (const [id, message] of ingestFailed) failures.push({ id, message });
    const refused = new Set<StixObject>();
    // Checked again under the write lock: another organisation may have posted the id meanwhile.
    const { objects: mine, forOthers } = await changeable(p, c, toStore, trx, failures);
    const allowed = new Set(mine);
    for (const o of toStore) if (!allowed.has(o)) refused.add(o);
    await recordOwners(
      trx,
      c.id,
      p.org.id,
      mine.map((o) => o.id),
      dateAdded,
    );
    await addObjects(trx, c.id, mine, dateAdded, {
      onRefused(object, message) {
        refused.add(object);
        failures.push({ id: object.id, message });
      },
    });
    for (const o of toStore)
      if (refused.size === 0 || !refused.has(o))
        successes.push({ id: o.id, version: versionOf(o, dateAdded) });
    // The status record and the response carry the same lists: serialised once, for both.
    const details = JSON.stringify({ successes, failures });
    await trx
      .insertInto('taxii_status')
      .values({
        id: statusId,
        api_root: c.apiRoot,
        org_id: p.org.id,
        status: 'complete',
        request_timestamp: requestTimestamp,
        total,
        success: successes.length,
        failure: failures.length,
        pending: 0,
        details,
      })
      .execute();
    await audit.append(trx, {
      actor: p.org.name,
      action: 'taxii.write',
      target: `collection:${c.id}`,
      detail: {
        status: statusId,
        success: successes.length,
        failure: failures.length,
        token: p.tokenId,
        ...(forOthers ? { forOthers } : {}),
      },
    });
    statusJson =
      `{"id":${JSON.stringify(statusId)},"status":"complete","request_timestamp":${JSON.stringify(requestTimestamp)}` +
      `,"total_count":${total},"success_count":${successes.length},"failure_count":${failures.length}` +
      `,"pending_count":0,${details.slice(1)}`;
  }, audit.lockKey);
  return statusJson;
}

/**
 * The objects this organisation may version in the collection: new ones, its own, and (for the
 * analysis centre, audited as `forOthers`) anyone's. The others fail with a message.
 */
async function changeable(
  p: Principal,
  c: Collection,
  objects: readonly StixObject[],
  db: Transaction<Database> | Kysely<Database>,
  failures: { id: string; message: string }[],
): Promise<{ objects: StixObject[]; forOthers: number }> {
  const owners = await ownersOf(db, c.id, [...new Set(objects.map((o) => o.id))]);
  const out: StixObject[] = [];
  let forOthers = 0;
  for (const o of objects) {
    const owner = owners.get(o.id);
    if (owner === undefined) {
      out.push(o);
      continue;
    }
    const right = mayChange(p, owner);
    if (right === 'refused') {
      failures.push({ id: o.id, message: 'this object belongs to another organisation' });
      continue;
    }
    if (right === 'analysis-centre') forOthers++;
    out.push(o);
  }
  return { objects: out, forOthers };
}

/**
 * A submission into intel: each indicator becomes a sighting by the posting organisation, its
 * claimed tier capped at the council (a claim of public notice is queued for review).
 */
async function ingest(
  ctx: HubContext,
  p: Principal,
  objects: StixObject[],
  within: WithinTransaction,
): Promise<Map<string, string>> {
  const ingested = sightingsFromStix(objects, p.org.name);
  const failed = new Map(ingested.failures.map((f) => [f.id, f.message]));
  const good: { objectId: string; sighting: SightingInput }[] = [];
  for (const s of ingested.sightings) {
    const check = SightingInput.safeParse(s.sighting);
    try {
      if (!check.success) throw new InputError(check.error.issues[0]!.message);
      indicatorKey(check.data.type, check.data.value, check.data.port, check.data.proto);
      good.push(s);
    } catch (error) {
      failed.set(s.objectId, `cannot record: ${(error as Error).message}`);
    }
  }
  if (good.length) {
    const capped = capSubmission(good.map((g) => g.sighting));
    const results = await ctx.intel.recordSightings(capped.sightings, p.org.name, within);
    await ctx.reviews.queue(
      results
        .map((r, i) => ({ indicatorId: r.indicatorId, sighting: good[i]!.sighting }))
        .filter((_, i) => capped.asksPublic[i]),
      p.org.name,
      within,
    );
  }
  // A revoked indicator takes this organisation's report back; the indicator goes only when no
  // other source reports it (intel decides).
  const taken = await applyWithdrawals(ctx.intel, ingested.withdrawals, p.org.name, p.org.name, within);
  for (const f of taken.failures) failed.set(f.id, f.message);
  return failed;
}
