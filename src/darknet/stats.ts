/**
 * Port and protocol statistics over time: packets and unique sources per (protocol, port) per
 * 5 minutes, rolled up into hours, days and the whole run by merging sketches, plus new-port
 * surges against a moving baseline. Keys index flat arrays directly: no hashing per packet.
 */
import { hllCount, hllMergeWords } from '../core/index.ts';
import type { NativeDarknetBinding } from './native/index.ts';
import { zeroedTable } from './memory.ts';
import { NativeSlot } from './native/slots.ts';

export const PROTOCOL_NAMES = ['tcp', 'udp', 'icmp', 'other'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];
/** Ports 0-65535 plus one "all ports" column per protocol. */
export const PORTS_PER_PROTOCOL = 65537;
export const ALL_PORTS = 65536;
export const KEY_SPACE = PROTOCOL_NAMES.length * PORTS_PER_PROTOCOL;
const REGS = 64;
const BITS = 6;
/** Sparse (register, rank) pairs a key slot holds before it takes a dense block. */
const SPARSE_MAX = 8;
const SLOT_BYTES = 32;
const SLOT_F64 = SLOT_BYTES / 8;
const SLOT_U32 = SLOT_BYTES / 4;
const SLOT_U16 = SLOT_BYTES / 2;
/** u32 fields of a key slot (the f64 packet count is word pair 0-1). */
const S_DENSE = 2;
const S_COUNT = 3;
/** u16 index of the sparse pairs in a key slot (bytes 16-31). */
const S_ITEMS = 8;

export const BUCKET_MS = 5 * 60_000;
const HOUR_MS = 3600_000;
const DAY_MS = 86_400_000;

export interface StatsRow {
  granularity: '5m' | '1h' | '1d' | 'total';
  /** Bucket start, ms since the epoch (capture time); 0 for the total. */
  start: number;
  protocol: ProtocolName;
  /** Destination port (ICMP: type; other: IP protocol number); -1 for all ports together. */
  port: number;
  packets: number;
  sources: number;
}

/**
 * The rows of one layer as it closes, as columns by position (a row's protocol and port are its
 * key's): what `onRows` receives instead of an object per row, valid only during the call.
 */
export interface StatsRowBatch {
  granularity: StatsRow['granularity'];
  /** Bucket start, ms since the epoch (capture time); 0 for the total. */
  start: number;
  /** Rows in the batch: positions [0, length) of the columns. */
  length: number;
  /** protocol index * PORTS_PER_PROTOCOL + port (ALL_PORTS: all ports together). */
  keys: Int32Array;
  packets: Float64Array;
  sources: Float64Array;
}

/** The protocol of a key (protocol index * PORTS_PER_PROTOCOL + port). */
function protocolOfKey(key: number): ProtocolName {
  return PROTOCOL_NAMES[(key / PORTS_PER_PROTOCOL) | 0]!;
}

/** The port of a key as StatsRow has it: -1 for all ports together. */
function portOfKey(key: number): number {
  const port = key % PORTS_PER_PROTOCOL;
  return port === ALL_PORTS ? -1 : port;
}

/** Row `i` of `batch` as an object. */
export function statsRowAt(batch: StatsRowBatch, i: number): StatsRow {
  const key = batch.keys[i]!;
  return {
    granularity: batch.granularity,
    start: batch.start,
    protocol: protocolOfKey(key),
    port: portOfKey(key),
    packets: batch.packets[i]!,
    sources: batch.sources[i]!,
  };
}

export interface Surge {
  start: number;
  protocol: ProtocolName;
  port: number;
  sources: number;
  packets: number;
  baseline: number;
}

/** Packets and unique sources per key in use, by position in the layer's key list. */
interface Measured {
  packets: Float64Array;
  sources: Float64Array;
}
/** hllCount's linear-counting estimate of a 64-register sketch with `zeros` empty registers. */
const LINEAR_ESTIMATES = Float64Array.from({ length: REGS + 1 }, (_, zeros) =>
  zeros === 0 ? 0 : Math.round(REGS * Math.log(REGS / zeros)),
);

/** Packs a key (< KEY_SPACE) and its position (< KEY_SPACE) into one sortable number. */
const ORDER_SHIFT = 2 ** 19;

/** Position of each key in a layer's key list while `measure` orders them; -1 between uses. */
let sharedKeyPositions: Int32Array | undefined;
function keyPositions(): Int32Array {
  sharedKeyPositions ??= new Int32Array(KEY_SPACE).fill(-1);
  return sharedKeyPositions;
}

/**
 * A set of (protocol, port) counters with one unique-source sketch each. Most keys see a few
 * sources per bucket, so a sketch starts sparse, as up to SPARSE_MAX (register, rank) pairs
 * inside its key's 32-byte slot, and takes a 64-register dense block only when a ninth register
 * is set (a port that a few one-packet noise sources hit in a bucket, most of a darknet's ports,
 * never does). Both forms hold exactly the same registers, so every estimate and merge is what a
 * dense sketch gives; the sparse form keeps the hot path's memory (and its cache misses) small.
 */
class Layer {
  /** The C measure (native/), when the addon is loaded: the same numbers without JIT warm-up. */
  native: Pick<NativeDarknetBinding, 'measure'> | undefined;
  /** Keys in use, in first-seen order (a key is in use exactly when its packet count is > 0). */
  keys = new Int32Array(1024);
  /**
   * One slot per possible key, addressed by the key itself (no index to look up first; only
   * the pages of keys in use are touched): f64 packets | u32 dense block + 1 (0: sparse) |
   * u32 sparse count | SPARSE_MAX u16 `register << 8 | rank`.
   */
  private readonly slots = zeroedTable(KEY_SPACE * SLOT_BYTES);
  private readonly slotF64 = new Float64Array(this.slots);
  private readonly slotU32 = new Uint32Array(this.slots);
  private readonly slotU16 = new Uint16Array(this.slots);
  private readonly slotBytes = new Uint8Array(this.slots);
  /**
   * Dense blocks of REGS registers, handed out in order and all freed by `clear`: room for one
   * per possible key from the start (address space: only the pages of blocks in use are
   * touched), so the array never grows by copying.
   */
  private readonly dense = new Uint8Array(zeroedTable(KEY_SPACE * REGS));
  private readonly denseWords = new Uint32Array(this.dense.buffer);
  private denseUsed = 0;
  used = 0;

  /** Lists `key` as in use when it is not yet; returns its slot (the key). */
  private slot(key: number): number {
    if (this.slotF64[key * SLOT_F64] === 0) {
      if (this.used >= this.keys.length) this.grow(this.used + 1);
      this.keys[this.used++] = key;
    }
    return key;
  }

  /** Makes room in the key list for at least `needed` keys (doubling). */
  private grow(needed: number): void {
    let n = this.keys.length;
    while (n < needed) n *= 2;
    if (n === this.keys.length) return;
    const keys = new Int32Array(n);
    keys.set(this.keys);
    this.keys = keys;
  }

  /** A zeroed dense block (its id + 1). */
  private newDenseBlock(): number {
    return ++this.denseUsed;
  }

  /**
   * Room for the native loop's next frames: it stops when fewer than two free places are left in
   * the key list, and would hand every frame back until the list grows.
   */
  reserveNative(): void {
    if (this.used + 2 > this.keys.length) this.grow(this.used + 2);
  }

  /** The arrays the native hot loop (native/) adds into; replaced when they grow. */
  nativeArrays(): { slots: Uint8Array; keys: Int32Array; dense: Uint8Array } {
    return { slots: this.slotBytes, keys: this.keys, dense: this.dense };
  }

  saveNative(state: Float64Array): void {
    state[NativeSlot.KEYS_USED] = this.used;
    state[NativeSlot.DENSE_USED] = this.denseUsed;
    state[NativeSlot.STATS_DIRTY] = 0;
  }

  loadNative(state: Float64Array): void {
    this.used = state[NativeSlot.KEYS_USED]!;
    this.denseUsed = state[NativeSlot.DENSE_USED]!;
    if (state[NativeSlot.STATS_DIRTY] !== 0) this.measuredFresh = false;
  }

  /** Packets of the `i`th key in use. */
  packetsAt(i: number): number {
    return this.slotF64[this.keys[i]! * SLOT_F64]!;
  }

  /** Counts one packet from the source hashed `sourceHash` under `key` and, unless it is -1, `key2`. */
  add(key: number, key2: number, sourceHash: number): void {
    this.measuredFresh = false;
    // The register and rank hllAdd would use (REGS = 2^BITS registers).
    const register = sourceHash >>> (32 - BITS);
    const rank = Math.clz32(((sourceHash << BITS) | (1 << (BITS - 1))) >>> 0) + 1;
    const i = this.slot(key);
    this.slotF64[i * SLOT_F64]!++;
    this.raise(i, register, rank);
    if (key2 < 0) return;
    const j = this.slot(key2);
    this.slotF64[j * SLOT_F64]!++;
    this.raise(j, register, rank);
  }

  /** Register `register` of slot `i`'s sketch = max(itself, rank). */
  private raise(i: number, register: number, rank: number): void {
    const u32 = this.slotU32;
    const w = i * SLOT_U32;
    const block = u32[w + S_DENSE]!;
    if (block !== 0) {
      const at = (block - 1) * REGS + register;
      if (rank > this.dense[at]!) this.dense[at] = rank;
      return;
    }
    const n = u32[w + S_COUNT]!;
    const u16 = this.slotU16;
    const items = i * SLOT_U16 + S_ITEMS;
    for (let j = 0; j < n; j++) {
      const item = u16[items + j]!;
      if (item >>> 8 === register) {
        if (rank > (item & 0xff)) u16[items + j] = (register << 8) | rank;
        return;
      }
    }
    if (n < SPARSE_MAX) {
      u16[items + n] = (register << 8) | rank;
      u32[w + S_COUNT] = n + 1;
      return;
    }
    const at = (this.toDense(i) - 1) * REGS;
    this.dense[at + register] = rank; // a register none of the sparse pairs held
  }

  /** Moves slot `i`'s sparse pairs into a new dense block; returns the block id + 1. */
  private toDense(i: number): number {
    const block = this.newDenseBlock();
    const u32 = this.slotU32;
    const w = i * SLOT_U32;
    const at = (block - 1) * REGS;
    const n = u32[w + S_COUNT]!;
    const items = i * SLOT_U16 + S_ITEMS;
    for (let j = 0; j < n; j++) {
      const item = this.slotU16[items + j]!;
      this.dense[at + (item >>> 8)] = item & 0xff;
    }
    u32[w + S_DENSE] = block;
    u32[w + S_COUNT] = 0;
    return block;
  }

  mergeFrom(other: Layer): void {
    const count = other.used;
    if (this.used === 0) {
      // Into an empty layer (the first bucket of an hour, day or run) a merge is a copy.
      this.grow(count);
      this.keys.set(other.keys.subarray(0, count));
      const to = this.slotU32;
      const from = other.slotU32;
      for (let j = 0; j < count; j++) {
        const w = other.keyInAddressOrder(j) * SLOT_U32;
        for (let k = 0; k < SLOT_U32; k++) to[w + k] = from[w + k]!;
      }
      this.dense.set(other.dense.subarray(0, other.denseUsed * REGS));
      this.denseUsed = other.denseUsed;
      this.used = count;
      // A copy measures what its original measured.
      this.measuredFresh = other.measuredFresh;
      if (this.measuredFresh) {
        const m = this.measured;
        if (m.packets.length < count) this.allocateMeasured();
        m.packets.set(other.measured.packets.subarray(0, count));
        m.sources.set(other.measured.sources.subarray(0, count));
        this.order.set(other.order.subarray(0, count));
      }
      return;
    }
    this.measuredFresh = false;
    this.grow(this.used + count);
    const from = other.slotU32;
    const WORDS = REGS / 4;
    for (let j = 0; j < count; j++) {
      const key = other.keys[j]!;
      const i = this.slot(key);
      this.slotF64[i * SLOT_F64]! += other.slotF64[key * SLOT_F64]!;
      const v = key * SLOT_U32;
      const otherBlock = from[v + S_DENSE]!;
      if (otherBlock === 0) {
        const n = from[v + S_COUNT]!;
        const items = key * SLOT_U16 + S_ITEMS;
        for (let k = 0; k < n; k++) {
          const item = other.slotU16[items + k]!;
          this.raise(i, item >>> 8, item & 0xff);
        }
        continue;
      }
      let block = this.slotU32[i * SLOT_U32 + S_DENSE]!;
      if (block === 0) block = this.toDense(i);
      hllMergeWords(this.denseWords, (block - 1) * WORDS, other.denseWords, (otherBlock - 1) * WORDS, WORDS);
    }
  }

  /** Unique-source estimate of the `i`th key in use. */
  sourcesAt(i: number): number {
    return this.sourcesOfKey(this.keys[i]!);
  }

  private sourcesOfKey(key: number): number {
    const w = key * SLOT_U32;
    const block = this.slotU32[w + S_DENSE]!;
    if (block !== 0) return hllCount(this.dense, (block - 1) * REGS, BITS);
    // At most SPARSE_MAX (8) of 64 registers are set, so hllCount's estimate is the linear count
    // from the zero registers alone (its raw estimate, at most 0.709 * 64^2 / 56 = 52, is below
    // 2.5 * REGS).
    return LINEAR_ESTIMATES[REGS - this.slotU32[w + S_COUNT]!]!;
  }

  /** Emits one row per key in use, in first-seen order; `measured` when the caller has measured already. */
  rows(
    granularity: StatsRow['granularity'],
    start: number,
    sink: (batch: StatsRowBatch) => void,
    measured: Measured = this.measure(),
  ): void {
    sink({
      granularity,
      start,
      length: this.used,
      keys: this.keys,
      packets: measured.packets,
      sources: measured.sources,
    });
  }

  private readonly measured: Measured = { packets: new Float64Array(0), sources: new Float64Array(0) };
  private order = new Float64Array(0);
  /** Whether `measured` still describes the layer (nothing added or merged since). */
  private measuredFresh = false;

  /**
   * Every key's packets and unique sources, by position in `keys` (into arrays reused until the
   * next call). Slots are visited in address order, not first-seen order: random reads over a
   * multi-megabyte slot array cost far more than sorting the keys first.
   */
  measure(): Measured {
    const n = this.used;
    const m = this.measured;
    if (this.measuredFresh) return m;
    if (m.packets.length < n) this.allocateMeasured();
    const order = this.order.subarray(0, n);
    if (this.native) {
      // A run's layers are measured once each, over up to KEY_SPACE keys: JavaScript would spend
      // most of that loop unoptimised.
      this.native.measure(
        this.slotBytes,
        this.keys,
        n,
        this.dense,
        LINEAR_ESTIMATES,
        keyPositions(),
        order,
        m.packets,
        m.sources,
      );
      this.measuredFresh = true;
      return m;
    }
    if (n < KEY_SPACE / 32) {
      for (let i = 0; i < n; i++) order[i] = this.keys[i]! * ORDER_SHIFT + i;
      order.sort();
    } else {
      // Many keys: one pass over the key space puts them in order faster than a sort.
      const positions = keyPositions();
      for (let i = 0; i < n; i++) positions[this.keys[i]!] = i;
      let j = 0;
      for (let key = 0; key < KEY_SPACE; key++) {
        const i = positions[key]!;
        if (i < 0) continue;
        order[j++] = key * ORDER_SHIFT + i;
        positions[key] = -1;
      }
    }
    for (let j = 0; j < n; j++) {
      const key = Math.floor(order[j]! / ORDER_SHIFT);
      const i = order[j]! - key * ORDER_SHIFT;
      m.packets[i] = this.slotF64[key * SLOT_F64]!;
      m.sources[i] = this.sourcesOfKey(key);
    }
    this.measuredFresh = true;
    return m;
  }

  /** The `j`th key in use, in address order when a fresh measurement sorted them (else first-seen order). */
  private keyInAddressOrder(j: number): number {
    return this.measuredFresh ? Math.floor(this.order[j]! / ORDER_SHIFT) : this.keys[j]!;
  }

  private allocateMeasured(): void {
    this.measured.packets = new Float64Array(this.keys.length);
    this.measured.sources = new Float64Array(this.keys.length);
    this.order = new Float64Array(this.keys.length);
  }

  clear(): void {
    const u32 = this.slotU32;
    for (let i = 0; i < this.used; i++) {
      const w = this.keyInAddressOrder(i) * SLOT_U32;
      for (let k = 0; k < SLOT_U32; k++) u32[w + k] = 0;
    }
    this.dense.fill(0, 0, this.denseUsed * REGS);
    this.denseUsed = 0;
    this.used = 0;
    this.measuredFresh = false;
  }
}

export interface PortStatsOptions {
  surgeFactor: number;
  surgeMinSources: number;
  surgeWarmupBuckets: number;
  baselineAlpha: number;
  /** Receives every finished row (5m, 1h, 1d as they close; total at finish). */
  onRow?: ((row: StatsRow) => void) | undefined;
  /**
   * Receives the same rows a layer at a time, as columns: no object per row (a closing layer of a
   * busy darknet has a row for most of its 200,000 keys).
   */
  onRows?: ((batch: StatsRowBatch) => void) | undefined;
  onSurge?: ((surge: Surge) => void) | undefined;
}

export class PortStats {
  // Not readonly: a layer closing into an empty one changes places with it instead of being copied.
  private fiveMinutes = new Layer();
  private hour = new Layer();
  private day = new Layer();
  /** Every bucket of the run merged; at the end of a one-bucket run, that bucket's layer itself. */
  private total = new Layer();
  private native: Pick<NativeDarknetBinding, 'measure'> | undefined;
  /** Set by finish: the open layers hold what the last close left in them. */
  private layersSpent = false;
  private readonly baseline = new Float64Array(zeroedTable(KEY_SPACE * 8));
  private readonly current = new Float64Array(zeroedTable(KEY_SPACE * 8));
  private bucket = -1;
  private hourStart = -1;
  private dayStart = -1;
  bucketsClosed = 0;
  /** Capture time of the packet `addNow` counts. */
  clockMs = 0;
  /** Packets older than the open 5-minute bucket (counted into it). */
  latePackets = 0;
  readonly surges: Surge[] = [];
  private readonly sink: (batch: StatsRowBatch) => void;

  constructor(private readonly options: PortStatsOptions) {
    const { onRow, onRows } = options;
    this.sink = (batch) => {
      onRows?.(batch);
      if (onRow) for (let i = 0; i < batch.length; i++) onRow(statsRowAt(batch, i));
    };
  }

  /** Measures layers with the C addon from now on (the analyzer's, when it loaded). */
  useNative(native: Pick<NativeDarknetBinding, 'measure'>): void {
    this.native = native;
    for (const layer of [this.fiveMinutes, this.hour, this.day, this.total]) layer.native = native;
  }

  private newLayer(): Layer {
    const layer = new Layer();
    layer.native = this.native;
    return layer;
  }

  /** The open 5-minute layer's arrays, for the native hot loop (native/). */
  nativeArrays(): { slots: Uint8Array; keys: Int32Array; dense: Uint8Array } {
    return this.fiveMinutes.nativeArrays();
  }

  /** Writes the state the native hot loop reads and advances into `state` (NativeSlot). */
  saveNative(state: Float64Array): void {
    this.fiveMinutes.reserveNative();
    state[NativeSlot.BUCKET] = this.bucket;
    state[NativeSlot.CLOCK_MS] = this.clockMs;
    this.fiveMinutes.saveNative(state);
  }

  loadNative(state: Float64Array): void {
    this.clockMs = state[NativeSlot.CLOCK_MS]!;
    this.fiveMinutes.loadNative(state);
  }

  /**
   * Counts one packet of `protocolIndex` (0 tcp, 1 udp, 2 icmp, 3 other) to `port` (-1 when the
   * packet has none, e.g. a fragment) from a source whose hash is `sourceHash`.
   */
  add(protocolIndex: number, port: number, sourceHash: number, timestampMs: number): void {
    this.clockMs = timestampMs;
    this.addNow(protocolIndex, port, sourceHash);
  }

  /**
   * `add` at time `clockMs` (set by the caller first): the hot path, whose arguments are all
   * small integers, so a call that is not inlined boxes nothing.
   */
  addNow(protocolIndex: number, port: number, sourceHash: number): void {
    const timestampMs = this.clockMs;
    const bucket = Math.floor(timestampMs / BUCKET_MS);
    if (bucket !== this.bucket) {
      if (bucket > this.bucket) this.roll(bucket);
      else this.latePackets++;
    }
    const base = protocolIndex * PORTS_PER_PROTOCOL;
    if (port >= 0) this.fiveMinutes.add(base + port, base + ALL_PORTS, sourceHash);
    else this.fiveMinutes.add(base + ALL_PORTS, -1, sourceHash);
  }

  /** Closes the open 5-minute bucket and any hour/day it ends, moving to `bucket`. */
  private roll(bucket: number): void {
    if (this.layersSpent) {
      // Packets after finish: the last close left its layers as they were (one may be the total).
      this.fiveMinutes = this.newLayer();
      this.hour = this.newLayer();
      this.day = this.newLayer();
      this.hourStart = -1;
      this.dayStart = -1;
      this.layersSpent = false;
    }
    if (this.bucket >= 0) this.closeBucket(bucket);
    this.bucket = bucket;
    const start = bucket * BUCKET_MS;
    if (this.hourStart < 0) this.hourStart = Math.floor(start / HOUR_MS) * HOUR_MS;
    if (this.dayStart < 0) this.dayStart = Math.floor(start / DAY_MS) * DAY_MS;
  }

  private closeBucket(nextBucket: number): void {
    // The run's last close (from finish) prepares nothing for a next bucket: no baselines move,
    // no layer is cleared (finish replaces the open ones), and a run's only bucket becomes the
    // total instead of being copied into it.
    const last = nextBucket < 0;
    const layer = this.fiveMinutes;
    const start = this.bucket * BUCKET_MS;
    // Each key's sources are estimated once, for the rows and the baselines alike.
    const measured = layer.measure();
    layer.rows('5m', start, this.sink, measured);
    this.updateBaselines(layer, measured.sources, start, last ? 0 : nextBucket - this.bucket);
    if (last && this.total.used === 0) this.total = layer;
    else this.total.mergeFrom(layer);
    if (this.hour.used === 0) {
      // The hour's first bucket: the hour takes the layer as it is, and the empty one opens the next bucket.
      this.fiveMinutes = this.hour;
      this.hour = layer;
    } else {
      this.hour.mergeFrom(layer);
      if (!last) layer.clear();
    }
    this.bucketsClosed++;
    const nextStart = nextBucket < 0 ? Infinity : nextBucket * BUCKET_MS;
    if (nextStart >= this.hourStart + HOUR_MS) {
      this.hour.rows('1h', this.hourStart, this.sink);
      if (this.day.used === 0) {
        const hour = this.hour;
        this.hour = this.day;
        this.day = hour;
      } else {
        this.day.mergeFrom(this.hour);
        if (!last) this.hour.clear();
      }
      this.hourStart = Math.floor(nextStart / HOUR_MS) * HOUR_MS;
    }
    if (nextStart >= this.dayStart + DAY_MS) {
      this.day.rows('1d', this.dayStart, this.sink);
      if (!last) this.day.clear();
      this.dayStart = Math.floor(nextStart / DAY_MS) * DAY_MS;
    }
  }

  /**
   * Flags surges in the closing bucket (once past the warm-up), then moves every key's baseline
   * (idle buckets decay it) unless `bucketsAdvanced` is 0 (the run's end: no bucket follows).
   */
  private updateBaselines(layer: Layer, counts: Float64Array, start: number, bucketsAdvanced: number): void {
    const { surgeWarmupBuckets, baselineAlpha } = this.options;
    if (this.bucketsClosed >= surgeWarmupBuckets) this.flagSurges(layer, counts, start);
    if (bucketsAdvanced === 0) return;
    const current = this.current;
    for (let i = 0; i < layer.used; i++) current[layer.keys[i]!] = counts[i]!;
    const keep = 1 - baselineAlpha;
    // Buckets with no packets at all between this one and the next count as zeros.
    const idleDecay = keep ** Math.max(0, bucketsAdvanced - 1);
    const baseline = this.baseline;
    for (let key = 0; key < KEY_SPACE; key++) {
      baseline[key] = (baselineAlpha * current[key]! + keep * baseline[key]!) * idleDecay;
    }
    for (let i = 0; i < layer.used; i++) current[layer.keys[i]!] = 0;
  }

  /** Reports each port whose unique sources in the closing bucket jumped far above its baseline. */
  private flagSurges(layer: Layer, counts: Float64Array, start: number): void {
    const { surgeFactor, surgeMinSources } = this.options;
    for (let i = 0; i < layer.used; i++) {
      const key = layer.keys[i]!;
      const sources = counts[i]!;
      if (key % PORTS_PER_PROTOCOL === ALL_PORTS || sources < surgeMinSources) continue;
      const baseline = this.baseline[key]!;
      if (sources >= surgeFactor * Math.max(baseline, 1)) {
        const surge: Surge = {
          start,
          protocol: protocolOfKey(key),
          port: portOfKey(key),
          sources,
          packets: layer.packetsAt(i),
          baseline: Math.round(baseline * 100) / 100,
        };
        this.surges.push(surge);
        this.options.onSurge?.(surge);
      }
    }
  }

  /** Closes every open bucket and emits the run's totals. */
  finish(): void {
    if (this.bucket >= 0) {
      this.closeBucket(-1);
      this.bucket = -1;
      this.layersSpent = true;
    }
    this.total.rows('total', 0, this.sink);
  }

  /** Top (protocol, port) pairs of the run so far by packets (after finish: complete). */
  topPorts(n: number): { protocol: ProtocolName; port: number; packets: number; sources: number }[] {
    const layer = this.total;
    const order: number[] = [];
    for (let i = 0; i < layer.used; i++) if (layer.keys[i]! % PORTS_PER_PROTOCOL !== ALL_PORTS) order.push(i);
    order.sort((a, b) => layer.packetsAt(b) - layer.packetsAt(a));
    return order.slice(0, n).map((i) => ({
      protocol: protocolOfKey(layer.keys[i]!),
      port: portOfKey(layer.keys[i]!),
      packets: layer.packetsAt(i),
      sources: layer.sourcesAt(i),
    }));
  }
}

export const STATS_CSV_HEADER = 'granularity,start,protocol,port,packets,sources';

/** The last start formatted: a run's rows come in runs of the same start. */
let lastStart = NaN;
let lastStartText = '';

export function formatStatsRow(row: StatsRow): string {
  return statsLine(
    `${row.granularity},${startText(row.granularity, row.start)},`,
    row.protocol,
    row.port,
    row.packets,
    row.sources,
  );
}

/** The CSV lines (formatStatsRow's) of `batch`, passed to `write` in chunks of about `chunk` characters. */
export function formatStatsBatch(batch: StatsRowBatch, write: (text: string) => void, chunk = 1 << 16): void {
  const head = `${batch.granularity},${startText(batch.granularity, batch.start)},`;
  let text = '';
  for (let i = 0; i < batch.length; i++) {
    const key = batch.keys[i]!;
    text += statsLine(head, protocolOfKey(key), portOfKey(key), batch.packets[i]!, batch.sources[i]!);
    if (text.length >= chunk) {
      write(text);
      text = '';
    }
  }
  if (text) write(text);
}

/** One CSV line after its `granularity,start,` head (a port of -1 is written `all`). */
function statsLine(
  head: string,
  protocol: ProtocolName,
  port: number,
  packets: number,
  sources: number,
): string {
  return `${head}${protocol},${port < 0 ? 'all' : port},${packets},${sources}\n`;
}

/** A row's start column: empty for the total, else the bucket start in ISO 8601. */
function startText(granularity: StatsRow['granularity'], start: number): string {
  if (granularity === 'total') return '';
  if (start !== lastStart) {
    lastStart = start;
    lastStartText = new Date(start).toISOString();
  }
  return lastStartText;
}
