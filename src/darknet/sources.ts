/**
 * Per-source state in one open-addressing hash table (linear probing, backward-shift delete)
 * whose columns are typed arrays: no object per source, no allocation per packet. IPv4 and
 * IPv6 sources share it; an IPv4 key is its address with the other three words zero.
 */
import { mix32 } from './hll.ts';

/** Exact destination ports remembered per source (more are only estimated). */
export const PORT_SLOTS = 8;
/** Registers of the per-source distinct-destination sketch. */
export const DST_REGS = 32;
export const DST_BITS = 5;
/** Registers of the per-source distinct-port sketch. */
export const PORT_REGS = 16;
export const PORT_BITS = 4;

export const PROTO_BIT_TCP = 1;
export const PROTO_BIT_UDP = 2;
export const PROTO_BIT_ICMP = 4;
export const PROTO_BIT_OTHER = 8;

export class SourceTable {
  readonly capacity: number;
  readonly mask: number;
  /** Fill limit (3/4 of capacity): past it inserts are refused until expiry frees slots. */
  readonly limit: number;
  size = 0;
  /** Hash of the key found or inserted by the last find (reused for sketches). */
  lastHash = 0;

  /** 0 empty, 4 or 6. */
  readonly family: Uint8Array;
  readonly hash: Uint32Array;
  readonly key: Uint32Array;
  readonly packets: Float64Array;
  readonly firstSeen: Float64Array;
  readonly lastSeen: Float64Array;
  /** Probes: TCP SYN without ACK, UDP, ICMP echo/timestamp requests. */
  readonly probes: Uint32Array;
  /** TCP SYN probes (the denominator of TCP fingerprints). */
  readonly syn: Uint32Array;
  /** Replies to spoofed traffic: SYN-ACK, RST, ICMP replies and errors. */
  readonly backscatter: Uint32Array;
  readonly fragments: Uint32Array;
  readonly mirai: Uint32Array;
  readonly masscan: Uint32Array;
  readonly zmap: Uint32Array;
  readonly protoMask: Uint8Array;
  readonly ports: Uint16Array;
  readonly portCount: Uint8Array;
  readonly portsOverflow: Uint8Array;
  readonly dstSketch: Uint8Array;
  readonly portSketch: Uint8Array;
  /** Row in the ASN / country tables (-1 none). */
  readonly asnRow: Int32Array;
  readonly countryRow: Int32Array;
  readonly ruleCount: number;
  readonly ruleHits: Uint16Array;

  constructor(requestedCapacity: number, ruleCount: number) {
    let capacity = 64;
    while (capacity < requestedCapacity) capacity *= 2;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.limit = Math.floor((capacity * 3) / 4);
    this.ruleCount = ruleCount;
    this.family = new Uint8Array(capacity);
    this.hash = new Uint32Array(capacity);
    this.key = new Uint32Array(capacity * 4);
    this.packets = new Float64Array(capacity);
    this.firstSeen = new Float64Array(capacity);
    this.lastSeen = new Float64Array(capacity);
    this.probes = new Uint32Array(capacity);
    this.syn = new Uint32Array(capacity);
    this.backscatter = new Uint32Array(capacity);
    this.fragments = new Uint32Array(capacity);
    this.mirai = new Uint32Array(capacity);
    this.masscan = new Uint32Array(capacity);
    this.zmap = new Uint32Array(capacity);
    this.protoMask = new Uint8Array(capacity);
    this.ports = new Uint16Array(capacity * PORT_SLOTS);
    this.portCount = new Uint8Array(capacity);
    this.portsOverflow = new Uint8Array(capacity);
    this.dstSketch = new Uint8Array(capacity * DST_REGS);
    this.portSketch = new Uint8Array(capacity * PORT_REGS);
    this.asnRow = new Int32Array(capacity);
    this.countryRow = new Int32Array(capacity);
    this.ruleHits = new Uint16Array(capacity * Math.max(ruleCount, 1));
  }

  /**
   * Slot of IPv4 source `address`; inserts it when absent and `insert` is true. Returns -1 when
   * absent (or the table is full). `inserted` tells whether the last call created the slot.
   */
  inserted = false;

  find4(address: number, insert: boolean): number {
    const h = mix32(address);
    this.lastHash = h;
    this.inserted = false;
    const mask = this.mask;
    const family = this.family;
    const key = this.key;
    let i = h & mask;
    for (;;) {
      const f = family[i]!;
      if (f === 0) break;
      if (f === 4 && key[i * 4] === address) return i;
      i = (i + 1) & mask;
    }
    if (!insert || this.size >= this.limit) return -1;
    family[i] = 4;
    this.hash[i] = h;
    key[i * 4] = address;
    this.size++;
    this.inserted = true;
    return i;
  }

  find6(bytes: Uint8Array, insert: boolean): number {
    const w0 = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
    const w1 = ((bytes[4]! << 24) | (bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!) >>> 0;
    const w2 = ((bytes[8]! << 24) | (bytes[9]! << 16) | (bytes[10]! << 8) | bytes[11]!) >>> 0;
    const w3 = ((bytes[12]! << 24) | (bytes[13]! << 16) | (bytes[14]! << 8) | bytes[15]!) >>> 0;
    const h = mix32(w0 ^ mix32(w1 ^ mix32(w2 ^ mix32(w3 ^ 0x6))));
    this.lastHash = h;
    this.inserted = false;
    const mask = this.mask;
    const family = this.family;
    const key = this.key;
    let i = h & mask;
    for (;;) {
      const f = family[i]!;
      if (f === 0) break;
      const k = i * 4;
      if (f === 6 && key[k] === w0 && key[k + 1] === w1 && key[k + 2] === w2 && key[k + 3] === w3) return i;
      i = (i + 1) & mask;
    }
    if (!insert || this.size >= this.limit) return -1;
    family[i] = 6;
    this.hash[i] = h;
    const k = i * 4;
    key[k] = w0;
    key[k + 1] = w1;
    key[k + 2] = w2;
    key[k + 3] = w3;
    this.size++;
    this.inserted = true;
    return i;
  }

  /** Records destination port `port` for the source in `slot` (exact up to PORT_SLOTS). */
  addPort(slot: number, port: number): void {
    const n = this.portCount[slot]!;
    const base = slot * PORT_SLOTS;
    const ports = this.ports;
    for (let j = 0; j < n; j++) if (ports[base + j] === port) return;
    if (n < PORT_SLOTS) {
      ports[base + n] = port;
      this.portCount[slot] = n + 1;
    } else {
      this.portsOverflow[slot] = 1;
    }
  }

  /** Removes `slot`, shifting later entries of its probe run back so lookups stay correct. */
  remove(slot: number): void {
    const mask = this.mask;
    let hole = slot;
    let j = slot;
    for (;;) {
      j = (j + 1) & mask;
      if (this.family[j] === 0) break;
      const home = this.hash[j]! & mask;
      // The entry at j may move into the hole only if its home is not cyclically in (hole, j].
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      this.copySlot(j, hole);
      hole = j;
    }
    this.clearSlot(hole);
    this.size--;
  }

  private copySlot(from: number, to: number): void {
    this.family[to] = this.family[from]!;
    this.hash[to] = this.hash[from]!;
    this.key.copyWithin(to * 4, from * 4, from * 4 + 4);
    this.packets[to] = this.packets[from]!;
    this.firstSeen[to] = this.firstSeen[from]!;
    this.lastSeen[to] = this.lastSeen[from]!;
    this.probes[to] = this.probes[from]!;
    this.syn[to] = this.syn[from]!;
    this.backscatter[to] = this.backscatter[from]!;
    this.fragments[to] = this.fragments[from]!;
    this.mirai[to] = this.mirai[from]!;
    this.masscan[to] = this.masscan[from]!;
    this.zmap[to] = this.zmap[from]!;
    this.protoMask[to] = this.protoMask[from]!;
    this.ports.copyWithin(to * PORT_SLOTS, from * PORT_SLOTS, (from + 1) * PORT_SLOTS);
    this.portCount[to] = this.portCount[from]!;
    this.portsOverflow[to] = this.portsOverflow[from]!;
    this.dstSketch.copyWithin(to * DST_REGS, from * DST_REGS, (from + 1) * DST_REGS);
    this.portSketch.copyWithin(to * PORT_REGS, from * PORT_REGS, (from + 1) * PORT_REGS);
    this.asnRow[to] = this.asnRow[from]!;
    this.countryRow[to] = this.countryRow[from]!;
    const r = this.ruleCount;
    if (r > 0) this.ruleHits.copyWithin(to * r, from * r, (from + 1) * r);
  }

  private clearSlot(slot: number): void {
    this.family[slot] = 0;
    this.hash[slot] = 0;
    this.key.fill(0, slot * 4, slot * 4 + 4);
    this.packets[slot] = 0;
    this.firstSeen[slot] = 0;
    this.lastSeen[slot] = 0;
    this.probes[slot] = 0;
    this.syn[slot] = 0;
    this.backscatter[slot] = 0;
    this.fragments[slot] = 0;
    this.mirai[slot] = 0;
    this.masscan[slot] = 0;
    this.zmap[slot] = 0;
    this.protoMask[slot] = 0;
    this.ports.fill(0, slot * PORT_SLOTS, (slot + 1) * PORT_SLOTS);
    this.portCount[slot] = 0;
    this.portsOverflow[slot] = 0;
    this.dstSketch.fill(0, slot * DST_REGS, (slot + 1) * DST_REGS);
    this.portSketch.fill(0, slot * PORT_REGS, (slot + 1) * PORT_REGS);
    this.asnRow[slot] = -1;
    this.countryRow[slot] = -1;
    const r = this.ruleCount;
    if (r > 0) this.ruleHits.fill(0, slot * r, (slot + 1) * r);
  }

  /** The source address of `slot` as text. */
  addressOf(slot: number): string {
    const k = slot * 4;
    if (this.family[slot] === 4) {
      const a = this.key[k]!;
      return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
    }
    const words: string[] = [];
    for (let w = 0; w < 4; w++) {
      const v = this.key[k + w]!;
      words.push((v >>> 16).toString(16), (v & 0xffff).toString(16));
    }
    return compressIpv6(words);
  }
}

/** RFC 5952 text from eight hex words (longest zero run of two or more compressed). */
function compressIpv6(words: string[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return words.join(':');
  return `${words.slice(0, bestStart).join(':')}::${words.slice(bestStart + bestLength).join(':')}`;
}
