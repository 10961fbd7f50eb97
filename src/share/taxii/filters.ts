/**
 * The TAXII 2.1 filters (added_after, limit, next, match[id|type|version|spec_version]) as query
 * schema, parsed values and SQL over stix_objects, shared by every read of objects.
 */
import { sql, type SelectQueryBuilder } from 'kysely';
import type { Database } from '../../store/index.ts';
import { objectKeys, receivable, type Collection } from '../collections.ts';
import { HttpError } from '../http.ts';
import type { Principal } from '../orgs.ts';

export const FilterQuery = {
  type: 'object',
  properties: {
    added_after: { type: 'string', maxLength: 40 },
    limit: { type: 'integer', minimum: 1 },
    next: { type: 'string', maxLength: 40 },
    'match[id]': { type: 'string', maxLength: 20_000 },
    'match[type]': { type: 'string', maxLength: 2000 },
    'match[version]': { type: 'string', maxLength: 2000 },
    'match[spec_version]': { type: 'string', maxLength: 100 },
  },
} as const;

export interface Filters {
  added_after?: string;
  limit?: number;
  next?: string;
  'match[id]'?: string;
  'match[type]'?: string;
  'match[version]'?: string;
  'match[spec_version]'?: string;
}

export function isoOrThrow(text: string, name: string): string {
  const t = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(t))
    throw new HttpError(400, 'Bad Request', `${name} must be an RFC 3339 timestamp`);
  return new Date(t).toISOString();
}

/** The comma-separated values of a match filter (undefined when the filter is absent). */
export function list(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length > 1000) throw new HttpError(400, 'Bad Request', 'too many values in a match filter');
  return items;
}

/** The timestamps named in match[version], besides the words `first` and `last`. */
export function versionStamps(versions: readonly string[]): string[] {
  return versions.filter((v) => v !== 'first' && v !== 'last').map((v) => isoOrThrow(v, 'match[version]'));
}

export function encodeNext(seq: number): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}
function decodeNext(next: string): number {
  const text = Buffer.from(next, 'base64url').toString('utf8');
  const seq = /^s(\d{1,15})$/.exec(text);
  if (!seq) throw new HttpError(400, 'Bad Request', 'next is not a value this server handed out');
  return Number(seq[1]);
}

type ObjectQuery = SelectQueryBuilder<Database, 'stix_objects', object>;

/** Applies the TAXII filters shared by objects, manifest and single-object reads. */
export function applyFilters(
  query: ObjectQuery,
  collection: Collection,
  f: Filters,
  reader: Principal,
  defaultVersion = 'last',
): ObjectQuery {
  // The release rule as SQL (tiers and markings the reader may receive); `released` checks each row.
  const { tiers, tlps } = receivable(reader, collection);
  let q = query
    .where('stix_objects.collection_id', '=', collection.id)
    .where('stix_objects.tier', 'in', tiers.length ? tiers : [''])
    .where('stix_objects.tlp', 'in', tlps.length ? tlps : ['']);
  if (f.added_after) q = q.where('stix_objects.date_added', '>', isoOrThrow(f.added_after, 'added_after'));
  const ids = list(f['match[id]']);
  // Through the versions' index (object_key); the ids themselves weed out keys that collide.
  if (ids?.length)
    q = q
      .where('stix_objects.object_key', 'in', objectKeys(collection.id, ids))
      .where('stix_objects.object_id', 'in', ids);
  const types = list(f['match[type]']);
  if (types?.length) q = q.where('stix_objects.object_type', 'in', types);
  const specs = list(f['match[spec_version]']);
  if (specs?.length) q = q.where('stix_objects.spec_version', 'in', specs);
  const versions = list(f['match[version]']) ?? [defaultVersion];
  if (!versions.includes('all')) q = matchVersions(q, versions);
  if (f.next) q = q.where('stix_objects.seq', '>', decodeNext(f.next));
  return q;
}

/** match[version] as SQL: the latest version, the first, and any named by timestamp. */
function matchVersions(query: ObjectQuery, versions: readonly string[]): ObjectQuery {
  const stamps = versionStamps(versions);
  return query.where((eb) => {
    const ors = [];
    if (versions.includes('last')) ors.push(eb('stix_objects.is_latest', '=', 1));
    if (versions.includes('first')) {
      ors.push(
        eb(
          'stix_objects.version',
          '=',
          eb
            .selectFrom('stix_objects as first')
            .select(sql<string>`min(first.version)`.as('v'))
            .whereRef('first.object_key', '=', 'stix_objects.object_key')
            .whereRef('first.collection_id', '=', 'stix_objects.collection_id')
            .whereRef('first.object_id', '=', 'stix_objects.object_id'),
        ),
      );
    }
    if (stamps.length) ors.push(eb('stix_objects.version', 'in', stamps));
    return eb.or(ors);
  });
}
