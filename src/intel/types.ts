/** The vocabulary intel speaks: indicator kinds, legal tiers, TLP levels and the shapes it hands out. */
import type { Transaction } from 'kysely';
import type { Database } from '../store/index.ts';

export const INDICATOR_KINDS = ['c2', 'bot', 'vulnerable-device', 'url', 'domain'] as const;
export type IndicatorKind = (typeof INDICATOR_KINDS)[number];

/**
 * The three legal tiers, most restricted first: the full analysis (総合整理分析情報), the version
 * for council members bound by confidentiality (提供用), and the version for public notice (周知等用).
 */
export const TIERS = ['full', 'council', 'public'] as const;
export type Tier = (typeof TIERS)[number];

/** Larger is more restricted. */
export function tierRank(tier: Tier): number {
  return tier === 'full' ? 2 : tier === 'council' ? 1 : 0;
}
/** Whether a reader cleared for `reader` may see an object at `object`. */
export function tierAllows(reader: Tier, object: Tier): boolean {
  return tierRank(reader) >= tierRank(object);
}
export function moreRestrictedTier(a: Tier, b: Tier): Tier {
  return tierRank(a) >= tierRank(b) ? a : b;
}

/** TLP 2.0 levels, least restricted first. */
export const TLPS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
export type Tlp = (typeof TLPS)[number];
export function tlpRank(tlp: Tlp): number {
  return TLPS.indexOf(tlp);
}
export function moreRestrictedTlp(a: Tlp, b: Tlp): Tlp {
  return tlpRank(a) >= tlpRank(b) ? a : b;
}

export interface Indicator {
  id: string;
  kind: IndicatorKind;
  /** Canonical text: an IP address (IPv4-mapped IPv6 folded to IPv4), a URL or a lower-case domain. */
  value: string;
  /** 0 when none. */
  port: number;
  /** '' when none. */
  proto: string;
  family: string;
  /** 0..100, combined over every source as independent evidence. */
  confidence: number;
  /**
   * The broadest tier this indicator may be released to (always through a sanitiser): 'full'
   * keeps it in the full analysis only; 'public' lets a sanitised copy reach public notice.
   */
  tier: Tier;
  tlp: Tlp;
  asn: number | null;
  attributes: Record<string, string>;
  firstSeen: string;
  lastSeen: string;
  expiresAt: string;
  withdrawnAt: string | null;
  withdrawnReason: string | null;
  createdAt: string;
  modifiedAt: string;
}

export interface Sighting {
  id: string;
  indicatorId: string;
  source: string;
  confidence: number;
  count: number;
  firstSeen: string;
  lastSeen: string;
}

/** A published document that names an indicator: the provenance of one source's sighting. */
export interface SightingDocument {
  /** The sighting's source (`osint:<feed>`). */
  source: string;
  /** The document's id in its source (OSINT: the SHA-256 of its content). */
  document: string;
  url: string;
  title: string;
  /** The sentence around the value. */
  context: string;
  /** When the source first read it naming the indicator. */
  firstSeen: string;
}

export interface Relationship {
  id: string;
  fromId: string;
  toId: string;
  type: string;
  source: string;
  firstSeen: string;
  lastSeen: string;
}

/** One audit record; the share room's audit log implements the sink. */
export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  reason?: string;
  detail?: Record<string, unknown>;
}

/** Appends inside the caller's transaction, so a write and its record commit together. */
export interface AuditSink {
  /** The PostgreSQL advisory lock key writers take so the hash chain stays linear. */
  readonly lockKey: number;
  append(trx: Transaction<Database>, entry: AuditEntry): Promise<void>;
}
