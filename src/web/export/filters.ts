/**
 * Filtering outputs for resolvers and proxies: a host-level RPZ zone, an Unbound local-zone
 * config and a hosts file for hosts that are wholly malicious, and a URL-level list (Safe
 * Browsing-style hash prefixes and plain JSON). Who may receive which entries is the hub's
 * release decision, made before the entries reach these writers.
 */
import { canonicaliseUrl, CanonicalUrlError, hashPrefix, suffixPrefixExpressions } from './safebrowsing.ts';

export const EXPORT_FORMATS = ['rpz', 'unbound', 'hosts', 'urls'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * Hosts of shared services that the public suffix list does not split into tenants: a phishing
 * page on one of them is a URL-level entry, never a block of the host (or of a parent of it).
 */
export const SHARED_HOSTS: readonly string[] = [
  'sites.google.com',
  'docs.google.com',
  'drive.google.com',
  'forms.gle',
  'storage.googleapis.com',
  'firebasestorage.googleapis.com',
  'dropbox.com',
  'onedrive.live.com',
  '1drv.ms',
  'bit.ly',
  't.co',
  'tinyurl.com',
  'lin.ee',
  'line.me',
  'notion.site',
  'wixsite.com',
  'weebly.com',
  'jimdofree.com',
  'ipfs.io',
  'linktr.ee',
  'qrco.de',
];

export interface HostCandidate {
  host: string;
  hostKind: 'domain' | 'ipv4' | 'ipv6';
  registrableDomain: string | null;
  publicSuffix: string;
  privateSuffix: boolean;
}

export type HostRefusal = 'not-a-domain' | 'public-suffix' | 'shared-platform' | 'official-domain';

/**
 * Why a host must not be blocked whole, or null when it may: only a domain name, never a suffix
 * (`pages.dev`, `co.jp`), never a shared service or a parent of one, never a brand's official
 * domain or a host under one.
 */
export function hostRefusal(
  candidate: HostCandidate,
  officialBrand: (host: string, registrableDomain: string | null) => string | null,
): HostRefusal | null {
  const { host } = candidate;
  if (candidate.hostKind !== 'domain') return 'not-a-domain';
  if (candidate.registrableDomain === null || host === candidate.publicSuffix) return 'public-suffix';
  for (const shared of SHARED_HOSTS)
    if (host === shared || host.endsWith(`.${shared}`) || shared.endsWith(`.${host}`))
      return 'shared-platform';
  if (officialBrand(host, candidate.registrableDomain) !== null) return 'official-domain';
  return null;
}

export interface RpzOptions {
  /** The zone's name, e.g. `rpz.tsunagi.` (a trailing dot is added when missing). */
  origin: string;
  serial: number;
  /** The SOA's primary name server and mailbox (RPZ zones are transferred, not resolved). */
  nameServer?: string;
  hostmaster?: string;
  ttl?: number;
  /** Comment lines written at the top (tier, TLP, when). */
  comments?: readonly string[];
}

const dotted = (name: string) => (name.endsWith('.') ? name : `${name}.`);
const commentLines = (comments: readonly string[] = [], mark = ';') =>
  comments.map((c) => `${mark} ${c.replace(/[\r\n]+/g, ' ')}\n`).join('');

/** A response-policy zone: `host CNAME .` (NXDOMAIN) for each host and the names under it. */
export function rpzZone(hosts: readonly string[], options: RpzOptions): string {
  if (!Number.isInteger(options.serial) || options.serial < 1 || options.serial > 0xffffffff)
    throw new RangeError('the RPZ serial must be an integer in 1..2^32-1');
  const ttl = options.ttl ?? 300;
  const ns = dotted(options.nameServer ?? 'localhost.');
  const hostmaster = dotted(options.hostmaster ?? 'hostmaster.localhost.');
  let out = commentLines(options.comments);
  out += `$ORIGIN ${dotted(options.origin)}\n$TTL ${ttl}\n`;
  out += `@ IN SOA ${ns} ${hostmaster} ${options.serial} 3600 600 86400 ${ttl}\n`;
  out += `@ IN NS ${ns}\n`;
  for (const host of hosts) out += `${host} CNAME .\n*.${host} CNAME .\n`;
  return out;
}

/** Unbound: each host and everything under it answers NXDOMAIN. */
export function unboundConfig(hosts: readonly string[], comments?: readonly string[]): string {
  return (
    commentLines(comments, '#') +
    'server:\n' +
    hosts.map((h) => `  local-zone: "${h}." always_nxdomain\n`).join('')
  );
}

/** A hosts file: each host to 0.0.0.0. */
export function hostsFile(hosts: readonly string[], comments?: readonly string[]): string {
  return commentLines(comments, '#') + hosts.map((h) => `0.0.0.0 ${h}\n`).join('');
}

export interface UrlEntry {
  url: string;
  host: string;
  brand: string | null;
  score: number;
  firstSeen: string;
  tlp: string;
}

export interface UrlList {
  generated: string;
  tier: string;
  /** The most restrictive marking of its entries: the list (its hash prefixes too) goes out under it. */
  tlp: string;
  /** The Safe Browsing canonical URL of each entry beside the entry. */
  urls: (UrlEntry & { canonical: string; expression: string })[];
  /** Sorted, unique 4-byte SHA-256 prefixes (hex) of each URL's own full expression. */
  hashPrefixes: string[];
}

/**
 * The URL-level list. Each entry is listed under the expression of its exact canonical URL
 * (`host/path?query`), the one a client's lookup of that page always computes among its
 * suffix/prefix expressions; a URL that does not canonicalise is left out.
 */
export function urlList(
  entries: readonly UrlEntry[],
  meta: { generated: string; tier: string; tlp: string },
): UrlList {
  const urls: UrlList['urls'] = [];
  const prefixes = new Set<string>();
  for (const entry of entries) {
    let expression: string;
    let canonical: string;
    try {
      const c = canonicaliseUrl(entry.url);
      expression = suffixPrefixExpressions(c)[0]!;
      canonical = c.url;
    } catch (error) {
      if (error instanceof CanonicalUrlError) continue;
      throw error;
    }
    urls.push({ ...entry, canonical, expression });
    prefixes.add(hashPrefix(expression));
  }
  return { ...meta, urls, hashPrefixes: [...prefixes].sort() };
}

/** Whether a URL is on the list, looked up as a Safe Browsing client would (for tests and checks). */
export function urlListMatches(list: Pick<UrlList, 'hashPrefixes'>, url: string): boolean {
  const prefixes = new Set(list.hashPrefixes);
  return suffixPrefixExpressions(url).some((e) => prefixes.has(hashPrefix(e)));
}
