/**
 * Per-source state in one open-addressing hash table (linear probing, backward-shift delete)
 * whose slots are fixed-size records in a single ArrayBuffer: a packet's counters, times, ports
 * and sketches sit together in a few adjacent cache lines instead of across twenty arrays. IPv4
 * and IPv6 sources share it; an IPv4 key is its address with the other three words zero.
 */
import { mix32 } from '../core/index.ts';
import { zeroedTable } from './memory.ts';
import { NativeSlot } from './native/slots.ts';

/** Exact destination ports remembered per source (more are only estimated). */
export const PORT_SLOTS = 8;
/** log2 of the registers of the per-source distinct-destination sketch (32). */
export const DST_BITS = 5;
/** log2 of the registers of the per-source distinct-port sketch (16). */
export const PORT_BITS = 4;

export const PROTO_BIT_TCP = 1;
export const PROTO_BIT_UDP = 2;
export const PROTO_BIT_ICMP = 4;
export const PROTO_BIT_OTHER = 8;

/**
 * Record layout: 128 bytes per source, so a record is exactly two adjacent cache lines, with
 * each field's index in the view of its width (`id * RECORD_<width> + FIELD`). Fields that a
 * packet does not touch (IPv6 key words 1-3, ASN/country rows) live apart in `side`.
 */
export const RECORD_BYTES = 128;
export const RECORD_U32 = RECORD_BYTES / 4;
export const RECORD_F64 = RECORD_BYTES / 8;
export const RECORD_U16 = RECORD_BYTES / 2;
/** u32 fields: key word 0 (the IPv4 address), then the counters. */
export const F_KEY = 0;
/** Probes: TCP SYN without ACK, UDP, ICMP echo/timestamp requests. */
export const F_PROBES = 1;
/** TCP SYN probes (the denominator of TCP fingerprints). */
export const F_SYN = 2;
/** Replies to spoofed traffic: SYN-ACK, RST, ICMP replies and errors. */
export const F_BACKSCATTER = 3;
export const F_MIRAI = 4;
export const F_MASSCAN = 5;
export const F_ZMAP = 6;
/** u8 fields (byte offsets): 0 empty / 4 / 6, protocol bits, exact port count, ports overflowed. */
export const B_FAMILY = 28;
export const B_PROTO_MASK = 29;
export const B_PORT_COUNT = 30;
export const B_PORTS_OVERFLOW = 31;
/** f64 fields: packets, last and first seen (ms, capture time). */
export const D_PACKETS = 4;
export const D_LAST_SEEN = 5;
export const D_FIRST_SEEN = 6;
/** u16 index of the exact ports (PORT_SLOTS of them, bytes 56-71). */
export const W_PORTS = 28;
/** Byte offset of the distinct-port sketch (bytes 72-87). */
export const B_PORT_SKETCH = 72;
/** u32 fields: the key's hash (for moving index entries) and fragments seen. */
export const F_HASH = 22;
export const F_FRAGMENTS = 23;
/** Byte offset of the distinct-destination sketch (bytes 96-127). */
export const B_DST_SKETCH = 96;

/**
 * Side fields, SIDE_WORDS per record in an Int32Array: IPv6 key words 1-3, ASN and country rows
 * plus one (0 none, so a new IPv4 source without ASN/country tables never touches this array).
 */
export const SIDE_WORDS = 5;
export const S_KEY1 = 0;
export const S_ASN_ROW = 3;
export const S_COUNTRY_ROW = 4;

/**
 * Most initial slots of the repeat senders' index (32 KiB): a darknet capture has thousands of
 * repeat senders, and each doubling below that rehashes in JavaScript (the C loop hands it back).
 */
const HOT_SLOTS = 4096;

export class SourceTable {
  /** Most sources held at once (3/4 of the index slots, so probe runs stay short). */
  readonly limit: number;
  /** Index slots for sources seen once (a power of two). */
  readonly capacity: number;
  readonly mask: number;
  size = 0;
  /** Hash of the key found or inserted by the last find (reused for sketches). */
  lastHash = 0;
  /** Whether the last find created the record. */
  inserted = false;

  /**
   * Two generations, because most darknet sources send one packet while most packets come from
   * a few thousand sources. A new source gets a record in [0, limit) and an entry in the big
   * `newIndex`; its second packet moves it to a record in [limit, 2 limit) and to `hotIndex`,
   * which grows with the repeat senders only. So the records and index entries that nearly
   * every packet touches sit together in a few hundred kilobytes instead of across the whole
   * table (on this kind of hardware a random miss costs more than the rest of the packet).
   * Index entries are [first key word, record id + 1] pairs (0: empty).
   */
  private readonly newIndex: Uint32Array;
  private hotIndex: Uint32Array;
  private hotMask: number;
  private hotCount = 0;
  /** Records handed out in each generation, and the ids freed by `remove` for reuse. */
  private newHigh = 0;
  private hotHigh = 0;
  private readonly newFree: Int32Array;
  private newFreeCount = 0;
  private readonly hotFree: Int32Array;
  private hotFreeCount = 0;

  /** Views of the one record buffer; index with the RECORD_* strides and field constants. */
  readonly bytes: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly f64: Float64Array;
  /** Fields no packet touches, SIDE_WORDS per record. */
  readonly side: Int32Array;
  readonly ruleCount: number;
  /** Hit counts of user rules, `ruleCount` per record (apart: most setups have none). */
  readonly ruleHits: Uint16Array;

  constructor(requestedCapacity: number, ruleCount: number) {
    let capacity = 64;
    while (capacity < requestedCapacity) capacity *= 2;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.limit = Math.floor((capacity * 3) / 4);
    this.ruleCount = ruleCount;
    // A quarter of the table's sources, up to HOT_SLOTS (small tables start small).
    let hotSlots = 64;
    while (hotSlots < HOT_SLOTS && hotSlots * 4 < this.limit) hotSlots *= 2;
    this.hotIndex = new Uint32Array(2 * hotSlots);
    this.hotMask = hotSlots - 1;
    this.newIndex = new Uint32Array(zeroedTable(capacity * 2 * 4));
    this.newFree = new Int32Array(zeroedTable(this.limit * 4));
    this.hotFree = new Int32Array(zeroedTable(this.limit * 4));
    // Address space for both generations; only the pages of records in use are ever touched.
    const buffer = zeroedTable(2 * this.limit * RECORD_BYTES);
    this.bytes = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.side = new Int32Array(zeroedTable(2 * this.limit * SIDE_WORDS * 4));
    this.ruleHits = new Uint16Array(zeroedTable(2 * this.limit * Math.max(ruleCount, 1) * 2));
  }

  /** The arrays the native hot loop (native/) works in; `hotIndex` is replaced when it grows. */
  nativeArrays(): { newIndex: Uint32Array; hotIndex: Uint32Array; newFree: Int32Array; hotFree: Int32Array } {
    return { newIndex: this.newIndex, hotIndex: this.hotIndex, newFree: this.newFree, hotFree: this.hotFree };
  }

  /** Writes the scalar state the native hot loop reads and advances into `state` (NativeSlot). */
  saveNative(state: Float64Array): void {
    state[NativeSlot.SIZE] = this.size;
    state[NativeSlot.LIMIT] = this.limit;
    state[NativeSlot.NEW_HIGH] = this.newHigh;
    state[NativeSlot.HOT_HIGH] = this.hotHigh;
    state[NativeSlot.NEW_FREE_COUNT] = this.newFreeCount;
    state[NativeSlot.HOT_FREE_COUNT] = this.hotFreeCount;
    state[NativeSlot.HOT_COUNT] = this.hotCount;
    state[NativeSlot.HOT_MASK] = this.hotMask;
    state[NativeSlot.MASK] = this.mask;
  }

  /** Takes back what the native hot loop advanced. */
  loadNative(state: Float64Array): void {
    this.size = state[NativeSlot.SIZE]!;
    this.newHigh = state[NativeSlot.NEW_HIGH]!;
    this.hotHigh = state[NativeSlot.HOT_HIGH]!;
    this.newFreeCount = state[NativeSlot.NEW_FREE_COUNT]!;
    this.hotFreeCount = state[NativeSlot.HOT_FREE_COUNT]!;
    this.hotCount = state[NativeSlot.HOT_COUNT]!;
  }

  /** 0 for a free record, else 4 or 6. */
  familyOf(id: number): number {
    return this.bytes[id * RECORD_BYTES + B_FAMILY]!;
  }

  /** [start, end) pairs of record ids that may be in use (check `familyOf`): the new generation, then the established one. */
  idRanges(): number[] {
    return [0, this.newHigh, this.limit, this.limit + this.hotHigh];
  }

  /**
   * Record id of IPv4 source `address`; inserts it when absent and `insert` is true. Returns -1
   * when absent (or the table is full). `inserted` tells whether the last call created it. A
   * source found among the new ones moves to the established generation (a new id).
   */
  find4(address: number, insert: boolean): number {
    const h = mix32(address) | 0; // a small integer to V8: stored and passed on per packet
    this.lastHash = h;
    this.inserted = false;
    const bytes = this.bytes;
    const hot = this.hotIndex;
    const hotMask = this.hotMask;
    let i = h & hotMask;
    for (;;) {
      const ref = hot[2 * i + 1]!;
      if (ref === 0) break;
      if (hot[2 * i] === address && bytes[(ref - 1) * RECORD_BYTES + B_FAMILY] === 4) return ref - 1;
      i = (i + 1) & hotMask;
    }
    const index = this.newIndex;
    const mask = this.mask;
    i = h & mask;
    for (;;) {
      const ref = index[2 * i + 1]!;
      if (ref === 0) break;
      if (index[2 * i] === address && bytes[(ref - 1) * RECORD_BYTES + B_FAMILY] === 4)
        return this.promote(i, ref - 1);
      i = (i + 1) & mask;
    }
    if (!insert || this.size >= this.limit) return -1;
    const id = this.claim(i, address, 4, h);
    this.u32[id * RECORD_U32] = address;
    return id;
  }

  find6(bytes6: Uint8Array, insert: boolean): number {
    const w0 = ((bytes6[0]! << 24) | (bytes6[1]! << 16) | (bytes6[2]! << 8) | bytes6[3]!) >>> 0;
    const w1 = ((bytes6[4]! << 24) | (bytes6[5]! << 16) | (bytes6[6]! << 8) | bytes6[7]!) >>> 0;
    const w2 = ((bytes6[8]! << 24) | (bytes6[9]! << 16) | (bytes6[10]! << 8) | bytes6[11]!) >>> 0;
    const w3 = ((bytes6[12]! << 24) | (bytes6[13]! << 16) | (bytes6[14]! << 8) | bytes6[15]!) >>> 0;
    const h = mix32(w0 ^ mix32(w1 ^ mix32(w2 ^ mix32(w3 ^ 0x6)))) | 0;
    this.lastHash = h;
    this.inserted = false;
    let i = this.probe6(this.hotIndex, this.hotMask, h, w0, w1, w2, w3);
    if (i >= 0) return this.hotIndex[2 * i + 1]! - 1;
    i = this.probe6(this.newIndex, this.mask, h, w0, w1, w2, w3);
    if (i >= 0) return this.promote(i, this.newIndex[2 * i + 1]! - 1);
    if (!insert || this.size >= this.limit) return -1;
    const id = this.claim(-1 - i, w0, 6, h);
    this.u32[id * RECORD_U32 + F_KEY] = w0;
    const k = id * SIDE_WORDS + S_KEY1;
    this.side[k] = w1;
    this.side[k + 1] = w2;
    this.side[k + 2] = w3;
    return id;
  }

  /** Index slot holding the IPv6 key, or -1 - (the empty slot that ends its probe run). */
  private probe6(
    index: Uint32Array,
    mask: number,
    h: number,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
  ): number {
    const side = this.side;
    let i = h & mask;
    for (;;) {
      const ref = index[2 * i + 1]!;
      if (ref === 0) return -1 - i;
      if (index[2 * i] === w0) {
        const k = (ref - 1) * SIDE_WORDS + S_KEY1;
        if (
          this.bytes[(ref - 1) * RECORD_BYTES + B_FAMILY] === 6 &&
          side[k] === (w1 | 0) &&
          side[k + 1] === (w2 | 0) &&
          side[k + 2] === (w3 | 0)
        )
          return i;
      }
      i = (i + 1) & mask;
    }
  }

  /** Sets the ASN and country rows of `id` (-1 none). */
  setGeo(id: number, asnRow: number, countryRow: number): void {
    this.side[id * SIDE_WORDS + S_ASN_ROW] = asnRow + 1;
    this.side[id * SIDE_WORDS + S_COUNTRY_ROW] = countryRow + 1;
  }

  /** Takes a zeroed new-generation record and links it from the empty `newIndex` slot `i`. */
  private claim(i: number, firstWord: number, family: number, hash: number): number {
    const id = this.newFreeCount > 0 ? this.newFree[--this.newFreeCount]! : this.newHigh++;
    this.newIndex[2 * i] = firstWord;
    this.newIndex[2 * i + 1] = id + 1;
    this.bytes[id * RECORD_BYTES + B_FAMILY] = family;
    this.u32[id * RECORD_U32 + F_HASH] = hash;
    this.size++;
    this.inserted = true;
    return id;
  }

  /** Moves the source in record `id` (at `newIndex` slot `i`) to the established generation. */
  private promote(i: number, id: number): number {
    const to = this.limit + (this.hotFreeCount > 0 ? this.hotFree[--this.hotFreeCount]! : this.hotHigh++);
    this.bytes.copyWithin(to * RECORD_BYTES, id * RECORD_BYTES, (id + 1) * RECORD_BYTES);
    this.side.copyWithin(to * SIDE_WORDS, id * SIDE_WORDS, (id + 1) * SIDE_WORDS);
    const r = this.ruleCount;
    if (r > 0) this.ruleHits.copyWithin(to * r, id * r, (id + 1) * r);
    const firstWord = this.newIndex[2 * i]!;
    this.unlink(this.newIndex, this.mask, i);
    this.release(id);
    if (++this.hotCount > (this.hotMask + 1) * 0.75) this.growHot();
    this.link(this.hotIndex, this.hotMask, firstWord, to);
    return to;
  }

  /** Puts [firstWord, id + 1] in the first empty slot of its probe run. */
  private link(index: Uint32Array, mask: number, firstWord: number, id: number): void {
    let i = this.u32[id * RECORD_U32 + F_HASH]! & mask;
    while (index[2 * i + 1] !== 0) i = (i + 1) & mask;
    index[2 * i] = firstWord;
    index[2 * i + 1] = id + 1;
  }

  private growHot(): void {
    const old = this.hotIndex;
    const slots = (this.hotMask + 1) * 2;
    this.hotIndex = new Uint32Array(2 * slots);
    this.hotMask = slots - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] !== 0) this.link(this.hotIndex, this.hotMask, old[i]!, old[i + 1]! - 1);
    }
  }

  /** Empties index slot `hole`, shifting later entries of its probe run back so lookups stay correct. */
  private unlink(index: Uint32Array, mask: number, hole: number): void {
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const ref = index[2 * j + 1]!;
      if (ref === 0) break;
      const home = this.u32[(ref - 1) * RECORD_U32 + F_HASH]! & mask;
      // The entry at j may move into the hole only if its home is not cyclically in (hole, j].
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      index[2 * hole] = index[2 * j]!;
      index[2 * hole + 1] = ref;
      hole = j;
    }
    index[2 * hole] = 0;
    index[2 * hole + 1] = 0;
  }

  /** Zeroes record `id` and returns it to its generation's free list. */
  private release(id: number): void {
    this.bytes.fill(0, id * RECORD_BYTES, (id + 1) * RECORD_BYTES);
    this.side.fill(0, id * SIDE_WORDS, (id + 1) * SIDE_WORDS);
    const r = this.ruleCount;
    if (r > 0) this.ruleHits.fill(0, id * r, (id + 1) * r);
    if (id >= this.limit) this.hotFree[this.hotFreeCount++] = id - this.limit;
    else this.newFree[this.newFreeCount++] = id;
  }

  /** Removes the source in record `id`. */
  remove(id: number): void {
    const hot = id >= this.limit;
    const index = hot ? this.hotIndex : this.newIndex;
    const mask = hot ? this.hotMask : this.mask;
    let i = this.u32[id * RECORD_U32 + F_HASH]! & mask;
    while (index[2 * i + 1] !== id + 1) i = (i + 1) & mask;
    this.unlink(index, mask, i);
    this.release(id);
    if (hot) this.hotCount--;
    this.size--;
  }

  /** Records destination port `port` for the source in `slot` (exact up to PORT_SLOTS). */
  addPort(slot: number, port: number): void {
    const at = slot * RECORD_BYTES;
    const n = this.bytes[at + B_PORT_COUNT]!;
    const base = slot * RECORD_U16 + W_PORTS;
    const ports = this.u16;
    for (let j = 0; j < n; j++) if (ports[base + j] === port) return;
    if (n < PORT_SLOTS) {
      ports[base + n] = port;
      this.bytes[at + B_PORT_COUNT] = n + 1;
    } else {
      this.bytes[at + B_PORTS_OVERFLOW] = 1;
    }
  }

  packets(slot: number): number {
    return this.f64[slot * RECORD_F64 + D_PACKETS]!;
  }
  firstSeen(slot: number): number {
    return this.f64[slot * RECORD_F64 + D_FIRST_SEEN]!;
  }
  lastSeen(slot: number): number {
    return this.f64[slot * RECORD_F64 + D_LAST_SEEN]!;
  }
  /** A u32 counter (F_PROBES, F_SYN, F_BACKSCATTER, F_MIRAI, F_MASSCAN, F_ZMAP, F_FRAGMENTS). */
  counter(slot: number, field: number): number {
    return this.u32[slot * RECORD_U32 + field]!;
  }
  /** Row in the ASN table, -1 none. */
  asnRow(slot: number): number {
    return this.side[slot * SIDE_WORDS + S_ASN_ROW]! - 1;
  }
  /** Row in the country table, -1 none. */
  countryRow(slot: number): number {
    return this.side[slot * SIDE_WORDS + S_COUNTRY_ROW]! - 1;
  }
  protoMask(slot: number): number {
    return this.bytes[slot * RECORD_BYTES + B_PROTO_MASK]!;
  }
  portsOverflow(slot: number): boolean {
    return this.bytes[slot * RECORD_BYTES + B_PORTS_OVERFLOW] === 1;
  }
  /** The exact destination ports of `slot`, in arrival order. */
  portsOf(slot: number): number[] {
    const n = this.bytes[slot * RECORD_BYTES + B_PORT_COUNT]!;
    const base = slot * RECORD_U16 + W_PORTS;
    const out: number[] = [];
    for (let j = 0; j < n; j++) out.push(this.u16[base + j]!);
    return out;
  }

  /** The source address of `slot` as text. */
  addressOf(slot: number): string {
    const first = this.u32[slot * RECORD_U32 + F_KEY]!;
    if (this.familyOf(slot) === 4) {
      return `${first >>> 24}.${(first >>> 16) & 255}.${(first >>> 8) & 255}.${first & 255}`;
    }
    const words: string[] = [];
    for (let w = 0; w < 4; w++) {
      const v = w === 0 ? first : this.side[slot * SIDE_WORDS + S_KEY1 + w - 1]! >>> 0;
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
