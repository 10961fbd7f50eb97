/**
 * Campaigns: malicious hosts grouped by what ties them to one operator. A tie is shared
 * infrastructure (the same IP address; the same AS for hosts imitating the same brand), the same
 * registrable domain, the same brand and naming template (`amazon-xqzv.top` and `amazon-kjhd.top`
 * are both `{brand}-[a-z]{4}.top`), the same brand-bearing subdomain on the same suffix
 * (`monex-co-jp.sdkeman.cn` and `monex-co-jp.mpntoc.cn`: a kit deployed on one registered domain
 * after another), the same phishing-kit marker seen by a page check, or the same kit path
 * (`/jkuos` on `gtdos.cn` and `rcmama.cn`, see kit-paths.ts) on two registered domains or more. Hosts
 * joined by any chain of ties form one campaign, which lists every tie, so an analyst can see why.
 *
 * A host whose name is not malicious but whose stored URL a kit-path, registered-domain or
 * suffix-path tie made malicious (`kitPathOnly`) joins the campaign of that kit's path, that
 * registered domain or that suffix path and nothing else: its name brings no tie,
 * and it ties no campaigns together (a compromised site can carry two operators' kits), so it is
 * listed in each campaign whose kit it carries. Hosts a registered-domain tie made malicious on a
 * domain no campaign holds (random names under one `.com`, none malicious by name) are a campaign
 * of that domain by themselves, when they are two or more and joined nothing else: the domain is
 * what a registrar takes down.
 */
import { createHash } from 'node:crypto';
import type { BrandIndex } from '../score/lexicon.ts';
import { SUFFIX_PATH_MIN_DOMAINS } from './suffix-paths.ts';

export interface CampaignHost {
  host: string;
  registrableDomain: string | null;
  publicSuffix: string;
  /** Whether the suffix is a hosting platform's (`pages.dev`, `duckdns.org`). */
  privateSuffix: boolean;
  brand: string | null;
  firstSeen: string;
  lastSeen: string;
  /** Infrastructure when the operator knows it (resolved addresses, RDAP, a page check). */
  ip?: string;
  asn?: number;
  country?: string;
  kitMarkers?: readonly string[];
  /** The kit-path templates of the host's stored URLs (kitPathTemplate), without repeats. */
  kitPaths?: readonly string[];
  /**
   * The host-name verdict is not malicious: the host is here for stored URLs that a kit path
   * made malicious, and `kitPaths` are theirs. It joins only a kit-path tie that holds a host
   * clustered on its own.
   */
  kitPathOnly?: boolean;
  /** Of those, one a registered-domain tie made so (`domain_judged`): it joins its registered domain, not a kit path. */
  joinsDomain?: boolean;
  /**
   * The suffix paths (suffix-paths.ts, `duckdns.org /select`) of the host's stored URLs, without
   * repeats; for a host tied alone, the one its suffix-path tie stood on.
   */
  suffixPaths?: readonly string[];
}

export type TieKind =
  'ip' | 'asn-brand' | 'registrable-domain' | 'template' | 'subdomain' | 'kit' | 'kit-path' | 'suffix-path';

export interface Tie {
  kind: TieKind;
  /**
   * The shared value: an address, `AS13335 amazon`, a domain, a template, a subdomain pattern
   * (`monex monex-co-jp.*.cn`), a marker, a kit path's template (`/ja/client/0?origin=*`).
   */
  value: string;
  hosts: string[];
}

export interface Campaign {
  /** Stable over runs for the same members: a hash of the sorted hosts. */
  id: string;
  hosts: string[];
  brands: string[];
  tlds: string[];
  platforms: string[];
  countries: string[];
  firstSeen: string;
  lastSeen: string;
  ties: Tie[];
  /**
   * Members (also in `hosts`) whose host-name verdict is not malicious: tied by a kit path their
   * stored URLs carry (CampaignHost.kitPathOnly). Absent when there are none.
   */
  kitPathOnly?: string[];
}

/** The shape of one name part: letters, digits or both with their length (`[a-z]{4}`). */
function shape(part: string): string {
  if (part === '') return '';
  if (/^[a-z]+$/.test(part)) return `[a-z]{${part.length}}`;
  if (/^\d+$/.test(part)) return `\\d{${part.length}}`;
  return `[a-z0-9]{${part.length}}`;
}

/**
 * The naming template of a host imitating a brand: in the registrant's label (and subdomains),
 * the brand's token becomes `{brand}`, lexicon keywords stay, every other part becomes its shape;
 * the public suffix stays. Null without a brand or registrable domain.
 */
export function namingTemplate(
  h: Pick<CampaignHost, 'host' | 'registrableDomain' | 'publicSuffix' | 'brand'>,
  brands: Pick<BrandIndex, 'brand' | 'keywordCount'>,
): string | null {
  if (!h.brand || !h.registrableDomain) return null;
  const brand = brands.brand(h.brand);
  if (!brand) return null;
  const name = h.host.slice(0, h.host.length - h.publicSuffix.length - 1);
  const tokens = [...brand.tokens].sort((a, b) => b.length - a.length);
  const parts = name.split(/([-.])/).map((part) => {
    if (part === '-' || part === '.') return part;
    const token = tokens.find((t) => part.includes(t));
    if (token) return part.split(token).map(shape).join('{brand}');
    if (part.length >= 3 && brands.keywordCount(part) > 0) return part;
    return shape(part);
  });
  return `${parts.join('')}.${h.publicSuffix}`;
}

/**
 * The subdomain pattern of a host imitating a brand whose subdomain (what precedes the
 * registrable domain) carries the brand's token: `monex-co-jp.*.cn` for `monex-co-jp.sdkeman.cn`.
 * The registered label is left out because such campaigns register a fresh random name for each
 * batch (`sdkeman.cn`, `mpntoc.cn`) and reuse the brand-bearing subdomains on all of them; the
 * naming template ties them only when those names happen to be of one length. Null when the
 * subdomain is absent or does not name the brand (`www.`, `login.` are shared by strangers).
 */
export function subdomainPattern(
  h: Pick<CampaignHost, 'host' | 'registrableDomain' | 'publicSuffix' | 'brand' | 'privateSuffix'>,
  brands: Pick<BrandIndex, 'brand'>,
): string | null {
  if (!h.brand || !h.registrableDomain || h.host.length <= h.registrableDomain.length) return null;
  const brand = brands.brand(h.brand);
  if (!brand) return null;
  const subdomain = h.host.slice(0, h.host.length - h.registrableDomain.length - 1);
  if (!brand.tokens.some((token) => subdomain.includes(token))) return null;
  return `${subdomain}.*.${h.publicSuffix}`;
}

class UnionFind {
  private readonly parent = new Map<string, string>();
  find(x: string): string {
    let root = x;
    while (this.parent.get(root) !== undefined && this.parent.get(root) !== root)
      root = this.parent.get(root)!;
    this.parent.set(x, root);
    return root;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  }
}

function tieKeys(
  h: CampaignHost,
  template: string | null,
  subdomain: string | null,
): { kind: TieKind; value: string }[] {
  const keys: { kind: TieKind; value: string }[] = [];
  if (h.ip) keys.push({ kind: 'ip', value: h.ip });
  // An AS alone is a hosting company shared by strangers; with the same brand it is a lead.
  if (h.asn !== undefined && h.brand) keys.push({ kind: 'asn-brand', value: `AS${h.asn} ${h.brand}` });
  if (h.registrableDomain) keys.push({ kind: 'registrable-domain', value: h.registrableDomain });
  if (template) keys.push({ kind: 'template', value: `${h.brand} ${template}` });
  if (subdomain) keys.push({ kind: 'subdomain', value: `${h.brand} ${subdomain}` });
  for (const marker of h.kitMarkers ?? []) keys.push({ kind: 'kit', value: marker });
  for (const path of h.kitPaths ?? []) keys.push({ kind: 'kit-path', value: path });
  for (const key of h.suffixPaths ?? []) keys.push({ kind: 'suffix-path', value: key });
  return keys;
}

const uniqueSorted = (values: Iterable<string | null | undefined>) =>
  [...new Set([...values].filter((v): v is string => !!v))].sort();

interface HeldTie {
  kind: TieKind;
  value: string;
  /** Hosts clustered on their own (their names malicious), or a domain's unjoined tied hosts. */
  hosts: Set<string>;
  /** Hosts tied by a kit path alone (kit-path ties only). */
  joined: Set<string>;
}

/** Groups hosts into campaigns; a host with no tie to another is left out (it is no campaign). */
export function clusterCampaigns(
  hosts: readonly CampaignHost[],
  brands: Pick<BrandIndex, 'brand' | 'keywordCount'>,
): Campaign[] {
  const byHost = new Map(hosts.filter((h) => !h.kitPathOnly).map((h) => [h.host, h]));
  const tieHosts = new Map<string, HeldTie>();
  for (const h of byHost.values())
    for (const key of tieKeys(h, namingTemplate(h, brands), subdomainPattern(h, brands))) {
      const id = `${key.kind}\u0000${key.value}`;
      const tie = tieHosts.get(id) ?? { ...key, hosts: new Set<string>(), joined: new Set<string>() };
      tie.hosts.add(h.host);
      tieHosts.set(id, tie);
    }
  // A host tied by its URLs alone joins only a kit path a host clustered on its own carries, or
  // (a registered-domain tie) its registered domain: a platform customer's own name
  // (`shop.pages.dev`) too, as the room's tie reads it, never the platform's suffix.
  for (const h of hosts) {
    if (!h.kitPathOnly || byHost.has(h.host)) continue;
    const keys = [
      ...(h.kitPaths ?? []).map((path) => `kit-path\u0000${path}`),
      ...(h.suffixPaths ?? []).map((key) => `suffix-path\u0000${key}`),
    ];
    if (h.joinsDomain && h.registrableDomain) keys.push(`registrable-domain\u0000${h.registrableDomain}`);
    for (const key of keys) {
      const tie = tieHosts.get(key);
      if (!tie) continue;
      tie.joined.add(h.host);
      byHost.set(h.host, h);
    }
  }
  // Domain-tied hosts that joined nothing: their registered domain is their campaign (two or more).
  const unjoined = new Map<string, CampaignHost[]>();
  for (const h of hosts) {
    if (!h.kitPathOnly || !h.joinsDomain || !h.registrableDomain || byHost.has(h.host)) continue;
    const group = unjoined.get(h.registrableDomain);
    if (group) group.push(h);
    else unjoined.set(h.registrableDomain, [h]);
  }
  for (const [domain, group] of unjoined) {
    const id = `registrable-domain\u0000${domain}`;
    if (group.length < 2 || tieHosts.has(id)) continue;
    for (const h of group) byHost.set(h.host, h);
    const tied = new Set(group.map((h) => h.host));
    tieHosts.set(id, { kind: 'registrable-domain', value: domain, hosts: tied, joined: new Set() });
  }
  // A kit path on one registered domain only is one site's page layout, not a kit moved on (and
  // the registrable-domain tie already holds those hosts together); a suffix path, whose words
  // are plain, holds a campaign only on as many domains as its tie needs (suffix-paths.ts).
  const domainsOf = (t: HeldTie) =>
    new Set([...t.hosts, ...t.joined].map((name) => byHost.get(name)!.registrableDomain ?? name)).size;
  const minDomains: Partial<Record<TieKind, number>> = {
    'kit-path': 2,
    'suffix-path': SUFFIX_PATH_MIN_DOMAINS + 1,
  };
  const sets = new UnionFind();
  const ties = [...tieHosts.values()].filter(
    (t) => t.hosts.size + t.joined.size > 1 && domainsOf(t) >= (minDomains[t.kind] ?? 1),
  );
  // Only hosts clustered on their own are joined into one set. A tie that holds enough domains
  // only with joined hosts has its own hosts on one registered domain, already one set (or one
  // host), so joined hosts never merge two campaigns.
  for (const tie of ties) {
    const [first, ...rest] = tie.hosts;
    for (const other of rest) sets.union(first!, other);
  }
  const members = new Map<string, CampaignHost[]>();
  for (const tie of ties) {
    const root = sets.find([...tie.hosts][0]!);
    const list = members.get(root) ?? [];
    for (const host of [...tie.hosts, ...tie.joined])
      if (!list.some((m) => m.host === host)) list.push(byHost.get(host)!);
    members.set(root, list);
  }
  const campaigns = [...members.entries()].map(([root, list]) =>
    campaignOf(
      list,
      ties.filter((t) => sets.find([...t.hosts][0]!) === root),
    ),
  );
  return campaigns.sort((a, b) => b.hosts.length - a.hosts.length || a.id.localeCompare(b.id));
}

function campaignOf(list: CampaignHost[], ties: HeldTie[]): Campaign {
  const hosts = list.map((h) => h.host).sort();
  const kitPathOnly = list
    .filter((h) => h.kitPathOnly)
    .map((h) => h.host)
    .sort();
  return {
    id: createHash('sha256').update(hosts.join('\n')).digest('hex').slice(0, 12),
    hosts,
    brands: uniqueSorted(list.map((h) => h.brand)),
    tlds: uniqueSorted(list.map((h) => (h.privateSuffix ? null : h.publicSuffix))),
    platforms: uniqueSorted(list.map((h) => (h.privateSuffix ? h.publicSuffix : null))),
    countries: uniqueSorted(list.map((h) => h.country)),
    firstSeen: list.map((h) => h.firstSeen).sort()[0]!,
    lastSeen: list
      .map((h) => h.lastSeen)
      .sort()
      .at(-1)!,
    ties: ties
      .map((t) => ({ kind: t.kind, value: t.value, hosts: [...t.hosts, ...t.joined].sort() }))
      .sort((a, b) => b.hosts.length - a.hosts.length || a.value.localeCompare(b.value)),
    ...(kitPathOnly.length > 0 ? { kitPathOnly } : {}),
  };
}

export interface WebStatistics {
  hosts: number;
  campaigns: number;
  /** Hosts per key, largest first; `unknown` where the fact is not known. */
  byBrand: { key: string; hosts: number }[];
  byTld: { key: string; hosts: number }[];
  byPlatform: { key: string; hosts: number }[];
  byCountry: { key: string; hosts: number }[];
}

function tally(values: Iterable<string>): { key: string; hosts: number }[] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()]
    .map(([key, hosts]) => ({ key, hosts }))
    .sort((a, b) => b.hosts - a.hosts || a.key.localeCompare(b.key));
}

/** Counts of malicious hosts by brand, TLD (public suffixes only), hosting platform and country. */
export function webStatistics(hosts: readonly CampaignHost[], campaigns: readonly Campaign[]): WebStatistics {
  return {
    hosts: hosts.length,
    campaigns: campaigns.length,
    byBrand: tally(hosts.map((h) => h.brand ?? 'unknown')),
    byTld: tally(hosts.filter((h) => !h.privateSuffix && h.publicSuffix).map((h) => h.publicSuffix)),
    byPlatform: tally(hosts.filter((h) => h.privateSuffix).map((h) => h.publicSuffix)),
    byCountry: tally(hosts.map((h) => h.country ?? 'unknown')),
  };
}
