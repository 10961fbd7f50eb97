/** A root's collections (GET /{root}/collections/) and one collection (GET .../{collection}/). */
import { canRead, canWrite, type Collection } from '../collections.ts';
import { principalOf, sendTaxii } from '../http.ts';
import type { Principal } from '../orgs.ts';
import { CollectionParams, RootParams, type TaxiiRoutes } from './scope.ts';

export function registerCollections({ app, scope }: TaxiiRoutes): void {
  app.get<{ Params: { root: string } }>(
    '/:root/collections/',
    { schema: { params: RootParams } },
    async (request, reply) => {
      const p = principalOf(request);
      await scope.rootFor(p, request.params.root);
      const collections = (await scope.visibleCollections(p, request.params.root)).map((c) =>
        describeCollection(p, c),
      );
      return sendTaxii(reply, 200, collections.length ? { collections } : {});
    },
  );

  app.get<{ Params: { root: string; collection: string } }>(
    '/:root/collections/:collection/',
    { schema: { params: CollectionParams } },
    async (request, reply) => {
      const p = principalOf(request);
      return sendTaxii(
        reply,
        200,
        describeCollection(p, await scope.collectionFor(p, request.params.root, request.params.collection)),
      );
    },
  );
}

function describeCollection(p: Principal, c: Collection) {
  return {
    id: c.id,
    title: c.title,
    description: `${c.description} Tier ceiling: ${c.ceiling}.`,
    can_read: canRead(p, c),
    can_write: canWrite(p, c),
    media_types: ['application/stix+json;version=2.1'],
  };
}
