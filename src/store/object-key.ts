/**
 * The key that finds a stored STIX object's versions: a 52-bit hash of its collection and object
 * ids (the first 13 hex digits of MD5 of `collection_id object_id`). An index over 8-byte keys is a
 * fifteenth the size of one over the ids themselves, so at millions of versions it stays in the
 * page cache and a new version dirties a page of a small index instead of missing a large one.
 * Different objects may share a key: every lookup also compares the ids kept in the row.
 */
import { createHash } from 'node:crypto';

/** The same hash as `objectKey`, in PostgreSQL's SQL over columns or parameters named here. */
export function objectKeySqlPostgres(collectionId: string, objectId: string): string {
  return `('x' || substr(md5(${collectionId} || ' ' || ${objectId}), 1, 13))::bit(52)::bigint`;
}

export function objectKey(collectionId: string, objectId: string): number {
  const hex = createHash('md5').update(`${collectionId} ${objectId}`).digest('hex');
  return parseInt(hex.slice(0, 13), 16);
}
