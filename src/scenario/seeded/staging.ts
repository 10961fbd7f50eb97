/**
 * The staging area of one time slice: every traffic family writes flow records here in any
 * order; drain() sorts them by start time and hands out FlowBatches. Records that start after
 * the slice (a reply a few ms later) wait for the next slice, so the stream stays time-ordered.
 * The standard scenario (../generate.ts) stages its slices here too, draining each one whole.
 */
import { FlowBatch, FlowVersion } from '../../core/index.ts';

/** An address: IPv4 as an unsigned 32-bit number, IPv6 as 16 bytes. */
export type Addr = number | Uint8Array;

export const TCP = 6;
export const UDP = 17;
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
/** FIN SYN PSH ACK: a whole short TCP exchange in one record. */
export const SESSION = FIN | SYN | PSH | ACK;

export class SliceStager {
  private cap = 1 << 14;
  private count = 0;
  private start = new Float64Array(this.cap);
  private dur = new Float64Array(this.cap);
  private version = new Uint8Array(this.cap);
  private src4 = new Uint32Array(this.cap);
  private dst4 = new Uint32Array(this.cap);
  private src6 = new Uint8Array(this.cap * 16);
  private dst6 = new Uint8Array(this.cap * 16);
  private sport = new Uint16Array(this.cap);
  private dport = new Uint16Array(this.cap);
  private proto = new Uint8Array(this.cap);
  private flags = new Uint8Array(this.cap);
  private packets = new Float64Array(this.cap);
  private bytes = new Float64Array(this.cap);
  private order = new Uint32Array(this.cap);
  /** Records written so far (all slices). */
  total = 0;

  constructor(
    private readonly exporter: string,
    private readonly batchSize: number,
  ) {}

  /** One unidirectional flow record. Both addresses must be of the same family. */
  flow(
    t: number,
    dur: number,
    src: Addr,
    dst: Addr,
    sport: number,
    dport: number,
    proto: number,
    flags: number,
    packets: number,
    bytes: number,
  ): void {
    if (this.count === this.cap) this.grow();
    const i = this.count++;
    this.start[i] = Math.floor(t);
    this.dur[i] = Math.max(0, Math.floor(dur));
    if (typeof src === 'number') {
      this.version[i] = 4;
      this.src4[i] = src;
      this.dst4[i] = dst as number;
    } else {
      this.version[i] = 6;
      this.src6.set(src, i * 16);
      this.dst6.set(dst as Uint8Array, i * 16);
    }
    this.sport[i] = sport;
    this.dport[i] = dport;
    this.proto[i] = proto;
    this.flags[i] = flags;
    this.packets[i] = packets;
    this.bytes[i] = bytes;
  }

  /** A client-server exchange as the two records a router exports for it. */
  exchange(
    t: number,
    dur: number,
    client: Addr,
    server: Addr,
    sport: number,
    dport: number,
    proto: number,
    upPackets: number,
    upBytes: number,
    downPackets: number,
    downBytes: number,
  ): void {
    const flags = proto === TCP ? SESSION : 0;
    this.flow(t, dur, client, server, sport, dport, proto, flags, upPackets, upBytes);
    this.flow(t + 1, dur, server, client, dport, sport, proto, flags, downPackets, downBytes);
  }

  /** Sorted batches of the records that start before `until`; later ones stay for the next slice. */
  *drain(until: number): Generator<FlowBatch, void, undefined> {
    const n = this.count;
    if (this.order.length < n) this.order = new Uint32Array(this.cap);
    const view = this.order.subarray(0, n);
    for (let i = 0; i < n; i++) view[i] = i;
    const starts = this.start;
    view.sort((a, b) => starts[a]! - starts[b]! || a - b);
    let k = 0;
    let batch: FlowBatch | undefined;
    let exporter = 0;
    for (; k < n; k++) {
      const i = view[k]!;
      if (starts[i]! >= until) break;
      if (!batch || batch.full) {
        if (batch) yield batch;
        batch = new FlowBatch(this.batchSize);
        exporter = batch.exporterIndex(this.exporter);
      }
      this.copyRow(i, batch, batch.addRow(exporter, FlowVersion.IPFIX));
    }
    this.total += k;
    if (batch && batch.length > 0) yield batch;
    this.keepLate(view.subarray(k));
  }

  private copyRow(i: number, batch: FlowBatch, row: number): void {
    batch.startMs[row] = this.start[i]!;
    batch.endMs[row] = this.start[i]! + this.dur[i]!;
    if (this.version[i] === 6) {
      batch.ipVersion[row] = 6;
      batch.src6.set(this.src6.subarray(i * 16, i * 16 + 16), row * 16);
      batch.dst6.set(this.dst6.subarray(i * 16, i * 16 + 16), row * 16);
    } else {
      batch.src4[row] = this.src4[i]!;
      batch.dst4[row] = this.dst4[i]!;
    }
    batch.srcPort[row] = this.sport[i]!;
    batch.dstPort[row] = this.dport[i]!;
    batch.proto[row] = this.proto[i]!;
    batch.tcpFlags[row] = this.flags[i]!;
    batch.packets[row] = this.packets[i]!;
    batch.bytes[row] = this.bytes[i]!;
  }

  /** Moves the late records (indexes in `late`) to the front for the next slice. */
  private keepLate(late: Uint32Array): void {
    const rows = [...late];
    const columns = [
      this.start,
      this.dur,
      this.version,
      this.src4,
      this.dst4,
      this.sport,
      this.dport,
      this.proto,
      this.flags,
      this.packets,
      this.bytes,
    ] as const;
    for (const column of columns) {
      const values = rows.map((i) => column[i]!);
      values.forEach((v, j) => (column[j] = v));
    }
    const six = rows.map((i) => [this.src6.slice(i * 16, i * 16 + 16), this.dst6.slice(i * 16, i * 16 + 16)]);
    six.forEach(([s, d], j) => {
      this.src6.set(s!, j * 16);
      this.dst6.set(d!, j * 16);
    });
    this.count = rows.length;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const g = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(
      a: T,
      make: (c: number) => T,
      width = 1,
    ): T => {
      const b = make(cap * width);
      b.set(a);
      return b;
    };
    this.start = g(this.start, (c) => new Float64Array(c));
    this.dur = g(this.dur, (c) => new Float64Array(c));
    this.version = g(this.version, (c) => new Uint8Array(c));
    this.src4 = g(this.src4, (c) => new Uint32Array(c));
    this.dst4 = g(this.dst4, (c) => new Uint32Array(c));
    this.src6 = g(this.src6, (c) => new Uint8Array(c), 16);
    this.dst6 = g(this.dst6, (c) => new Uint8Array(c), 16);
    this.sport = g(this.sport, (c) => new Uint16Array(c));
    this.dport = g(this.dport, (c) => new Uint16Array(c));
    this.proto = g(this.proto, (c) => new Uint8Array(c));
    this.flags = g(this.flags, (c) => new Uint8Array(c));
    this.packets = g(this.packets, (c) => new Float64Array(c));
    this.bytes = g(this.bytes, (c) => new Float64Array(c));
    this.cap = cap;
  }
}
