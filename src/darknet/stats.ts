/**
 * Port and protocol statistics over time: packets and unique sources per (protocol, port) per
 * 5 minutes, rolled up into hours, days and the whole run by merging sketches, plus new-port
 * surges against a moving baseline. Keys index flat arrays directly: no hashing per packet.
 */
import { hllAdd, hllCount, hllMerge } from './hll.ts';

export const PROTOCOL_NAMES = ['tcp', 'udp', 'icmp', 'other'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];
/** Ports 0-65535 plus one "all ports" column per protocol. */
export const PORTS_PER_PROTOCOL = 65537;
export const ALL_PORTS = 65536;
export const KEY_SPACE = PROTOCOL_NAMES.length * PORTS_PER_PROTOCOL;
const REGS = 64;
const BITS = 6;

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

export interface Surge {
  start: number;
  protocol: ProtocolName;
  port: number;
  sources: number;
  packets: number;
  baseline: number;
}

/** A set of (protocol, port) counters with one unique-source sketch each. */
class Layer {
  readonly index = new Int32Array(KEY_SPACE).fill(-1);
  keys = new Int32Array(1024);
  packets = new Float64Array(1024);
  regs = new Uint8Array(1024 * REGS);
  used = 0;

  private slot(key: number): number {
    let i = this.index[key]!;
    if (i >= 0) return i;
    i = this.used++;
    if (i >= this.keys.length) this.grow();
    this.index[key] = i;
    this.keys[i] = key;
    return i;
  }

  private grow(): void {
    const n = this.keys.length * 2;
    const keys = new Int32Array(n);
    keys.set(this.keys);
    const packets = new Float64Array(n);
    packets.set(this.packets);
    const regs = new Uint8Array(n * REGS);
    regs.set(this.regs);
    this.keys = keys;
    this.packets = packets;
    this.regs = regs;
  }

  add(key: number, sourceHash: number): void {
    const i = this.slot(key);
    this.packets[i]!++;
    hllAdd(this.regs, i * REGS, BITS, sourceHash);
  }

  mergeFrom(other: Layer): void {
    for (let j = 0; j < other.used; j++) {
      const i = this.slot(other.keys[j]!);
      this.packets[i]! += other.packets[j]!;
      hllMerge(this.regs, i * REGS, other.regs, j * REGS, REGS);
    }
  }

  sourcesAt(i: number): number {
    return hllCount(this.regs, i * REGS, REGS);
  }

  rows(granularity: StatsRow['granularity'], start: number, sink: (row: StatsRow) => void): void {
    for (let i = 0; i < this.used; i++) {
      const key = this.keys[i]!;
      const port = key % PORTS_PER_PROTOCOL;
      sink({
        granularity,
        start,
        protocol: PROTOCOL_NAMES[(key / PORTS_PER_PROTOCOL) | 0]!,
        port: port === ALL_PORTS ? -1 : port,
        packets: this.packets[i]!,
        sources: this.sourcesAt(i),
      });
    }
  }

  clear(): void {
    for (let i = 0; i < this.used; i++) this.index[this.keys[i]!] = -1;
    this.packets.fill(0, 0, this.used);
    this.regs.fill(0, 0, this.used * REGS);
    this.used = 0;
  }
}

export interface PortStatsOptions {
  surgeFactor: number;
  surgeMinSources: number;
  surgeWarmupBuckets: number;
  baselineAlpha: number;
  /** Receives every finished row (5m, 1h, 1d as they close; total at finish). */
  onRow?: ((row: StatsRow) => void) | undefined;
  onSurge?: ((surge: Surge) => void) | undefined;
}

export class PortStats {
  private readonly fiveMinutes = new Layer();
  private readonly hour = new Layer();
  private readonly day = new Layer();
  readonly total = new Layer();
  private readonly baseline = new Float64Array(KEY_SPACE);
  private readonly current = new Float64Array(KEY_SPACE);
  private bucket = -1;
  private hourStart = -1;
  private dayStart = -1;
  bucketsClosed = 0;
  /** Packets older than the open 5-minute bucket (counted into it). */
  latePackets = 0;
  readonly surges: Surge[] = [];
  private readonly sink: (row: StatsRow) => void;

  constructor(private readonly options: PortStatsOptions) {
    this.sink = options.onRow ?? (() => {});
  }

  /**
   * Counts one packet of `protocolIndex` (0 tcp, 1 udp, 2 icmp, 3 other) to `port` (-1 when the
   * packet has none, e.g. a fragment) from a source whose hash is `sourceHash`.
   */
  add(protocolIndex: number, port: number, sourceHash: number, timestampMs: number): void {
    const bucket = Math.floor(timestampMs / BUCKET_MS);
    if (bucket !== this.bucket) {
      if (bucket > this.bucket) this.roll(bucket);
      else this.latePackets++;
    }
    const base = protocolIndex * PORTS_PER_PROTOCOL;
    if (port >= 0) this.fiveMinutes.add(base + port, sourceHash);
    this.fiveMinutes.add(base + ALL_PORTS, sourceHash);
  }

  /** Closes the open 5-minute bucket and any hour/day it ends, moving to `bucket`. */
  private roll(bucket: number): void {
    if (this.bucket >= 0) this.closeBucket(bucket);
    this.bucket = bucket;
    const start = bucket * BUCKET_MS;
    if (this.hourStart < 0) this.hourStart = Math.floor(start / HOUR_MS) * HOUR_MS;
    if (this.dayStart < 0) this.dayStart = Math.floor(start / DAY_MS) * DAY_MS;
  }

  private closeBucket(nextBucket: number): void {
    const layer = this.fiveMinutes;
    const start = this.bucket * BUCKET_MS;
    layer.rows('5m', start, this.sink);
    this.updateBaselines(layer, start, nextBucket < 0 ? 1 : nextBucket - this.bucket);
    this.hour.mergeFrom(layer);
    this.total.mergeFrom(layer);
    layer.clear();
    this.bucketsClosed++;
    const nextStart = nextBucket < 0 ? Infinity : nextBucket * BUCKET_MS;
    if (nextStart >= this.hourStart + HOUR_MS) {
      this.hour.rows('1h', this.hourStart, this.sink);
      this.day.mergeFrom(this.hour);
      this.hour.clear();
      this.hourStart = Math.floor(nextStart / HOUR_MS) * HOUR_MS;
    }
    if (nextStart >= this.dayStart + DAY_MS) {
      this.day.rows('1d', this.dayStart, this.sink);
      this.day.clear();
      this.dayStart = Math.floor(nextStart / DAY_MS) * DAY_MS;
    }
  }

  /** Flags surges in the closing bucket, then moves every key's baseline (idle buckets decay it). */
  private updateBaselines(layer: Layer, start: number, bucketsAdvanced: number): void {
    const { surgeFactor, surgeMinSources, surgeWarmupBuckets, baselineAlpha } = this.options;
    const current = this.current;
    for (let i = 0; i < layer.used; i++) {
      const key = layer.keys[i]!;
      const sources = layer.sourcesAt(i);
      current[key] = sources;
      if (key % PORTS_PER_PROTOCOL === ALL_PORTS) continue;
      const baseline = this.baseline[key]!;
      if (
        this.bucketsClosed >= surgeWarmupBuckets &&
        sources >= surgeMinSources &&
        sources >= surgeFactor * Math.max(baseline, 1)
      ) {
        const surge: Surge = {
          start,
          protocol: PROTOCOL_NAMES[(key / PORTS_PER_PROTOCOL) | 0]!,
          port: key % PORTS_PER_PROTOCOL,
          sources,
          packets: layer.packets[i]!,
          baseline: Math.round(baseline * 100) / 100,
        };
        this.surges.push(surge);
        this.options.onSurge?.(surge);
      }
    }
    const keep = 1 - baselineAlpha;
    // Buckets with no packets at all between this one and the next count as zeros.
    const idleDecay = keep ** Math.max(0, bucketsAdvanced - 1);
    const baseline = this.baseline;
    for (let key = 0; key < KEY_SPACE; key++) {
      baseline[key] = (baselineAlpha * current[key]! + keep * baseline[key]!) * idleDecay;
    }
    for (let i = 0; i < layer.used; i++) current[layer.keys[i]!] = 0;
  }

  /** Closes every open bucket and emits the run's totals. */
  finish(): void {
    if (this.bucket >= 0) {
      this.closeBucket(-1);
      this.bucket = -1;
    }
    this.total.rows('total', 0, this.sink);
  }

  /** Top (protocol, port) pairs of the run so far by packets (after finish: complete). */
  topPorts(n: number): { protocol: ProtocolName; port: number; packets: number; sources: number }[] {
    const layer = this.total;
    const order: number[] = [];
    for (let i = 0; i < layer.used; i++) if (layer.keys[i]! % PORTS_PER_PROTOCOL !== ALL_PORTS) order.push(i);
    order.sort((a, b) => layer.packets[b]! - layer.packets[a]!);
    return order.slice(0, n).map((i) => ({
      protocol: PROTOCOL_NAMES[(layer.keys[i]! / PORTS_PER_PROTOCOL) | 0]!,
      port: layer.keys[i]! % PORTS_PER_PROTOCOL,
      packets: layer.packets[i]!,
      sources: layer.sourcesAt(i),
    }));
  }
}

export const STATS_CSV_HEADER = 'granularity,start,protocol,port,packets,sources';

export function formatStatsRow(row: StatsRow): string {
  const start = row.granularity === 'total' ? '' : new Date(row.start).toISOString();
  return `${row.granularity},${start},${row.protocol},${row.port < 0 ? 'all' : row.port},${row.packets},${row.sources}\n`;
}
