/**
 * The hub's one release decision. Every path out (TAXII on every root, the JSON API, the exports,
 * the MISP feed, the console API, the live stream, own-network products and the public
 * self-check, hygiene survey results) asks `release(subject, reader)` and gets `deny`, `allow` or a `sanitised` copy.
 * The marking binds: RED never leaves the full tier it was given to; AMBER and AMBER+STRICT never
 * reach public notice; a derived product is never marked less strictly than its sources; the tier
 * a writer claims can narrow an object's reach, never widen it past its marking. The same module
 * decides who may read organisation lists and the audit log, and who may change an object.
 */
import { PrefixSet } from '../../core/index.ts';
import {
  type Indicator,
  type IndicatorKind,
  moreRestrictedTier,
  moreRestrictedTlp,
  type Tier,
  tierAllows,
  TIERS,
  type Tlp,
  tlpRank,
  TLPS,
} from '../../intel/index.ts';
import type { Organisation, Principal, Role } from '../orgs.ts';

/** Who asks: an organisation (through a token) or an anonymous caller known only by its address. */
export interface Reader {
  /** Null for an anonymous caller (the public self-check). */
  orgId: string | null;
  role: Role | null;
  /** What the organisation may read now: council roles without consent fall to public. */
  tier: Tier;
  /** Whether the token may read at all. */
  canRead: boolean;
  /** Addresses the reader holds: an ISP's prefixes and AS numbers, or the caller's own address. */
  prefixes: PrefixSet;
  asns: ReadonlySet<number>;
  address: string | null;
}

export function readerOf(p: Principal): Reader {
  return readerOfOrg(p.org, p.scopes.includes('read'));
}

export function readerOfOrg(org: Organisation, canRead = true): Reader {
  return {
    orgId: org.id,
    role: org.role,
    tier: org.tier,
    canRead,
    prefixes: new PrefixSet(org.prefixes),
    asns: new Set(org.asns),
    address: null,
  };
}

/** A reader known only by its tier (CLI exports, tier-wide counts): it holds no addresses. */
export function tierReader(tier: Tier): Reader {
  return {
    orgId: null,
    role: null,
    tier,
    canRead: true,
    prefixes: new PrefixSet(),
    asns: new Set(),
    address: null,
  };
}

/** The public self-check's caller: public clearance, addressed only by its own address. */
export function anonymousReader(address: string): Reader {
  return {
    orgId: null,
    role: null,
    tier: 'public',
    canRead: true,
    prefixes: new PrefixSet(),
    asns: new Set(),
    address,
  };
}

/** The most restrictive marking each tier may receive. */
export const CLEARANCE: Readonly<Record<Tier, Tlp>> = {
  full: 'red',
  council: 'amber+strict',
  public: 'clear',
};

/** The core rule: may a reader at its tier receive something of this tier under this marking? */
export function markingAllows(reader: Pick<Reader, 'tier'>, tier: Tier, tlp: Tlp): boolean {
  return tierAllows(reader.tier, tier) && tlpRank(tlp) <= tlpRank(CLEARANCE[reader.tier]);
}

/** The markings a reader may receive, as lists for SQL filters (the same rule as `markingAllows`). */
export function receivableMarkings(reader: Pick<Reader, 'tier'>): { tiers: Tier[]; tlps: Tlp[] } {
  return {
    tiers: TIERS.filter((t) => tierAllows(reader.tier, t)),
    tlps: TLPS.filter((t) => tlpRank(t) <= tlpRank(CLEARANCE[reader.tier])),
  };
}

/** Kinds that name a subscriber's host: below the full tier only as a product addressed to its holder. */
export const HOST_KINDS: readonly IndicatorKind[] = ['bot', 'vulnerable-device'];
export function isHostKind(kind: string): boolean {
  return (HOST_KINDS as readonly string[]).includes(kind);
}

/** What a collection is, as far as release cares. */
export interface CollectionScope {
  readTier: Tier;
  writeTier: Tier | null;
  ceiling: Tier;
  /** Set when the collection is addressed to one organisation (its own network). */
  ownerOrgId: string | null;
}

/** An analysis-centre decision that an indicator may reach public notice (the review queue). */
export interface PublicNoticeDecision {
  approved: boolean;
  /** The family the analysis centre chose to print, if it edited it. */
  family?: string;
}

export type Subject =
  /** A fact from intel, released by broadcast (or, for host kinds, addressed to its holder). */
  | { type: 'indicator'; indicator: Indicator; publicNotice?: PublicNoticeDecision }
  /** A stored STIX version: its tier and marking as stored, in a collection. */
  | { type: 'stored'; tier: Tier; tlp: Tlp; collection: CollectionScope }
  /** Results of the hygiene survey (public DNS and mail posture): sector aggregates or per organisation. */
  | { type: 'hygiene'; level: HygieneLevel }
  /** What endpoint sensors on a ministry's terminals reported: per-ministry views and statistics. */
  | { type: 'sensor'; level: SensorLevel }
  /**
   * A published document (OSINT) under its feed's marking: the tier its TLP gives (CLEAR public,
   * GREEN and AMBER council, RED full), narrowed by the feed's tier when one is configured, as
   * intel's OSINT intake marks the sightings taken from it.
   */
  | { type: 'document'; tier: Tier; tlp: Tlp };

/**
 * Hygiene results are built from public DNS data, but a score per named organisation is a list
 * of its weak points: per-organisation results (scores, drill-down, what to fix) go to the full
 * and council tiers under TLP:AMBER, so members may pass them to the organisation concerned;
 * sector aggregates (a mean and adoption percentages, no names) are public notice, TLP:CLEAR.
 */
export type HygieneLevel = 'sector' | 'organisation';
export const HYGIENE_MARKINGS: Readonly<Record<HygieneLevel, { tier: Tier; tlp: Tlp }>> = {
  sector: { tier: 'public', tlp: 'clear' },
  organisation: { tier: 'council', tlp: 'amber' },
};

/**
 * Endpoint sensor results name a ministry's terminals: how many, when they last reported, which of
 * them connected to C&C servers or ran listed programs. That is the ministry's internal data given
 * to the national analysis centre, so per-ministry views and statistics stay at the full tier
 * under TLP:AMBER (never council, never public notice). What reaches the others is the C&C
 * servers themselves, as intel indicators under their own release.
 */
export type SensorLevel = 'organisation';
export const SENSOR_MARKINGS: Readonly<Record<SensorLevel, { tier: Tier; tlp: Tlp }>> = {
  organisation: { tier: 'full', tlp: 'amber' },
};

/** The copy a reader gets of an indicator: its tier and marking, and the facts it may carry. */
export interface ReleasedIndicator {
  indicator: Indicator;
  tier: Tier;
  tlp: Tlp;
  /** True when the copy is addressed to the reader (own network, own address), not broadcast. */
  addressed: boolean;
}

export type Release<T> =
  { outcome: 'deny'; reason: string } | { outcome: 'allow'; copy: T } | { outcome: 'sanitised'; copy: T };

export function release(subject: { type: 'indicator' } & Subject, reader: Reader): Release<ReleasedIndicator>;
export function release(subject: { type: 'stored' } & Subject, reader: Reader): Release<true>;
export function release(
  subject: { type: 'hygiene' } & Subject,
  reader: Reader,
): Release<{ tier: Tier; tlp: Tlp }>;
export function release(
  subject: { type: 'sensor' } & Subject,
  reader: Reader,
): Release<{ tier: Tier; tlp: Tlp }>;
export function release(
  subject: { type: 'document' } & Subject,
  reader: Reader,
): Release<{ tier: Tier; tlp: Tlp }>;
export function release(
  subject: Subject,
  reader: Reader,
): Release<ReleasedIndicator | true | { tier: Tier; tlp: Tlp }> {
  if (!reader.canRead) return deny('this token may not read');
  if (subject.type === 'stored') return releaseStored(subject.tier, subject.tlp, subject.collection, reader);
  if (subject.type === 'hygiene') return releaseHygiene(subject.level, reader);
  if (subject.type === 'sensor') return releaseSensor(subject.level, reader);
  if (subject.type === 'document') {
    if (!markingAllows(reader, subject.tier, subject.tlp))
      return deny(`the document is tier ${subject.tier} under TLP:${subject.tlp.toUpperCase()}`);
    return { outcome: 'allow', copy: { tier: subject.tier, tlp: subject.tlp } };
  }
  return releaseIndicator(subject.indicator, subject.publicNotice, reader);
}

function releaseHygiene(level: HygieneLevel, reader: Reader): Release<{ tier: Tier; tlp: Tlp }> {
  const m = HYGIENE_MARKINGS[level];
  if (!markingAllows(reader, m.tier, m.tlp))
    return deny(`hygiene ${level} results are tier ${m.tier} under TLP:${m.tlp.toUpperCase()}`);
  return { outcome: 'allow', copy: m };
}

function releaseSensor(level: SensorLevel, reader: Reader): Release<{ tier: Tier; tlp: Tlp }> {
  const m = SENSOR_MARKINGS[level];
  if (!markingAllows(reader, m.tier, m.tlp))
    return deny(`endpoint sensor results per ministry are tier ${m.tier} under TLP:${m.tlp.toUpperCase()}`);
  return { outcome: 'allow', copy: m };
}

/** Shorthand: whether an indicator reaches a reader at all. */
export function releasedTo(
  indicator: Indicator,
  reader: Reader,
  publicNotice?: PublicNoticeDecision,
): ReleasedIndicator | undefined {
  const r = release({ type: 'indicator', indicator, ...(publicNotice ? { publicNotice } : {}) }, reader);
  return r.outcome === 'deny' ? undefined : r.copy;
}

function deny(reason: string): { outcome: 'deny'; reason: string } {
  return { outcome: 'deny', reason };
}

function releaseStored(tier: Tier, tlp: Tlp, c: CollectionScope, reader: Reader): Release<true> {
  if (!mayReadCollection(reader, c)) return deny('the collection is not open to this reader');
  if (!markingAllows(reader, tier, tlp)) return deny(`tier ${tier} under TLP:${tlp.toUpperCase()}`);
  return { outcome: 'allow', copy: true };
}

/** Whether an organisation holds an address: its prefixes or its AS numbers (or its own address). */
export function holds(reader: Reader, indicator: Pick<Indicator, 'value' | 'asn'>): boolean {
  if (reader.address !== null) return reader.address === indicator.value;
  if (indicator.asn !== null && reader.asns.has(indicator.asn)) return true;
  try {
    return reader.prefixes.hasText(indicator.value);
  } catch {
    return false;
  }
}

/**
 * The marking of a host addressed to its holder. To the ISP holding the network: a council
 * product for that organisation alone (AMBER+STRICT at least). To the caller at the address
 * (the self-check): exactly the indicator's own tier and marking, so only what the analysis
 * centre released for public notice is told.
 */
export function addressedMarking(indicator: Pick<Indicator, 'tier' | 'tlp'>, toOrganisation: boolean) {
  return toOrganisation
    ? { tier: 'council' as Tier, tlp: moreRestrictedTlp(indicator.tlp, 'amber+strict') }
    : { tier: indicator.tier, tlp: indicator.tlp };
}

/** Whether an indicator is public notice: released public by the analysis centre, under TLP:CLEAR. */
export function isPublicNotice(indicator: Indicator, decision?: PublicNoticeDecision): boolean {
  // An approval opens public notice to what the council may read, never to the full analysis.
  const tier = decision?.approved && indicator.tier !== 'full' ? 'public' : indicator.tier;
  return tier === 'public' && indicator.tlp === 'clear' && !isHostKind(indicator.kind);
}

function releaseIndicator(
  ind: Indicator,
  decision: PublicNoticeDecision | undefined,
  reader: Reader,
): Release<ReleasedIndicator> {
  if (reader.tier === 'full')
    return { outcome: 'allow', copy: { indicator: ind, tier: 'full', tlp: ind.tlp, addressed: false } };
  if (isHostKind(ind.kind)) {
    if (!holds(reader, ind)) return deny('a host reaches below the full tier only its holder');
    const m = addressedMarking(ind, reader.orgId !== null);
    if (!markingAllows(reader, m.tier, m.tlp))
      return deny(`addressed product under TLP:${m.tlp.toUpperCase()}`);
    return { outcome: 'sanitised', copy: { indicator: ind, tier: m.tier, tlp: m.tlp, addressed: true } };
  }
  if (reader.tier === 'council') {
    // The council product: AMBER+STRICT, or the source's own CLEAR or GREEN (never less strict).
    const tlp =
      ind.tlp === 'clear' || ind.tlp === 'green' ? ind.tlp : moreRestrictedTlp(ind.tlp, 'amber+strict');
    if (!tierAllows('council', ind.tier)) return deny('full analysis only');
    if (!markingAllows(reader, 'council', tlp)) return deny(`TLP:${tlp.toUpperCase()}`);
    return { outcome: 'sanitised', copy: { indicator: ind, tier: 'council', tlp, addressed: false } };
  }
  if (!isPublicNotice(ind, decision)) return deny('not public notice');
  const copy = decision?.family ? { ...ind, family: decision.family } : ind;
  return { outcome: 'sanitised', copy: { indicator: copy, tier: 'public', tlp: 'clear', addressed: false } };
}

/**
 * Whether a reader may read a collection at all. A collection addressed to an organisation is
 * that organisation's alone, and only while it may receive what the collection holds (its ceiling).
 */
export function mayReadCollection(reader: Reader, c: CollectionScope): boolean {
  if (!reader.canRead) return false;
  if (c.ownerOrgId !== null) return c.ownerOrgId === reader.orgId && tierAllows(reader.tier, c.ceiling);
  return tierAllows(reader.tier, c.readTier);
}

/** The tier and marking a product derived from sources must carry at least (never less strict). */
export function productMarking(sources: readonly { tier: Tier; tlp: Tlp }[]): { tier: Tier; tlp: Tlp } {
  let tier: Tier = 'public';
  let tlp: Tlp = 'clear';
  for (const s of sources) {
    tier = moreRestrictedTier(tier, s.tier);
    tlp = moreRestrictedTlp(tlp, s.tlp);
  }
  return { tier, tlp };
}

/** Roles that read the list of organisations and the audit log: the analysis centre only. */
export function mayReadOrganisations(reader: Reader): boolean {
  return reader.canRead && reader.role === 'analysis';
}
export function mayReadAudit(reader: Reader): boolean {
  return reader.canRead && reader.role === 'analysis';
}
/**
 * Who reads the operator's pipeline health (collector, publisher, detector and worker processes,
 * with their hosts and counters): full-tier readers only.
 */
export function mayReadPipelineHealth(reader: Reader): boolean {
  return reader.canRead && reader.tier === 'full';
}
/** Who decides public notice (the review queue): the analysis centre, with a write token. */
export function mayDecidePublicNotice(p: Principal): boolean {
  return p.org.role === 'analysis' && p.scopes.includes('write');
}

/**
 * Who may report a URL they saw (`POST /console/api/web/reports`): any organisation whose token
 * may write. A report is input to the hub's web room, stored under the reporter's name and never
 * released as it is: what leaves is what the release rule lets out of intel afterwards.
 */
export function mayReportUrls(p: Principal): boolean {
  return p.scopes.includes('write');
}

/**
 * Ownership: an object belongs to the organisation that wrote it (null: the hub itself, i.e. the
 * publisher). Its owner may version, revoke or delete it; the analysis centre may too, audited as
 * acting for another; nobody else.
 */
export type ChangeRight = 'owner' | 'analysis-centre' | 'refused';
export function mayChange(p: Principal, ownerOrgId: string | null): ChangeRight {
  if (ownerOrgId !== null && ownerOrgId === p.org.id) return 'owner';
  if (p.org.role === 'analysis') return 'analysis-centre';
  return 'refused';
}
