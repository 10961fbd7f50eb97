/**
 * DMARC (RFC 7489): the policy record at _dmarc.DOMAIN, else at the organisational domain
 * (§6.6.3, found with the Public Suffix List through tldts), where the subdomain policy `sp`
 * applies. The verdict is the policy a receiver would apply to mail from DOMAIN.
 */
import { getDomain } from 'tldts';
import type { Lookup } from '../dns/lookup.ts';

export type DmarcPolicy = 'reject' | 'quarantine' | 'none' | 'invalid' | 'missing' | 'temperror';

export interface DmarcRecord {
  p: 'reject' | 'quarantine' | 'none';
  sp?: 'reject' | 'quarantine' | 'none';
  pct: number;
  rua: string[];
  ruf: string[];
}

export interface DmarcCheck {
  policy: DmarcPolicy;
  reason: string;
  /** Where the record was found: the domain's own _dmarc name or the organisational domain's. */
  source?: string;
  record?: DmarcRecord;
}

export class DmarcSyntaxError extends Error {}

const POLICIES = new Set(['reject', 'quarantine', 'none']);

export function isDmarcRecord(text: string): boolean {
  return /^v\s*=\s*DMARC1\s*(;|$)/.test(text);
}

export function parseDmarc(text: string): DmarcRecord {
  if (!isDmarcRecord(text)) throw new DmarcSyntaxError('does not start with v=DMARC1');
  const tags = new Map<string, string>();
  for (const part of text.split(';').slice(1)) {
    if (!part.trim()) continue;
    const match = /^\s*([a-z]+)\s*=\s*(.*?)\s*$/i.exec(part);
    if (!match) throw new DmarcSyntaxError(`bad tag "${part.trim()}"`);
    tags.set(match[1]!.toLowerCase(), match[2]!);
  }
  const p = tags.get('p')?.toLowerCase();
  if (p === undefined) throw new DmarcSyntaxError('no p= tag');
  if (!POLICIES.has(p)) throw new DmarcSyntaxError(`p=${p} is not none, quarantine or reject`);
  const sp = tags.get('sp')?.toLowerCase();
  if (sp !== undefined && !POLICIES.has(sp))
    throw new DmarcSyntaxError(`sp=${sp} is not none, quarantine or reject`);
  const pctText = tags.get('pct') ?? '100';
  if (!/^\d{1,3}$/.test(pctText) || Number(pctText) > 100)
    throw new DmarcSyntaxError(`pct=${pctText} is not 0-100`);
  const uris = (tag: string) => {
    const value = tags.get(tag);
    if (value === undefined) return [];
    const list = value.split(',').map((u) => u.trim().replace(/!\d+[kmgt]?$/i, ''));
    for (const uri of list)
      if (!/^mailto:[^@\s]+@[^@\s]+$/i.test(uri))
        throw new DmarcSyntaxError(`${tag}: "${uri}" is not a mailto: URI`);
    return list;
  };
  return {
    p: p as DmarcRecord['p'],
    sp: sp as DmarcRecord['sp'],
    pct: Number(pctText),
    rua: uris('rua'),
    ruf: uris('ruf'),
  };
}

export async function checkDmarc(lookup: Lookup, domain: string): Promise<DmarcCheck> {
  const own = await recordAt(lookup, `_dmarc.${domain}`);
  if (own.kind !== 'absent') return verdict(own, `_dmarc.${domain}`, false);
  const organisational = getDomain(domain, { allowPrivateDomains: false });
  if (!organisational || organisational === domain.toLowerCase())
    return { policy: 'missing', reason: `no DMARC record at _dmarc.${domain}` };
  const inherited = await recordAt(lookup, `_dmarc.${organisational}`);
  if (inherited.kind === 'absent')
    return { policy: 'missing', reason: `no DMARC record at _dmarc.${domain} nor _dmarc.${organisational}` };
  return verdict(inherited, `_dmarc.${organisational}`, true);
}

type Found =
  | { kind: 'absent' }
  | { kind: 'error'; reason: string }
  | { kind: 'invalid'; reason: string }
  | { kind: 'record'; record: DmarcRecord };

async function recordAt(lookup: Lookup, name: string): Promise<Found> {
  const outcome = await lookup.txt(name);
  if (outcome.status === 'error') return { kind: 'error', reason: outcome.reason };
  const records = outcome.records.filter((r) => /^v\s*=\s*DMARC1/i.test(r));
  if (records.length === 0) return { kind: 'absent' };
  if (records.length > 1) return { kind: 'invalid', reason: `${name} has ${records.length} DMARC records` };
  try {
    return { kind: 'record', record: parseDmarc(records[0]!) };
  } catch (error) {
    return { kind: 'invalid', reason: `${name}: ${(error as Error).message}` };
  }
}

function verdict(found: Exclude<Found, { kind: 'absent' }>, source: string, inherited: boolean): DmarcCheck {
  if (found.kind === 'error') return { policy: 'temperror', reason: found.reason, source };
  if (found.kind === 'invalid') return { policy: 'invalid', reason: found.reason, source };
  const policy = inherited ? (found.record.sp ?? found.record.p) : found.record.p;
  const pct = found.record.pct < 100 ? ` on ${found.record.pct}% of failing mail` : '';
  return {
    policy,
    reason: `${inherited ? 'inherited from the organisational domain, ' : ''}${source}: ${policy}${pct}`,
    source,
    record: found.record,
  };
}
