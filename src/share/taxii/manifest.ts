/** A collection's manifest (GET /{root}/collections/{collection}/manifest/). */
import { sendTaxii } from '../http.ts';
import { FilterQuery, type Filters } from './filters.ts';
import { readCollectionPage } from './page.ts';
import { CollectionParams, type TaxiiRoutes } from './scope.ts';

export function registerManifest(routes: TaxiiRoutes): void {
  const { app } = routes;
  app.get<{ Params: { root: string; collection: string }; Querystring: Filters }>(
    '/:root/collections/:collection/manifest/',
    { schema: { params: CollectionParams, querystring: FilterQuery } },
    async (request, reply) => {
      const page = await readCollectionPage(routes, request, {
        filters: request.query,
        columns: ['version', 'spec_version'],
        read: 'manifest',
      });
      reply.headers(page.headers);
      return sendTaxii(reply, 200, {
        more: page.more,
        ...(page.next ? { next: page.next } : {}),
        ...(page.rows.length
          ? {
              objects: page.rows.map((r) => ({
                id: r.object_id,
                date_added: r.date_added,
                version: r.version,
                media_type: `application/stix+json;version=${r.spec_version}`,
              })),
            }
          : {}),
      });
    },
  );
}
