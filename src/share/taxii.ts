/**
 * The TAXII 2.1 routes, registered per resource (taxii/): discovery, API roots per trust group,
 * collections, objects (GET with added_after, limit, next and match[...] filters; POST), single
 * objects (GET, DELETE), versions, manifest and status. Each organisation sees only the roots
 * and collections its tier allows; a POSTed object above a collection's ceiling is refused. The
 * reads of objects share one page query (taxii/page.ts) under the release rule.
 */
import type { FastifyInstance } from 'fastify';
import type { HubContext } from './http.ts';
import { registerApiRoot } from './taxii/api-root.ts';
import { registerCollections } from './taxii/collections.ts';
import { registerDiscovery } from './taxii/discovery.ts';
import { registerManifest } from './taxii/manifest.ts';
import { registerObject } from './taxii/object.ts';
import { registerObjects } from './taxii/objects.ts';
import { createScope, type TaxiiRoutes } from './taxii/scope.ts';
import { registerStatus } from './taxii/status.ts';
import { registerVersions } from './taxii/versions.ts';

export function registerTaxii(app: FastifyInstance, ctx: HubContext): void {
  const routes: TaxiiRoutes = { app, ctx, scope: createScope(ctx) };
  registerDiscovery(routes);
  registerApiRoot(routes);
  registerStatus(routes);
  registerCollections(routes);
  registerObjects(routes);
  registerManifest(routes);
  registerObject(routes);
  registerVersions(routes);
}
