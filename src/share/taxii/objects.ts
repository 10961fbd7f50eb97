/**
 * A collection's objects: GET (a page, with the TAXII filters) and POST (a submission, answered
 * with its status; see submission.ts).
 */
import { principalOf, TAXII_MEDIA_TYPE } from '../http.ts';
import { FilterQuery, type Filters } from './filters.ts';
import { readCollectionPage } from './page.ts';
import { CollectionParams, writable, type TaxiiRoutes } from './scope.ts';
import { checkSubmitted, storeSubmission } from './submission.ts';

export function registerObjects(routes: TaxiiRoutes): void {
  const { app, ctx, scope } = routes;
  app.get<{ Params: { root: string; collection: string }; Querystring: Filters }>(
    '/:root/collections/:collection/objects/',
    { schema: { params: CollectionParams, querystring: FilterQuery } },
    async (request, reply) => {
      const page = await readCollectionPage(routes, request, {
        filters: request.query,
        columns: ['body'],
        read: 'objects',
      });
      reply.headers(page.headers);
      // Bodies are stored as JSON text: splice them in rather than parse and re-serialise.
      const body = `{"more":${page.more}${page.next ? `,"next":"${page.next}"` : ''}${page.rows.length ? `,"objects":[${page.rows.map((r) => r.body).join(',')}]` : ''}}`;
      return reply.code(200).header('content-type', TAXII_MEDIA_TYPE).send(Buffer.from(body));
    },
  );

  app.post<{ Params: { root: string; collection: string }; Body: { objects: unknown[] } }>(
    '/:root/collections/:collection/objects/',
    {
      schema: {
        params: CollectionParams,
        body: {
          type: 'object',
          required: ['objects'],
          properties: {
            objects: { type: 'array', maxItems: ctx.config.maxObjectsPerPost, items: { type: 'object' } },
          },
        },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const c = await scope.collectionFor(p, request.params.root, request.params.collection);
      writable(p, c);
      const requestTimestamp = new Date().toISOString();
      const checked = checkSubmitted(p, c, request.body.objects);
      const statusJson = await storeSubmission(ctx, p, c, { ...checked, requestTimestamp });
      if (c.ingest) ctx.publisher.notify();
      return reply.code(202).header('content-type', TAXII_MEDIA_TYPE).send(Buffer.from(statusJson));
    },
  );
}
