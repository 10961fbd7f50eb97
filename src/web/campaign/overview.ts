/**
 * The console's view of the room: campaigns, counts by brand, TLD and platform, and takedown
 * requests, built only from the hosts the caller says the reader may see (the hub's release
 * decision on each host's intel indicator is made by the caller, not here). A host whose name is
 * not malicious has no host indicator: it joins its kit's campaign only through stored URLs a kit
 * path made malicious that `readableUrls` (the decision on those URLs' indicators, asked once for
 * them all) lets through.
 */
import type { Kysely } from 'kysely';
import type { BrandIndex } from '../score/lexicon.ts';
import { listTakedowns, type TakedownTables } from '../takedown/requests.ts';
import type { KitPathTieRow } from '../read.ts';
import type { HostSummary, NormalisedUrl } from '../types.ts';
import {
  clusterCampaigns,
  webStatistics,
  type Campaign,
  type CampaignHost,
  type WebStatistics,
} from './cluster.ts';
import { campaignHostOf, carriedTies, kitPathOnlyHosts, withKitPaths, type ReadableUrls } from './hosts.ts';
import { suffixRiskOf } from './suffix-paths.ts';
import type { FittedModel } from '../score/model.ts';

export interface WebOverview {
  statistics: WebStatistics;
  campaigns: Campaign[];
  takedowns: { host: string; brand: string | null; status: string; abuseEmail: string; updatedAt: string }[];
  /** The lexicon's names, Japanese and English, of every brand key above (`smbc-card`: 三井住友カード). */
  brandNames: Record<string, { ja: string; en: string }>;
}

export async function webOverview(
  source: {
    hosts(query: { verdicts: ['malicious'] }): AsyncIterable<HostSummary>;
    hostUrls(hosts: readonly string[]): AsyncIterable<{ host: string; url: string }>;
    kitPathTies(): AsyncIterable<KitPathTieRow>;
    normalise(text: string): NormalisedUrl;
    /** The fitted model: its suffix risks name the suffix paths campaigns hold together. */
    model: Pick<FittedModel, 'risk'>;
  },
  db: Kysely<TakedownTables>,
  brands: Pick<BrandIndex, 'brand' | 'keywordCount'>,
  mayRead: (host: string) => boolean,
  readableUrls: ReadableUrls,
): Promise<WebOverview> {
  const readable: CampaignHost[] = [];
  // Every host malicious by name, seen or not: such a host is never shown as tied by a kit path alone.
  const maliciousByName = new Set<string>();
  for await (const summary of source.hosts({ verdicts: ['malicious'] })) {
    if (summary.verdict !== 'malicious') continue;
    maliciousByName.add(summary.host);
    if (mayRead(summary.host)) readable.push(campaignHostOf(summary, source.normalise(summary.host)));
  }
  const hosts = await withKitPaths(
    readable,
    (names) => source.hostUrls(names),
    suffixRiskOf(source.model.risk),
  );
  const kitPathOnly = await kitPathOnlyHosts(
    source.kitPathTies(),
    maliciousByName,
    carriedTies(hosts),
    readableUrls,
  );
  const campaigns = clusterCampaigns([...hosts, ...kitPathOnly], brands);
  const takedowns = (await listTakedowns(db))
    .filter((t) => mayRead(t.host))
    .map((t) => ({
      host: t.host,
      brand: t.brand,
      status: t.status,
      abuseEmail: t.abuse.email,
      updatedAt: t.updatedAt,
    }));
  const statistics = webStatistics(hosts, campaigns);
  const brandNames: WebOverview['brandNames'] = {};
  const keys = [
    ...statistics.byBrand.map((b) => b.key),
    ...campaigns.flatMap((c) => c.brands),
    ...takedowns.flatMap((t) => (t.brand ? [t.brand] : [])),
  ];
  for (const key of keys) {
    const brand = brands.brand(key);
    if (brand && !(key in brandNames)) brandNames[key] = { ja: brand.ja, en: brand.en };
  }
  return { statistics, campaigns, takedowns, brandNames };
}
