/**
 * DNSSEC cryptography done by tsunagi itself (RFC 4034, RFC 4035 §5.3): key tags, DS digests
 * and RRSIG verification over the canonical form of an RRset (RFC 4034 §6) for the algorithms
 * in use today: 8 RSA/SHA-256, 13 ECDSA P-256/SHA-256, 15 Ed25519 (RFC 5702, 6605, 8080).
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import dnsPacket, { type Answer } from 'dns-packet';

const types = createRequire(import.meta.url)('dns-packet/types') as { toType(name: string): number };

export interface DnskeyData {
  flags: number;
  algorithm: number;
  key: Buffer;
}
export interface DsData {
  keyTag: number;
  algorithm: number;
  digestType: number;
  digest: Buffer;
}
export interface RrsigData {
  typeCovered: string;
  algorithm: number;
  labels: number;
  originalTTL: number;
  expiration: number;
  inception: number;
  keyTag: number;
  signersName: string;
  signature: Buffer;
}

export const SUPPORTED_ALGORITHMS = new Set([8, 13, 15]);
export const SUPPORTED_DIGESTS: Record<number, string> = { 1: 'sha1', 2: 'sha256', 4: 'sha384' };
const ZONE_KEY = 0x0100;

/** Types whose RDATA names are lowercased in canonical form (RFC 4034 §6.2 as RFC 6840 §5.1 left it). */
const LOWERCASED: Record<string, (data: Record<string, unknown>) => Record<string, unknown>> = {
  NS: (d) => lower(d),
  CNAME: (d) => lower(d),
  PTR: (d) => lower(d),
  DNAME: (d) => lower(d),
  MX: (d) => ({ ...d, exchange: String(d.exchange).toLowerCase() }),
  SOA: (d) => ({ ...d, mname: String(d.mname).toLowerCase(), rname: String(d.rname).toLowerCase() }),
  SRV: (d) => ({ ...d, target: String(d.target).toLowerCase() }),
  RRSIG: (d) => ({ ...d, signersName: String(d.signersName).toLowerCase() }),
};
function lower(d: unknown): Record<string, unknown> {
  return String(d).toLowerCase() as unknown as Record<string, unknown>;
}

/** An owner name in canonical wire form: lowercase, uncompressed. */
export function nameWire(name: string): Buffer {
  return (dnsPacket as unknown as NameCodec).name.encode(name.toLowerCase().replace(/\.$/, '') || '.');
}

/** Canonical RDATA (without the length) of one record. */
export function canonicalRdata(type: string, data: unknown): Buffer {
  const canonical = LOWERCASED[type]?.(data as Record<string, unknown>) ?? data;
  const encoded = (dnsPacket as unknown as RecordCodecs).record(type).encode(canonical);
  return encoded.subarray(2); // the encoder writes RDLENGTH first
}
interface NameCodec {
  name: { encode(name: string): Buffer };
}
interface RecordCodecs {
  record(type: string): { encode(data: unknown): Buffer };
}

export function dnskeyRdata(key: DnskeyData): Buffer {
  return canonicalRdata('DNSKEY', key);
}

/** RFC 4034 Appendix B. */
export function keyTag(key: DnskeyData): number {
  const rdata = dnskeyRdata(key);
  let sum = 0;
  for (let i = 0; i < rdata.length; i++) sum += i & 1 ? rdata[i]! : rdata[i]! << 8;
  sum += (sum >> 16) & 0xffff;
  return sum & 0xffff;
}

export function isZoneKey(key: DnskeyData): boolean {
  return (key.flags & ZONE_KEY) !== 0;
}

/** Whether `key` at `owner` is the one a DS record names (RFC 4034 §5.1.4). */
export function dsMatches(owner: string, key: DnskeyData, ds: DsData): boolean {
  const hash = SUPPORTED_DIGESTS[ds.digestType];
  if (!hash || ds.algorithm !== key.algorithm || ds.keyTag !== keyTag(key)) return false;
  const digest = createHash(hash).update(nameWire(owner)).update(dnskeyRdata(key)).digest();
  return digest.equals(ds.digest);
}

function publicKey(key: DnskeyData): KeyObject {
  const b64 = (b: Buffer) => b.toString('base64url');
  switch (key.algorithm) {
    case 8: {
      // RFC 3110: exponent length in one octet, or zero and then two octets.
      const long = key.key[0] === 0;
      const expLength = long ? key.key.readUInt16BE(1) : key.key[0]!;
      const start = long ? 3 : 1;
      const e = key.key.subarray(start, start + expLength);
      const n = key.key.subarray(start + expLength);
      return createPublicKey({ key: { kty: 'RSA', n: b64(n), e: b64(e) }, format: 'jwk' });
    }
    case 13:
      if (key.key.length !== 64) throw new Error('ECDSA P-256 key is not 64 octets');
      return createPublicKey({
        key: { kty: 'EC', crv: 'P-256', x: b64(key.key.subarray(0, 32)), y: b64(key.key.subarray(32)) },
        format: 'jwk',
      });
    case 15:
      if (key.key.length !== 32) throw new Error('Ed25519 key is not 32 octets');
      return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64(key.key) }, format: 'jwk' });
    default:
      throw new Error(`algorithm ${key.algorithm} is not supported`);
  }
}

/** The octets an RRSIG signs: its own RDATA without the signature, then the canonical RRset. */
export function signedData(rrsig: RrsigData, rrset: readonly Answer[]): Buffer {
  const head = canonicalRdata('RRSIG', { ...rrsig, signature: Buffer.alloc(0) });
  const owner = signedOwner(rrset[0]!.name, rrsig.labels);
  const type = Buffer.alloc(8);
  type.writeUInt16BE(types.toType(rrsig.typeCovered), 0);
  type.writeUInt16BE(1, 2); // class IN
  type.writeUInt32BE(rrsig.originalTTL >>> 0, 4);
  const rdatas = uniqueSorted(rrset.map((rr) => canonicalRdata(rr.type, (rr as { data: unknown }).data)));
  const parts: Buffer[] = [head];
  for (const rdata of rdatas) {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(rdata.length);
    parts.push(owner, type, length, rdata);
  }
  return Buffer.concat(parts);
}

/** RFC 4035 §5.3.2: a wildcard expansion is signed as `*.` plus the RRSIG's label count of labels. */
function signedOwner(owner: string, labels: number): Buffer {
  const names = owner.toLowerCase().replace(/\.$/, '').split('.').filter(Boolean);
  if (names.length <= labels) return nameWire(owner);
  return nameWire(['*', ...names.slice(names.length - labels)].join('.'));
}

function uniqueSorted(rdatas: Buffer[]): Buffer[] {
  const sorted = [...rdatas].sort(Buffer.compare);
  return sorted.filter((b, i) => i === 0 || !b.equals(sorted[i - 1]!));
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Serial-number arithmetic (RFC 1982) on 32-bit times, as RRSIG validity uses (RFC 4034 §3.1.5). */
function notAfter(a: number, b: number): boolean {
  return (b - a) >>> 0 < 0x80000000;
}

/** Verifies one RRSIG over an RRset with one DNSKEY, including its validity period at `now`. */
export function verifyRrsig(
  rrsig: RrsigData,
  rrset: readonly Answer[],
  key: DnskeyData,
  now: Date = new Date(),
): SignatureCheck {
  if (!SUPPORTED_ALGORITHMS.has(rrsig.algorithm))
    return { ok: false, reason: `unsupported algorithm ${rrsig.algorithm}` };
  if (key.algorithm !== rrsig.algorithm || keyTag(key) !== rrsig.keyTag || !isZoneKey(key))
    return { ok: false, reason: 'key does not match the signature' };
  const ownerLabels = rrset[0]!.name.replace(/\.$/, '').split('.').filter(Boolean).length;
  if (rrsig.labels > ownerLabels) return { ok: false, reason: 'RRSIG claims more labels than its owner has' };
  const t = Math.floor(now.getTime() / 1000) >>> 0;
  if (!notAfter(rrsig.inception, t)) return { ok: false, reason: 'signature not yet valid' };
  if (!notAfter(t, rrsig.expiration)) return { ok: false, reason: 'signature expired' };
  const data = signedData(rrsig, rrset);
  let good: boolean;
  try {
    const pub = publicKey(key);
    if (rrsig.algorithm === 13)
      good = verify('sha256', data, { key: pub, dsaEncoding: 'ieee-p1363' }, rrsig.signature);
    else if (rrsig.algorithm === 15) good = verify(null, data, pub, rrsig.signature);
    else good = verify('sha256', data, pub, rrsig.signature);
  } catch (error) {
    return { ok: false, reason: `cannot verify: ${(error as Error).message}` };
  }
  return good ? { ok: true } : { ok: false, reason: 'signature does not verify' };
}

/**
 * Whether some RRSIG by `signer` over the RRset verifies with one of `keys`; the reason of the
 * last failure otherwise.
 */
export function verifyRrset(
  rrset: readonly Answer[],
  rrsigs: readonly RrsigData[],
  keys: readonly DnskeyData[],
  signer: string,
  now?: Date,
): SignatureCheck & { keyTag?: number } {
  if (rrset.length === 0) return { ok: false, reason: 'empty RRset' };
  const bySigner = rrsigs.filter((s) => sameName(s.signersName, signer));
  if (bySigner.length === 0) return { ok: false, reason: `no RRSIG by ${signer || '.'}` };
  let last = 'no key matches any RRSIG';
  for (const rrsig of bySigner) {
    for (const key of keys.filter((k) => keyTag(k) === rrsig.keyTag && k.algorithm === rrsig.algorithm)) {
      const check = verifyRrsig(rrsig, rrset, key, now);
      if (check.ok) return { ok: true, keyTag: rrsig.keyTag };
      last = check.reason;
    }
  }
  return { ok: false, reason: last };
}

export function sameName(a: string, b: string): boolean {
  return a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');
}

/** RFC 5155 §5: the iterated, salted SHA-1 of an owner name, in base32hex as NSEC3 owners use. */
export function nsec3Hash(name: string, salt: Buffer, iterations: number): string {
  let digest = createHash('sha1').update(nameWire(name)).update(salt).digest();
  for (let i = 0; i < iterations; i++) digest = createHash('sha1').update(digest).update(salt).digest();
  return base32hex(digest);
}

export function base32hex(bytes: Buffer): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuv';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}
