/**
 * Authenticated denial of existence (RFC 4035 §5.4, RFC 5155 §8): the NSEC and NSEC3 records
 * that prove a DS absent at a delegation (an insecure cut, or no cut) and an RRset or a name absent.
 */
import type { Answer } from 'dns-packet';
import type { DnsResponse } from './client.ts';
import { normalise, rrsigsOf } from './records.ts';
import { base32hex, nsec3Hash, sameName, verifyRrset, type DnskeyData } from './signature.ts';
import type { DnssecResult } from './verdict.ts';

/** What lies at a child name below a secure zone. */
export type Cut =
  | { kind: 'secure-child'; keys: DnskeyData[] }
  | { kind: 'no-cut' }
  | { kind: 'nonexistent' }
  | { kind: 'insecure' | 'bogus' | 'indeterminate'; reason: string };

/** No DS at `child`: the NSEC or NSEC3 records must prove it, signed by `zone`. */
export function deniedDs(
  zone: string,
  keys: readonly DnskeyData[],
  child: string,
  response: DnsResponse,
  at: Date,
): Cut {
  const authority = response.authorities;
  const signed = (type: 'NSEC' | 'NSEC3') =>
    authority
      .filter((r) => r.type === type)
      .filter((r) => verifyRrset([r], rrsigsOf(authority, r.name, type), keys, zone, at).ok);
  const nsecs = signed('NSEC');
  const nsec3s = signed('NSEC3');
  const present = authority.filter((r) => r.type === 'NSEC' || r.type === 'NSEC3').length;
  if (nsecs.length + nsec3s.length === 0)
    return {
      kind: 'bogus',
      reason: present
        ? `the denial of a DS at ${child} is not validly signed by ${zone || '.'}`
        : `no authenticated denial of a DS at ${child}`,
    };
  if (response.rcode === 'NXDOMAIN') return { kind: 'nonexistent' };
  for (const nsec of nsecs) {
    if (!sameName(nsec.name, child)) continue;
    const types = (nsec as { data: { rrtypes: string[] } }).data.rrtypes;
    if (types.includes('DS'))
      return { kind: 'bogus', reason: `NSEC at ${child} lists a DS that was not returned` };
    if (types.includes('NS') && !types.includes('SOA'))
      return { kind: 'insecure', reason: `insecure delegation: NSEC proves ${child} has no DS` };
    return { kind: 'no-cut' };
  }
  for (const nsec3 of nsec3s) {
    const data = (nsec3 as { data: Nsec3Data }).data;
    const hash = nsec3Hash(child, data.salt, data.iterations);
    const [ownerHash] = nsec3.name.toLowerCase().split('.');
    if (ownerHash === hash) {
      if (data.rrtypes.includes('DS')) return { kind: 'bogus', reason: `NSEC3 for ${child} lists a DS` };
      if (data.rrtypes.includes('NS') && !data.rrtypes.includes('SOA'))
        return { kind: 'insecure', reason: `insecure delegation: NSEC3 proves ${child} has no DS` };
      return { kind: 'no-cut' };
    }
    if ((data.flags & 1) === 1 && covers(ownerHash!, base32hex(data.nextDomain), hash))
      return { kind: 'insecure', reason: `insecure delegation: ${child} is in an NSEC3 opt-out span` };
  }
  // A name inside the zone with no data of its own (an empty non-terminal, say): no cut here.
  if (denialCovers([...nsecs, ...nsec3s], child, 'DS')) return { kind: 'no-cut' };
  return { kind: 'bogus', reason: `the NSEC/NSEC3 records do not prove a DS at ${child} absent` };
}

/** The verdict on an answer without the RRset asked for: its signed denial must prove it absent. */
export function provenAbsent(
  owner: string,
  type: string,
  response: DnsResponse,
  zone: string,
  keys: readonly DnskeyData[],
  at: Date,
): DnssecResult {
  const denials = signedDenials(response, zone, keys, at);
  if (typeof denials === 'string') return { verdict: 'bogus', reason: `${owner} ${type}: ${denials}`, zone };
  const nsec3s = denials.filter((d) => d.type === 'NSEC3');
  if (nsec3s.length > 0) {
    const proof = nsec3Denial(nsec3s, owner, type, response.rcode === 'NXDOMAIN', zone);
    return proof.proven
      ? { verdict: 'secure', reason: `absence of ${type} proven by NSEC3 (${proof.how})`, zone }
      : { verdict: 'bogus', reason: `NSEC3 do not prove ${owner} ${type} absent: ${proof.how}`, zone };
  }
  if (!denialCovers(denials, owner, type))
    return { verdict: 'bogus', reason: `the NSEC/NSEC3 records do not prove ${owner} ${type} absent`, zone };
  return { verdict: 'secure', reason: `absence of ${type} proven by NSEC`, zone };
}

/** The answer's NSEC and NSEC3 records, each verified under the zone's keys; a string says why not. */
export function signedDenials(
  response: DnsResponse,
  zone: string,
  keys: readonly DnskeyData[],
  at: Date,
): Answer[] | string {
  const denials = response.authorities.filter((r) => r.type === 'NSEC' || r.type === 'NSEC3');
  if (denials.length === 0) return 'no signed denial';
  for (const denial of denials) {
    const check = verifyRrset(
      [denial],
      rrsigsOf(response.authorities, denial.name, denial.type),
      keys,
      zone,
      at,
    );
    if (!check.ok) return `denial ${denial.name} ${denial.type}: ${check.reason}`;
  }
  return denials;
}

/** The NSEC3 records of one answer, hashing names with their zone's parameters. */
class Nsec3Set {
  private readonly records: { hash: string; data: Nsec3Data }[];
  private readonly salt: Buffer;
  private readonly iterations: number;
  constructor(nsec3s: readonly Answer[]) {
    this.records = nsec3s.map((r) => ({
      hash: r.name.toLowerCase().split('.')[0]!,
      data: (r as { data: Nsec3Data }).data,
    }));
    this.salt = this.records[0]!.data.salt;
    this.iterations = this.records[0]!.data.iterations;
  }
  /** Whether every record uses the same salt and iterations (one chain). */
  consistent(): boolean {
    return this.records.every((r) => r.data.iterations === this.iterations && r.data.salt.equals(this.salt));
  }
  matching(name: string): Nsec3Data | undefined {
    const hash = nsec3Hash(name, this.salt, this.iterations);
    return this.records.find((r) => r.hash === hash)?.data;
  }
  covering(name: string): Nsec3Data | undefined {
    const hash = nsec3Hash(name, this.salt, this.iterations);
    return this.records.find((r) => covers(r.hash, base32hex(r.data.nextDomain), hash))?.data;
  }
}

/** A name's ancestors, nearest first, down to (and with) the zone apex. */
function ancestors(name: string, zone: string): string[] {
  const out: string[] = [];
  for (let n = name; n !== zone && n !== '';) {
    n = n.slice(n.indexOf('.') + 1 || n.length);
    if (n === zone || n.endsWith(`.${zone}`) || zone === '') out.push(n);
    if (n === zone) break;
  }
  return out;
}

/**
 * RFC 5155 §8.3: the closest encloser of `name` (an ancestor with a matching NSEC3 that is
 * neither a delegation nor a DNAME) and a covering NSEC3 of the next closer name.
 */
function closestEncloserProof(
  set: Nsec3Set,
  name: string,
  zone: string,
): { encloser: string; nextCloser: string; optOut: boolean } | string {
  let nextCloser = name;
  for (const candidate of ancestors(name, zone)) {
    const match = set.matching(candidate);
    if (match) {
      if (match.rrtypes.includes('DNAME')) return `the closest encloser ${candidate} has a DNAME`;
      if (match.rrtypes.includes('NS') && !match.rrtypes.includes('SOA'))
        return `the closest encloser ${candidate} is a delegation`;
      const covering = set.covering(nextCloser);
      if (!covering) return `no NSEC3 covers the next closer name ${nextCloser}`;
      return { encloser: candidate, nextCloser, optOut: (covering.flags & 1) === 1 };
    }
    nextCloser = candidate;
  }
  return `no NSEC3 matches an ancestor of ${name} (no closest encloser)`;
}

/**
 * RFC 5155 §8.4-8.7 on one answer's NSEC3 records: a name error needs the closest encloser proof
 * and a covering NSEC3 of the wildcard there; no data needs a matching NSEC3 without the type
 * (or, for a wildcard, the closest encloser proof and the wildcard's matching NSEC3 without it).
 */
export function nsec3Denial(
  nsec3s: readonly Answer[],
  name: string,
  type: string,
  nxdomain: boolean,
  zone: string,
): { proven: boolean; how: string } {
  const set = new Nsec3Set(nsec3s);
  if (!set.consistent()) return { proven: false, how: 'NSEC3 records of different salts or iterations' };
  const lacks = (data: Nsec3Data) => !data.rrtypes.includes(type) && !data.rrtypes.includes('CNAME');
  if (!nxdomain) {
    const match = set.matching(name);
    if (match)
      return lacks(match)
        ? { proven: true, how: 'no data at the name' }
        : { proven: false, how: `the NSEC3 of ${name} lists ${type} or a CNAME` };
  }
  const proof = closestEncloserProof(set, name, zone);
  if (typeof proof === 'string') return { proven: false, how: proof };
  const wildcard = `*.${proof.encloser}`;
  if (nxdomain)
    return set.covering(wildcard)
      ? { proven: true, how: `closest encloser ${proof.encloser || '.'}, no wildcard` }
      : { proven: false, how: `no NSEC3 covers the wildcard ${wildcard}` };
  const match = set.matching(wildcard);
  if (match && lacks(match)) return { proven: true, how: `wildcard ${wildcard} without ${type}` };
  if (type === 'DS' && proof.optOut) return { proven: true, how: `opt-out span over ${proof.nextCloser}` };
  return { proven: false, how: `neither ${name} nor the wildcard ${wildcard} is shown without ${type}` };
}

/**
 * RFC 4035 §5.3.4 and RFC 5155 §8.8: a wildcard expansion (`labels` fewer than the owner's) is
 * secure only with a signed denial that the next closer name exists.
 */
export function wildcardProven(
  owner: string,
  labels: number,
  denials: readonly Answer[],
): string | undefined {
  const names = owner.split('.');
  const nextCloser = names.slice(names.length - labels - 1).join('.');
  const nsec3s = denials.filter((d) => d.type === 'NSEC3');
  if (nsec3s.length > 0) {
    const set = new Nsec3Set(nsec3s);
    return set.consistent() && set.covering(nextCloser)
      ? undefined
      : `no NSEC3 covers ${nextCloser}, the next closer name of the wildcard expansion`;
  }
  const covered = denials.some(
    (d) =>
      d.type === 'NSEC' &&
      nsecCovers(
        normalise(d.name),
        normalise((d as { data: { nextDomain: string } }).data.nextDomain),
        owner,
      ),
  );
  return covered ? undefined : `no NSEC covers ${owner}, expanded from a wildcard`;
}

export interface Nsec3Data {
  algorithm: number;
  flags: number;
  iterations: number;
  salt: Buffer;
  nextDomain: Buffer;
  rrtypes: string[];
}

/** Whether `hash` falls strictly between an NSEC3 owner and its next hashed owner (wrapping). */
function covers(owner: string, next: string, hash: string): boolean {
  return owner < next ? owner < hash && hash < next : hash > owner || hash < next;
}

/**
 * Whether signed NSEC or NSEC3 records speak about `name`: one at the name without `type` in
 * its bitmap (no data), or one whose span covers the name (no such name). Answers are judged
 * by `provenAbsent` (NSEC3 through `nsec3Denial`); this looser test only tells an empty
 * non-terminal from a missing DS at a cut. With NSEC, a name error's wildcard denial is not
 * checked (RFC 4035 §5.4): a covering NSEC is taken as proof.
 */
function denialCovers(denials: readonly Answer[], name: string, type: string): boolean {
  return denials.some((denial) => {
    if (denial.type === 'NSEC') {
      const data = (denial as { data: { nextDomain: string; rrtypes: string[] } }).data;
      if (sameName(denial.name, name)) return !data.rrtypes.includes(type) && !data.rrtypes.includes('CNAME');
      return nsecCovers(normalise(denial.name), normalise(data.nextDomain), name);
    }
    const data = (denial as { data: Nsec3Data }).data;
    const hash = nsec3Hash(name, data.salt, data.iterations);
    const ownerHash = denial.name.toLowerCase().split('.')[0]!;
    if (ownerHash === hash) return !data.rrtypes.includes(type) && !data.rrtypes.includes('CNAME');
    return covers(ownerHash, base32hex(data.nextDomain), hash);
  });
}

/** RFC 4034 §6.1 canonical order: labels compared right to left, as lowercase octets. */
export function canonicalCompare(a: string, b: string): number {
  const left = a ? a.split('.').reverse() : [];
  const right = b ? b.split('.').reverse() : [];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const order = Buffer.compare(Buffer.from(left[i]!), Buffer.from(right[i]!));
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

function nsecCovers(owner: string, next: string, name: string): boolean {
  const afterOwner = canonicalCompare(owner, name) < 0;
  const beforeNext = canonicalCompare(name, next) < 0;
  // The last NSEC of a zone points back to the apex.
  return canonicalCompare(owner, next) < 0 ? afterOwner && beforeNext : afterOwner || beforeNext;
}
