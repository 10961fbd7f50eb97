/**
 * Merging a batch of sightings into indicators with few statements: the indicators the batch
 * names and their sightings are read in chunks, merged in memory in input order (exactly as one
 * by one: a key reported twice merges into what its first report made, ids are drawn in the same
 * order), then written back in multi-row inserts and per-row updates. One statement per sighting
 * and per indicator (with kysely compiling each) was most of what recording cost.
 */
import { randomUUID } from 'node:crypto';
import type { Selectable, Transaction } from 'kysely';
import type { Database } from '../store/index.ts';
import { cursorOf, type IndicatorChange, type IntelChange } from './feed.ts';
import { indicatorKey, type IndicatorKey, type ParsedSighting } from './normalise.ts';
import { indicatorFromRow, tallyStateOf, type IndicatorRow } from './rows.ts';
import type { SightingDocumentTable, SightingTable } from './tables.ts';
import type { TallyChanges } from './tally.ts';
import { moreRestrictedTier, moreRestrictedTlp, type IndicatorKind, type Tier, type Tlp } from './types.ts';

type SightingRow = Selectable<SightingTable>;

/** Keys per read (one `in` list) and rows per multi-row insert (18 and 7 parameters a row). */
const READ_CHUNK = 500;
const INDICATOR_INSERT_CHUNK = 500;
const SIGHTING_INSERT_CHUNK = 1000;
const DOCUMENT_INSERT_CHUNK = 1000;

export interface MergeContext {
  /** PostgreSQL: the rows read are locked for the transaction (FOR UPDATE). */
  lockRows: boolean;
  ttlMs(kind: IndicatorKind): number;
  /** The id of the indicator with this key in the store, if any. */
  findId(trx: Transaction<Database>, key: IndicatorKey): Promise<string | undefined>;
  relate(
    trx: Transaction<Database>,
    fromId: string,
    toId: string,
    source: string,
    at: string,
  ): Promise<unknown>;
}

export interface RecordResult {
  indicatorId: string;
  created: boolean;
}

/** An indicator as the batch has made it so far; `stored` when its row was there before the batch. */
interface Held {
  row: IndicatorRow;
  stored: boolean;
  changed: boolean;
  sightings: Map<string, HeldSighting>;
}
interface HeldSighting {
  row: SightingRow;
  stored: boolean;
  changed: boolean;
}

/** Independent sources: the chance all of them are wrong is the product of each being wrong. */
export function combineConfidence(confidences: readonly number[]): number {
  let allWrong = 1;
  for (const c of confidences) allWrong *= 1 - Math.min(100, Math.max(0, c)) / 100;
  return Math.round((1 - allWrong) * 100);
}

/** A version timestamp strictly after `previous`, as STIX needs for a new version. */
export function nextModified(now: Date, previous: string | undefined): string {
  let t = now.getTime();
  if (previous) t = Math.max(t, Date.parse(previous) + 1);
  return new Date(t).toISOString();
}

export function indicatorChange(kind: IndicatorChange['kind'], row: IndicatorRow): IndicatorChange {
  const indicator = indicatorFromRow(row);
  return { kind, indicator, cursor: cursorOf(indicator), local: true };
}

function keyText(key: IndicatorKey): string {
  return `${key.kind}\u0000${key.value}\u0000${key.port}\u0000${key.proto}`;
}

/** The stored indicators the batch names and their sightings, by key. */
async function readHeld(
  m: MergeContext,
  trx: Transaction<Database>,
  keys: readonly IndicatorKey[],
): Promise<Map<string, Held>> {
  const held = new Map<string, Held>();
  const valuesByKind = new Map<string, Set<string>>();
  for (const key of keys) {
    let values = valuesByKind.get(key.kind);
    if (!values) valuesByKind.set(key.kind, (values = new Set()));
    values.add(key.value);
  }
  const wanted = new Set(keys.map(keyText));
  for (const [kind, valueSet] of valuesByKind) {
    const values = [...valueSet];
    for (let i = 0; i < values.length; i += READ_CHUNK) {
      // (kind, value) is a prefix of the unique key: other ports of a value come back and are left.
      const rows = await trx
        .selectFrom('indicators')
        .selectAll()
        .where('kind', '=', kind)
        .where('value', 'in', values.slice(i, i + READ_CHUNK))
        .$if(m.lockRows, (q) => q.forUpdate())
        .execute();
      for (const row of rows) {
        const text = keyText(row as IndicatorKey);
        if (wanted.has(text)) held.set(text, { row, stored: true, changed: false, sightings: new Map() });
      }
    }
  }
  const byId = new Map([...held.values()].map((h) => [h.row.id, h]));
  const ids = [...byId.keys()];
  for (let i = 0; i < ids.length; i += READ_CHUNK) {
    const rows = await trx
      .selectFrom('sightings')
      .selectAll()
      .where('indicator_id', 'in', ids.slice(i, i + READ_CHUNK))
      .execute();
    for (const row of rows)
      byId.get(row.indicator_id)!.sightings.set(row.source, { row, stored: true, changed: false });
  }
  return held;
}

/** This source's sighting after one more report; true when it is the source's first. */
function mergeSighting(
  held: Held,
  sighting: ParsedSighting,
  observed: string,
  createdSightings: HeldSighting[],
): boolean {
  const previous = held.sightings.get(sighting.source);
  if (previous) {
    const p = previous.row;
    previous.row = {
      ...p,
      count: p.count + 1,
      confidence: Math.max(p.confidence, Math.round(sighting.confidence)),
      first_seen: observed < p.first_seen ? observed : p.first_seen,
      last_seen: observed > p.last_seen ? observed : p.last_seen,
    };
    previous.changed = previous.stored;
    return false;
  }
  const row: SightingRow = {
    id: randomUUID(),
    indicator_id: held.row.id,
    source: sighting.source,
    confidence: Math.round(sighting.confidence),
    count: 1,
    first_seen: observed,
    last_seen: observed,
  };
  const made = { row, stored: false, changed: false };
  held.sightings.set(sighting.source, made);
  createdSightings.push(made);
  return true;
}

function newIndicatorRow(
  m: MergeContext,
  sighting: ParsedSighting,
  key: IndicatorKey,
  observed: string,
  now: Date,
): IndicatorRow {
  return {
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
    expires_at: new Date(Date.parse(observed) + m.ttlMs(key.kind)).toISOString(),
    withdrawn_at: null,
    withdrawn_reason: null,
    created_at: now.toISOString(),
    modified_at: now.toISOString(),
  };
}

/** The indicator after a new sighting: sources recombined, the most careful marking kept. */
function mergedIndicatorRow(
  m: MergeContext,
  held: Held,
  sighting: ParsedSighting,
  observed: string,
  now: Date,
): IndicatorRow {
  const existing = held.row;
  const lastSeen = observed > existing.last_seen ? observed : existing.last_seen;
  const attributes = {
    ...(JSON.parse(existing.attributes) as Record<string, string>),
    ...(sighting.attributes ?? {}),
  };
  // A later sighting brings a withdrawn indicator back; an older report does not. One of
  // the same millisecond is not older: a detector that withdraws and re-publishes within
  // one millisecond must not leave the indicator withdrawn.
  const revived = existing.withdrawn_at !== null && observed >= existing.withdrawn_at;
  return {
    ...existing,
    confidence: combineConfidence([...held.sightings.values()].map((s) => s.row.confidence)),
    family: existing.family || (sighting.family ?? '').trim().toLowerCase(),
    // Merging keeps the most careful classification any source asked for.
    tier: moreRestrictedTier(existing.tier as Tier, sighting.tier),
    tlp: moreRestrictedTlp(existing.tlp as Tlp, sighting.tlp),
    asn: existing.asn ?? sighting.asn ?? null,
    attributes: JSON.stringify(attributes),
    first_seen: observed < existing.first_seen ? observed : existing.first_seen,
    last_seen: lastSeen,
    expires_at: new Date(Date.parse(lastSeen) + m.ttlMs(existing.kind as IndicatorKind)).toISOString(),
    withdrawn_at: revived ? null : existing.withdrawn_at,
    withdrawn_reason: revived ? null : existing.withdrawn_reason,
    modified_at: nextModified(now, existing.modified_at),
  };
}

/**
 * Merges `parsed` in order inside `trx`, appending to `changes` and `tallies` as each merge did
 * one by one; the rows are written at the end.
 */
export async function mergeBatch(
  m: MergeContext,
  trx: Transaction<Database>,
  parsed: readonly { sighting: ParsedSighting; key: IndicatorKey }[],
  now: Date,
  tallies: TallyChanges,
  changes: IntelChange[],
): Promise<RecordResult[]> {
  const held = await readHeld(
    m,
    trx,
    parsed.map((p) => p.key),
  );
  const created: Held[] = [];
  const createdSightings: HeldSighting[] = [];
  // The documents named, once per (sighting, document); one already stored is left as it was.
  const documents = new Map<string, SightingDocumentTable>();
  const results: RecordResult[] = [];
  for (const { sighting, key } of parsed) {
    const observed = sighting.observedAt ? new Date(sighting.observedAt).toISOString() : now.toISOString();
    const text = keyText(key);
    let h = held.get(text);
    const existing = h !== undefined;
    let newSource: boolean;
    if (!h) {
      h = {
        row: newIndicatorRow(m, sighting, key, observed, now),
        stored: false,
        changed: false,
        sightings: new Map(),
      };
      held.set(text, h);
      created.push(h);
      tallies.move(undefined, tallyStateOf(h.row));
      newSource = mergeSighting(h, sighting, observed, createdSightings);
    } else {
      newSource = mergeSighting(h, sighting, observed, createdSightings);
      const before = h.row;
      h.row = mergedIndicatorRow(m, h, sighting, observed, now);
      h.changed = h.stored;
      tallies.move(tallyStateOf(before), tallyStateOf(h.row));
    }
    if (sighting.document) {
      const sightingId = h.sightings.get(sighting.source)!.row.id;
      const key = `${sightingId}\u0000${sighting.document.id}`;
      if (!documents.has(key))
        documents.set(key, {
          sighting_id: sightingId,
          document: sighting.document.id,
          url: sighting.document.url,
          title: sighting.document.title ?? '',
          context: sighting.document.context ?? '',
          first_seen: observed,
        });
    }
    changes.push(indicatorChange(existing ? 'indicator.updated' : 'indicator.added', h.row), {
      kind: 'sighting.added',
      indicatorId: h.row.id,
      source: sighting.source,
      confidence: Math.round(sighting.confidence),
      observedAt: observed,
      newSource,
      local: true,
    });
    if (sighting.c2 && key.kind === 'bot') {
      const c2Key = indicatorKey('c2', sighting.c2.value, sighting.c2.port, sighting.c2.proto);
      // Indicators this batch made are not in the store yet; the rest are looked up there.
      const targetId = held.get(keyText(c2Key))?.row.id ?? (await m.findId(trx, c2Key));
      if (targetId) await m.relate(trx, h.row.id, targetId, sighting.source, observed);
    }
    results.push({ indicatorId: h.row.id, created: !existing });
  }
  await writeHeld(trx, created, createdSightings, [...held.values()]);
  const rows = [...documents.values()];
  for (let i = 0; i < rows.length; i += DOCUMENT_INSERT_CHUNK)
    await trx
      .insertInto('sighting_documents')
      .values(rows.slice(i, i + DOCUMENT_INSERT_CHUNK))
      .onConflict((oc) => oc.columns(['sighting_id', 'document']).doNothing())
      .execute();
  return results;
}

/** Writes what the batch made: new rows in multi-row inserts (indicators first), changed ones by id. */
async function writeHeld(
  trx: Transaction<Database>,
  created: readonly Held[],
  createdSightings: readonly HeldSighting[],
  all: readonly Held[],
) {
  for (let i = 0; i < created.length; i += INDICATOR_INSERT_CHUNK)
    await trx
      .insertInto('indicators')
      .values(created.slice(i, i + INDICATOR_INSERT_CHUNK).map((h) => h.row))
      .execute();
  for (let i = 0; i < createdSightings.length; i += SIGHTING_INSERT_CHUNK)
    await trx
      .insertInto('sightings')
      .values(createdSightings.slice(i, i + SIGHTING_INSERT_CHUNK).map((s) => s.row))
      .execute();
  for (const h of all) {
    if (h.changed) {
      const { id, kind: _k, value: _v, port: _p, proto: _pr, created_at: _c, ...columns } = h.row;
      await trx.updateTable('indicators').set(columns).where('id', '=', id).execute();
    }
    for (const s of h.sightings.values())
      if (s.changed)
        await trx
          .updateTable('sightings')
          .set({
            count: s.row.count,
            confidence: s.row.confidence,
            first_seen: s.row.first_seen,
            last_seen: s.row.last_seen,
          })
          .where('id', '=', s.row.id)
          .execute();
  }
}
