/**
 * Intel's side of the indicator tallies (src/store/tallies.ts): the deltas a write makes, applied
 * once per transaction, and the read that turns them into active / new-in-24-hours / per-hour
 * counts per (kind, tier, TLP) class without counting indicator rows.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { hourOf, type Database, type TallyTable } from '../store/index.ts';
import type { IndicatorKind, Tier, Tlp } from './types.ts';

const HOUR_MS = 3_600_000;
/** Rows per upsert statement (5 parameters each). */
const UPSERT_CHUNK = 200;

/** What of an indicator the tallies depend on. */
export interface TallyState {
  kind: string;
  tier: string;
  tlp: string;
  expiresAt: string;
  createdAt: string;
  withdrawn: boolean;
}

/** Deltas gathered over one transaction; `apply` writes them in key order (no deadlocks between writers). */
export class TallyChanges {
  private readonly deltas = new Map<string, number>();

  /** Records that one indicator went from `before` (undefined: it did not exist) to `after`. */
  move(before: TallyState | undefined, after: TallyState): void {
    if (
      before &&
      before.withdrawn === after.withdrawn &&
      before.kind === after.kind &&
      before.tier === after.tier &&
      before.tlp === after.tlp &&
      hourOf(before.expiresAt) === hourOf(after.expiresAt) &&
      hourOf(before.createdAt) === hourOf(after.createdAt)
    )
      return;
    if (before && !before.withdrawn) this.add(before, -1);
    if (!after.withdrawn) this.add(after, 1);
  }

  private add(state: TallyState, by: number): void {
    const tail = `${state.kind}\t${state.tier}\t${state.tlp}`;
    for (const key of [
      `indicator_expiry_tally\t${hourOf(state.expiresAt)}\t${tail}`,
      `indicator_created_tally\t${hourOf(state.createdAt)}\t${tail}`,
    ]) {
      const n = (this.deltas.get(key) ?? 0) + by;
      if (n === 0) this.deltas.delete(key);
      else this.deltas.set(key, n);
    }
  }

  get size(): number {
    return this.deltas.size;
  }

  async apply(trx: Transaction<Database>): Promise<void> {
    if (this.deltas.size === 0) return;
    const byTable = new Map<
      TallyTable,
      { hour: string; kind: string; tier: string; tlp: string; n: number }[]
    >();
    for (const key of [...this.deltas.keys()].sort()) {
      const [table, hour, kind, tier, tlp] = key.split('\t') as [TallyTable, string, string, string, string];
      let rows = byTable.get(table);
      if (!rows) byTable.set(table, (rows = []));
      rows.push({ hour, kind, tier, tlp, n: this.deltas.get(key)! });
    }
    for (const [table, rows] of [...byTable].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      for (let i = 0; i < rows.length; i += UPSERT_CHUNK) {
        await trx
          .insertInto(table)
          .values(rows.slice(i, i + UPSERT_CHUNK))
          .onConflict((oc) =>
            oc
              .columns(['hour', 'kind', 'tier', 'tlp'])
              .doUpdateSet({ n: sql<number>`${sql.ref(`${table}.n`)} + excluded.n` }),
          )
          .execute();
      }
    }
    this.deltas.clear();
  }
}

/** Counts for one (kind, tier, TLP) class of live indicators. */
export interface TallyClass {
  kind: IndicatorKind;
  tier: Tier;
  tlp: Tlp;
  /** Not withdrawn and not expired at `now`. */
  active: number;
  /** Not withdrawn, created in the 24 hours before `now`. */
  new24h: number;
  /** Not withdrawn, created in each of `hours` (the last one is the current hour). */
  perHour: number[];
}

export interface TallyReading {
  at: string;
  /** 24 hour buckets (`2026-01-01T09`), oldest first, ending with the current hour. */
  hours: string[];
  classes: TallyClass[];
}

/**
 * Reads the tallies at `now`. Whole hours come from the tally tables; the two partial hours (the
 * current hour's expiries, and the part of the hour 24 hours ago that is inside the window) are
 * counted from the indicators table through its `expires_at` and `created_at` indexes: at most
 * one hour of rows each.
 */
export async function readTallies(db: Kysely<Database>, now: Date): Promise<TallyReading> {
  const nowIso = now.toISOString();
  const hourStart = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const currentHour = hourOf(nowIso);
  const nextHourIso = new Date(hourStart + HOUR_MS).toISOString();
  const since = new Date(now.getTime() - 24 * HOUR_MS);
  const sinceIso = since.toISOString();
  const sinceHour = hourOf(sinceIso);
  const sinceHourEndIso = new Date(Math.floor(since.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS).toISOString();
  const hours: string[] = [];
  for (let i = 23; i >= 0; i--) hours.push(hourOf(new Date(hourStart - i * HOUR_MS).toISOString()));

  const n = sql<number>`sum(n)`;
  const counted = sql<number>`count(*)`;
  const [expiring, expiringNow, created, createdEdge] = await Promise.all([
    db
      .selectFrom('indicator_expiry_tally')
      .select(['kind', 'tier', 'tlp', n.as('n')])
      .where('hour', '>', currentHour)
      .groupBy(['kind', 'tier', 'tlp'])
      .execute(),
    db
      .selectFrom('indicators')
      .select(['kind', 'tier', 'tlp', counted.as('n')])
      .where('expires_at', '>', nowIso)
      .where('expires_at', '<', nextHourIso)
      .where('withdrawn_at', 'is', null)
      .groupBy(['kind', 'tier', 'tlp'])
      .execute(),
    db
      .selectFrom('indicator_created_tally')
      .select(['hour', 'kind', 'tier', 'tlp', 'n'])
      .where('hour', '>', sinceHour)
      .where('hour', '<=', currentHour)
      .where('n', '!=', 0)
      .execute(),
    db
      .selectFrom('indicators')
      .select(['kind', 'tier', 'tlp', counted.as('n')])
      .where('created_at', '>', sinceIso)
      .where('created_at', '<', sinceHourEndIso)
      .where('withdrawn_at', 'is', null)
      .groupBy(['kind', 'tier', 'tlp'])
      .execute(),
  ]);

  const classes = new Map<string, TallyClass>();
  const classOf = (r: { kind: string; tier: string; tlp: string }) => {
    const key = `${r.kind}\t${r.tier}\t${r.tlp}`;
    let c = classes.get(key);
    if (!c) {
      c = {
        kind: r.kind as IndicatorKind,
        tier: r.tier as Tier,
        tlp: r.tlp as Tlp,
        active: 0,
        new24h: 0,
        perHour: new Array<number>(hours.length).fill(0),
      };
      classes.set(key, c);
    }
    return c;
  };
  for (const r of expiring) classOf(r).active += Number(r.n);
  for (const r of expiringNow) classOf(r).active += Number(r.n);
  for (const r of created) {
    const c = classOf(r);
    const i = hours.indexOf(r.hour);
    if (i >= 0) c.perHour[i]! += Number(r.n);
    c.new24h += Number(r.n);
  }
  for (const r of createdEdge) classOf(r).new24h += Number(r.n);
  return {
    at: nowIso,
    hours,
    classes: [...classes.values()].filter((c) => c.active !== 0 || c.new24h !== 0),
  };
}
