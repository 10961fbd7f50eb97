/**
 * GET /console/api/web: malicious-website campaigns, counts by brand, TLD and platform, and
 * takedown requests. A host appears only when the hub's release decision lets the reader have
 * its intel domain indicator (recorded by `web ingest --record`), so a public reader sees what
 * is public notice and the council what the council may read; this file only asks the rule.
 */
import type { FastifyInstance } from 'fastify';
import { HttpError, principalOf, readerOf, release } from '../../share/index.ts';
import type { RouteContext } from './common.ts';
import type { WebBody } from './types.ts';

const EMPTY: WebBody = { hosts: 0, campaigns: [], byBrand: [], byTld: [], byPlatform: [], takedowns: [] };
const PAGE = 5000;

export function registerWeb(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/console/api/web', async (request): Promise<WebBody> => {
    const reader = readerOf(principalOf(request));
    if (!reader.canRead) throw new HttpError(403, 'Forbidden', 'this token may not read');
    const web = ctx.deps.web;
    if (!web) return EMPTY;
    const released = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await ctx.deps.intel.list({
        kinds: ['domain'],
        limit: PAGE,
        ...(cursor ? { cursor } : {}),
      });
      for (const indicator of page.items)
        if (release({ type: 'indicator', indicator }, reader).outcome !== 'deny')
          released.add(indicator.value);
      cursor = page.next;
    } while (cursor);
    return web.overview((host) => released.has(host));
  });
}
