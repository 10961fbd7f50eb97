/** A collection's manifest (GET /{root}/collections/{collection}/manifest/). */
import { principalOf, sendTaxii } from '../http.ts';
import { FilterQuery, type Filters } from './filters.ts';
import { readPage } from './page.ts';
import { CollectionParams, readable, type TaxiiRoutes } from './scope.ts';

export function registerManifest({ app, ctx, scope }: TaxiiRoutes): void {
  app.get<{ Params: { root: string; collection: string }; Querystring: Filters }>(
    '/:root/collections/:collection/manifest/',
    { schema: { params: CollectionParams, querystring: FilterQuery } },
    async (request, reply) => {
      const p = principalOf(request);
      const c = await scope.collectionFor(p, request.params.root, request.params.collection);
      readable(p, c);
      const page = await readPage(ctx, request, {
        principal: p,
        collection: c,
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
