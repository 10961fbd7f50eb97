/** GET /console/api/sharing: organisations, consent, collections and tokens, as far as the reader may know them. */
import type { FastifyInstance } from 'fastify';
import { canRead, canWrite, principalOf, mayReadOrganisations, readerOf } from '../../share/index.ts';
import type { RouteContext } from './common.ts';
import type { SharingBody } from './types.ts';

export function registerSharing(app: FastifyInstance, ctx: RouteContext): void {
  const { share } = ctx.deps;
  app.get('/console/api/sharing', async (request): Promise<SharingBody> => {
    const p = principalOf(request);
    // Every organisation only for the analysis centre (release decides); others see themselves.
    const full = mayReadOrganisations(readerOf(p));
    const admin = p.scopes.includes('admin');
    const [orgs, collections] = await Promise.all([share.organisations(), share.collections()]);
    const visibleCollections = collections.filter((c) => canRead(p, c) || canWrite(p, c));
    const [counts, tokens] = await Promise.all([
      share.objectCounts(visibleCollections.map((c) => c.id)),
      // An admin token sees its organisation's tokens; any other only itself.
      share.tokens(p.org.id, admin ? undefined : p.tokenId),
    ]);
    return {
      organisations: (full ? orgs : orgs.filter((o) => o.id === p.org.id)).map((o) => ({
        name: o.name,
        role: o.role,
        tier: o.tier,
        consentAt: o.consentAt,
        consentTerms: o.consentTerms,
        prefixes: o.prefixes.length,
        asns: o.asns.length,
      })),
      collections: visibleCollections.map((c) => ({
        id: c.id,
        apiRoot: c.apiRoot,
        title: c.title,
        ceiling: c.ceiling,
        canRead: canRead(p, c),
        canWrite: canWrite(p, c),
        objects: counts.get(c.id) ?? 0,
      })),
      tokens: tokens.map((t) => ({ ...t, current: t.id === p.tokenId })),
    };
  });
}
