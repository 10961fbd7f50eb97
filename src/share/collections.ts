/**
 * API roots (one per trust group) and TAXII collections with their tier ceilings, plus the table
 * of STIX objects each collection holds (every version kept, the latest flagged).
 */
import { CompiledQuery, PostgresAdapter, sql, type Transaction } from 'kysely';
import { type Tier, tierAllows, tierRank, type Tlp } from '../intel/index.ts';
import {
  objectKey,
  sqliteStatements,
  type Database,
  type SqliteStatements,
  type Store,
} from '../store/index.ts';
import type { Principal } from './orgs.ts';
import { mayReadCollection, readerOf, receivableMarkings } from './release/index.ts';
import { isPublishedMarkingDefinition, tierOf, tlpFromMarkingId, uuidv5, type StixObject } from './stix.ts';

export interface ApiRoot {
  /** The URL path segment. */
  path: string;
  title: string;
  description: string;
}

export const API_ROOTS: readonly ApiRoot[] = [
  {
    path: 'full',
    title: 'Full analysis (総合整理分析情報)',
    description: 'Government bodies and the analysis center.',
  },
  {
    path: 'council',
    title: 'Council (提供用総合整理分析情報)',
    description: 'Council members bound by confidentiality; also where ISPs submit.',
  },
  {
    path: 'public',
    title: 'Public notice (周知等用総合整理分析情報)',
    description: 'Sanitised information for public notice and vendors.',
  },
  {
    path: 'network',
    title: 'Own network',
    description:
      'For each organisation alone: infected hosts and vulnerable devices inside its own prefixes and AS numbers.',
  },
];

export interface Collection {
  id: string;
  apiRoot: string;
  title: string;
  description: string;
  ceiling: Tier;
  readTier: Tier;
  writeTier: Tier | null;
  ingest: boolean;
  /** Set when only this organisation may see the collection (its own network's findings). */
  ownerOrgId: string | null;
}

const OWN_NETWORK_NAMESPACE = '3b0f6c8e-2a47-4f0e-9a53-5d6c1e7b8f21';
/** The id of an organisation's own-network collection: the same on every run, derived from the org. */
export function ownNetworkCollectionId(orgId: string): string {
  return uuidv5(`own-network|${orgId}`, OWN_NETWORK_NAMESPACE);
}
/** The tier ceiling of own-network collections: products of the `own-network-v1` sanitiser. */
export const OWN_NETWORK_TIER: Tier = 'council';

/** The fixed collections: their ids stay the same on every hub so clients can be configured once. */
export const COLLECTION_IDS = {
  full: '6cd54954-09f2-43dc-bd3a-dc18678b18c7',
  council: '4ffda6f5-357f-4d90-bd10-e979998326ed',
  submissions: '4f8f4b0a-eb5d-4507-85e8-bd70558a0bc0',
  public: '75ffa845-aa1c-4d4c-9ec8-2ee92078ca21',
} as const;

export const DEFAULT_COLLECTIONS: readonly Collection[] = [
  {
    id: COLLECTION_IDS.full,
    apiRoot: 'full',
    title: 'Full analysis',
    description: 'Every indicator with its sightings and sources.',
    ceiling: 'full',
    readTier: 'full',
    writeTier: 'full',
    ingest: false,
    ownerOrgId: null,
  },
  {
    id: COLLECTION_IDS.council,
    apiRoot: 'council',
    title: 'Council indicators',
    description:
      'C&C servers and malicious sites, sanitised for council members (no sources, no observation times).',
    ceiling: 'council',
    readTier: 'council',
    writeTier: null,
    ingest: false,
    ownerOrgId: null,
  },
  {
    id: COLLECTION_IDS.submissions,
    apiRoot: 'council',
    title: 'Submissions',
    description:
      'ISPs post their C&C lists here; each indicator becomes a sighting by the posting organisation.',
    ceiling: 'full',
    readTier: 'full',
    writeTier: 'council',
    ingest: true,
    ownerOrgId: null,
  },
  {
    id: COLLECTION_IDS.public,
    apiRoot: 'public',
    title: 'Public notice',
    description: 'Sanitised C&C servers and malicious sites for public notice.',
    ceiling: 'public',
    readTier: 'public',
    // Public notice comes only from the analysis centre's decisions (the review queue).
    writeTier: null,
    ingest: false,
    ownerOrgId: null,
  },
];

export async function ensureCollections(store: Store): Promise<void> {
  for (const c of DEFAULT_COLLECTIONS) {
    const exists = await store.db
      .selectFrom('collections')
      .select('id')
      .where('id', '=', c.id)
      .executeTakeFirst();
    if (exists) continue;
    await store.db
      .insertInto('collections')
      .values({
        id: c.id,
        api_root: c.apiRoot,
        title: c.title,
        description: c.description,
        ceiling: c.ceiling,
        read_tier: c.readTier,
        write_tier: c.writeTier,
        ingest: c.ingest ? 1 : 0,
        created_at: new Date().toISOString(),
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
}

/** How many objects each collection holds at their latest version. */
export async function latestObjectCounts(
  store: Store,
  collectionIds: readonly string[],
): Promise<Map<string, number>> {
  if (collectionIds.length === 0) return new Map();
  const rows = await store.db
    .selectFrom('stix_objects')
    .select(['collection_id', sql<number>`count(*)`.as('n')])
    .where('is_latest', '=', 1)
    .where('collection_id', 'in', [...collectionIds])
    .groupBy('collection_id')
    .execute();
  return new Map(rows.map((r) => [r.collection_id, Number(r.n)]));
}

export async function loadCollections(store: Store): Promise<Collection[]> {
  const rows = await store.db
    .selectFrom('collections')
    .selectAll()
    .orderBy('api_root')
    .orderBy('title')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    apiRoot: r.api_root,
    title: r.title,
    description: r.description,
    ceiling: r.ceiling as Tier,
    readTier: r.read_tier as Tier,
    writeTier: r.write_tier as Tier | null,
    ingest: r.ingest === 1,
    ownerOrgId: r.owner_org_id ?? null,
  }));
}

/** Whether a token's organisation may read a collection (the release module decides). */
export function canRead(p: Principal, c: Collection): boolean {
  return mayReadCollection(readerOf(p), c);
}
export function canWrite(p: Principal, c: Collection): boolean {
  if (c.ownerOrgId !== null) return false;
  return c.writeTier !== null && p.scopes.includes('write') && tierAllows(p.org.tier, c.writeTier);
}
/** The object tiers and markings a reader may receive from a collection (for SQL filters). */
export function receivable(p: Principal, c: Collection): { tiers: Tier[]; tlps: Tlp[] } {
  if (!canRead(p, c)) return { tiers: [], tlps: [] };
  const m = receivableMarkings(readerOf(p));
  return { tiers: m.tiers.filter((t) => tierRank(t) <= tierRank(c.ceiling)), tlps: m.tlps };
}
/** Whether an object's tier fits under a collection's ceiling. */
export function underCeiling(objectTier: Tier, ceiling: Tier): boolean {
  return tierRank(objectTier) <= tierRank(ceiling);
}

/** The version of an object: `modified`, else `created`, else when it was added (observables). */
export function versionOf(object: StixObject, dateAdded: string): string {
  const v = (object.modified ?? object.created) as string | undefined;
  if (!v) return dateAdded;
  // Most timestamps already are in the canonical form: skip a Date round trip for those.
  return CANONICAL_TIMESTAMP.test(v) ? v : new Date(v).toISOString();
}
const CANONICAL_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const TLP_ORDER = ['clear', 'green', 'amber', 'amber+strict', 'red'];
/** The most restrictive TLP among an object's markings; unmarked counts as amber+strict. */
export function tlpOf(object: StixObject): string {
  const refs = Array.isArray(object.object_marking_refs) ? (object.object_marking_refs as string[]) : [];
  let best = -1;
  for (const ref of refs) {
    const tlp = tlpFromMarkingId(ref);
    if (tlp) best = Math.max(best, TLP_ORDER.indexOf(tlp));
  }
  return best < 0 ? 'amber+strict' : TLP_ORDER[best]!;
}

/**
 * The tier and marking a version is stored under, which the release rule reads (`stored`). An
 * object says them itself (the tier extension, its TLP marking); unlabelled counts as full and
 * unmarked as AMBER+STRICT, except the OASIS TLP 2.0 marking definitions as published: they may
 * not mark themselves and are public by nature, so every reader gets what its markings refer to.
 */
export function storedLabel(object: StixObject): { tier: Tier; tlp: string } {
  if (isPublishedMarkingDefinition(object)) return { tier: 'public', tlp: 'clear' };
  return { tier: tierOf(object) ?? 'full', tlp: tlpOf(object) };
}

/**
 * Adds objects to a collection. A version already there is skipped (TAXII POST is idempotent);
 * `onlyIfAbsent` skips an object with any version present (shared objects published once).
 * Works in batches: one read of the versions already stored, one update, chunked inserts.
 * Returns how many versions were new.
 *
 * On PostgreSQL the unique index (object_key, version) lets one object hold a version under a
 * key: a version of another object with the same key (a hash collision, or crafted ids) is left
 * out, passed to `onRefused` and counted (`refusedVersionCount`); the first one stored keeps it.
 * SQLite has no such index (migration 0005), so there both are stored.
 */
export async function addObjects(
  trx: Transaction<Database>,
  collectionId: string,
  objects: readonly StixObject[],
  dateAdded: string,
  options: {
    onlyIfAbsent?: boolean;
    skipUnchanged?: boolean;
    onRefused?: (object: StixObject, message: string) => void;
  } = {},
): Promise<number> {
  if (objects.length === 0) return 0;
  type Known = { seq: number | undefined; version: string; isLatest: boolean; row?: VersionRow };
  const known = new Map<string, Known[]>();
  // Re-sightings move `modified` on objects whose content did not change (relationships, the
  // sanitised products): storing a version for each would grow the collections for nothing.
  // The same read that finds the stored versions brings the latest one's body for that check.
  const latestBodies = new Map<string, string>();
  const uniqueVersions = trx.getExecutor().adapter instanceof PostgresAdapter;
  const keyOf = new Map<string, number>();
  const keysSeen = uniqueVersions ? new Set<number>() : undefined;
  /** Keys two ids of this batch share: their versions are checked against each other. */
  let sharedKeys: Set<number> | undefined;
  for (const object of objects) {
    if (keyOf.has(object.id)) continue;
    const key = objectKey(collectionId, object.id);
    keyOf.set(object.id, key);
    if (!keysSeen) continue;
    if (keysSeen.has(key)) (sharedKeys ??= new Set()).add(key);
    else keysSeen.add(key);
  }
  const ids = [...keyOf.keys()];
  const keys = [...keyOf.values()];
  /** `key version` held by some object, and which one (`collection object`), where keys are shared. */
  const holders = new Map<string, string>();
  const fast = sqliteStatements(trx);
  for (let i = 0; i < ids.length; i += 500) {
    const chunkKeys = keys.slice(i, i + 500);
    // By key alone: the caller's ids pick their rows; on PostgreSQL other objects' rows under
    // these keys are versions the unique index would refuse to store again.
    const rows = fast
      ? storedVersionsSqlite(fast, chunkKeys, options.skipUnchanged === true)
      : await trx
          .selectFrom('stix_objects')
          .select(['seq', 'collection_id', 'object_id', 'object_key', 'version', 'is_latest'])
          .$if(options.skipUnchanged === true, (q) =>
            q.select(sql<string | null>`case when is_latest = 1 then body end`.as('latest_body')),
          )
          .where('object_key', 'in', chunkKeys)
          .execute();
    for (const r of rows) {
      const key = Number(r.object_key);
      const ours = r.collection_id === collectionId && keyOf.has(r.object_id);
      // Another object under one of our keys, or a key two ids of this batch share.
      if (uniqueVersions && (!ours || sharedKeys?.has(key)))
        holders.set(`${key} ${r.version}`, `${r.collection_id} ${r.object_id}`);
      if (!ours) continue;
      let list = known.get(r.object_id);
      if (!list) known.set(r.object_id, (list = []));
      list.push({ seq: r.seq, version: r.version, isLatest: r.is_latest === 1 });
      if (r.latest_body) latestBodies.set(r.object_id, r.latest_body);
    }
  }
  const unsetLatest: number[] = [];
  const inserts: VersionRow[] = [];
  for (const object of objects) {
    const stored = latestBodies.get(object.id);
    if (stored && contentKey(JSON.parse(stored) as StixObject) === contentKey(object)) continue;
    const version = versionOf(object, dateAdded);
    let versions = known.get(object.id);
    if (versions === undefined) known.set(object.id, (versions = []));
    if (versions.length > 0 && (options.onlyIfAbsent || versions.some((v) => v.version === version)))
      continue;
    const key = keyOf.get(object.id)!;
    if (holders.size > 0 || sharedKeys?.has(key)) {
      const keyVersion = `${key} ${version}`;
      const holder = holders.get(keyVersion);
      const self = `${collectionId} ${object.id}`;
      if (holder !== undefined && holder !== self) {
        refusedVersions++;
        options.onRefused?.(object, `version ${version} cannot be stored: ${COLLISION}`);
        continue;
      }
      holders.set(keyVersion, self);
    }
    const latest = versions.find((v) => v.isLatest);
    const isLatest = !latest || version > latest.version;
    if (isLatest && latest) {
      latest.isLatest = false;
      if (latest.seq !== undefined) unsetLatest.push(latest.seq);
      else latest.row!.is_latest = 0; // a version added earlier in this same batch
    }
    const row: VersionRow = {
      object_id: object.id,
      object_key: key,
      object_type: object.type,
      spec_version: typeof object.spec_version === 'string' ? object.spec_version : '2.1',
      version,
      is_latest: isLatest ? 1 : 0,
      ...storedLabel(object),
      body: JSON.stringify(object),
    };
    inserts.push(row);
    versions.push({ seq: undefined, version, isLatest, row });
  }
  if (fast) {
    const unset = fast.prepare('update stix_objects set is_latest = 0 where seq = ?');
    for (const seq of unsetLatest) unset.run(seq);
    unsetLatest.length = 0;
  }
  for (let i = 0; i < unsetLatest.length; i += 500) {
    await trx
      .updateTable('stix_objects')
      .set({ is_latest: 0 })
      .where('seq', 'in', unsetLatest.slice(i, i + 500))
      .execute();
  }
  await insertVersions(trx, collectionId, dateAdded, inserts);
  return inserts.length;
}

const COLLISION =
  'another object holds this version under the same object key (a hash collision); give it another id';
let refusedVersions = 0;
/** Versions refused since start because another object held their key and version. */
export function refusedVersionCount(): number {
  return refusedVersions;
}

/** A stored version's own columns (the collection and date added are the same for a whole batch). */
interface VersionRow {
  object_id: string;
  object_key: number;
  object_type: string;
  spec_version: string;
  version: string;
  is_latest: number;
  tier: string;
  tlp: string;
  body: string;
}

const INSERT_COLUMNS =
  'collection_id, object_id, object_key, object_type, spec_version, version, date_added, is_latest, tier, tlp, body';
const INSERT_PARAMETERS = 11;
/** Rows per INSERT: 11 parameters a row stays under SQLite's 32,766 and PostgreSQL's 65,535. */
const INSERT_CHUNK = 1000;
const insertSql = new Map<string, string>();

/** The multi-row INSERT text for `rows` rows, built once per size and placeholder style. */
function insertStatement(rows: number, postgres: boolean): string {
  const key = `${postgres ? 'pg' : 'sqlite'}:${rows}`;
  let text = insertSql.get(key);
  if (text === undefined) {
    const tuples: string[] = [];
    for (let r = 0, n = 1; r < rows; r++) {
      const slots: string[] = [];
      for (let c = 0; c < INSERT_PARAMETERS; c++) slots.push(postgres ? `$${n++}` : '?');
      tuples.push(`(${slots.join(', ')})`);
    }
    text = `insert into stix_objects (${INSERT_COLUMNS}) values ${tuples.join(', ')}`;
    // PostgreSQL replicas: a POST racing another replica's publisher on the same object may find
    // the version it read as absent already stored; it stays stored once, as if they took turns.
    if (postgres) text += ' on conflict (object_key, version) do nothing';
    insertSql.set(key, text);
  }
  return text;
}

/**
 * Inserts versions through statements whose text is built once per size: the query builder's
 * per-value parsing and compiling cost more than SQLite's own insert work on a 1000-object POST.
 */
async function insertVersions(
  trx: Transaction<Database>,
  collectionId: string,
  dateAdded: string,
  rows: readonly VersionRow[],
): Promise<void> {
  const fast = sqliteStatements(trx);
  if (fast) return insertVersionsSqlite(fast, collectionId, dateAdded, rows);
  const postgres = trx.getExecutor().adapter instanceof PostgresAdapter;
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const end = Math.min(rows.length, i + INSERT_CHUNK);
    const params: unknown[] = new Array((end - i) * INSERT_PARAMETERS);
    let p = 0;
    for (let r = i; r < end; r++) p = versionParams(params, p, collectionId, dateAdded, rows[r]!);
    await trx.executeQuery(CompiledQuery.raw(insertStatement(end - i, postgres), params));
  }
}

/** Rows per prepared multi-row INSERT on SQLite; a remainder goes row by row. */
const SQLITE_INSERT_CHUNK = 100;

/** SQLite: the same inserts through statements prepared once on the connection. */
function insertVersionsSqlite(
  fast: SqliteStatements,
  collectionId: string,
  dateAdded: string,
  rows: readonly VersionRow[],
): void {
  const many = fast.prepare(insertStatement(SQLITE_INSERT_CHUNK, false));
  const one = fast.prepare(insertStatement(1, false));
  const params: unknown[] = new Array(SQLITE_INSERT_CHUNK * INSERT_PARAMETERS);
  let i = 0;
  for (; i + SQLITE_INSERT_CHUNK <= rows.length; i += SQLITE_INSERT_CHUNK) {
    let p = 0;
    for (let r = i; r < i + SQLITE_INSERT_CHUNK; r++)
      p = versionParams(params, p, collectionId, dateAdded, rows[r]!);
    many.run(params);
  }
  const single: unknown[] = new Array(INSERT_PARAMETERS);
  for (; i < rows.length; i++) {
    versionParams(single, 0, collectionId, dateAdded, rows[i]!);
    one.run(single);
  }
}

function versionParams(
  params: unknown[],
  at: number,
  collectionId: string,
  dateAdded: string,
  row: VersionRow,
): number {
  params[at++] = collectionId;
  params[at++] = row.object_id;
  params[at++] = row.object_key;
  params[at++] = row.object_type;
  params[at++] = row.spec_version;
  params[at++] = row.version;
  params[at++] = dateAdded;
  params[at++] = row.is_latest;
  params[at++] = row.tier;
  params[at++] = row.tlp;
  params[at++] = row.body;
  return at;
}

interface StoredVersion {
  seq: number;
  collection_id: string;
  object_id: string;
  object_key: number;
  version: string;
  is_latest: number;
  latest_body?: string | null;
}

/** The object keys of ids in a collection: what the versions' index is searched by. */
export function objectKeys(collectionId: string, ids: readonly string[]): number[] {
  return ids.map((id) => objectKey(collectionId, id));
}

/** The rows that are versions of `ids`: other objects can share a key (it is a hash). */
function sameIds<R extends { object_id: string }>(ids: readonly string[], rows: R[]): R[] {
  if (rows.length === 0) return rows;
  const wanted = new Set(ids);
  return rows.filter((r) => wanted.has(r.object_id));
}

/**
 * SQLite: stored versions under up to 500 keys, in any collection (the caller compares the ids),
 * through one prepared statement whose key list is a single JSON parameter. A list of `?`s made
 * SQLite plan the statement again at every run (with the store's sqlite_stat4, bound values can
 * change a plan), which cost more than the lookups themselves.
 */
function storedVersionsSqlite(
  fast: SqliteStatements,
  keys: readonly number[],
  withLatestBody: boolean,
): StoredVersion[] {
  return fast
    .prepare(withLatestBody ? STORED_WITH_BODY : STORED)
    .all(JSON.stringify(keys)) as StoredVersion[];
}
const STORED_COLUMNS = 'seq, collection_id, object_id, object_key, version, is_latest';
const STORED_WHERE = 'from stix_objects where object_key in (select value from json_each(?))';
const STORED = `select ${STORED_COLUMNS} ${STORED_WHERE}`;
const STORED_WITH_BODY = `select ${STORED_COLUMNS}, case when is_latest = 1 then body end as latest_body ${STORED_WHERE}`;

/** An object's content apart from its version stamp. */
function contentKey(object: StixObject): string {
  return JSON.stringify({ ...object, modified: undefined });
}

/** The latest stored versions of objects in a collection, by id. */
export async function latestObjects(
  trx: Transaction<Database> | Store['db'],
  collectionId: string,
  objectIds: readonly string[],
): Promise<Map<string, StixObject>> {
  const out = new Map<string, StixObject>();
  const fast = sqliteStatements(trx);
  for (let i = 0; i < objectIds.length; i += 500) {
    const chunk = objectIds.slice(i, i + 500);
    if (fast) {
      for (const r of sameIds(chunk, storedVersionsSqlite(fast, objectKeys(collectionId, chunk), true)))
        if (r.latest_body && r.collection_id === collectionId)
          out.set(r.object_id, JSON.parse(r.latest_body) as StixObject);
      continue;
    }
    const rows = await trx
      .selectFrom('stix_objects')
      .select(['object_id', 'body'])
      .where('object_key', 'in', objectKeys(collectionId, chunk))
      .where('collection_id', '=', collectionId)
      .where('is_latest', '=', 1)
      .execute();
    for (const r of sameIds(chunk, rows)) out.set(r.object_id, JSON.parse(r.body) as StixObject);
  }
  return out;
}

/** The latest stored version of an object in a collection. */
export async function latestObject(
  trx: Transaction<Database> | Store['db'],
  collectionId: string,
  objectId: string,
): Promise<StixObject | undefined> {
  const row = await trx
    .selectFrom('stix_objects')
    .select('body')
    .where('object_key', '=', objectKey(collectionId, objectId))
    .where('collection_id', '=', collectionId)
    .where('object_id', '=', objectId)
    .where('is_latest', '=', 1)
    .executeTakeFirst();
  return row ? (JSON.parse(row.body) as StixObject) : undefined;
}

/**
 * Who owns each of `ids` in a collection: the organisation that posted it, null for an object the
 * hub wrote itself (its publisher), absent for an object not stored there yet.
 */
export async function ownersOf(
  trx: Transaction<Database> | Store['db'],
  collectionId: string,
  ids: readonly string[],
): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const [owned, stored] = await Promise.all([
      trx
        .selectFrom('stix_owners')
        .select(['object_id', 'owner_org_id'])
        .where('collection_id', '=', collectionId)
        .where('object_id', 'in', chunk)
        .execute(),
      trx
        .selectFrom('stix_objects')
        .select('object_id')
        .distinct()
        .where('object_key', 'in', objectKeys(collectionId, chunk))
        .where('collection_id', '=', collectionId)
        .where('object_id', 'in', chunk)
        .execute(),
    ]);
    for (const r of stored) out.set(r.object_id, null);
    for (const r of owned) out.set(r.object_id, r.owner_org_id);
  }
  return out;
}

/** Records the organisation that first posted each object (kept when later versions come). */
export async function recordOwners(
  trx: Transaction<Database>,
  collectionId: string,
  ownerOrgId: string,
  ids: readonly string[],
  at: string,
): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    const rows = ids.slice(i, i + 500).map((id) => ({
      collection_id: collectionId,
      object_id: id,
      owner_org_id: ownerOrgId,
      created_at: at,
    }));
    if (rows.length)
      await trx
        .insertInto('stix_owners')
        .values(rows)
        .onConflict((oc) => oc.columns(['collection_id', 'object_id']).doNothing())
        .execute();
  }
}

/** Types that stand for one shared thing: stored once per collection, not versioned per indicator. */
export const SHARED_TYPES = new Set([
  'malware',
  'identity',
  'vulnerability',
  'software',
  'ipv4-addr',
  'ipv6-addr',
  'url',
  'domain-name',
  'marking-definition',
  'extension-definition',
]);

/** Writes one indicator's products into a collection: shared objects once, the rest versioned. */
export async function writeProducts(
  trx: Transaction<Database>,
  collectionId: string,
  objects: readonly StixObject[],
  dateAdded: string,
): Promise<void> {
  await addObjects(
    trx,
    collectionId,
    objects.filter((o) => !SHARED_TYPES.has(o.type)),
    dateAdded,
    { skipUnchanged: true },
  );
  await addObjects(
    trx,
    collectionId,
    objects.filter((o) => SHARED_TYPES.has(o.type)),
    dateAdded,
    { onlyIfAbsent: true },
  );
}

/** Gives each of `ids` still live in a collection a revoked version (it may no longer be there). */
export async function revokeProducts(
  trx: Transaction<Database>,
  collectionId: string,
  ids: readonly string[],
  modified: string,
  dateAdded: string,
): Promise<void> {
  const latest = await latestObjects(trx, collectionId, ids);
  const revoked = [...latest.values()]
    .filter((o) => o.revoked !== true)
    .map((o) => ({
      ...o,
      modified: modified > String(o.modified ?? '') ? modified : dateAdded,
      revoked: true,
    }));
  await addObjects(trx, collectionId, revoked, dateAdded);
}
