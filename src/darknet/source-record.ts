/**
 * One source as the analyzer reports it, and its row in hosts.csv: the analyzer streams these
 * rows itself (writeHostsCsv) and output.ts writes whole files of them, so the row form lives
 * here, below both.
 */
import type { SourceClass } from './config.ts';

/** One source with its class and the evidence behind it. */
export interface SourceRecord {
  ip: string;
  class: SourceClass;
  /** mirai, masscan, zmap, a rule name, or '' when none applies. */
  fingerprint: string;
  packets: number;
  /** TCP SYN, UDP, ICMP request packets. */
  probes: number;
  backscatter: number;
  firstSeen: number;
  lastSeen: number;
  /** Destination ports seen (the first few exactly); `morePorts` when there were more. */
  ports: number[];
  morePorts: boolean;
  distinctDestinations: number;
  distinctPorts: number;
  protocols: string[];
  asn: string;
  asName: string;
  country: string;
  /** Why this class, in words an analyst can check: counts and the rule that decided. */
  evidence: string;
}

export const HOSTS_CSV_HEADER = 'ip,class,fingerprint,packets,ports';

/** One hosts.csv row; ports are `;`-separated with a trailing `+` when there were more. */
export function formatHostRow(r: SourceRecord): string {
  const ports = r.ports.join(';') + (r.morePorts ? '+' : '');
  return `${r.ip},${r.class},${r.fingerprint},${r.packets},${ports}\n`;
}
