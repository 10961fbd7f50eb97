/** DKIM key records (RFC 6376 §3.6.1) for the selectors an operator names: usable, revoked or broken. */
import { createPublicKey } from 'node:crypto';
import type { Lookup } from '../dns/lookup.ts';

export type DkimStatus = 'ok' | 'revoked' | 'invalid' | 'missing' | 'temperror';
export type DkimSummary = DkimStatus | 'unchecked';

export interface DkimKey {
  selector: string;
  status: DkimStatus;
  reason: string;
}

export function parseDkimKey(text: string): { status: DkimStatus; reason: string } {
  const tags = new Map<string, string>();
  for (const part of text.split(';')) {
    if (!part.trim()) continue;
    const match = /^\s*([a-z0-9_]+)\s*=(.*)$/is.exec(part);
    if (!match) return { status: 'invalid', reason: `bad tag "${part.trim()}"` };
    tags.set(match[1]!.toLowerCase(), match[2]!.replace(/\s+/g, ''));
  }
  if (tags.has('v') && tags.get('v') !== 'DKIM1')
    return { status: 'invalid', reason: `v=${tags.get('v')} is not DKIM1` };
  if (tags.has('v') && !/^\s*v\s*=/i.test(text))
    return { status: 'invalid', reason: 'v= is not the first tag' };
  const p = tags.get('p');
  if (p === undefined) return { status: 'invalid', reason: 'no p= tag' };
  if (p === '') return { status: 'revoked', reason: 'empty p= (key revoked)' };
  const k = (tags.get('k') ?? 'rsa').toLowerCase();
  const key = Buffer.from(p, 'base64');
  try {
    if (k === 'rsa') {
      const parsed = createPublicKey({ key, format: 'der', type: 'spki' });
      const bits = parsed.asymmetricKeyDetails?.modulusLength ?? 0;
      if (parsed.asymmetricKeyType !== 'rsa') return { status: 'invalid', reason: 'p= is not an RSA key' };
      return { status: 'ok', reason: `RSA ${bits} bits` };
    }
    if (k === 'ed25519') {
      if (key.length !== 32) return { status: 'invalid', reason: 'Ed25519 key is not 32 octets' };
      createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.toString('base64url') }, format: 'jwk' });
      return { status: 'ok', reason: 'Ed25519' };
    }
    return { status: 'invalid', reason: `unknown key type k=${k}` };
  } catch {
    return { status: 'invalid', reason: 'p= is not a public key' };
  }
}

export async function checkDkim(
  lookup: Lookup,
  domain: string,
  selectors: readonly string[],
): Promise<DkimKey[]> {
  return Promise.all(
    selectors.map(async (selector): Promise<DkimKey> => {
      const outcome = await lookup.txt(`${selector}._domainkey.${domain}`);
      if (outcome.status === 'error') return { selector, status: 'temperror', reason: outcome.reason };
      const records = outcome.records.filter((r) => /(^|;)\s*p\s*=/i.test(r) || /^\s*v\s*=\s*DKIM1/i.test(r));
      if (records.length === 0) return { selector, status: 'missing', reason: 'no key record' };
      if (records.length > 1) return { selector, status: 'invalid', reason: `${records.length} key records` };
      return { selector, ...parseDkimKey(records[0]!) };
    }),
  );
}

/** One word for the CSV: the best state among the selectors checked. */
export function summariseDkim(keys: readonly DkimKey[]): DkimSummary {
  if (keys.length === 0) return 'unchecked';
  for (const status of ['ok', 'revoked', 'invalid', 'temperror'] as const)
    if (keys.some((k) => k.status === status)) return status;
  return 'missing';
}
