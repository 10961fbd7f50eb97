/**
 * GET /console/api/osint: published documents (feed, title, fetched, language), the indicators
 * found in them with their context, which of those became intel sightings, and indicators per
 * day by type. A document carries its feed's marking; the hub's release decision is asked once
 * for every marking a document can carry, and the osint room's read gets the allowed ones as its
 * filter (so tables count and page in SQL). An indicator's intel link is shown only when the
 * release decision gives the reader that intel indicator. This file decides nothing itself.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type Indicator, moreRestrictedTier, type Tier, tierOfTlp, TIERS, TLPS } from '../../intel/index.ts';
import type { OsintMarking, OsintView, OsintViewDocument, OsintViewIndicator } from '../../osint/index.ts';
import { HttpError, principalOf, type Reader, readerOf, release } from '../../share/index.ts';
import { indicatorRef } from '../view.ts';
import { auditRead, type RouteContext } from './common.ts';
import type { OsintBody, OsintDocumentRow, OsintIndicatorRow } from './types.ts';

// The rows are written twice on purpose: types.ts is the SPA's contract and imports nothing, and
// the osint room imports only core. The compiler holds them to the same fields both ways here
// (a row gains its intel link, a document its tier for the stored feed tier), as view.ts does
// for intel's vocabulary.
type SameFields<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const SAME_INDICATOR_ROW: SameFields<Omit<OsintIndicatorRow, 'intel'>, OsintViewIndicator> = true;
const SAME_DOCUMENT_ROW: SameFields<
  Omit<OsintDocumentRow, 'tier'>,
  Omit<OsintViewDocument, 'feedTier'>
> = true;
const SAME_COUNTS: SameFields<
  Pick<OsintBody, 'byType' | 'daily' | 'sources' | 'documentCount'>,
  Pick<OsintView, 'byType' | 'daily' | 'sources' | 'documentCount'>
> = true;
void [SAME_INDICATOR_ROW, SAME_DOCUMENT_ROW, SAME_COUNTS];

const Query = z.object({
  q: z.string().trim().max(200).optional(),
  type: z.enum(['ipv4', 'ipv6', 'domain', 'url', 'md5', 'sha1', 'sha256', 'cve', 'attack']).optional(),
  source: z.string().max(100).optional(),
  lang: z.enum(['ja', 'en']).optional(),
  days: z.coerce.number().int().min(1).max(365).default(30),
});

const DOCUMENTS = 200;
const INDICATORS = 1000;
const INTEL_PAGE = 5000;
const DAY_MS = 86_400_000;

/** Every (TLP, feed tier) a stored document can carry, with the tier it comes to (intel's OSINT rule). */
function markingsOf(reader: Reader): (OsintMarking & { tier: Tier })[] {
  const out: (OsintMarking & { tier: Tier })[] = [];
  for (const tlp of TLPS)
    for (const feedTier of ['', ...TIERS] as const) {
      const tier = feedTier ? moreRestrictedTier(tierOfTlp(tlp), feedTier) : tierOfTlp(tlp);
      if (release({ type: 'document', tier, tlp }, reader).outcome !== 'deny')
        out.push({ tlp, feedTier, tier });
    }
  return out;
}

function dayLabels(days: number, now: Date): string[] {
  const out: string[] = [];
  for (let i = days - 1; i >= 0; i--)
    out.push(new Date(now.getTime() - i * DAY_MS).toISOString().slice(0, 10));
  return out;
}

/** Intel's kind for an OSINT type (as intel's OSINT intake maps it); hashes, CVE and ATT&CK ids stay out. */
function intelKind(type: string): string | undefined {
  if (type === 'ipv4' || type === 'ipv6') return 'c2';
  return type === 'domain' || type === 'url' ? type : undefined;
}

/** The intel indicators of these feeds' sightings that the reader may see, by kind, value and port. */
async function releasedSightings(
  ctx: RouteContext,
  reader: Reader,
  sources: readonly string[],
): Promise<Map<string, Indicator>> {
  const out = new Map<string, Indicator>();
  for (const source of sources) {
    let cursor: string | undefined;
    do {
      const page = await ctx.deps.intel.list({
        source: `osint:${source}`,
        limit: INTEL_PAGE,
        includeExpired: true,
        ...(cursor ? { cursor } : {}),
      });
      for (const indicator of page.items)
        if (release({ type: 'indicator', indicator }, reader).outcome !== 'deny')
          out.set(`${indicator.kind}|${indicator.value}|${indicator.port}`, indicator);
      cursor = page.next;
    } while (cursor);
  }
  return out;
}

export function registerOsint(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/console/api/osint', async (request): Promise<OsintBody> => {
    const p = principalOf(request);
    const reader = readerOf(p);
    if (!reader.canRead) throw new HttpError(403, 'Forbidden', 'this token may not read');
    const query = Query.safeParse(request.query);
    if (!query.success)
      throw new HttpError(400, 'Bad Request', query.error.issues[0]?.message ?? 'bad query');
    const { q, type, source, lang, days } = query.data;
    const now = new Date();
    const labels = dayLabels(days, now);
    const osint = ctx.deps.osint;
    const empty = { days, labels, documents: [], documentCount: 0, indicators: [], byType: [], daily: [] };
    if (!osint) return { available: false, ...empty, sources: [], inIntel: 0 };
    const markings = markingsOf(reader);
    const view = await osint.view({
      markings,
      ...(q ? { q } : {}),
      ...(type ? { type } : {}),
      ...(source ? { source } : {}),
      ...(lang ? { language: lang } : {}),
      days,
      now,
      documentLimit: DOCUMENTS,
      indicatorLimit: INDICATORS,
    });
    const tierOf = new Map(markings.map((m) => [`${m.tlp}|${m.feedTier}`, m.tier]));
    const feeds = [...new Set(view.indicators.map((i) => i.source))];
    const inIntel = await releasedSightings(ctx, reader, feeds);
    const indicators = view.indicators.map((row): OsintIndicatorRow => {
      const kind = intelKind(row.type);
      const hit = kind ? inIntel.get(`${kind}|${row.value}|${kind === 'c2' ? row.port : 0}`) : undefined;
      return {
        ...row,
        intel: hit
          ? {
              kind: hit.kind,
              ref: indicatorRef(hit.kind, hit.value, hit.port, hit.proto),
              confidence: hit.confidence,
            }
          : null,
      };
    });
    const documents = view.documents.map(({ feedTier, ...d }) => ({
      ...d,
      tier: tierOf.get(`${d.tlp}|${feedTier}`) ?? 'full',
    }));
    // Documents beyond public notice (a feed marked GREEN or above) are restricted reads.
    if (documents.some((d) => d.tlp !== 'clear'))
      await auditRead(ctx, request, p, 'console:osint', { documents: documents.length });
    return {
      available: true,
      days,
      labels,
      documents,
      documentCount: view.documentCount,
      indicators,
      byType: view.byType,
      daily: view.daily,
      sources: view.sources,
      inIntel: indicators.filter((i) => i.intel).length,
    };
  });
}
