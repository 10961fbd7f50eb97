/**
 * Plain exports anyone can pull with curl: C&C lists (the one list format, Feodo-like CSV,
 * `ip:port`), bot lists for an ISP's own prefixes and ASNs, an RPZ zone for domains and C&C
 * addresses, and Suricata rules. C&C lists carry
 * address, port, protocol, confidence and family only: never timestamps or sources (law rule 2).
 */
import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { csvCell, formatC2List, type PrefixSet } from '../core/index.ts';
import { parse as parseDomain } from 'tldts';
import type { Indicator } from '../intel/index.ts';

// Rule languages (Suricata, RPZ zone files, MISP events that feed IDS rules) are code: every
// value written into them passes the allow-list of its field, or is left out and counted.

export type RuleWriter = 'suricata' | 'rpz' | 'misp';
const dropped = new Map<string, number>();

/** Values dropped so far by writer and field (for the metric and for tests). */
export function droppedRuleFields(): ReadonlyMap<string, number> {
  return dropped;
}
export function droppedRuleFieldCount(): number {
  let total = 0;
  for (const n of dropped.values()) total += n;
  return total;
}
function drop(writer: RuleWriter, field: string): undefined {
  const key = `${writer}:${field}`;
  dropped.set(key, (dropped.get(key) ?? 0) + 1);
  return undefined;
}

const LABEL = /^[A-Za-z0-9 ._:/-]{1,64}$/;
const HOSTNAME =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A family or other label: letters, digits, space and `._:/-`, 1 to 64 of them. */
export function safeLabel(text: string | null | undefined, writer: RuleWriter): string | undefined {
  if (!text) return undefined;
  return LABEL.test(text) ? text : drop(writer, 'label');
}

/** An IPv4 (four decimal parts) or IPv6 address (no zone), in its canonical text. */
export function safeAddress(text: string, writer: RuleWriter): string | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text).toString();
  if (/^[0-9A-Fa-f:.]{2,45}$/.test(text) && ipaddr.IPv6.isValid(text))
    return ipaddr.IPv6.parse(text).toString();
  return drop(writer, 'address');
}

/** A domain name with a registrable part under a known suffix (tldts), lower case. */
export function safeDomain(text: string, writer: RuleWriter): string | undefined {
  const lower = text.toLowerCase();
  const parsed = parseDomain(lower);
  if (HOSTNAME.test(lower) && !parsed.isIp && parsed.hostname === lower && parsed.domain) return lower;
  return drop(writer, 'domain');
}

/** An http(s) URL of printable ASCII whose host is an allowed domain or address. */
export function safeUrl(text: string, writer: RuleWriter): string | undefined {
  if (text.length > 2048 || !/^[\x21-\x7e]+$/.test(text)) return drop(writer, 'url');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return drop(writer, 'url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return drop(writer, 'url');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const ok = ipaddr.isValid(host) ? safeAddress(host, writer) : safeDomain(host, writer);
  return ok ? text : drop(writer, 'url');
}

/** A port number, 0 to 65535. */
export function safePort(port: number, writer: RuleWriter): number | undefined {
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : drop(writer, 'port');
}

function hostPort(ind: Indicator): string {
  const host = ind.value.includes(':') ? `[${ind.value}]` : ind.value;
  return ind.port ? `${host}:${ind.port}` : host;
}

/** The one C&C list format (core/c2list.ts); the public tier gets no confidence. */
export function c2Csv(indicators: readonly Indicator[], options: { withConfidence: boolean }): string {
  return formatC2List(
    indicators
      .filter((ind) => ind.kind === 'c2')
      .map((ind) => ({
        ip: ind.value,
        port: ind.port,
        proto: ind.proto,
        ...(options.withConfidence ? { confidence: ind.confidence } : {}),
        family: ind.family,
      })),
  );
}

/**
 * The Feodo Tracker-like list (`dst_ip,dst_port,...,malware` under a comment line) for tools
 * written against abuse.ch's feeds; without its first_seen/last_online columns (law rule 2).
 */
export function c2FeodoCsv(indicators: readonly Indicator[], options: { withConfidence: boolean }): string {
  const header = options.withConfidence
    ? 'dst_ip,dst_port,proto,confidence,malware'
    : 'dst_ip,dst_port,proto,malware';
  const lines = [
    '# tsunagi C&C server list: address, port, protocol' +
      (options.withConfidence ? ', confidence' : '') +
      ' and family only',
    header,
  ];
  for (const ind of indicators) {
    if (ind.kind !== 'c2') continue;
    const cells = [
      ind.value,
      String(ind.port),
      ind.proto,
      ...(options.withConfidence ? [String(ind.confidence)] : []),
      ind.family,
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

export function c2Text(indicators: readonly Indicator[]): string {
  return indicators
    .filter((i) => i.kind === 'c2')
    .map((i) => `${hostPort(i)}\n`)
    .join('');
}

/** Bots inside the organisation's own prefixes or ASNs (all bots when `all`). */
export function botList(
  indicators: readonly Indicator[],
  own: { prefixes: PrefixSet; asns: readonly number[]; all?: boolean },
): string {
  const asns = new Set(own.asns);
  return indicators
    .filter(
      (i) =>
        i.kind === 'bot' && (own.all || own.prefixes.hasText(i.value) || (i.asn !== null && asns.has(i.asn))),
    )
    .map((i) => `${i.value}\n`)
    .join('');
}

/**
 * The RPZ trigger owner name of an address (RFC draft-vixie-dnsop-dns-rpz, "rpz-ip"): the
 * prefix length, then the address reversed — IPv4 octets, or IPv6 16-bit groups with the
 * longest run of zero groups written `zz`. `1.2.3.4` is `32.4.3.2.1.rpz-ip`.
 */
export function rpzIpTrigger(address: string): string {
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return `32.${(parsed as ipaddr.IPv4).octets.toReversed().join('.')}.rpz-ip`;
  const groups = (parsed as ipaddr.IPv6).parts.map((p) => p.toString(16));
  let best = { at: -1, length: 0 };
  for (let i = 0; i < groups.length;) {
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > best.length) best = { at: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const labels =
    best.length > 1 ? [...groups.slice(0, best.at), 'zz', ...groups.slice(best.at + best.length)] : groups;
  return `128.${labels.toReversed().join('.')}.rpz-ip`;
}

/**
 * An RPZ zone: NXDOMAIN for each listed domain and its subdomains, and for any name whose
 * answer is a C&C server's address (rpz-ip). RPZ cannot name a port: an address is listed once
 * whatever ports its servers use, so a resolver blocks the whole host.
 */
export function rpzZone(indicators: readonly Indicator[], origin: string, serial: number): string {
  const lines = [
    `$TTL 300`,
    `@ SOA localhost. hostmaster.${origin}. ${serial} 3600 600 86400 300`,
    `@ NS localhost.`,
  ];
  const addresses = new Set<string>();
  for (const i of indicators) {
    if (i.kind === 'domain') {
      const domain = safeDomain(i.value, 'rpz');
      if (domain) lines.push(`${domain} CNAME .`, `*.${domain} CNAME .`);
    } else if (i.kind === 'c2' && !addresses.has(i.value)) {
      addresses.add(i.value);
      const family = i.family.replace(/[^\w.-]/g, '_');
      lines.push(`${rpzIpTrigger(i.value)} CNAME . ; C&C ${i.value}${family ? ` ${family}` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** A stable signature id per indicator, in a range kept for local rules. */
function sid(id: string): number {
  return 1_000_000_000 + (createHash('sha256').update(id).digest().readUInt32BE(0) % 900_000_000);
}

function suricataC2Rule(i: Indicator): string | undefined {
  const address = safeAddress(i.value, 'suricata');
  const port = safePort(i.port, 'suricata');
  if (!address || port === undefined) return undefined;
  const proto = i.proto === 'tcp' || i.proto === 'udp' ? i.proto : 'ip';
  const rulePort = port && proto !== 'ip' ? String(port) : 'any';
  const family = safeLabel(i.family, 'suricata');
  const shown = `${address.includes(':') ? `[${address}]` : address}${port ? `:${port}` : ''}`;
  return `alert ${proto} $HOME_NET any -> ${address} ${rulePort} (msg:"tsunagi C&C${family ? ` ${family}` : ''} ${shown}"; classtype:trojan-activity; sid:${sid(i.id)}; rev:1; metadata:confidence ${Math.round(i.confidence)};)`;
}

function suricataDomainRule(i: Indicator): string | undefined {
  const domain = safeDomain(i.value, 'suricata');
  if (!domain) return undefined;
  return `alert dns $HOME_NET any -> any any (msg:"tsunagi malicious domain ${domain}"; dns.query; dotprefix; content:".${domain}"; endswith; nocase; classtype:trojan-activity; sid:${sid(i.id)}; rev:1;)`;
}

export function suricataRules(indicators: readonly Indicator[]): string {
  const lines: string[] = ['# tsunagi C&C rules'];
  for (const i of indicators) {
    const rule =
      i.kind === 'c2' ? suricataC2Rule(i) : i.kind === 'domain' ? suricataDomainRule(i) : undefined;
    if (rule) lines.push(rule);
  }
  return lines.join('\n') + '\n';
}
