/** Splits FlowBatch rows into partitions by a hash of the external (address, protocol) key detection aggregates on. */
import { FlowBatch, murmur3Block, murmur3Final, type PrefixSet } from '../core/index.ts';

/** Hard cap: partition ids travel in a Uint16Array and in subject names. */
export const MAX_PARTITIONS = 4096;

/**
 * How to pick the key side when subscriber prefixes cannot tell (none given, or both or
 * neither side is a subscriber):
 * - `destination`: the flow's destination. Requests land where their server key lives;
 *   replies land by the client's key, so they are not with their requests.
 * - `service-port`: the side with the lower port (ties: the lower address), a symmetric rule:
 *   both directions of a contact land together, and whenever the server's port is the lower
 *   one (well-known ports against ephemeral ones) every client of that server does too.
 */
export type UnknownSide = 'destination' | 'service-port';

export interface PartitionOptions {
  /** The ISP's own networks: the key side is the one outside them. */
  subscribers?: PrefixSet | undefined;
  unknownSide?: UnknownSide;
}

/** Which side of a row is the key: the source or the destination. */
const SRC = 0;
const DST = 1;

// MurmurHash3_x86_32 (seed "tsun", core's steps) over 32-bit words: cheap, well spread, and the same in every
// process, which the contract needs (every collector must send a key to the same partition).

/** Hash of an IPv4 endpoint key (address, port, protocol). */
export function keyHash4(address: number, port: number, proto: number): number {
  let h = murmur3Block(0x7473756e, address | 0); // seed: "tsun"
  h = murmur3Block(h, (port << 8) | proto);
  return murmur3Final(h, 8);
}

/** Hash of an IPv6 endpoint key: 16 address bytes at `offset`, port, protocol. */
export function keyHash6(bytes: Uint8Array, offset: number, port: number, proto: number): number {
  let h = 0x7473756e;
  for (let w = 0; w < 16; w += 4) {
    const o = offset + w;
    h = murmur3Block(h, (bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!);
  }
  h = murmur3Block(h, (port << 8) | proto);
  return murmur3Final(h, 20);
}

/** -1, 0 or 1 comparing the source address of `row` with its destination address. */
function compareAddresses(batch: FlowBatch, row: number): number {
  if (batch.ipVersion[row] !== 6) {
    const s = batch.src4[row]!;
    const d = batch.dst4[row]!;
    return s < d ? -1 : s > d ? 1 : 0;
  }
  const off = row * 16;
  for (let b = 0; b < 16; b++) {
    const s = batch.src6[off + b]!;
    const d = batch.dst6[off + b]!;
    if (s !== d) return s < d ? -1 : 1;
  }
  return 0;
}

function keySide(
  batch: FlowBatch,
  row: number,
  subscribers: PrefixSet | undefined,
  serviceRule: boolean,
): number {
  if (subscribers !== undefined) {
    const v6 = batch.ipVersion[row] === 6;
    const off = row * 16;
    const srcSub = v6 ? subscribers.has6(batch.src6, off) : subscribers.has4(batch.src4[row]!);
    const dstSub = v6 ? subscribers.has6(batch.dst6, off) : subscribers.has4(batch.dst4[row]!);
    if (srcSub !== dstSub) return srcSub ? DST : SRC;
  }
  if (!serviceRule) return DST;
  const sp = batch.srcPort[row]!;
  const dp = batch.dstPort[row]!;
  if (sp !== dp) return sp < dp ? SRC : DST;
  return compareAddresses(batch, row) < 0 ? SRC : DST;
}

/** The partition of one row, in `0..partitions-1`. */
export function partitionOfRow(
  batch: FlowBatch,
  row: number,
  partitions: number,
  options: PartitionOptions = {},
): number {
  return partitionOf(batch, row, partitions, subscribersOf(options), options.unknownSide === 'service-port');
}

const subscribersOf = (options: PartitionOptions) =>
  options.subscribers && options.subscribers.size > 0 ? options.subscribers : undefined;

function partitionOf(
  batch: FlowBatch,
  row: number,
  partitions: number,
  subs: PrefixSet | undefined,
  serviceRule: boolean,
): number {
  const side = keySide(batch, row, subs, serviceRule);
  const proto = batch.proto[row]!;
  // The detector aggregates per (address, protocol) so that a server hopping ports (fast flux)
  // keeps its evidence: the port stays out of the key, or its ports would land on two workers.
  const hash =
    batch.ipVersion[row] === 6
      ? keyHash6(side === DST ? batch.dst6 : batch.src6, row * 16, 0, proto)
      : keyHash4(side === DST ? batch.dst4[row]! : batch.src4[row]!, 0, proto);
  return hash % partitions;
}

function checkPartitions(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw new RangeError(`partitions must be an integer in 1..${MAX_PARTITIONS}, got ${partitions}`);
  }
}

/**
 * Writes each row's partition into `ids[0..batch.length)` and the row count of each partition
 * into `counts[0..partitions)`. No allocation; the caller owns both arrays.
 */
export function assignPartitions(
  batch: FlowBatch,
  partitions: number,
  ids: Uint16Array,
  counts: Uint32Array,
  options: PartitionOptions = {},
): void {
  checkPartitions(partitions);
  if (ids.length < batch.length || counts.length < partitions)
    throw new RangeError('scratch arrays too small');
  counts.fill(0, 0, partitions);
  const subs = subscribersOf(options);
  const serviceRule = options.unknownSide === 'service-port';
  for (let r = 0; r < batch.length; r++) {
    const p = partitionOf(batch, r, partitions, subs, serviceRule);
    ids[r] = p;
    counts[p]!++;
  }
}

/**
 * Orders row indices by partition (a counting sort, stable): on return, partition p's rows are
 * `rows[offsets[p] .. offsets[p + 1])`. `offsets` needs `partitions + 1` entries.
 */
export function groupRows(
  ids: Uint16Array,
  length: number,
  counts: Uint32Array,
  partitions: number,
  rows: Uint32Array,
  offsets: Uint32Array,
): void {
  let sum = 0;
  for (let p = 0; p < partitions; p++) {
    offsets[p] = sum;
    sum += counts[p]!;
  }
  offsets[partitions] = sum;
  // Reuse counts as the write cursor of each partition, then restore it.
  for (let p = 0; p < partitions; p++) counts[p] = offsets[p]!;
  for (let r = 0; r < length; r++) rows[counts[ids[r]!]!++] = r;
  for (let p = 0; p < partitions; p++) counts[p] = offsets[p + 1]! - offsets[p]!;
}

/** Copies row `from` of `src` to row `to` of `dst`, every column (IPv6 bytes only for v6 rows). */
function copyRow(src: FlowBatch, from: number, dst: FlowBatch, to: number): void {
  dst.exporter[to] = src.exporter[from]!;
  dst.version[to] = src.version[from]!;
  dst.startMs[to] = src.startMs[from]!;
  dst.endMs[to] = src.endMs[from]!;
  const ipv = src.ipVersion[from]!;
  dst.ipVersion[to] = ipv;
  dst.src4[to] = src.src4[from]!;
  dst.dst4[to] = src.dst4[from]!;
  if (ipv === 6) {
    const s = from * 16;
    const d = to * 16;
    for (let b = 0; b < 16; b++) {
      dst.src6[d + b] = src.src6[s + b]!;
      dst.dst6[d + b] = src.dst6[s + b]!;
    }
  }
  dst.srcPort[to] = src.srcPort[from]!;
  dst.dstPort[to] = src.dstPort[from]!;
  dst.proto[to] = src.proto[from]!;
  dst.tcpFlags[to] = src.tcpFlags[from]!;
  dst.packets[to] = src.packets[from]!;
  dst.bytes[to] = src.bytes[from]!;
  dst.samplingRate[to] = src.samplingRate[from]!;
}

/**
 * Splits `batch` into `partitions` new batches (index = partition), each sized to its rows and
 * carrying the whole exporter table so exporter indices stay valid. Rows keep their order.
 */
export function partitionBatch(
  batch: FlowBatch,
  partitions: number,
  options: PartitionOptions = {},
): FlowBatch[] {
  checkPartitions(partitions);
  const ids = new Uint16Array(batch.length);
  const counts = new Uint32Array(partitions);
  assignPartitions(batch, partitions, ids, counts, options);
  const out: FlowBatch[] = new Array(partitions);
  for (let p = 0; p < partitions; p++) {
    const part = new FlowBatch(counts[p]!);
    for (const e of batch.exporters) part.exporters.push(e);
    out[p] = part;
  }
  for (let r = 0; r < batch.length; r++) {
    const part = out[ids[r]!]!;
    copyRow(batch, r, part, part.length++);
  }
  return out;
}

/**
 * Partitions for `workers` workers, balanced by measured load (rows per partition, e.g. from
 * tsunagi_transport_publish_partition_rows_total): heaviest partition first to the least loaded
 * worker (LPT). A key is never split, so one heavy key (a big resolver or CDN) bounds the
 * balance; more partitions let the rest spread around it. Ties go to the lower worker, so every
 * worker computing this from the same loads gets the same answer.
 */
export function balancePartitions(loads: readonly number[], workers: number): number[][] {
  if (!(workers >= 1)) throw new RangeError('at least one worker');
  const order = loads.map((load, p) => ({ load, p })).sort((a, b) => b.load - a.load || a.p - b.p);
  const total = new Array<number>(workers).fill(0);
  const owned: number[][] = Array.from({ length: workers }, () => []);
  for (const { load, p } of order) {
    let best = 0;
    for (let w = 1; w < workers; w++) if (total[w]! < total[best]!) best = w;
    owned[best]!.push(p);
    total[best]! += load;
  }
  return owned.map((list) => list.sort((a, b) => a - b));
}
