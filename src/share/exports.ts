/**
 * Plain exports anyone can pull with curl: C&C lists (the one list format, Feodo-like CSV,
 * `ip:port`), bot lists for an ISP's own prefixes and ASNs, an RPZ zone for domains and C&C
 * addresses, and Suricata rules. C&C lists carry
 * address, port, protocol, confidence and family only: never timestamps or sources (law rule 2).
 */
import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { csvCell, formatC2List } from '../core/c2list.ts';
import type { PrefixSet } from '../core/ip.ts';
import type { Indicator } from '../intel/types.ts';

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
    if (i.kind === 'domain') lines.push(`${i.value} CNAME .`, `*.${i.value} CNAME .`);
    else if (i.kind === 'c2' && !addresses.has(i.value)) {
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

function ruleText(text: string): string {
  return text.replace(/[";\\]/g, '');
}

export function suricataRules(indicators: readonly Indicator[]): string {
  const lines: string[] = ['# tsunagi C&C rules'];
  for (const i of indicators) {
    if (i.kind === 'c2') {
      const proto = i.proto === 'tcp' || i.proto === 'udp' ? i.proto : 'ip';
      const port = i.port && proto !== 'ip' ? String(i.port) : 'any';
      const family = i.family ? ` ${ruleText(i.family)}` : '';
      lines.push(
        `alert ${proto} $HOME_NET any -> ${i.value} ${port} (msg:"tsunagi C&C${family} ${hostPort(i)}"; classtype:trojan-activity; sid:${sid(i.id)}; rev:1; metadata:confidence ${i.confidence};)`,
      );
    } else if (i.kind === 'domain') {
      lines.push(
        `alert dns $HOME_NET any -> any any (msg:"tsunagi malicious domain ${ruleText(i.value)}"; dns.query; dotprefix; content:".${ruleText(i.value)}"; endswith; nocase; classtype:trojan-activity; sid:${sid(i.id)}; rev:1;)`,
      );
    }
  }
  return lines.join('\n') + '\n';
}
