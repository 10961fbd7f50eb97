/** Intel's rows as intel's shapes (the store's column names stay inside intel). */
import type { Selectable } from 'kysely';
import { InputError } from '../core/index.ts';
import type { IndicatorTable, RelationshipTable, SightingTable } from './tables.ts';
import type { TallyState } from './tally.ts';
import type { Indicator, IndicatorKind, Relationship, Sighting, Tier, Tlp } from './types.ts';

export type IndicatorRow = Selectable<IndicatorTable>;

export function tallyStateOf(row: IndicatorRow): TallyState {
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
export function indicatorFromRow(row: IndicatorRow): Indicator {
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

export function sightingFromRow(r: Selectable<SightingTable>): Sighting {
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

export function relationshipFromRow(r: Selectable<RelationshipTable>): Relationship {
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

export function encodeCursor(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}
export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text || text.length > 200) throw new InputError('bad cursor');
  return text;
}
