/**
 * Address helpers shared by every room: IPv4 as unsigned 32-bit numbers, IPv6 as 16 bytes,
 * text forms per RFC 5952, and CIDR prefixes. Parsing of user input goes through ipaddr.js;
 * the formatting and matching here are on hot paths and allocate little.
 */
import ipaddr from 'ipaddr.js';

export function ipv4ToString(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

export function ipv4FromString(text: string): number {
  const parts = ipaddr.IPv4.parse(text).octets;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** Formats 16 bytes at `offset` as RFC 5952 text (longest zero run compressed, lower case). */
export function ipv6ToString(bytes: Uint8Array, offset = 0): string {
  const words: number[] = new Array(8);
  for (let i = 0; i < 8; i++) words[i] = (bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!;
  // IPv4-mapped addresses read better in their dotted form.
  if (
    words[0] === 0 &&
    words[1] === 0 &&
    words[2] === 0 &&
    words[3] === 0 &&
    words[4] === 0 &&
    words[5] === 0xffff
  ) {
    return `::ffff:${bytes[offset + 12]}.${bytes[offset + 13]}.${bytes[offset + 14]}.${bytes[offset + 15]}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (w: number) => w.toString(16);
  if (bestStart < 0) return words.map(hex).join(':');
  const head = words.slice(0, bestStart).map(hex).join(':');
  const tail = words
    .slice(bestStart + bestLength)
    .map(hex)
    .join(':');
  return `${head}::${tail}`;
}

export function ipv6FromString(text: string): Uint8Array {
  return Uint8Array.from(ipaddr.IPv6.parse(text).toByteArray());
}

/** A parsed CIDR prefix of either family. */
export interface Prefix {
  readonly family: 4 | 6;
  readonly bits: number;
  /** For IPv4: network as uint32 and mask; for IPv6: network bytes. */
  readonly network4: number;
  readonly mask4: number;
  readonly network6: Uint8Array;
  readonly text: string;
}

/** Parses `a.b.c.d/n`, `x::/n` or a bare address (a host prefix). Throws on bad input. */
export function parsePrefix(text: string): Prefix {
  const trimmed = text.trim();
  const [address, parsedBits] = trimmed.includes('/')
    ? ipaddr.parseCIDR(trimmed)
    : (() => {
        const a = ipaddr.parse(trimmed);
        return [a, a.kind() === 'ipv4' ? 32 : 128] as const;
      })();
  if (address.kind() === 'ipv4') {
    const octets = (address as ipaddr.IPv4).octets;
    const value = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
    const mask4 = parsedBits === 0 ? 0 : (0xffffffff << (32 - parsedBits)) >>> 0;
    return {
      family: 4,
      bits: parsedBits,
      network4: (value & mask4) >>> 0,
      mask4,
      network6: new Uint8Array(16),
      text: `${ipv4ToString((value & mask4) >>> 0)}/${parsedBits}`,
    };
  }
  const bytes = Uint8Array.from((address as ipaddr.IPv6).toByteArray());
  for (let bit = parsedBits; bit < 128; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return {
    family: 6,
    bits: parsedBits,
    network4: 0,
    mask4: 0,
    network6: bytes,
    text: `${ipv6ToString(bytes)}/${parsedBits}`,
  };
}

export function prefixContains4(prefix: Prefix, address: number): boolean {
  return prefix.family === 4 && (address & prefix.mask4) >>> 0 === prefix.network4;
}

export function prefixContains6(prefix: Prefix, bytes: Uint8Array, offset = 0): boolean {
  if (prefix.family !== 6) return false;
  const full = prefix.bits >> 3;
  for (let i = 0; i < full; i++) if (bytes[offset + i] !== prefix.network6[i]) return false;
  const rest = prefix.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[offset + full]! & mask) === prefix.network6[full];
}

/**
 * A set of prefixes answering "is this address inside?" quickly. IPv4 prefixes are grouped by
 * length so a lookup is one Set probe per distinct length.
 */
export class PrefixSet {
  private readonly byLength4 = new Map<number, Set<number>>();
  private readonly lengths4: number[] = [];
  private readonly prefixes6: Prefix[] = [];
  readonly prefixes: Prefix[] = [];

  constructor(prefixes: Iterable<string | Prefix> = []) {
    for (const p of prefixes) this.add(p);
  }

  add(input: string | Prefix): void {
    const prefix = typeof input === 'string' ? parsePrefix(input) : input;
    this.prefixes.push(prefix);
    if (prefix.family === 6) {
      this.prefixes6.push(prefix);
      return;
    }
    let set = this.byLength4.get(prefix.bits);
    if (!set) {
      set = new Set();
      this.byLength4.set(prefix.bits, set);
      this.lengths4.push(prefix.bits);
      this.lengths4.sort((a, b) => b - a);
    }
    set.add(prefix.network4);
  }

  get size(): number {
    return this.prefixes.length;
  }

  has4(address: number): boolean {
    for (const bits of this.lengths4) {
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      if (this.byLength4.get(bits)!.has((address & mask) >>> 0)) return true;
    }
    return false;
  }

  has6(bytes: Uint8Array, offset = 0): boolean {
    for (const p of this.prefixes6) if (prefixContains6(p, bytes, offset)) return true;
    return false;
  }

  /** Accepts either text form. */
  hasText(address: string): boolean {
    const parsed = ipaddr.parse(address);
    if (parsed.kind() === 'ipv4') return this.has4(ipv4FromString(address));
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return this.has4(ipv4FromString(v6.toIPv4Address().toString()));
    return this.has6(Uint8Array.from(v6.toByteArray()));
  }
}
