/**
 * SPF (RFC 7208): the record parsed term by term, check_host() evaluated with the limits that
 * make a record unusable in practice (10 DNS-querying terms, 2 void lookups, 10 MX names), and
 * a domain's posture summed up by what its record says about everyone else:
 * strict (-all), softfail (~all), neutral (?all or no verdict), permissive (+all or a pass for
 * any sender), invalid (a permanent error), missing (no record), temperror (DNS failed).
 */
import ipaddr from 'ipaddr.js';
import type { Lookup } from '../dns/lookup.ts';

export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'permerror' | 'temperror';
export type SpfPosture =
  'strict' | 'softfail' | 'neutral' | 'permissive' | 'invalid' | 'missing' | 'temperror';
type Qualifier = '+' | '-' | '~' | '?';

export interface SpfMechanism {
  qualifier: Qualifier;
  kind: 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';
  domain?: string;
  /** ip4/ip6 network, or the a/mx prefix lengths. */
  network?: string;
  cidr4?: number;
  cidr6?: number;
}

export interface SpfRecord {
  mechanisms: SpfMechanism[];
  redirect?: string;
  exp?: string;
}

export class SpfSyntaxError extends Error {}

const RESULT_OF: Record<Qualifier, SpfResult> = { '+': 'pass', '-': 'fail', '~': 'softfail', '?': 'neutral' };
const DUAL_CIDR = /^(?:\/(\d{1,2}))?(?:\/\/(\d{1,3}))?$/;

/** Whether a TXT string is an SPF version 1 record (RFC 7208 §4.5). */
export function isSpfRecord(text: string): boolean {
  return /^v=spf1(?: |$)/i.test(text);
}

export function parseSpf(text: string): SpfRecord {
  if (!isSpfRecord(text)) throw new SpfSyntaxError('not an SPF record');
  const record: SpfRecord = { mechanisms: [] };
  for (const term of text.split(' ').slice(1).filter(Boolean)) {
    const modifier = /^([a-z][a-z0-9_.-]*)=(.*)$/i.exec(term);
    if (modifier) {
      const name = modifier[1]!.toLowerCase();
      const value = modifier[2]!;
      if (name === 'redirect' || name === 'exp') {
        if (record[name] !== undefined) throw new SpfSyntaxError(`${name}= appears twice`);
        checkDomainSpec(value, term);
        record[name] = value;
      }
      continue; // unknown modifiers are ignored (§6)
    }
    record.mechanisms.push(parseMechanism(term));
  }
  return record;
}

function parseMechanism(term: string): SpfMechanism {
  const match = /^([+\-~?]?)([a-z0-9]+)(.*)$/i.exec(term);
  if (!match) throw new SpfSyntaxError(`bad term "${term}"`);
  const qualifier = (match[1] || '+') as Qualifier;
  const kind = match[2]!.toLowerCase();
  const rest = match[3]!;
  switch (kind) {
    case 'all':
      if (rest) throw new SpfSyntaxError(`"all" takes no argument: "${term}"`);
      return { qualifier, kind };
    case 'include':
    case 'exists': {
      if (!rest.startsWith(':')) throw new SpfSyntaxError(`${kind} needs a domain: "${term}"`);
      checkDomainSpec(rest.slice(1), term);
      return { qualifier, kind, domain: rest.slice(1) };
    }
    case 'a':
    case 'mx':
    case 'ptr': {
      const split = /^(?::([^/]+))?(\/.*)?$/.exec(rest);
      if (!split) throw new SpfSyntaxError(`bad ${kind}: "${term}"`);
      if (split[1] !== undefined) checkDomainSpec(split[1], term);
      const cidr = DUAL_CIDR.exec(split[2] ?? '');
      if (!cidr || (kind === 'ptr' && split[2])) throw new SpfSyntaxError(`bad prefix length in "${term}"`);
      const cidr4 = cidr[1] === undefined ? 32 : Number(cidr[1]);
      const cidr6 = cidr[2] === undefined ? 128 : Number(cidr[2]);
      if (cidr4 > 32 || cidr6 > 128) throw new SpfSyntaxError(`bad prefix length in "${term}"`);
      return { qualifier, kind, domain: split[1], cidr4, cidr6 };
    }
    case 'ip4':
    case 'ip6': {
      if (!rest.startsWith(':')) throw new SpfSyntaxError(`${kind} needs a network: "${term}"`);
      const [address, length, ...extra] = rest.slice(1).split('/');
      const max = kind === 'ip4' ? 32 : 128;
      const valid =
        extra.length === 0 &&
        (kind === 'ip4' ? ipaddr.IPv4.isValidFourPartDecimal(address!) : ipaddr.IPv6.isValid(address!)) &&
        (length === undefined || (/^\d{1,3}$/.test(length) && Number(length) <= max));
      if (!valid) throw new SpfSyntaxError(`bad network in "${term}"`);
      return { qualifier, kind, network: `${address}/${length ?? max}` };
    }
    default:
      throw new SpfSyntaxError(`unknown mechanism "${term}"`);
  }
}

/** A domain-spec (§7.1): macros well formed, no empty labels. */
function checkDomainSpec(spec: string, term: string): void {
  const withoutMacros = spec.replace(/%\{[slodiphcrtv]\d*r?[.\-+,/_=]*\}|%%|%_|%-/gi, 'x');
  if (!spec || withoutMacros.includes('%') || /\.\./.test(withoutMacros) || /\s/.test(spec))
    throw new SpfSyntaxError(`bad domain in "${term}"`);
}

export interface SpfContext {
  /** The connecting address; without it only "all" and includes decide (the posture). */
  ip?: string;
  sender?: string;
  helo?: string;
}

export interface SpfEvaluation {
  result: SpfResult;
  /** The record at the domain itself, as published. */
  record?: string;
  reason: string;
  lookups: number;
  voidLookups: number;
}

/** RFC 7208 §4.6.4 limits. */
export const SPF_LIMITS = { lookups: 10, voidLookups: 2, mxNames: 10 };

class Abort extends Error {
  constructor(
    readonly result: 'permerror' | 'temperror',
    message: string,
  ) {
    super(message);
  }
}

export async function checkHost(
  lookup: Lookup,
  domain: string,
  context: SpfContext = {},
): Promise<SpfEvaluation> {
  const counts = { lookups: 0, voidLookups: 0 };
  const address = context.ip ? ipaddr.process(context.ip) : undefined;
  let topRecord: string | undefined;

  const countLookup = (term: string) => {
    if (++counts.lookups > SPF_LIMITS.lookups)
      throw new Abort('permerror', `more than ${SPF_LIMITS.lookups} DNS lookups (at ${term})`);
  };
  const countVoid = (name: string) => {
    if (++counts.voidLookups > SPF_LIMITS.voidLookups)
      throw new Abort('permerror', `more than ${SPF_LIMITS.voidLookups} void lookups (at ${name})`);
  };

  async function addressesOf(
    name: string,
    required: boolean,
  ): Promise<ipaddr.IPv4[] | ipaddr.IPv6[] | string[]> {
    const family = address?.kind() === 'ipv6' ? 6 : 4;
    const outcome = await lookup.addresses(name, family);
    if (outcome.status === 'error') throw new Abort('temperror', outcome.reason);
    if (outcome.status === 'empty' && required) countVoid(name);
    return outcome.records;
  }

  function inNetwork(candidate: string, cidr4: number, cidr6: number): boolean {
    if (!address) return false;
    const parsed = ipaddr.parse(candidate);
    if (parsed.kind() !== address.kind()) return false;
    return address.match(parsed, address.kind() === 'ipv4' ? cidr4 : cidr6);
  }

  async function recordOf(domain: string): Promise<SpfRecord | undefined> {
    const outcome = await lookup.txt(domain);
    if (outcome.status === 'error') throw new Abort('temperror', outcome.reason);
    const records = outcome.records.filter(isSpfRecord);
    if (records.length > 1) throw new Abort('permerror', `${domain} has ${records.length} SPF records`);
    if (records.length === 0) return undefined;
    topRecord ??= records[0];
    try {
      return parseSpf(records[0]!);
    } catch (error) {
      throw new Abort('permerror', `${domain}: ${(error as Error).message}`);
    }
  }

  async function evaluate(domain: string, depth: number): Promise<SpfResult> {
    const record = await recordOf(domain);
    if (!record) return 'none';
    const expand = (spec: string | undefined) =>
      spec === undefined ? domain : expandMacros(spec, domain, context);
    for (const mechanism of record.mechanisms) {
      if (await matches(mechanism, domain, expand, depth)) return RESULT_OF[mechanism.qualifier];
    }
    if (record.redirect !== undefined && !record.mechanisms.some((m) => m.kind === 'all')) {
      countLookup(`redirect=${record.redirect}`);
      const target = expand(record.redirect);
      const result = await evaluate(target, depth + 1);
      if (result === 'none') throw new Abort('permerror', `redirect to ${target}, which has no SPF record`);
      return result;
    }
    return 'neutral';
  }

  async function matches(
    mechanism: SpfMechanism,
    domain: string,
    expand: (spec: string | undefined) => string,
    depth: number,
  ): Promise<boolean> {
    switch (mechanism.kind) {
      case 'all':
        return true;
      case 'ip4':
      case 'ip6': {
        if (!address) return false;
        const [network, length] = ipaddr.parseCIDR(mechanism.network!);
        return network.kind() === address.kind() && address.match(network, length);
      }
      case 'include': {
        countLookup(`include:${mechanism.domain}`);
        const target = expand(mechanism.domain);
        const result = await evaluate(target, depth + 1);
        if (result === 'none') throw new Abort('permerror', `include:${target} has no SPF record`);
        return result === 'pass';
      }
      case 'a': {
        countLookup(`a:${mechanism.domain ?? domain}`);
        const found = await addressesOf(expand(mechanism.domain), true);
        return found.some((a) => inNetwork(String(a), mechanism.cidr4!, mechanism.cidr6!));
      }
      case 'mx': {
        countLookup(`mx:${mechanism.domain ?? domain}`);
        const target = expand(mechanism.domain);
        const mx = await lookup.mx(target);
        if (mx.status === 'error') throw new Abort('temperror', mx.reason);
        if (mx.status === 'empty') countVoid(target);
        if (mx.records.length > SPF_LIMITS.mxNames)
          throw new Abort('permerror', `${target} has more than ${SPF_LIMITS.mxNames} MX records`);
        for (const { exchange } of mx.records) {
          const found = await addressesOf(exchange, false);
          if (found.some((a) => inNetwork(String(a), mechanism.cidr4!, mechanism.cidr6!))) return true;
        }
        return false;
      }
      case 'ptr':
        // Deprecated (§5.5) and needs the reverse zone; counted, never matched.
        countLookup('ptr');
        return false;
      case 'exists': {
        countLookup(`exists:${mechanism.domain}`);
        // Without an address a macro naming it cannot be expanded: counted, not asked.
        if (!address && /%\{[iv]/i.test(mechanism.domain!)) return false;
        const found = await lookup.addresses(expand(mechanism.domain), 4);
        if (found.status === 'error') throw new Abort('temperror', found.reason);
        if (found.status === 'empty') countVoid(expand(mechanism.domain));
        return found.records.length > 0;
      }
    }
  }

  try {
    const result = await evaluate(domain, 0);
    return {
      result,
      record: topRecord,
      reason: result === 'none' ? `${domain} publishes no SPF record` : `check_host gave ${result}`,
      ...counts,
    };
  } catch (error) {
    if (!(error instanceof Abort)) throw error;
    return { result: error.result, record: topRecord, reason: error.message, ...counts };
  }
}

/** The posture of a domain's SPF: what its record says about a sender it does not list. */
export async function spfPosture(
  lookup: Lookup,
  domain: string,
): Promise<SpfEvaluation & { posture: SpfPosture }> {
  const evaluation = await checkHost(lookup, domain);
  const posture: Record<SpfResult, SpfPosture> = {
    fail: 'strict',
    softfail: 'softfail',
    neutral: 'neutral',
    pass: 'permissive',
    permerror: 'invalid',
    none: 'missing',
    temperror: 'temperror',
  };
  return { ...evaluation, posture: posture[evaluation.result] };
}

/** Macro expansion (RFC 7208 §7). */
export function expandMacros(spec: string, domain: string, context: SpfContext): string {
  const sender = context.sender ?? `postmaster@${domain}`;
  const [local, senderDomain] = sender.includes('@')
    ? [sender.slice(0, sender.lastIndexOf('@')), sender.slice(sender.lastIndexOf('@') + 1)]
    : ['postmaster', sender];
  const ip = context.ip ? ipaddr.process(context.ip) : undefined;
  const dotted = ip
    ? ip.kind() === 'ipv4'
      ? ip.toString()
      : (ip as ipaddr.IPv6)
          .toByteArray()
          .flatMap((b) => [(b >> 4).toString(16), (b & 15).toString(16)])
          .join('.')
    : '';
  const values: Record<string, string> = {
    s: sender,
    l: local || 'postmaster',
    o: senderDomain!,
    d: domain,
    i: dotted,
    p: 'unknown',
    v: ip?.kind() === 'ipv6' ? 'ip6' : 'in-addr',
    h: context.helo ?? domain,
  };
  return spec.replace(
    /%\{([slodiphv])(\d*)(r?)([.\-+,/_=]*)\}|%%|%_|%-/gi,
    (whole, letter?: string, digits?: string, reverse?: string, delimiters?: string) => {
      if (whole === '%%') return '%';
      if (whole === '%_') return ' ';
      if (whole === '%-') return '%20';
      const value = values[letter!.toLowerCase()] ?? '';
      const split = new RegExp(`[${(delimiters || '.').replace(/[-\\\]]/g, '\\$&')}]`);
      let parts = value.split(split);
      if (reverse) parts = parts.reverse();
      if (digits) parts = parts.slice(-Math.max(1, Number(digits)));
      return parts.join('.');
    },
  );
}
