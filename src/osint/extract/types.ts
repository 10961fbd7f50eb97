/** What the extractor finds: the nine indicator types of `tsunagi osint extract`. */
export const OSINT_INDICATOR_TYPES = [
  'ipv4',
  'ipv6',
  'domain',
  'url',
  'md5',
  'sha1',
  'sha256',
  'cve',
  'attack',
] as const;
export type OsintIndicatorType = (typeof OSINT_INDICATOR_TYPES)[number];

export interface ExtractedIndicator {
  type: OsintIndicatorType;
  /** Refanged and canonical: lower-case names and hashes, compressed IPv6, `CVE-2024-1234`, `T1059.001`. */
  value: string;
  /** The text around the hit as written (defanged forms stay defanged), whitespace collapsed. */
  context: string;
  /** For an address: the port written with it (`ip:port`, `[v6]:port`, a URL's port or a table's port column). */
  port?: number;
}

export interface ExtractOptions {
  /** Also report the host of each URL as a domain or address of its own. */
  hostsOfUrls?: boolean;
  /** Characters of context on each side of a hit (within its line). */
  contextChars?: number;
}
