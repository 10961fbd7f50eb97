/**
 * GET /console/api/darknet: statistics of the hosts the darknet reported (sightings whose source
 * starts with "darknet"): new scanners per hour, surges, fingerprints, and ports from the `ports`
 * attribute (full tier only).
 */
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../../share/index.ts';
import { hourBuckets, requireFull, type RouteContext } from './common.ts';
import type { DarknetBody } from './types.ts';

/** Ports and fingerprints come from the newest this many scanners: bounded work per request. */
const SAMPLE = 20_000;

export function registerDarknet(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/console/api/darknet', async (request): Promise<DarknetBody> => {
    requireFull(principalOf(request));
    const hours = hourBuckets(48, new Date());
    const { perHour, recent, total } = await ctx.deps.intel.queries.darknetBots(
      'darknet',
      `${hours[0]}:00:00.000Z`,
      SAMPLE,
    );
    const series = new Array<number>(hours.length).fill(0);
    for (const r of perHour) {
      const i = hours.indexOf(r.hour);
      if (i >= 0) series[i] = r.count;
    }
    const mean = series.reduce((a, b) => a + b, 0) / series.length;
    const sd = Math.sqrt(series.reduce((a, b) => a + (b - mean) ** 2, 0) / series.length);
    const surges = hours
      .map((h, i) => ({ hour: h, count: series[i]! }))
      .filter((s) => s.count >= 10 && s.count > mean + 3 * sd);
    const ports = new Map<number, number>();
    const fingerprints = new Map<string, number>();
    for (const r of recent) {
      let a: Record<string, string> = {};
      try {
        a = JSON.parse(r.attributes) as Record<string, string>;
      } catch {
        continue;
      }
      const fp = a.fingerprint || r.family || 'unknown';
      fingerprints.set(fp, (fingerprints.get(fp) ?? 0) + 1);
      for (const part of String(a.ports ?? '').split(/[;, ]+/)) {
        const port = Number(part.replace('+', ''));
        if (part && Number.isInteger(port) && port >= 0 && port <= 65535)
          ports.set(port, (ports.get(port) ?? 0) + 1);
      }
    }
    const top = <K>(m: Map<K, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
    return {
      scanners: total,
      sampled: recent.length,
      hours,
      newScannersPerHour: series,
      surges,
      topPorts: top(ports, 20).map(([port, count]) => ({ port, count })),
      fingerprints: top(fingerprints, 20).map(([name, count]) => ({ name, count })),
    };
  });
}
