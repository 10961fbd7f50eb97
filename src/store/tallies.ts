/**
 * Indicator tallies: how many live (not withdrawn) indicators there are per hour of expiry and per
 * hour of creation, by kind, tier and TLP. Intel keeps them in the same transaction as every
 * indicator write, so the console's overview reads a few hundred small rows instead of counting
 * a million. `rebuildIndicatorTallies` recounts them from the indicators table (the migration's
 * backfill, and a repair after writes that bypassed intel).
 */
import { sql, type QueryExecutorProvider } from 'kysely';

/** Hour buckets are the first 13 characters of an ISO timestamp: `2026-01-01T09`. */
export function hourOf(iso: string): string {
  return iso.slice(0, 13);
}

export const TALLY_TABLES = ['indicator_expiry_tally', 'indicator_created_tally'] as const;
export type TallyTable = (typeof TALLY_TABLES)[number];

/** Recounts both tallies from the indicators table, in the caller's transaction if given one. */
export async function rebuildIndicatorTallies(db: QueryExecutorProvider): Promise<void> {
  await sql`DELETE FROM indicator_expiry_tally`.execute(db);
  await sql`DELETE FROM indicator_created_tally`.execute(db);
  await sql`INSERT INTO indicator_expiry_tally (hour, kind, tier, tlp, n)
    SELECT substr(expires_at, 1, 13), kind, tier, tlp, count(*) FROM indicators
    WHERE withdrawn_at IS NULL GROUP BY substr(expires_at, 1, 13), kind, tier, tlp`.execute(db);
  await sql`INSERT INTO indicator_created_tally (hour, kind, tier, tlp, n)
    SELECT substr(created_at, 1, 13), kind, tier, tlp, count(*) FROM indicators
    WHERE withdrawn_at IS NULL GROUP BY substr(created_at, 1, 13), kind, tier, tlp`.execute(db);
}
