/**
 * What a batch leaves behind: counts per UTC day and measure, matched IoCs per day, the
 * observations intel records as sightings, and the sensor's last self-reported status. Nothing
 * else of an event is kept (no executable path, user or process id).
 */
import { canonicalEndpoint } from './endpoints.ts';
import type { SensorEvent } from './protocol.ts';

const DAY_MS = 86_400_000;
/** Terminal clocks drift: an event dated beyond these bounds is counted on the day it arrived. */
const MAX_PAST_MS = 30 * DAY_MS;
const MAX_FUTURE_MS = DAY_MS;

export type IocKind = 'sha256' | 'ip-port' | 'domain';

/** One IoC seen on a terminal of `org` (the input of intel's sensor intake). */
export interface SensorObservation {
  org: string;
  kind: IocKind;
  /** Canonical IP:PORT, lower-case domain or sha256 hex. */
  ioc: string;
  via: 'ioc.match' | 'socket.open';
  /** For an IP:PORT: tcp or udp. */
  proto?: string;
}

export interface BatchSummary {
  daily: Map<string, Map<string, number>>;
  hits: Map<string, Map<string, { kind: IocKind; count: number }>>;
  observations: SensorObservation[];
  status?: string;
}

export function dayOf(at: number, now: Date): string {
  const nowMs = now.getTime();
  const when = at < nowMs - MAX_PAST_MS || at > nowMs + MAX_FUTURE_MS ? nowMs : at;
  return new Date(when).toISOString().slice(0, 10);
}

function bump<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = make()));
  return value;
}

function canonicalIoc(kind: IocKind, ioc: string): string | undefined {
  if (kind === 'ip-port') return canonicalEndpoint(ioc);
  if (kind === 'domain') return ioc.toLowerCase().replace(/\.$/, '');
  return /^[0-9a-f]{64}$/.test(ioc) ? ioc : undefined;
}

export function summariseBatch(
  org: string,
  events: readonly SensorEvent[],
  knownC2: ReadonlySet<string>,
  now: Date,
): BatchSummary {
  const summary: BatchSummary = { daily: new Map(), hits: new Map(), observations: [] };
  const observed = new Set<string>();
  const observe = (observation: SensorObservation) => {
    const key = `${observation.kind}|${observation.ioc}`;
    if (observed.has(key)) return;
    observed.add(key);
    summary.observations.push(observation);
  };
  for (const event of events) {
    const day = dayOf(event.at, now);
    const counts = bump(summary.daily, day, () => new Map<string, number>());
    const count = (measure: string) => counts.set(measure, (counts.get(measure) ?? 0) + 1);
    count(event.type);
    if (event.type === 'ioc.match') {
      const ioc = canonicalIoc(event.kind, event.ioc);
      if (ioc === undefined) continue;
      bump(
        bump(summary.hits, day, () => new Map()),
        ioc,
        () => ({ kind: event.kind, count: 0 }),
      ).count++;
      observe({ org, kind: event.kind, ioc, via: 'ioc.match' });
    } else if (event.type === 'socket.open') {
      const remote = canonicalEndpoint(event.remote);
      if (remote === undefined || !knownC2.has(remote)) continue;
      count('c2.connection');
      observe({ org, kind: 'ip-port', ioc: remote, via: 'socket.open', proto: event.proto.replace('6', '') });
    } else if (event.type === 'sensor.status') {
      const { type: _type, ...status } = event;
      summary.status = JSON.stringify(status);
    }
  }
  return summary;
}
