/**
 * DNSSEC validation by tsunagi (RFC 4035 §5), not by trusting a resolver's AD bit: from a
 * configured trust anchor down the delegation chain (DS → DNSKEY → RRSIG) to the zone of a name,
 * with NSEC/NSEC3 to authenticate the absence of a DS (an insecure delegation). The resolver is
 * asked with CD set so that it hands over what it got, even what it would call bogus.
 */
import type { Answer, RecordType } from 'dns-packet';
import { DnsTimeoutError, type DnsClient, type DnsResponse } from './client.ts';
import { deniedDs, provenAbsent, signedDenials, wildcardProven, type Cut } from './denial.ts';
import { isBelowOrAt, normalise, rrsetOf, rrsigsOf } from './records.ts';
import {
  dsMatches,
  isZoneKey,
  SUPPORTED_ALGORITHMS,
  SUPPORTED_DIGESTS,
  verifyRrset,
  type DnskeyData,
  type DsData,
} from './signature.ts';
import type { DnssecResult, Verdict } from './verdict.ts';

export { canonicalCompare } from './denial.ts';
export { normalise } from './records.ts';

export interface TrustAnchor {
  zone: string;
  ds: DsData[];
  dnskeys: DnskeyData[];
}

type ZoneState =
  | { verdict: 'secure'; zone: string; keys: DnskeyData[] }
  | { verdict: 'insecure' | 'bogus' | 'indeterminate'; reason: string; zone?: string };

export interface ValidatedRrset {
  result: DnssecResult;
  records: Answer[];
  response?: DnsResponse;
}

/** The root zone's trust anchors (KSK-2017 and KSK-2024), as IANA publishes them. */
export const ROOT_TRUST_ANCHOR = `. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
. IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16`;

/**
 * Trust anchors from zone-file lines: `ZONE [TTL] [IN] DS TAG ALG DIGESTTYPE HEX` or
 * `ZONE [TTL] [IN] DNSKEY FLAGS 3 ALG BASE64`, as dnssec-keygen, keymgr and IANA write them.
 */
export function parseTrustAnchors(text: string): TrustAnchor[] {
  const anchors = new Map<string, TrustAnchor>();
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(/;.*$/, '').trim();
    if (!line) continue;
    const fields = line.split(/\s+/);
    const typeAt = fields.findIndex(
      (f, i) => i > 0 && (f.toUpperCase() === 'DS' || f.toUpperCase() === 'DNSKEY'),
    );
    if (typeAt < 0) throw new Error(`trust anchor line ${index + 1}: expected a DS or DNSKEY record`);
    const zone = normalise(fields[0]!);
    const rest = fields.slice(typeAt + 1);
    const anchor = anchors.get(zone) ?? { zone, ds: [], dnskeys: [] };
    if (fields[typeAt]!.toUpperCase() === 'DS') {
      const [tag, alg, digestType, ...hex] = rest;
      const digest = Buffer.from(hex.join(''), 'hex');
      if (!tag || !alg || !digestType || digest.length === 0 || !/^\d+$/.test(tag + alg + digestType))
        throw new Error(`trust anchor line ${index + 1}: malformed DS record`);
      anchor.ds.push({ keyTag: Number(tag), algorithm: Number(alg), digestType: Number(digestType), digest });
    } else {
      const [flags, protocol, alg, ...b64] = rest;
      const key = Buffer.from(b64.join(''), 'base64');
      if (!flags || protocol !== '3' || !alg || key.length === 0)
        throw new Error(`trust anchor line ${index + 1}: malformed DNSKEY record`);
      anchor.dnskeys.push({ flags: Number(flags), algorithm: Number(alg), key });
    }
    anchors.set(zone, anchor);
  }
  if (anchors.size === 0) throw new Error('no trust anchor in the file');
  return [...anchors.values()];
}

export interface Validator {
  /** The DNSSEC verdict of a domain: the chain to its zone, then its SOA or its denial. */
  validateDomain(domain: string): Promise<DnssecResult>;
  /** An RRset with its own verdict (DANE needs TLSA records proven secure). */
  lookup(name: string, type: RecordType): Promise<ValidatedRrset>;
}

export interface ValidatorOptions {
  anchors: readonly TrustAnchor[];
  client: DnsClient;
  now?: () => Date;
}

/** The DNSKEYs of `zone` proven by DS records (from the parent or a trust anchor). */
async function keysFromDs(
  ask: Ask,
  at: Date,
  zone: string,
  ds: readonly DsData[],
  anchorKeys: readonly DnskeyData[] = [],
): Promise<Cut> {
  const usable = ds.filter((d) => SUPPORTED_ALGORITHMS.has(d.algorithm) && SUPPORTED_DIGESTS[d.digestType]);
  const usableKeys = anchorKeys.filter((k) => SUPPORTED_ALGORITHMS.has(k.algorithm));
  if (usable.length === 0 && usableKeys.length === 0)
    return { kind: 'insecure', reason: `the DS records of ${zone || '.'} use only unsupported algorithms` };
  const response = await ask(zone, 'DNSKEY');
  if (typeof response === 'string') return { kind: 'indeterminate', reason: response };
  const rrset = rrsetOf(response.answers, zone, 'DNSKEY');
  const keys = rrset.map((r) => (r as { data: DnskeyData }).data);
  if (keys.length === 0) return { kind: 'bogus', reason: `${zone || '.'} has DS records but no DNSKEY` };
  const entry = keys.filter(
    (k) =>
      usable.some((d) => dsMatches(zone, k, d)) ||
      usableKeys.some((a) => a.algorithm === k.algorithm && a.key.equals(k.key)),
  );
  if (entry.length === 0) return { kind: 'bogus', reason: `no DNSKEY of ${zone || '.'} matches its DS` };
  const check = verifyRrset(rrset, rrsigsOf(response.answers, zone, 'DNSKEY'), entry, zone, at);
  if (!check.ok) return { kind: 'bogus', reason: `DNSKEY RRset of ${zone || '.'}: ${check.reason}` };
  return { kind: 'secure-child', keys: keys.filter(isZoneKey) };
}

/** A CNAME cannot sit beside NS records: a name holding one (signed by the zone) is no cut. */
function cnameCut(
  zone: string,
  keys: readonly DnskeyData[],
  child: string,
  response: DnsResponse,
  at: Date,
): Cut | undefined {
  const cname = rrsetOf(response.answers, child, 'CNAME');
  if (cname.length === 0) return undefined;
  const check = verifyRrset(cname, rrsigsOf(response.answers, child, 'CNAME'), keys, zone, at);
  return check.ok ? { kind: 'no-cut' } : { kind: 'bogus', reason: `CNAME at ${child}: ${check.reason}` };
}

/** The deepest trust anchor at or above a name. */
function anchorFor(anchors: readonly TrustAnchor[], name: string): TrustAnchor | undefined {
  return anchors.filter((a) => isBelowOrAt(name, a.zone)).sort((a, b) => b.zone.length - a.zone.length)[0];
}

/** A query with CD set; a string says why no answer came (a timeout, an rcode). */
type Ask = (name: string, type: RecordType) => Promise<DnsResponse | string>;

export function createValidator({ anchors, client, now = () => new Date() }: ValidatorOptions): Validator {
  const zoneStates = new Map<string, Promise<ZoneState>>();
  const cuts = new Map<string, Promise<Cut>>();

  async function ask(name: string, type: RecordType): Promise<DnsResponse | string> {
    try {
      const response = await client.query(name || '.', type, { checkingDisabled: true });
      if (response.rcode !== 'NOERROR' && response.rcode !== 'NXDOMAIN')
        return `resolver answered ${response.rcode} for ${name || '.'} ${type}`;
      return response;
    } catch (error) {
      if (error instanceof DnsTimeoutError) return error.message;
      throw error;
    }
  }

  /** Whether `child` (one label below `zone`) is a secure cut, an insecure one, or no cut. */
  function cutAt(zone: string, keys: DnskeyData[], child: string): Promise<Cut> {
    let cached = cuts.get(child);
    if (!cached) {
      cached = findCut(zone, keys, child);
      cuts.set(child, cached);
    }
    return cached;
  }

  async function findCut(zone: string, keys: DnskeyData[], child: string): Promise<Cut> {
    const response = await ask(child, 'DS');
    if (typeof response === 'string') return { kind: 'indeterminate', reason: response };
    const dsSet = rrsetOf(response.answers, child, 'DS');
    if (dsSet.length > 0) {
      const check = verifyRrset(dsSet, rrsigsOf(response.answers, child, 'DS'), keys, zone, now());
      if (!check.ok) return { kind: 'bogus', reason: `DS of ${child}: ${check.reason}` };
      return keysFromDs(
        ask,
        now(),
        child,
        dsSet.map((r) => (r as { data: DsData }).data),
      );
    }
    return cnameCut(zone, keys, child, response, now()) ?? deniedDs(zone, keys, child, response, now());
  }

  /** The verdict of the zone holding `name`, walking one label at a time from the anchor. */
  function zoneOf(name: string): Promise<ZoneState> {
    let cached = zoneStates.get(name);
    if (!cached) {
      cached = walk(name);
      zoneStates.set(name, cached);
    }
    return cached;
  }

  async function walk(name: string): Promise<ZoneState> {
    const anchor = anchorFor(anchors, name);
    if (!anchor) return { verdict: 'indeterminate', reason: `no trust anchor covers ${name}` };
    if (name === anchor.zone) {
      const start = await keysFromDs(ask, now(), anchor.zone, anchor.ds, anchor.dnskeys);
      if (start.kind !== 'secure-child')
        return {
          verdict:
            start.kind === 'insecure' ? 'insecure' : start.kind === 'bogus' ? 'bogus' : 'indeterminate',
          reason: 'reason' in start ? `trust anchor: ${start.reason}` : 'trust anchor',
          zone: anchor.zone,
        };
      return { verdict: 'secure', zone: anchor.zone, keys: start.keys };
    }
    const parentName = name.slice(name.indexOf('.') + 1);
    const parent = await zoneOf(
      isBelowOrAt(parentName, anchor.zone) && parentName !== name ? parentName : anchor.zone,
    );
    if (parent.verdict !== 'secure') return parent;
    const cut = await cutAt(parent.zone, parent.keys, name);
    switch (cut.kind) {
      case 'secure-child':
        return { verdict: 'secure', zone: name, keys: cut.keys };
      case 'no-cut':
      case 'nonexistent':
        return parent;
      default:
        return { verdict: cut.kind, reason: cut.reason, zone: parent.zone };
    }
  }

  async function lookup(name: string, type: RecordType, depth = 0): Promise<ValidatedRrset> {
    const owner = normalise(name);
    const state = await zoneOf(owner);
    if (state.verdict === 'indeterminate') return { result: state, records: [] };
    const response = await ask(owner, type);
    if (typeof response === 'string')
      return { result: { verdict: 'indeterminate', reason: response }, records: [] };
    const records = rrsetOf(response.answers, owner, type);
    const cname = records.length === 0 && type !== 'CNAME' ? rrsetOf(response.answers, owner, 'CNAME') : [];
    if (cname.length > 0) return followCname(owner, type, cname, state, response, depth);
    if (state.verdict !== 'secure')
      return {
        result: { verdict: state.verdict, reason: state.reason, zone: state.zone },
        records,
        response,
      };
    if (records.length > 0)
      return {
        result: signedAnswer(owner, records, response, state.zone, state.keys, now()),
        records,
        response,
      };
    return { result: provenAbsent(owner, type, response, state.zone, state.keys, now()), records, response };
  }

  /**
   * A CNAME chain, link by link: this link's CNAME under its own zone's verdict and keys, then
   * the target asked again and judged under its zone's (a chain is as strong as its weakest link).
   */
  async function followCname(
    owner: string,
    type: RecordType,
    cname: Answer[],
    state: ZoneState,
    response: DnsResponse,
    depth: number,
  ): Promise<ValidatedRrset> {
    const link: DnssecResult =
      state.verdict === 'secure'
        ? signedAnswer(owner, cname, response, state.zone, state.keys, now())
        : { verdict: state.verdict, reason: state.reason, zone: state.zone };
    const target = normalise(String((cname[0] as { data: unknown }).data));
    if (depth + 1 >= MAX_CNAME_CHAIN)
      return {
        result: {
          verdict: 'indeterminate',
          reason: `CNAME chain from ${owner} longer than ${MAX_CNAME_CHAIN}`,
        },
        records: [],
        response,
      };
    const next = await lookup(target, type, depth + 1);
    return { ...next, result: chainVerdict(owner, target, link, next.result) };
  }

  return {
    lookup,
    async validateDomain(domain) {
      const { result } = await lookup(domain, 'SOA');
      return result;
    },
  };
}

/**
 * The verdict on an answer's RRset (or the CNAME standing for it): signed by its zone's keys, and,
 * when it was expanded from a wildcard, with a signed proof that no closer name exists.
 */
function signedAnswer(
  owner: string,
  found: Answer[],
  response: DnsResponse,
  zone: string,
  keys: readonly DnskeyData[],
  at: Date,
): DnssecResult {
  const type = found[0]!.type;
  const rrsigs = rrsigsOf(response.answers, owner, type);
  const check = verifyRrset(found, rrsigs, keys, zone, at);
  if (!check.ok) return { verdict: 'bogus', reason: `${owner} ${type}: ${check.reason}`, zone };
  const labels = owner === '' ? 0 : owner.split('.').length;
  const expanded = rrsigs.find((r) => r.labels < labels);
  if (expanded) {
    const denials = signedDenials(response, zone, keys, at);
    const missing = typeof denials === 'string' ? denials : wildcardProven(owner, expanded.labels, denials);
    if (missing) return { verdict: 'bogus', reason: `${owner} ${type} from a wildcard: ${missing}`, zone };
    return {
      verdict: 'secure',
      reason: `${type} RRset signed by ${zone || '.'}, expanded from a wildcard`,
      zone,
    };
  }
  return { verdict: 'secure', reason: `${type} RRset signed by ${zone || '.'}`, zone };
}

/** Links a chain may have: a resolver follows about as many, and a loop ends here. */
const MAX_CNAME_CHAIN = 8;
const VERDICT_RANK: Record<Verdict, number> = { secure: 0, insecure: 1, indeterminate: 2, bogus: 3 };

/** A chain's verdict: its weakest link's (bogus before indeterminate before insecure). */
function chainVerdict(owner: string, target: string, link: DnssecResult, rest: DnssecResult): DnssecResult {
  const weakest =
    VERDICT_RANK[link.verdict] >= VERDICT_RANK[rest.verdict] && link.verdict !== 'secure' ? link : rest;
  const where = weakest === link ? `CNAME ${owner} -> ${target}` : `via CNAME ${owner} -> ${target}`;
  return { ...weakest, reason: `${weakest.reason} (${where})` };
}
