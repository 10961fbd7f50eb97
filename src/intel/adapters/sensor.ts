/**
 * The endpoint sensors' intake into intel, and the other way: the IoC list the sensor centre
 * signs for its terminals, built from intel's indicators. Structural types, so intel imports
 * nothing of the sensor room.
 *
 * Marking: a sighting says that a terminal of a named ministry talked to a C&C server (or ran a
 * listed program). That is the ministry's own internal data, gathered under its agreement for
 * the national analysis centre: tier `full`, TLP:AMBER. Share's release rule never sends AMBER
 * to public notice and keeps the full tier from council members, so terminal data of a ministry
 * never reaches public notice; the C&C server itself may still reach other tiers through the
 * other sources that report it.
 */
import type { Logger } from '../../core/index.ts';
import type { SightingInput } from '../normalise.ts';
import type { ListQuery } from '../read.ts';
import type { Indicator } from '../types.ts';
import type { IntelWriter } from './writer.ts';

/** An IoC seen on a ministry's terminal (the sensor room's SensorObservation, structurally). */
export interface SensorObservationLike {
  org: string;
  kind: string;
  /** Canonical IP:PORT ("192.0.2.1:443", "[2001:db8::1]:443"), domain or sha256. */
  ioc: string;
  proto?: string;
}

/** A terminal confirms a connection or a match; it does not judge the server by itself. */
const SENSOR_CONFIDENCE = 60;

export const sensorSource = (org: string) => `sensor:${org}`;

function splitEndpoint(text: string): { ip: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  return { ip: (match[1] ?? match[2])!, port: Number(match[3]) };
}

/**
 * Sightings of C&C servers (IP:PORT) and domains. Executable hashes have no indicator kind in
 * intel; they stay in the sensor room's statistics.
 */
export function sightingsFromSensorObservations(
  observations: readonly SensorObservationLike[],
): SightingInput[] {
  const sightings: SightingInput[] = [];
  for (const o of observations) {
    const common = {
      source: sensorSource(o.org),
      confidence: SENSOR_CONFIDENCE,
      tier: 'full' as const,
      tlp: 'amber' as const,
    };
    if (o.kind === 'ip-port') {
      const endpoint = splitEndpoint(o.ioc);
      if (!endpoint) continue;
      sightings.push({
        type: 'c2',
        value: endpoint.ip,
        port: endpoint.port,
        proto: o.proto ?? 'tcp',
        ...common,
      });
    } else if (o.kind === 'domain') {
      sightings.push({ type: 'domain', value: o.ioc, ...common });
    }
  }
  return sightings;
}

export interface SensorIntake {
  /** Queues the observations of one accepted batch as sightings (in order; a failure is logged). */
  record(observations: readonly SensorObservationLike[]): void;
  /** Resolves when every queued write has been tried. */
  settled(): Promise<void>;
}

export function createSensorIntake(intel: IntelWriter, options: { logger: Logger }): SensorIntake {
  let writes = Promise.resolve();
  return {
    record(observations) {
      const bySource = new Map<string, SightingInput[]>();
      for (const sighting of sightingsFromSensorObservations(observations)) {
        const list = bySource.get(sighting.source) ?? [];
        list.push(sighting);
        bySource.set(sighting.source, list);
      }
      for (const [source, sightings] of bySource)
        writes = writes
          .then(() => intel.recordSightings(sightings, source))
          .then(
            () => undefined,
            (error: unknown) => options.logger.error({ err: error }, 'intel sensor sighting failed'),
          );
    },
    settled: () => writes,
  };
}

/** What the IoC list takes from an indicator. */
export type IocIndicatorLike = Pick<Indicator, 'kind' | 'value' | 'port'>;

/**
 * The IoC list's C&C IP:PORTs and domains: C&C servers with a port, malicious domains, and the
 * host names of malicious URLs (a terminal sees names, rarely whole URLs).
 */
export function iocListFromIndicators(indicators: Iterable<IocIndicatorLike>): {
  ipPorts: string[];
  domains: string[];
} {
  const ipPorts = new Set<string>();
  const domains = new Set<string>();
  for (const indicator of indicators) {
    if (indicator.kind === 'c2' && indicator.port > 0) {
      ipPorts.add(
        indicator.value.includes(':')
          ? `[${indicator.value}]:${indicator.port}`
          : `${indicator.value}:${indicator.port}`,
      );
    } else if (indicator.kind === 'domain') {
      domains.add(indicator.value);
    } else if (indicator.kind === 'url') {
      try {
        const host = new URL(indicator.value).hostname;
        if (/[a-z]/i.test(host) && !host.startsWith('[')) domains.add(host.toLowerCase());
      } catch {
        // an indicator's URL is canonical already; a broken one is left out
      }
    }
  }
  return { ipPorts: [...ipPorts].sort(), domains: [...domains].sort() };
}

/** Every active C&C, domain and URL indicator of intel, paged, as the IoC list's sources. */
export async function iocListFromIntel(
  intel: { list(query: ListQuery): Promise<{ items: Indicator[]; next?: string }> },
  maxIndicators = 200_000,
): Promise<{ ipPorts: string[]; domains: string[] }> {
  const all: Indicator[] = [];
  let cursor: string | undefined;
  do {
    const page = await intel.list({
      kinds: ['c2', 'domain', 'url'],
      limit: 10_000,
      ...(cursor ? { cursor } : {}),
    });
    all.push(...page.items);
    cursor = page.next;
  } while (cursor && all.length < maxIndicators);
  return iocListFromIndicators(all);
}
