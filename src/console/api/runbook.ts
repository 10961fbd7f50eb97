/**
 * GET /console/api/runbook?lang=ja|en: the runbook of the configuration this process runs with
 * (full tier only: it names the ports, paths and commands of the operator's machines). The CLI
 * hands the console a function that writes it (the report room's), so the console imports no
 * room for it; absent, the page says no runbook is configured.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HttpError, principalOf } from '../../share/index.ts';
import { requireFull } from './common.ts';
import type { RunbookBody, RunbookView } from './types.ts';

const Query = z.object({ lang: z.enum(['ja', 'en']).default('ja') });

export function registerRunbook(
  app: FastifyInstance,
  runbook: ((lang: 'ja' | 'en') => RunbookView) | undefined,
): void {
  app.get('/console/api/runbook', async (request): Promise<RunbookBody> => {
    requireFull(principalOf(request));
    const query = Query.safeParse(request.query);
    if (!query.success) throw new HttpError(400, 'Bad Request', 'lang must be ja or en');
    if (!runbook) return { available: false };
    return { available: true, ...runbook(query.data.lang) };
  });
}
