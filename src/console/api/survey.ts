/** GET /console/api/survey: survey findings (vulnerable devices) by product and notification state (full tier only). */
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../../share/index.ts';
import { requireFull, type RouteContext } from './common.ts';
import type { SurveyBody } from './types.ts';

export function registerSurvey(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/console/api/survey', async (request): Promise<SurveyBody> => {
    requireFull(principalOf(request));
    const devices = await ctx.deps.intel.queries.deviceBreakdown(new Date());
    return {
      byProduct: devices.byProduct,
      byService: devices.byService,
      notification: devices.byNotification.map((r) => ({ state: r.state || 'not-sent', count: r.count })),
    };
  });
}
