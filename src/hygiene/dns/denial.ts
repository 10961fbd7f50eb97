/**
 * Authenticated denial of existence (RFC 4035 §5.4, RFC 5155 §8): the NSEC and NSEC3 records
 * that prove a DS absent at a delegation (an insecure cut, or no cut) and an RRset or a name absent.
 */
import type { Answer } from 'dns-packet';
import type { DnsResponse } from './client.ts';
import { normalise, rrsigsOf } from './records.ts';
import { base32hex, nsec3Hash, sameName, verifyRrset, type DnskeyData } from './signature.ts';
import type { DnssecResult } from './dnssec.ts';

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
  const denials = response.authorities.filter((r) => r.type === 'NSEC' || r.type === 'NSEC3');
  if (denials.length === 0) return { verdict: 'bogus', reason: `no signed denial of ${owner} ${type}`, zone };
  for (const denial of denials) {
    const check = verifyRrset(
      [denial],
      rrsigsOf(response.authorities, denial.name, denial.type),
      keys,
      zone,
      at,
    );
    if (!check.ok) return { verdict: 'bogus', reason: `denial of ${owner} ${type}: ${check.reason}`, zone };
  }
  if (!denialCovers(denials, owner, type))
    return { verdict: 'bogus', reason: `the NSEC/NSEC3 records do not prove ${owner} ${type} absent`, zone };
  return { verdict: 'secure', reason: `absence of ${type} proven by ${denials[0]!.type}`, zone };
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
 * its bitmap (no data), or one whose span covers the name (no such name). The full NSEC3
 * closest-encloser proof (RFC 5155 §8.4) is not checked: a covering record is taken as proof.
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
