/** An object's versions (GET /{root}/collections/{collection}/objects/{object}/versions/). */
import { notFound, sendTaxii } from '../http.ts';
import { FilterQuery, type Filters } from './filters.ts';
import { readCollectionPage } from './page.ts';
import { ObjectParams, type TaxiiRoutes } from './scope.ts';

export function registerVersions(routes: TaxiiRoutes): void {
  const { app } = routes;
  app.get<{ Params: { root: string; collection: string; object: string }; Querystring: Filters }>(
    '/:root/collections/:collection/objects/:object/versions/',
    { schema: { params: ObjectParams, querystring: FilterQuery } },
    async (request, reply) => {
      const page = await readCollectionPage(routes, request, {
        filters: { ...request.query, 'match[id]': request.params.object, 'match[version]': 'all' },
        columns: ['version'],
        read: 'versions',
      });
      if (page.matched === 0 && !request.query.next && !request.query.added_after) throw notFound();
      reply.headers(page.headers);
      return sendTaxii(reply, 200, {
        more: page.more,
        ...(page.next ? { next: page.next } : {}),
        ...(page.rows.length ? { versions: page.rows.map((r) => r.version).sort() } : {}),
      });
    },
  );
}
