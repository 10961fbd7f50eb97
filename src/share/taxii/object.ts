/**
 * One object of a collection (GET and DELETE /{root}/collections/{collection}/objects/{object}/).
 * Only its owner (or the analysis centre, audited) deletes an object; to anyone else it answers
 * as if it did not exist.
 */
import type { Transaction } from 'kysely';
import { objectKey, type Database } from '../../store/index.ts';
import { ownersOf, type Collection } from '../collections.ts';
import { notFound, principalOf, sendTaxii, type HubContext } from '../http.ts';
import type { Principal } from '../orgs.ts';
import { mayChange } from '../release/index.ts';
import { FilterQuery, list, versionStamps, type Filters } from './filters.ts';
import { readCollectionPage } from './page.ts';
import { ObjectParams, writable, type TaxiiRoutes } from './scope.ts';

type ObjectRoute = { Params: { root: string; collection: string; object: string }; Querystring: Filters };

export function registerObject(routes: TaxiiRoutes): void {
  const { app, ctx, scope } = routes;
  app.get<ObjectRoute>(
    '/:root/collections/:collection/objects/:object/',
    { schema: { params: ObjectParams, querystring: FilterQuery } },
    async (request, reply) => {
      const page = await readCollectionPage(routes, request, {
        filters: { ...request.query, 'match[id]': request.params.object },
        columns: ['body'],
        read: 'objects',
      });
      if (page.matched === 0 && !request.query['match[version]'] && !request.query.added_after)
        throw notFound();
      reply.headers(page.headers);
      return sendTaxii(reply, 200, {
        more: page.more,
        ...(page.next ? { next: page.next } : {}),
        ...(page.rows.length ? { objects: page.rows.map((r) => JSON.parse(r.body) as unknown) } : {}),
      });
    },
  );

  app.delete<ObjectRoute>(
    '/:root/collections/:collection/objects/:object/',
    { schema: { params: ObjectParams, querystring: FilterQuery } },
    async (request, reply) => {
      const p = principalOf(request);
      const c = await scope.collectionFor(p, request.params.root, request.params.collection);
      writable(p, c);
      const versions = request.query['match[version]'];
      const deleted = await ctx.store.transaction(
        (trx) => deleteObject(ctx, trx, p, c, request.params.object, versions),
        ctx.audit.lockKey,
      );
      if (deleted === 0) throw notFound();
      return reply.code(200).send();
    },
  );
}

/** Deletes the versions of an object that match[version] names (all when absent); how many went. */
async function deleteObject(
  ctx: HubContext,
  trx: Transaction<Database>,
  p: Principal,
  c: Collection,
  objectId: string,
  matchVersion: string | undefined,
): Promise<number> {
  const key = objectKey(c.id, objectId);
  const owner = (await ownersOf(trx, c.id, [objectId])).get(objectId);
  if (owner === undefined) return 0;
  const right = mayChange(p, owner);
  if (right === 'refused') return 0;
  const versionsOf = () =>
    trx
      .selectFrom('stix_objects')
      .where('object_key', '=', key)
      .where('collection_id', '=', c.id)
      .where('object_id', '=', objectId);
  let q = trx
    .deleteFrom('stix_objects')
    .where('object_key', '=', key)
    .where('collection_id', '=', c.id)
    .where('object_id', '=', objectId);
  const versions = list(matchVersion);
  if (versions && !versions.includes('all')) {
    const stamps = versionStamps(versions);
    const current = await versionsOf().select(['version', 'is_latest']).orderBy('version').execute();
    if (versions.includes('first') && current[0]) stamps.push(current[0].version);
    if (versions.includes('last'))
      stamps.push(...current.filter((v) => v.is_latest === 1).map((v) => v.version));
    q = q.where('version', 'in', stamps.length ? stamps : ['']);
  }
  const result = await q.executeTakeFirst();
  const count = Number(result.numDeletedRows);
  if (count === 0) return 0;
  const remaining = await versionsOf()
    .select(['seq', 'version', 'is_latest'])
    .orderBy('version', 'desc')
    .execute();
  if (remaining.length === 0)
    await trx
      .deleteFrom('stix_owners')
      .where('collection_id', '=', c.id)
      .where('object_id', '=', objectId)
      .execute();
  // The newest remaining version becomes the latest when the latest was deleted.
  if (remaining[0] && !remaining.some((r) => r.is_latest === 1))
    await trx.updateTable('stix_objects').set({ is_latest: 1 }).where('seq', '=', remaining[0].seq).execute();
  await ctx.audit.append(trx, {
    actor: p.org.name,
    action: 'taxii.delete',
    target: `collection:${c.id}`,
    detail: {
      object: objectId,
      versions: count,
      token: p.tokenId,
      ...(right === 'analysis-centre' ? { forOwner: owner ?? 'hub' } : {}),
    },
  });
  return count;
}
