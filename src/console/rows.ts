/** Indicator rows read straight from the store (for paginated, counted console queries) as intel's shape. */
import type { Selectable } from 'kysely';
import type { Indicator, IndicatorKind, Tier, Tlp } from '../intel/index.ts';
import type { IndicatorTable } from '../store/schema.ts';

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
