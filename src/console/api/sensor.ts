/**
 * GET /console/api/sensors: endpoint sensors per ministry and the attack-trend statistics of what
 * they reported (IoC matches and connections to known C&C per ministry and day, the most matched
 * IoCs), through the sensor room's reader. Share's release rule keeps all of it at the full
 * tier; this file only asks it. Every read is written to the audit log.
 */
import type { FastifyInstance } from 'fastify';
import { HttpError, principalOf, readerOf, release } from '../../share/index.ts';
import { auditRead, type RouteContext } from './common.ts';
import type { SensorsBody } from './types.ts';

const DAYS = 30;
const TOP_IOCS = 20;
const DAY_MS = 86_400_000;

/** The last `days` UTC days, oldest first. */
function dayLabels(days: number, now: Date): string[] {
  const out: string[] = [];
  for (let i = days - 1; i >= 0; i--)
    out.push(new Date(now.getTime() - i * DAY_MS).toISOString().slice(0, 10));
  return out;
}

export function registerSensors(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/console/api/sensors', async (request): Promise<SensorsBody> => {
    const p = principalOf(request);
    const decision = release({ type: 'sensor', level: 'organisation' }, readerOf(p));
    if (decision.outcome === 'deny') throw new HttpError(403, 'Forbidden', decision.reason);
    const labels = dayLabels(DAYS, new Date());
    const sensor = ctx.deps.sensor;
    if (!sensor)
      return { days: DAYS, labels, organisations: [], daily: [], topIocs: [], marking: decision.copy };
    const [organisations, daily, topIocs] = await Promise.all([
      sensor.organisations(),
      sensor.daily(DAYS),
      sensor.topIocs(DAYS, TOP_IOCS),
    ]);
    await auditRead(ctx, request, p, 'console:sensors', { organisations: organisations.length });
    return { days: DAYS, labels, organisations, daily, topIocs, marking: decision.copy };
  });
}
