/**
 * What a report reads: every indicator of a kind from intel, each passed through the hub's one
 * release decision for a reader of the report's tier. Only the copies release() gives back are
 * kept, so nothing a tier may not read can reach a figure; there is no second filter here.
 */
import { PrefixSet } from '../core/index.ts';
import type { Indicator, IndicatorKind, Intel, Sighting, Tier, Tlp } from '../intel/index.ts';
import { releaseRule, releasedTo, tierReader, type PublicNoticeDecision } from '../share/index.ts';
import type { Period } from './config.ts';

export interface ReportDeps {
  intel: Pick<Intel, 'list' | 'sightingsOf'>;
  /** The analysis centre's public-notice decisions (share's review queue) on these indicators. */
  publicNoticeDecisions(ids: readonly string[]): Promise<Map<string, PublicNoticeDecision>>;
  /** Organisations that name their AS numbers and prefixes: an infected host's ISP. */
  organisations?(): Promise<
    readonly { name: string; asns: readonly number[]; prefixes: readonly string[] }[]
  >;
}

/** A query behind figures: what was read and the decision it went through. */
export interface SourceQuery {
  id: string;
  name: string;
  params: Record<string, unknown>;
  release: string;
}

export interface KindData {
  kind: IndicatorKind;
  /** The released copies (a public-notice decision may have edited the family). */
  items: Indicator[];
  read: number;
  truncated: boolean;
  query: SourceQuery;
  /** The strictest tier and marking among the released copies: the report carries at least this. */
  marking: { tier: Tier; tlp: Tlp };
}

export interface Window {
  period: Period;
  start: Date;
  end: Date;
  previousStart: Date;
  /** Days of the trend chart, each a UTC midnight, oldest first, the last one inside the period. */
  trendDays: Date[];
}

const DAY = 86_400_000;
const PAGE = 10_000;

export function windowOf(period: Period, date: string | undefined, now: Date): Window {
  const day = date ? new Date(`${date}T00:00:00Z`) : new Date(Math.floor(now.getTime() / DAY) * DAY);
  const end = new Date(day.getTime() + DAY);
  const length = period === 'daily' ? DAY : 7 * DAY;
  const start = new Date(end.getTime() - length);
  const trendCount = period === 'daily' ? 7 : 28;
  const trendDays = Array.from(
    { length: trendCount },
    (_, i) => new Date(end.getTime() - (trendCount - i) * DAY),
  );
  return { period, start, end, previousStart: new Date(start.getTime() - length), trendDays };
}

/** Reads one kind page by page and keeps what release() lets a reader of `tier` see. */
export async function readKind(
  deps: ReportDeps,
  kind: IndicatorKind,
  tier: Tier,
  max: number,
  queryId: string,
): Promise<KindData> {
  const reader = tierReader(tier);
  const items: Indicator[] = [];
  const markings: { tier: Tier; tlp: Tlp }[] = [];
  let cursor: string | undefined;
  let read = 0;
  let truncated = false;
  do {
    const page = await deps.intel.list({
      kinds: [kind],
      includeExpired: true,
      includeWithdrawn: true,
      limit: PAGE,
      ...(cursor ? { cursor } : {}),
    });
    read += page.items.length;
    const decisions =
      tier === 'public' ? await deps.publicNoticeDecisions(page.items.map((i) => i.id)) : new Map();
    for (const indicator of page.items) {
      const copy = releasedTo(indicator, reader, decisions.get(indicator.id));
      if (!copy) continue;
      items.push(copy.indicator);
      markings.push({ tier: copy.tier, tlp: copy.tlp });
    }
    cursor = page.next;
    if (cursor && read >= max) {
      truncated = true;
      break;
    }
  } while (cursor);
  return {
    kind,
    items,
    read,
    truncated,
    marking: releaseRule.productMarking(markings),
    query: {
      id: queryId,
      name: 'intel.list',
      params: { kinds: [kind], includeExpired: true, includeWithdrawn: true, pageLimit: PAGE },
      release: `share release({ type: 'indicator', indicator${tier === 'public' ? ', publicNotice' : ''} }, tierReader('${tier}'))`,
    },
  };
}

/** Sightings of the released indicators (which sensors saw them: the darknet, a survey...). */
export async function sightingsOf(
  deps: ReportDeps,
  items: readonly Indicator[],
): Promise<Map<string, Sighting[]>> {
  return items.length ? deps.intel.sightingsOf(items.map((i) => i.id)) : new Map();
}

/** Names an address's ISP from the organisations' AS numbers and prefixes, else its AS. */
export async function ispNamer(
  deps: ReportDeps,
  unknownAs: string,
): Promise<(indicator: Pick<Indicator, 'asn' | 'value'>) => string> {
  const orgs = (await deps.organisations?.()) ?? [];
  const byAsn = new Map<number, string>();
  const byPrefix = orgs
    .filter((o) => o.prefixes.length > 0)
    .map((o) => ({ name: o.name, set: new PrefixSet(o.prefixes) }));
  for (const o of orgs) for (const asn of o.asns) byAsn.set(asn, o.name);
  return (indicator) => {
    if (indicator.asn !== null && byAsn.has(indicator.asn)) return byAsn.get(indicator.asn)!;
    for (const p of byPrefix) {
      try {
        if (p.set.hasText(indicator.value)) return p.name;
      } catch {
        break;
      }
    }
    return indicator.asn !== null ? `AS${indicator.asn}` : unknownAs;
  };
}
