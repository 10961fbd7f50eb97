/**
 * Plain exports anyone can pull with curl: C&C lists (Feodo-style CSV, `ip:port`), bot lists
 * for an ISP's own prefixes and ASNs, an RPZ zone for domains and Suricata rules. C&C lists carry
 * address, port, protocol, confidence and family only: never timestamps or sources (law rule 2).
 */
import { createHash } from 'node:crypto';
import type { PrefixSet } from '../core/ip.ts';
import type { Indicator } from '../intel/types.ts';

function hostPort(ind: Indicator): string {
  const host = ind.value.includes(':') ? `[${ind.value}]` : ind.value;
  return ind.port ? `${host}:${ind.port}` : host;
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function c2Csv(indicators: readonly Indicator[], options: { withConfidence: boolean }): string {
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

/** An RPZ zone answering NXDOMAIN for each listed domain and its subdomains. */
export function rpzZone(indicators: readonly Indicator[], origin: string, serial: number): string {
  const lines = [
    `$TTL 300`,
    `@ SOA localhost. hostmaster.${origin}. ${serial} 3600 600 86400 300`,
    `@ NS localhost.`,
  ];
  for (const i of indicators) {
    if (i.kind !== 'domain') continue;
    lines.push(`${i.value} CNAME .`, `*.${i.value} CNAME .`);
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
