/**
 * The read side: per-ministry views and attack-trend statistics from the room's counters (what
 * the console draws). Per-organisation results name a ministry's terminals' exposure: share's
 * release rule keeps them at the full tier.
 */
import type { SensorDb } from './store.ts';

export interface SensorDailyRow {
  day: string;
  org: string;
  /** ioc.match events. */
  matches: number;
  /** socket.open events to a C&C in the IoC list. */
  connections: number;
  /** Every socket.open. */
  sockets: number;
}

export interface SensorTopIoc {
  ioc: string;
  kind: string;
  count: number;
  /** Organisations whose terminals matched it. */
  orgs: number;
}

export interface SensorOrgSummary {
  org: string;
  sensors: number;
  online: number;
  revoked: number;
  lastSeen: string | null;
}

export interface SensorListRow {
  id: string;
  org: string;
  hostname: string;
  platform: string;
  enrolledAt: string;
  lastSeen: string | null;
  lastSeq: number;
  revoked: boolean;
}

export interface SensorReader {
  /** Counts per organisation and UTC day over the last `days` days (oldest first). */
  daily(days: number): Promise<SensorDailyRow[]>;
  topIocs(days: number, limit: number): Promise<SensorTopIoc[]>;
  organisations(): Promise<SensorOrgSummary[]>;
  sensors(): Promise<SensorListRow[]>;
}

const DAY_MS = 86_400_000;

export function createSensorReader(
  db: SensorDb,
  options: { onlineWithinMs?: number; now?: () => Date } = {},
): SensorReader {
  const now = options.now ?? (() => new Date());
  const onlineWithinMs = options.onlineWithinMs ?? 15 * 60_000;
  const since = (days: number) => new Date(now().getTime() - (days - 1) * DAY_MS).toISOString().slice(0, 10);
  return {
    async daily(days) {
      const rows = await db
        .selectFrom('sensor_daily')
        .select(['day', 'org', 'measure', 'count'])
        .where('day', '>=', since(days))
        .where('measure', 'in', ['ioc.match', 'c2.connection', 'socket.open'])
        .orderBy('day')
        .orderBy('org')
        .execute();
      const byKey = new Map<string, SensorDailyRow>();
      for (const row of rows) {
        const key = `${row.day}|${row.org}`;
        let out = byKey.get(key);
        if (!out)
          byKey.set(key, (out = { day: row.day, org: row.org, matches: 0, connections: 0, sockets: 0 }));
        const count = Number(row.count);
        if (row.measure === 'ioc.match') out.matches += count;
        else if (row.measure === 'c2.connection') out.connections += count;
        else out.sockets += count;
      }
      return [...byKey.values()];
    },
    async topIocs(days, limit) {
      const rows = await db
        .selectFrom('sensor_ioc_hits')
        .select((eb) => [
          'ioc',
          'kind',
          eb.fn.sum<number>('count').as('count'),
          eb.fn.count<number>('org').distinct().as('orgs'),
        ])
        .where('day', '>=', since(days))
        .groupBy(['ioc', 'kind'])
        .orderBy('count', 'desc')
        .orderBy('ioc')
        .limit(limit)
        .execute();
      return rows.map((row) => ({
        ioc: row.ioc,
        kind: row.kind,
        count: Number(row.count),
        orgs: Number(row.orgs),
      }));
    },
    async organisations() {
      const onlineSince = new Date(now().getTime() - onlineWithinMs).toISOString();
      const rows = await db.selectFrom('sensor_sensors').select(['org', 'last_seen', 'revoked_at']).execute();
      const byOrg = new Map<string, SensorOrgSummary>();
      for (const row of rows) {
        let out = byOrg.get(row.org);
        if (!out)
          byOrg.set(row.org, (out = { org: row.org, sensors: 0, online: 0, revoked: 0, lastSeen: null }));
        out.sensors++;
        if (row.revoked_at !== null) out.revoked++;
        else if (row.last_seen !== null && row.last_seen >= onlineSince) out.online++;
        if (row.last_seen !== null && (out.lastSeen === null || row.last_seen > out.lastSeen))
          out.lastSeen = row.last_seen;
      }
      return [...byOrg.values()].sort((a, b) => a.org.localeCompare(b.org));
    },
    async sensors() {
      const rows = await db
        .selectFrom('sensor_sensors')
        .selectAll()
        .orderBy('org')
        .orderBy('enrolled_at')
        .execute();
      return rows.map((row) => ({
        id: row.id,
        org: row.org,
        hostname: row.hostname,
        platform: row.platform,
        enrolledAt: row.enrolled_at,
        lastSeen: row.last_seen,
        lastSeq: Number(row.last_seq),
        revoked: row.revoked_at !== null,
      }));
    },
  };
}
