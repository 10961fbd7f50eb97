/**
 * The per-destination aggregate table: fixed-size state per (address, protocol) key in typed
 * arrays, found through an open-addressing index (linear probing, backward-shift delete). The
 * key leaves the port out so a server that moves to a new port (fast flux) keeps its evidence;
 * the port the bots used last is a column. No flow record is kept: only counters, per-bot
 * statistics in a few exact slots, sketches past them.
 */
import { mix32 } from '../core/index.ts';

/** Exact bot slots per key (per-bot contacts, intervals, sessions); past this, the bot sketch counts. */
export const BOT_SLOTS = 16;
/** Exact clean-client slots per key; past this, the client sketch counts. */
export const CLIENT_SLOTS = 16;
/** HyperLogLog precision for bots past the slots (2^5 registers). */
export const BOT_HLL_BITS = 5;
/** HyperLogLog precision for other clients (2^6 registers). */
export const CLIENT_HLL_BITS = 6;

const BOT_HLL = 1 << BOT_HLL_BITS;
const CLIENT_HLL = 1 << CLIENT_HLL_BITS;

/** Approximate bytes one key costs (state arrays plus its share of the index). */
export const BYTES_PER_KEY =
  BOT_SLOTS * (4 + 8 + 8 + 2 + 2 + 2 + 4 + 4 + 4 + 2 + 4) +
  CLIENT_SLOTS * 4 +
  BOT_HLL +
  CLIENT_HLL +
  16 /* ip6 */ +
  8 * 18 /* float64 columns */ +
  32 /* small columns */ +
  4 * 8; /* index */

export class AggregateTable {
  readonly capacity: number;
  size = 0;
  // Key columns.
  readonly family: Uint8Array;
  readonly ip4: Uint32Array;
  readonly ip6: Uint8Array;
  readonly proto: Uint8Array;
  /** Key hashes as int32 (hashKey4/hashKey6): compared without boxing. */
  readonly hash: Int32Array;
  readonly live: Uint8Array;
  /** 1 when the address is inside the subscriber prefixes (only ever a P2P peer, never a C&C). */
  readonly internal: Uint8Array;
  /** The port the bots used last, and how many times it changed. */
  readonly port: Uint16Array;
  readonly portChanges: Uint16Array;
  // Bots: exact slots (home hash and that bot's own contacts, intervals, session), then a sketch.
  readonly botSlotHash: Uint32Array;
  readonly botSlotLast: Float64Array;
  readonly botSlotLastEnd: Float64Array;
  readonly botSlotContacts: Uint16Array;
  readonly botSlotPort: Uint16Array;
  readonly botSlotGapN: Uint16Array;
  readonly botSlotGapMean: Float32Array;
  readonly botSlotGapM2: Float32Array;
  readonly botSlotSessionMs: Float32Array;
  readonly botSlotFamily: Uint16Array;
  /** Contacts of the bot estimated from what sampling let through (each seen contact weighs 1/P(seen)). */
  readonly botSlotEstContacts: Float32Array;
  readonly botSlotsUsed: Uint8Array;
  readonly botHll: Uint8Array;
  // Clean clients: exact home hashes, then a sketch.
  readonly clientSlotHash: Uint32Array;
  readonly clientSlotsUsed: Uint8Array;
  readonly clientHll: Uint8Array;
  /** Counts before a restart (the per-bot slots themselves are never persisted). */
  readonly baseBots: Float64Array;
  /** A restored aggregate's family (index into the detector's restored names; 0 none). */
  readonly baseFamily: Uint16Array;
  readonly baseReturning: Float64Array;
  readonly basePeriodicity: Float64Array;
  readonly baseClients: Float64Array;
  // Counters and statistics.
  readonly flows: Float64Array;
  readonly botFlows: Float64Array;
  readonly bytesN: Float64Array;
  readonly bytesMean: Float64Array;
  readonly bytesM2: Float64Array;
  readonly samplingMax: Uint32Array;
  /** Sum over bot contacts of the probability that sampling lets a contact like it through. */
  readonly seenProbSum: Float64Array;
  readonly firstSeen: Float64Array;
  readonly lastSeen: Float64Array;
  readonly lastWindow: Float64Array;
  readonly windowsSeen: Float64Array;
  // Publication state.
  readonly confidence: Uint8Array;
  readonly published: Uint8Array;
  /** The port in the published key (a moved server is published again under its new port). */
  readonly publishedPort: Uint16Array;
  readonly peerConfidence: Uint8Array;
  readonly peerPublished: Uint8Array;
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
    this.proto = new Uint8Array(n);
    this.hash = new Int32Array(n);
    this.live = new Uint8Array(n);
    this.internal = new Uint8Array(n);
    this.port = new Uint16Array(n);
    this.portChanges = new Uint16Array(n);
    this.botSlotHash = new Uint32Array(n * BOT_SLOTS);
    this.botSlotLast = new Float64Array(n * BOT_SLOTS);
    this.botSlotLastEnd = new Float64Array(n * BOT_SLOTS);
    this.botSlotContacts = new Uint16Array(n * BOT_SLOTS);
    this.botSlotPort = new Uint16Array(n * BOT_SLOTS);
    this.botSlotGapN = new Uint16Array(n * BOT_SLOTS);
    this.botSlotGapMean = new Float32Array(n * BOT_SLOTS);
    this.botSlotGapM2 = new Float32Array(n * BOT_SLOTS);
    this.botSlotSessionMs = new Float32Array(n * BOT_SLOTS);
    this.botSlotFamily = new Uint16Array(n * BOT_SLOTS);
    this.botSlotEstContacts = new Float32Array(n * BOT_SLOTS);
    this.botSlotsUsed = new Uint8Array(n);
    this.botHll = new Uint8Array(n * BOT_HLL);
    this.clientSlotHash = new Uint32Array(n * CLIENT_SLOTS);
    this.clientSlotsUsed = new Uint8Array(n);
    this.clientHll = new Uint8Array(n * CLIENT_HLL);
    this.baseBots = new Float64Array(n);
    this.baseFamily = new Uint16Array(n);
    this.baseReturning = new Float64Array(n);
    this.basePeriodicity = new Float64Array(n);
    this.baseClients = new Float64Array(n);
    this.flows = new Float64Array(n);
    this.botFlows = new Float64Array(n);
    this.bytesN = new Float64Array(n);
    this.bytesMean = new Float64Array(n);
    this.bytesM2 = new Float64Array(n);
    this.samplingMax = new Uint32Array(n);
    this.seenProbSum = new Float64Array(n);
    this.firstSeen = new Float64Array(n);
    this.lastSeen = new Float64Array(n);
    this.lastWindow = new Float64Array(n);
    this.windowsSeen = new Float64Array(n);
    this.confidence = new Uint8Array(n);
    this.published = new Uint8Array(n);
    this.publishedPort = new Uint16Array(n);
    this.peerConfidence = new Uint8Array(n);
    this.peerPublished = new Uint8Array(n);
    this.dirty = new Uint8Array(n);
    let indexSize = 16;
    while (indexSize < n * 2) indexSize *= 2;
    this.index = new Int32Array(indexSize);
    this.mask = indexSize - 1;
    this.freeList = new Int32Array(n);
    for (let i = 0; i < n; i++) this.freeList[i] = n - 1 - i;
    this.freeCount = n;
  }

  /**
   * One past the highest entry id ever used: entries are handed out from 0 upward and freed ids
   * are reused first, so scans over live entries stop here instead of at the capacity.
   */
  highWater = 0;

  get full(): boolean {
    return this.freeCount === 0;
  }

  static hashKey4(ip: number, proto: number): number {
    return mix32(mix32(ip) ^ proto) | 0;
  }

  static hashKey6(bytes: Uint8Array, offset: number, proto: number): number {
    let h = proto;
    for (let i = 0; i < 16; i += 4) {
      h = mix32(
        h ^
          ((bytes[offset + i]! << 24) |
            (bytes[offset + i + 1]! << 16) |
            (bytes[offset + i + 2]! << 8) |
            bytes[offset + i + 3]!),
      );
    }
    return h | 0;
  }

  /** Entry id of an IPv4 key, or -1. */
  find4(ip: number, proto: number, hash: number): number {
    let slot = hash & this.mask;
    for (;;) {
      const stored = this.index[slot]!;
      if (stored === 0) return -1;
      const e = stored - 1;
      if (
        this.hash[e] === hash &&
        this.family[e] === 4 &&
        (this.ip4[e]! | 0) === (ip | 0) &&
        this.proto[e] === proto
      ) {
        return e;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** Entry id of an IPv6 key, or -1. */
  find6(bytes: Uint8Array, offset: number, proto: number, hash: number): number {
    let slot = hash & this.mask;
    for (;;) {
      const stored = this.index[slot]!;
      if (stored === 0) return -1;
      const e = stored - 1;
      if (this.hash[e] === hash && this.family[e] === 6 && this.proto[e] === proto) {
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
    internal = false,
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
    this.internal[e] = internal ? 1 : 0;
    let slot = hash & this.mask;
    while (this.index[slot] !== 0) slot = (slot + 1) & this.mask;
    this.index[slot] = e + 1;
    this.size++;
    if (e >= this.highWater) this.highWater = e + 1;
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
    const bots = e * BOT_SLOTS;
    this.botSlotHash.fill(0, bots, bots + BOT_SLOTS);
    this.botSlotLast.fill(0, bots, bots + BOT_SLOTS);
    this.botSlotLastEnd.fill(0, bots, bots + BOT_SLOTS);
    this.botSlotContacts.fill(0, bots, bots + BOT_SLOTS);
    this.botSlotPort.fill(0, bots, bots + BOT_SLOTS);
    this.botSlotGapN.fill(0, bots, bots + BOT_SLOTS);
    this.botSlotGapMean.fill(0, bots, bots + BOT_SLOTS);
    this.botSlotGapM2.fill(0, bots, bots + BOT_SLOTS);
    this.botSlotSessionMs.fill(0, bots, bots + BOT_SLOTS);
    this.botSlotFamily.fill(0, bots, bots + BOT_SLOTS);
    this.botSlotEstContacts.fill(0, bots, bots + BOT_SLOTS);
    this.botSlotsUsed[e] = 0;
    this.botHll.fill(0, e * BOT_HLL, (e + 1) * BOT_HLL);
    this.clientSlotHash.fill(0, e * CLIENT_SLOTS, (e + 1) * CLIENT_SLOTS);
    this.clientSlotsUsed[e] = 0;
    this.clientHll.fill(0, e * CLIENT_HLL, (e + 1) * CLIENT_HLL);
    this.portChanges[e] = 0;
    this.baseBots[e] = 0;
    this.baseFamily[e] = 0;
    this.baseReturning[e] = 0;
    this.basePeriodicity[e] = 0;
    this.baseClients[e] = 0;
    this.flows[e] = 0;
    this.botFlows[e] = 0;
    this.bytesN[e] = 0;
    this.bytesMean[e] = 0;
    this.bytesM2[e] = 0;
    this.samplingMax[e] = 1;
    this.seenProbSum[e] = 0;
    this.firstSeen[e] = 0;
    this.lastSeen[e] = 0;
    this.lastWindow[e] = -1;
    this.windowsSeen[e] = 0;
    this.confidence[e] = 0;
    this.published[e] = 0;
    this.publishedPort[e] = 0;
    this.peerConfidence[e] = 0;
    this.peerPublished[e] = 0;
    this.dirty[e] = 0;
  }
}
