/**
 * What a reader at each legal tier may see of an indicator in the console. The rule is share's:
 * a lower tier sees an indicator only when share's named sanitiser would publish it there, and
 * sees only what that sanitised product carries (no sources, no observation times, no internal
 * id; public notice also no confidence). The SQL filter mirrors the sanitisers so pages can be
 * counted and paginated in the database; a test checks the two agree on every combination.
 */
import type { ExpressionBuilder, SelectQueryBuilder } from 'kysely';
import { InputError } from '../core/index.ts';
import {
  type Indicator,
  type IndicatorKind,
  type Tier,
  type Tlp,
  INDICATOR_KINDS,
  TIERS,
  TLPS,
} from '../intel/index.ts';
import type { Database } from '../store/index.ts';
import {
  CLEARANCE,
  HOST_KINDS as RELEASE_HOST_KINDS,
  isHostKind,
  markingAllows,
  receivableMarkings,
  releasedTo,
  tierReader,
  type PublicNoticeDecision,
  approvedForPublicNotice,
  type HubIdentity,
} from '../share/index.ts';
import type { ApiIndicatorKind, ApiTier, ApiTlp, IndicatorView } from './api/types.ts';

export type { IndicatorView } from './api/types.ts';

/** Kinds that name a subscriber's host: share never sends them below the full tier (but to their holder). */
export const HOST_KINDS: readonly IndicatorKind[] = RELEASE_HOST_KINDS;

/**
 * Whether a reader at `reader` sees this indicator in the console's tier-wide views: share's
 * release rule for a reader of that tier holding no addresses (hosts reach their holders only
 * through their own-network products and bots.txt).
 */
export function visibleAt(
  indicator: Indicator,
  reader: Tier,
  _hub?: HubIdentity,
  publicNotice?: PublicNoticeDecision,
): boolean {
  return releasedTo(indicator, tierReader(reader), publicNotice) !== undefined;
}

type IndicatorQuery<O> = SelectQueryBuilder<Database, 'indicators', O>;

/** The same rule as `visibleAt`, as a WHERE clause on the indicators table (approvals included). */
export function whereVisible<O>(query: IndicatorQuery<O>, reader: Tier): IndicatorQuery<O> {
  if (reader === 'full') return query;
  const { tlps } = receivableMarkings({ tier: reader });
  const q = query.where('indicators.tlp', 'in', tlps).where('indicators.kind', 'not in', [...HOST_KINDS]);
  if (reader === 'council') return q.where('indicators.tier', 'in', ['council', 'public']);
  return q.where((eb) =>
    eb.or([
      eb('indicators.tier', '=', 'public'),
      eb.and([eb('indicators.tier', '=', 'council'), approvedForPublicNotice(eb)]),
    ]),
  );
}

/** The same rule as `whereVisible` for a class of indicators (the overview's tallies; approvals not counted). */
export function visibleClass(reader: Tier, c: { kind: string; tier: string; tlp: string }): boolean {
  if (reader === 'full') return true;
  return (
    !isHostKind(c.kind) &&
    (TIERS as readonly string[]).includes(c.tier) &&
    (TLPS as readonly string[]).includes(c.tlp) &&
    markingAllows(
      { tier: reader },
      c.tier as Tier,
      reader === 'council' ? councilTlp(c.tlp as Tlp) : (c.tlp as Tlp),
    )
  );
}

/** The marking of a council copy (as share's council product marks it). */
function councilTlp(tlp: Tlp): Tlp {
  return tlp === 'clear' || tlp === 'green' ? tlp : tlp === 'red' ? 'red' : 'amber+strict';
}

/** Active: not withdrawn and not expired. */
export function whereActive<O>(query: IndicatorQuery<O>, now: Date): IndicatorQuery<O> {
  return query
    .where('indicators.withdrawn_at', 'is', null)
    .where('indicators.expires_at', '>', now.toISOString());
}

export function activeExpression(eb: ExpressionBuilder<Database, 'indicators'>, now: Date) {
  return eb.and([
    eb('indicators.withdrawn_at', 'is', null),
    eb('indicators.expires_at', '>', now.toISOString()),
  ]);
}

/** A stable reference to an indicator that names its key, never its internal id. */
export function indicatorRef(kind: string, value: string, port: number, proto: string): string {
  return Buffer.from(`${kind}|${value}|${port}|${proto}`, 'utf8').toString('base64url');
}

export function parseRef(ref: string): { kind: IndicatorKind; value: string; port: number; proto: string } {
  const text = Buffer.from(ref, 'base64url').toString('utf8');
  const parts = text.split('|');
  const [kind, value, port, proto] = parts;
  if (
    parts.length !== 4 ||
    !(INDICATOR_KINDS as readonly string[]).includes(kind!) ||
    !value ||
    !/^\d{1,5}$/.test(port!) ||
    !/^[a-z0-9-]{0,16}$/i.test(proto!)
  ) {
    throw new InputError('not an indicator reference this console handed out');
  }
  return { kind: kind as IndicatorKind, value: value!, port: Number(port), proto: proto! };
}

/** The TLP a released copy carries at a tier (as share's release rule marks it). */
export function tlpAt(indicator: Indicator, reader: Tier, publicNotice?: PublicNoticeDecision): Tlp {
  if (reader === 'full') return indicator.tlp;
  return releasedTo(indicator, tierReader(reader), publicNotice)?.tlp ?? CLEARANCE[reader];
}

// The API's types are one module with the SPA's; intel's vocabulary must be the same words.
const SAME_TIERS: readonly ApiTier[] = TIERS;
const SAME_TLPS: readonly ApiTlp[] = TLPS;
const SAME_KINDS: readonly ApiIndicatorKind[] = INDICATOR_KINDS;
void [SAME_TIERS, SAME_TLPS, SAME_KINDS];

/** The indicator as a reader at `reader` may see it (call only when `visibleAt` said yes). */
export function viewOf(
  source: Indicator,
  reader: Tier,
  now: Date,
  publicNotice?: PublicNoticeDecision,
): IndicatorView {
  // Public notice prints what the analysis centre decided (an edited family).
  const ind =
    reader === 'public' && publicNotice?.family ? { ...source, family: publicNotice.family } : source;
  const active = ind.withdrawnAt === null && ind.expiresAt > now.toISOString();
  const base: IndicatorView = {
    ref: indicatorRef(ind.kind, ind.value, ind.port, ind.proto),
    kind: ind.kind,
    value: ind.value,
    port: ind.port,
    proto: ind.proto,
    family: ind.family,
    tier: reader,
    tlp: tlpAt(source, reader, publicNotice),
    createdDay: ind.createdAt.slice(0, 10),
    active,
  };
  if (reader !== 'public') base.confidence = ind.confidence;
  if (reader !== 'full') return base;
  return {
    ...base,
    asn: ind.asn,
    attributes: ind.attributes,
    firstSeen: ind.firstSeen,
    lastSeen: ind.lastSeen,
    expiresAt: ind.expiresAt,
    withdrawnAt: ind.withdrawnAt,
    withdrawnReason: ind.withdrawnReason,
    releasableTo: ind.tier,
    originalTlp: ind.tlp,
  };
}
