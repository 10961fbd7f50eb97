/**
 * What every TAXII route starts from: the path parameters' schemas, and which API roots and
 * collections an organisation may see (to anyone else they answer as if they did not exist).
 */
import type { FastifyInstance } from 'fastify';
import {
  API_ROOTS,
  canRead,
  canWrite,
  loadCollections,
  type ApiRoot,
  type Collection,
} from '../collections.ts';
import { HttpError, notFound, type HubContext } from '../http.ts';
import type { Principal } from '../orgs.ts';

export const RootParams = {
  type: 'object',
  required: ['root'],
  properties: { root: { type: 'string', maxLength: 64 } },
} as const;
export const CollectionParams = {
  type: 'object',
  required: ['root', 'collection'],
  properties: { root: { type: 'string', maxLength: 64 }, collection: { type: 'string', maxLength: 64 } },
} as const;
export const ObjectParams = {
  type: 'object',
  required: ['root', 'collection', 'object'],
  properties: {
    root: { type: 'string', maxLength: 64 },
    collection: { type: 'string', maxLength: 64 },
    object: { type: 'string', maxLength: 300 },
  },
} as const;

export interface TaxiiScope {
  /** The collections of a root (or of all roots) this organisation may read or write. */
  visibleCollections(p: Principal, root?: string): Promise<Collection[]>;
  /** The API root, when this organisation sees at least one of its collections. */
  rootFor(p: Principal, root: string): Promise<ApiRoot>;
  /** The collection, when this organisation may see it. */
  collectionFor(p: Principal, root: string, id: string): Promise<Collection>;
}

/** What a resource's routes are registered with: the app, the hub's parts and the scope. */
export interface TaxiiRoutes {
  app: FastifyInstance;
  ctx: HubContext;
  scope: TaxiiScope;
}

export function createScope(ctx: HubContext): TaxiiScope {
  async function visibleCollections(p: Principal, root?: string): Promise<Collection[]> {
    const all = await loadCollections(ctx.store);
    return all.filter((c) => (root === undefined || c.apiRoot === root) && (canRead(p, c) || canWrite(p, c)));
  }
  return {
    visibleCollections,
    async rootFor(p, root) {
      const api = API_ROOTS.find((r) => r.path === root);
      if (!api || (await visibleCollections(p, root)).length === 0) throw notFound();
      return api;
    },
    async collectionFor(p, root, id) {
      // One read of the collections serves both checks (rootFor's: the root is visible at all).
      if (!API_ROOTS.some((r) => r.path === root)) throw notFound();
      const c = (await visibleCollections(p, root)).find((x) => x.id === id);
      if (!c) throw notFound();
      return c;
    },
  };
}

export function readable(p: Principal, c: Collection): void {
  if (!canRead(p, c)) throw new HttpError(403, 'Forbidden', 'This collection does not allow you to read.');
}

export function writable(p: Principal, c: Collection): void {
  if (!canWrite(p, c)) throw new HttpError(403, 'Forbidden', 'This collection does not allow you to write.');
}
