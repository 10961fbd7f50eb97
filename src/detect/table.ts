/**
 * The per-destination aggregate table: fixed-size state per (address, port, protocol) key in
 * typed arrays, found through an open-addressing index (linear probing, backward-shift delete).
 * No flow record is kept: only counters, sketches and statistics.
 */
import { mix32 } from './sketch.ts';

/** Exact bot slots per key; past this, bots are counted by the bot sketch. */
export const BOT_SLOTS = 8;
/** HyperLogLog precision for bots past the slots (2^5 registers). */
export const BOT_HLL_BITS = 5;
/** HyperLogLog precision for other clients (2^6 registers). */
export const CLIENT_HLL_BITS = 6;
/** Recent bot-to-destination gaps kept for the periodicity score. */
export const GAP_RING = 8;

const BOT_HLL = 1 << BOT_HLL_BITS;
const CLIENT_HLL = 1 << CLIENT_HLL_BITS;

/** Approximate bytes one key costs (state arrays plus its share of the index). */
export const BYTES_PER_KEY =
  BOT_SLOTS * (4 + 8) + BOT_HLL + CLIENT_HLL + GAP_RING * 4 + 16 /* ip6 */ + 4 * 8 * 13 + 4 * 8; /* index */

export class AggregateTable {
  readonly capacity: number;
  size = 0;
  // Key columns.
  readonly family: Uint8Array;
  readonly ip4: Uint32Array;
  readonly ip6: Uint8Array;
  readonly port: Uint16Array;
  readonly proto: Uint8Array;
  readonly hash: Uint32Array;
  readonly live: Uint8Array;
  // Bots: exact slots (salted hash, last contact time), then a sketch.
  readonly botSlotHash: Uint32Array;
  readonly botSlotLast: Float64Array;
  readonly botSlotsUsed: Uint8Array;
  readonly botHll: Uint8Array;
  /** Bots counted before a restart (the sets themselves are never persisted). */
  readonly baseBots: Float64Array;
  readonly clientHll: Uint8Array;
  readonly baseClients: Float64Array;
  // Counters and statistics.
  readonly flows: Float64Array;
  readonly botFlows: Float64Array;
  readonly bytesN: Float64Array;
  readonly bytesMean: Float64Array;
  readonly bytesM2: Float64Array;
  readonly gapN: Float64Array;
  readonly gapMean: Float64Array;
  readonly gapM2: Float64Array;
  readonly gapRing: Float32Array;
  readonly gapRingCount: Uint8Array;
  readonly gapRingNext: Uint8Array;
  readonly firstSeen: Float64Array;
  readonly lastSeen: Float64Array;
  readonly lastWindow: Float64Array;
  readonly windowsSeen: Float64Array;
  // Publication state.
  readonly confidence: Uint8Array;
  readonly published: Uint8Array;
  readonly dirty: Uint8Array;

  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly freeList: Int32Array;
  private freeCount: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    const n = capacity;
    this.family = new Uint8Array(n);
    this.ip4 = new Uint32Array(n);
    this.ip6 = new Uint8Array(n * 16);
    this.port = new Uint16Array(n);
    this.proto = new Uint8Array(n);
    this.hash = new Uint32Array(n);
    this.live = new Uint8Array(n);
    this.botSlotHash = new Uint32Array(n * BOT_SLOTS);
    this.botSlotLast = new Float64Array(n * BOT_SLOTS);
    this.botSlotsUsed = new Uint8Array(n);
    this.botHll = new Uint8Array(n * BOT_HLL);
    this.baseBots = new Float64Array(n);
    this.clientHll = new Uint8Array(n * CLIENT_HLL);
    this.baseClients = new Float64Array(n);
    this.flows = new Float64Array(n);
    this.botFlows = new Float64Array(n);
    this.bytesN = new Float64Array(n);
    this.bytesMean = new Float64Array(n);
    this.bytesM2 = new Float64Array(n);
    this.gapN = new Float64Array(n);
    this.gapMean = new Float64Array(n);
    this.gapM2 = new Float64Array(n);
    this.gapRing = new Float32Array(n * GAP_RING);
    this.gapRingCount = new Uint8Array(n);
    this.gapRingNext = new Uint8Array(n);
    this.firstSeen = new Float64Array(n);
    this.lastSeen = new Float64Array(n);
    this.lastWindow = new Float64Array(n);
    this.windowsSeen = new Float64Array(n);
    this.confidence = new Uint8Array(n);
    this.published = new Uint8Array(n);
    this.dirty = new Uint8Array(n);
    let indexSize = 16;
    while (indexSize < n * 2) indexSize *= 2;
    this.index = new Int32Array(indexSize);
    this.mask = indexSize - 1;
    this.freeList = new Int32Array(n);
    for (let i = 0; i < n; i++) this.freeList[i] = n - 1 - i;
    this.freeCount = n;
  }

  get full(): boolean {
    return this.freeCount === 0;
  }

  static hashKey4(ip: number, port: number, proto: number): number {
    return mix32(mix32(ip) ^ ((port << 8) | proto));
  }

  static hashKey6(bytes: Uint8Array, offset: number, port: number, proto: number): number {
    let h = (port << 8) | proto;
    for (let i = 0; i < 16; i += 4) {
      h = mix32(
        h ^
          ((bytes[offset + i]! << 24) |
            (bytes[offset + i + 1]! << 16) |
            (bytes[offset + i + 2]! << 8) |
            bytes[offset + i + 3]!),
      );
    }
    return h;
  }

  /** Entry id of an IPv4 key, or -1. */
  find4(ip: number, port: number, proto: number, hash: number): number {
    let slot = hash & this.mask;
    for (;;) {
      const stored = this.index[slot]!;
      if (stored === 0) return -1;
      const e = stored - 1;
      if (
        this.hash[e] === hash &&
        this.family[e] === 4 &&
        this.ip4[e] === ip &&
        this.port[e] === port &&
        this.proto[e] === proto
      ) {
        return e;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** Entry id of an IPv6 key, or -1. */
  find6(bytes: Uint8Array, offset: number, port: number, proto: number, hash: number): number {
    let slot = hash & this.mask;
    for (;;) {
      const stored = this.index[slot]!;
      if (stored === 0) return -1;
      const e = stored - 1;
      if (this.hash[e] === hash && this.family[e] === 6 && this.port[e] === port && this.proto[e] === proto) {
        let same = true;
        const base = e * 16;
        for (let i = 0; i < 16; i++) {
          if (this.ip6[base + i] !== bytes[offset + i]) {
            same = false;
            break;
          }
        }
        if (same) return e;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** Claims a fresh entry for a key (the caller made room first). Returns the entry id. */
  insert(
    family: 4 | 6,
    ip4: number,
    bytes: Uint8Array | undefined,
    offset: number,
    port: number,
    proto: number,
    hash: number,
  ): number {
    const e = this.freeList[--this.freeCount]!;
    this.clear(e);
    this.family[e] = family;
    this.ip4[e] = ip4;
    if (family === 6 && bytes) this.ip6.set(bytes.subarray(offset, offset + 16), e * 16);
    else this.ip6.fill(0, e * 16, e * 16 + 16);
    this.port[e] = port;
    this.proto[e] = proto;
    this.hash[e] = hash;
    this.live[e] = 1;
    let slot = hash & this.mask;
    while (this.index[slot] !== 0) slot = (slot + 1) & this.mask;
    this.index[slot] = e + 1;
    this.size++;
    return e;
  }

  /** Removes an entry and closes the gap in its probe chain. */
  remove(e: number): void {
    if (!this.live[e]) return;
    let slot = this.hash[e]! & this.mask;
    while (this.index[slot] !== e + 1) slot = (slot + 1) & this.mask;
    // Backward-shift deletion: move later entries of the chain into the hole when allowed.
    let hole = slot;
    let next = (hole + 1) & this.mask;
    for (;;) {
      const stored = this.index[next]!;
      if (stored === 0) break;
      const home = this.hash[stored - 1]! & this.mask;
      // The entry at `next` may move to `hole` when its home is not within (hole, next].
      const distHome = (next - home) & this.mask;
      const distHole = (next - hole) & this.mask;
      if (distHome >= distHole) {
        this.index[hole] = stored;
        hole = next;
      }
      next = (next + 1) & this.mask;
    }
    this.index[hole] = 0;
    this.live[e] = 0;
    this.freeList[this.freeCount++] = e;
    this.size--;
  }

  private clear(e: number): void {
    this.botSlotHash.fill(0, e * BOT_SLOTS, (e + 1) * BOT_SLOTS);
    this.botSlotLast.fill(0, e * BOT_SLOTS, (e + 1) * BOT_SLOTS);
    this.botSlotsUsed[e] = 0;
    this.botHll.fill(0, e * BOT_HLL, (e + 1) * BOT_HLL);
    this.baseBots[e] = 0;
    this.clientHll.fill(0, e * CLIENT_HLL, (e + 1) * CLIENT_HLL);
    this.baseClients[e] = 0;
    this.flows[e] = 0;
    this.botFlows[e] = 0;
    this.bytesN[e] = 0;
    this.bytesMean[e] = 0;
    this.bytesM2[e] = 0;
    this.gapN[e] = 0;
    this.gapMean[e] = 0;
    this.gapM2[e] = 0;
    this.gapRing.fill(0, e * GAP_RING, (e + 1) * GAP_RING);
    this.gapRingCount[e] = 0;
    this.gapRingNext[e] = 0;
    this.firstSeen[e] = 0;
    this.lastSeen[e] = 0;
    this.lastWindow[e] = -1;
    this.windowsSeen[e] = 0;
    this.confidence[e] = 0;
    this.published[e] = 0;
    this.dirty[e] = 0;
  }
}
