/** The status of an organisation's own POST of objects (GET /{root}/status/{id}/). */
import { notFound, principalOf, sendTaxii } from '../http.ts';
import type { TaxiiRoutes } from './scope.ts';

export function registerStatus({ app, ctx, scope }: TaxiiRoutes): void {
  app.get<{ Params: { root: string; id: string } }>(
    '/:root/status/:id/',
    {
      schema: {
        params: {
          type: 'object',
          properties: { root: { type: 'string', maxLength: 64 }, id: { type: 'string', maxLength: 64 } },
        },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      await scope.rootFor(p, request.params.root);
      const row = await ctx.store.db
        .selectFrom('taxii_status')
        .selectAll()
        .where('id', '=', request.params.id)
        .where('api_root', '=', request.params.root)
        .where('org_id', '=', p.org.id)
        .executeTakeFirst();
      if (!row) throw notFound();
      const details = JSON.parse(row.details) as { successes: unknown[]; failures: unknown[] };
      return sendTaxii(reply, 200, {
        id: row.id,
        status: row.status,
        request_timestamp: row.request_timestamp,
        total_count: row.total,
        success_count: row.success,
        successes: details.successes,
        failure_count: row.failure,
        failures: details.failures,
        pending_count: row.pending,
      });
    },
  );
}
