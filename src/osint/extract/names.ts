/**
 * Which addresses and names count as indicators: public unicast addresses only (no private,
 * loopback, shared, documentation, benchmarking or multicast space), and names under an ICANN
 * public suffix that are not reserved examples, file names or code.
 */
import ipaddr from 'ipaddr.js';
import { parse as parseDomain } from 'tldts';

/** A public IPv4 address in dotted-quad form without leading zeros, canonical; else null. */
export function publicIpv4(text: string): string | null {
  const octets = text.split('.');
  if (octets.length !== 4) return null;
  for (const octet of octets) {
    // `010` is octal to some parsers and decimal to others: not a written address.
    if (octet.length === 0 || octet.length > 3 || (octet.length > 1 && octet[0] === '0')) return null;
    if (Number(octet) > 255) return null;
  }
  return ipaddr.IPv4.parse(text).range() === 'unicast' ? text : null;
}

/** A global unicast IPv6 address (2000::/3 outside documentation and special ranges), compressed; else null. */
export function publicIpv6(text: string): string | null {
  if (!ipaddr.IPv6.isValid(text)) return null;
  const address = ipaddr.IPv6.parse(text);
  const first = address.parts[0]!;
  if (first < 0x2000 || first > 0x3fff) return null;
  const range = address.range();
  return range === 'unicast' || range === '6to4' ? address.toString() : null;
}

/**
 * The public IPv4 address an IPv4-mapped IPv6 address written in hex carries (`::ffff:2d4d:c03` is 45.77.12.3), canonical;
 * else null. Dual-stack servers (Node.js, sshd) log an IPv4 client so; the IPv4 address is the indicator.
 */
export function mappedIpv4(text: string): string | null {
  if (!ipaddr.IPv6.isValid(text)) return null;
  const address = ipaddr.IPv6.parse(text);
  return address.isIPv4MappedAddress() ? publicIpv4(address.toIPv4Address().toString()) : null;
}

/** Names reserved for examples, tests and local use (RFC 2606, RFC 6761, RFC 6762); `.onion` names stay: they are indicators. */
const RESERVED_TLDS = new Set(['example', 'test', 'invalid', 'localhost', 'local', 'arpa', 'internal']);
const EXAMPLE_DOMAINS = new Set(['example.com', 'example.net', 'example.org', 'example.edu']);

/**
 * Real TLDs that are also file extensions (`invoice.zip`, `clip.mov`, `setup.py`, `readme.md`,
 * `run.sh`, `libc.so`, `Makefile.in`, `notes.one`): a name ending in one is taken only when the
 * text says it is a name (defanged, or a word such as "domain" or "C2" just before it).
 */
export const FILE_EXTENSION_TLDS = new Set([
  'zip',
  'mov',
  'py',
  'sh',
  'pl',
  'rs',
  'md',
  'ps',
  'so',
  'ai',
  'cc',
  'mo',
  'am',
  'in',
  'ac',
  'pm',
  'ml',
  'mk',
  'st',
  'app',
  'cat',
  'one',
  'pub',
  'run',
  'bz',
  'ink',
  'pro',
  'website',
  'map',
  'download',
  'sc',
  'gs',
  'fm',
  'java',
  'rest',
  'cab',
]);

const LABEL = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?|xn--[a-z0-9-]{1,59})$/;

export type NameVerdict = 'domain' | 'not-a-name' | 'needs-context';

/** Whether a lower-cased dotted name is a registrable-domain name under an ICANN suffix. */
export function judgeName(name: string): NameVerdict {
  if (name.length > 253) return 'not-a-name';
  const labels = name.split('.');
  if (labels.length < 2) return 'not-a-name';
  for (const label of labels) if (!LABEL.test(label)) return 'not-a-name';
  const tld = labels[labels.length - 1]!;
  if (!/^(?:[a-z]{2,63}|xn--[a-z0-9-]+)$/.test(tld) || RESERVED_TLDS.has(tld)) return 'not-a-name';
  const parsed = parseDomain(name, { allowPrivateDomains: false, validateHostname: false });
  if (!parsed.isIcann || !parsed.domain) return 'not-a-name';
  // JPRS keeps `example` under .jp and each of its second levels (example.co.jp) for examples too.
  if (EXAMPLE_DOMAINS.has(parsed.domain) || (parsed.domainWithoutSuffix === 'example' && tld === 'jp'))
    return 'not-a-name';
  return FILE_EXTENSION_TLDS.has(tld) ? 'needs-context' : 'domain';
}

/** Words just before a name that say it is a host (English and Japanese). */
export const NAME_CONTEXT =
  /(?:\b(?:domains?|host(?:name)?s?|c2|c&c|cnc|command and control|servers?|dns|resolv\w*|urls?|beacon\w*|callback|connect\w*|contact\w*)\b|ドメイン|ホスト|サーバ|通信先|接続先|宛先|名前解決)[^\n]{0,24}$/i;
