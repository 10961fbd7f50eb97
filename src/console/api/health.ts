/** GET /console/api/health: the flow pipeline's health, for the loss banner and the Pipeline page. */
import type { FastifyInstance } from 'fastify';
import type { PipelineHealth } from '../../core/index.ts';
import { mayReadPipelineHealth, principalOf, readerOf } from '../../share/index.ts';
import type { HealthBody } from './types.ts';

export function registerHealth(app: FastifyInstance, health: (() => PipelineHealth) | undefined): void {
  app.get('/console/api/health', async (request): Promise<HealthBody> => {
    if (!health || !mayReadPipelineHealth(readerOf(principalOf(request))))
      return { watched: false, loss: false, processes: [], history: [] };
    const now = health();
    return {
      watched: true,
      loss: now.loss,
      processes: now.processes.map((p) => ({ ...p, at: new Date(p.at).toISOString() })),
      history: now.history.map((s) => ({ ...s, at: new Date(s.at).toISOString() })),
    };
  });
}
