/** TAXII discovery (GET /taxii2/): the API roots in which this organisation sees a collection. */
import { API_ROOTS } from '../collections.ts';
import { principalOf, sendTaxii } from '../http.ts';
import type { TaxiiRoutes } from './scope.ts';

export function registerDiscovery({ app, ctx, scope }: TaxiiRoutes): void {
  app.get('/taxii2/', async (request, reply) => {
    const p = principalOf(request);
    const roots = [];
    for (const r of API_ROOTS)
      if ((await scope.visibleCollections(p, r.path)).length > 0) roots.push(`/${r.path}/`);
    return sendTaxii(reply, 200, {
      title: 'tsunagi TAXII 2.1',
      description: `Sharing hub of ${ctx.hub.name}`,
      ...(roots[0] ? { default: roots[0] } : {}),
      api_roots: roots,
    });
  });
}
