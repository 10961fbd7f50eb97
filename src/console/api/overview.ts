/**
 * GET /console/api/overview: counters and trend from intel's tallies (a few hundred rows,
 * whatever the store holds) and the newest C&C servers (the (kind, created_at, id) index walked
 * backwards). Nothing here counts indicator rows, so the overview costs the same at 1M
 * indicators as at 100.
 */
import type { FastifyInstance } from 'fastify';
import type { Tier } from '../../intel/index.ts';
import { principalOf } from '../../share/index.ts';
import { viewOf, visibleClass, whereVisible } from '../view.ts';
import { decisionsFor, type RouteContext } from './common.ts';
import type { OverviewBody } from './types.ts';

export function registerOverview(app: FastifyInstance, ctx: RouteContext): void {
  const { intel } = ctx.deps;

  async function computeOverview(tier: Tier): Promise<OverviewBody> {
    const now = new Date();
    const [tallies, newest] = await Promise.all([
      intel.tallies(now),
      intel.queries.newest((q) => whereVisible(q, tier), 'c2', 10, now),
    ]);
    const active: Record<string, number> = {};
    const new24h: Record<string, number> = {};
    const trend: Record<string, number[]> = {};
    for (const c of tallies.classes) {
      if (!visibleClass(tier, c)) continue;
      if (c.active) active[c.kind] = (active[c.kind] ?? 0) + c.active;
      if (c.new24h) new24h[c.kind] = (new24h[c.kind] ?? 0) + c.new24h;
      if (c.perHour.some((n) => n !== 0)) {
        const series = (trend[c.kind] ??= new Array<number>(tallies.hours.length).fill(0));
        c.perHour.forEach((n, i) => (series[i]! += n));
      }
    }
    const decisions = await decisionsFor(ctx, tier, newest);
    const body: OverviewBody = {
      tier,
      at: now.toISOString(),
      active,
      new24h,
      hours: tallies.hours,
      trend,
      newestC2: newest.map((i) => viewOf(i, tier, now, decisions.get(i.id))),
    };
    ctx.state.overviewCache.set(tier, { at: performance.now(), body });
    return body;
  }

  /** Recounts one tier's overview once at a time; callers share the promise. */
  function refreshOverview(tier: Tier): Promise<OverviewBody> {
    let running = ctx.state.overviewRefresh.get(tier);
    if (!running) {
      running = computeOverview(tier).finally(() => ctx.state.overviewRefresh.delete(tier));
      ctx.state.overviewRefresh.set(tier, running);
    }
    return running;
  }
  ctx.state.refreshOverview = refreshOverview;

  // Counting a million rows takes a while: a reader gets the last counts at once while a
  // recount runs behind (stale-while-revalidate); only a request before the first count waits.
  app.get('/console/api/overview', async (request): Promise<OverviewBody> => {
    const tier = principalOf(request).org.tier;
    const cached = ctx.state.overviewCache.get(tier);
    if (!cached) return refreshOverview(tier);
    if (performance.now() - cached.at >= ctx.config.overviewCacheMs) {
      refreshOverview(tier).catch((error: unknown) =>
        ctx.deps.logger.error({ err: error }, 'console overview recount failed'),
      );
    }
    return cached.body;
  });
}
