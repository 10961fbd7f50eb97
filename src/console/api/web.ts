/**
 * GET /console/api/web: malicious-website campaigns, counts by brand, TLD and platform, and
 * takedown requests. A host appears only when the hub's release decision lets the reader have
 * its intel domain indicator (recorded by `web ingest --record`), so a public reader sees what
 * is public notice and the council what the council may read; this file only asks the rule. A
 * host tied to a campaign by a kit path alone has no domain indicator (its name is not judged
 * malicious): it appears only when the reader may have the intel URL indicator of a URL that
 * ties it (every such URL's indicator read in one batch per request, then the same rule).
 * POST /console/api/web/reports: URLs an organisation reports, scored and kept by the web room
 * under `report:<organisation>`; who may report is the release module's `mayReportUrls`, the
 * hub's rate and body limits per organisation apply, and each accepted request is audited.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, mayReportUrls, principalOf, readerOf, release } from '../../share/index.ts';
import type { RouteContext } from './common.ts';
import type { WebBody, WebReportBody } from './types.ts';

const EMPTY: WebBody = {
  hosts: 0,
  campaigns: [],
  byBrand: [],
  byTld: [],
  byPlatform: [],
  takedowns: [],
  brandNames: {},
};
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
    const now = new Date().toISOString();
    // Every URL that could tie a host to a campaign, looked up in one batch (not one per URL).
    const readableUrls = async (urls: readonly string[]) => {
      const indicators = await ctx.deps.intel.byValues('url', urls);
      return new Set(
        urls.filter((url) => {
          const indicator = indicators.get(url);
          // As the domain list above: a withdrawn or expired indicator is no longer released.
          return (
            indicator !== undefined &&
            indicator.withdrawnAt === null &&
            indicator.expiresAt > now &&
            release({ type: 'indicator', indicator }, reader).outcome !== 'deny'
          );
        }),
      );
    };
    return web.overview((host) => released.has(host), readableUrls);
  });
}

/** The media type of `request`'s body, without its parameters (`text/plain; charset=utf-8` is `text/plain`). */
const mediaTypeOf = (request: FastifyRequest) =>
  String(request.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();

export function registerWebReports(app: FastifyInstance, ctx: RouteContext): void {
  // Reports are JSON, as the API documents them. Anything else (a URL pasted as text/plain, a
  // form) is told so in one line before its body is parsed, rather than a parser's "Invalid input".
  const onRequest = async (request: FastifyRequest) => {
    const type = mediaTypeOf(request);
    if (type !== 'application/json')
      throw new HttpError(
        415,
        'Unsupported Media Type',
        `reports are JSON: send content-type: application/json with {"url": "...", "description"?, "brand"?} or a list of them (got ${type || 'no content-type'})`,
      );
  };
  app.post('/console/api/web/reports', { onRequest }, async (request): Promise<WebReportBody> => {
    const p = principalOf(request);
    if (!mayReportUrls(p))
      throw new HttpError(403, 'Forbidden', 'Reporting URLs needs a token that may write.');
    const web = ctx.deps.web;
    if (!web) throw new HttpError(404, 'Not Found', 'This hub keeps no web verdicts.');
    const body = await web.report(request.body, p.org.name);
    const bad = body.reports.filter((r) => !r.ok).length;
    await ctx.deps.share.recordAudit({
      actor: p.org.name,
      action: 'web.report',
      target: body.source,
      reason: String(request.headers['x-tsunagi-purpose'] ?? 'report').slice(0, 100),
      detail: { reports: body.reports.length, bad, token: p.tokenId },
    });
    return body;
  });
}
