/**
 * Route origin validation (RFC 6811): a route is valid when a covering VRP names its origin
 * and allows its length (maxLength), invalid when VRPs cover it but none matches, not-found
 * when none covers it. The VRP that decides is reported with the state.
 */
import ipaddr from 'ipaddr.js';
import type { Route } from '../input/routes.ts';
import type { Vrp } from '../input/vrps.ts';

export type RovState = 'valid' | 'invalid' | 'not-found';

export interface RovResult {
  route: Route;
  state: RovState;
  /** The matching VRP (valid) or the covering VRP that rules the route out (invalid). */
  roa?: Vrp;
  reason: string;
}

interface Parsed {
  bytes: number[];
  length: number;
  family: 4 | 6;
}

function parse(prefix: string): Parsed {
  const [address, length] = ipaddr.parseCIDR(prefix);
  return { bytes: address.toByteArray(), length, family: address.kind() === 'ipv4' ? 4 : 6 };
}

/** The first `length` bits of an address, as a map key. */
function key(family: 4 | 6, bytes: readonly number[], length: number): string {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, length - i * 8));
    out.push(bytes[i]! & ((0xff << (8 - bits)) & 0xff));
  }
  return `${family}/${length}/${out.join('.')}`;
}

export class VrpIndex {
  private readonly byPrefix = new Map<string, Vrp[]>();

  constructor(vrps: readonly Vrp[]) {
    for (const vrp of vrps) {
      const { bytes, length, family } = parse(vrp.prefix);
      const k = key(family, bytes, length);
      const list = this.byPrefix.get(k);
      if (list) list.push(vrp);
      else this.byPrefix.set(k, [vrp]);
    }
  }

  /** Every VRP whose prefix covers `prefix` (equal or less specific). */
  covering(prefix: string): Vrp[] {
    const { bytes, length, family } = parse(prefix);
    const found: Vrp[] = [];
    for (let l = 0; l <= length; l++) found.push(...(this.byPrefix.get(key(family, bytes, l)) ?? []));
    return found;
  }

  validate(route: Route): RovResult {
    const covering = this.covering(route.prefix);
    if (covering.length === 0) return { route, state: 'not-found', reason: 'no VRP covers the prefix' };
    const length = parse(route.prefix).length;
    // AS0 VRPs (RFC 6483 §4) never match: they only make covered routes invalid.
    const match = covering.find((v) => v.asn !== 0 && v.asn === route.originAsn && length <= v.maxLength);
    if (match)
      return {
        route,
        state: 'valid',
        roa: match,
        reason: `AS${match.asn} ${match.prefix} maxLength ${match.maxLength}`,
      };
    const sameOrigin = covering.find((v) => v.asn !== 0 && v.asn === route.originAsn);
    if (sameOrigin)
      return {
        route,
        state: 'invalid',
        roa: sameOrigin,
        reason: `/${length} is longer than maxLength ${sameOrigin.maxLength} of ${sameOrigin.prefix}`,
      };
    const deciding = covering[covering.length - 1]!;
    return {
      route,
      state: 'invalid',
      roa: deciding,
      reason: `origin AS${route.originAsn} is not authorised (${deciding.prefix} is AS${deciding.asn})`,
    };
  }
}
