/**
 * FlowBatch: the normalised, columnar unit that flow records travel in from the collector to
 * detection. It holds only what C&C detection needs (no MAC addresses, no payload), in typed
 * arrays so that hot paths allocate nothing per record.
 */

/** Which protocol a record was decoded from; printed as the CSV `version` column. */
export const FlowVersion = {
  NETFLOW5: 5,
  NETFLOW9: 9,
  IPFIX: 10,
  SFLOW5: 105,
} as const;
export type FlowVersion = (typeof FlowVersion)[keyof typeof FlowVersion];

export function flowVersionLabel(version: number): string {
  return version === FlowVersion.SFLOW5 ? 'sflow5' : String(version);
}

export const DEFAULT_BATCH_CAPACITY = 4096;

export class FlowBatch {
  readonly capacity: number;
  length = 0;
  /** Exporter addresses interned per batch; `exporter[i]` indexes this table. */
  readonly exporters: string[] = [];
  readonly exporter: Uint16Array;
  readonly version: Uint8Array;
  readonly startMs: Float64Array;
  readonly endMs: Float64Array;
  /** 4 or 6. For 4, addresses are in src4/dst4; for 6, in src6/dst6 (16 bytes per row). */
  readonly ipVersion: Uint8Array;
  readonly src4: Uint32Array;
  readonly dst4: Uint32Array;
  readonly src6: Uint8Array;
  readonly dst6: Uint8Array;
  readonly srcPort: Uint16Array;
  readonly dstPort: Uint16Array;
  readonly proto: Uint8Array;
  readonly tcpFlags: Uint8Array;
  /** Already multiplied by the sampling rate. */
  readonly packets: Float64Array;
  /** Already multiplied by the sampling rate. */
  readonly bytes: Float64Array;
  readonly samplingRate: Uint32Array;

  constructor(capacity = DEFAULT_BATCH_CAPACITY) {
    this.capacity = capacity;
    this.exporter = new Uint16Array(capacity);
    this.version = new Uint8Array(capacity);
    this.startMs = new Float64Array(capacity);
    this.endMs = new Float64Array(capacity);
    this.ipVersion = new Uint8Array(capacity);
    this.src4 = new Uint32Array(capacity);
    this.dst4 = new Uint32Array(capacity);
    this.src6 = new Uint8Array(capacity * 16);
    this.dst6 = new Uint8Array(capacity * 16);
    this.srcPort = new Uint16Array(capacity);
    this.dstPort = new Uint16Array(capacity);
    this.proto = new Uint8Array(capacity);
    this.tcpFlags = new Uint8Array(capacity);
    this.packets = new Float64Array(capacity);
    this.bytes = new Float64Array(capacity);
    this.samplingRate = new Uint32Array(capacity);
  }

  get full(): boolean {
    return this.length >= this.capacity;
  }

  /** Index of `address` in the exporter table, adding it when new. */
  exporterIndex(address: string): number {
    const exporters = this.exporters;
    for (let i = exporters.length - 1; i >= 0; i--) if (exporters[i] === address) return i;
    exporters.push(address);
    return exporters.length - 1;
  }

  /**
   * Claims the next row and zeroes the columns a decoder may leave unset. Returns the row
   * index; the caller checks `full` first.
   */
  addRow(exporterIndex: number, version: number): number {
    const row = this.length++;
    this.exporter[row] = exporterIndex;
    this.version[row] = version;
    this.startMs[row] = 0;
    this.endMs[row] = 0;
    this.ipVersion[row] = 4;
    this.src4[row] = 0;
    this.dst4[row] = 0;
    this.srcPort[row] = 0;
    this.dstPort[row] = 0;
    this.proto[row] = 0;
    this.tcpFlags[row] = 0;
    this.packets[row] = 0;
    this.bytes[row] = 0;
    this.samplingRate[row] = 1;
    return row;
  }

  /**
   * Claims `count` rows at once (the caller checks they fit), initialised as `addRow` does,
   * with one fill per column instead of one store per row and column. Returns the first row.
   */
  addRows(exporterIndex: number, version: number, count: number): number {
    const from = this.length;
    const to = from + count;
    this.length = to;
    this.exporter.fill(exporterIndex, from, to);
    this.version.fill(version, from, to);
    this.startMs.fill(0, from, to);
    this.endMs.fill(0, from, to);
    this.ipVersion.fill(4, from, to);
    this.src4.fill(0, from, to);
    this.dst4.fill(0, from, to);
    this.srcPort.fill(0, from, to);
    this.dstPort.fill(0, from, to);
    this.proto.fill(0, from, to);
    this.tcpFlags.fill(0, from, to);
    this.packets.fill(0, from, to);
    this.bytes.fill(0, from, to);
    this.samplingRate.fill(1, from, to);
    return from;
  }

  /** Empties the batch for reuse. */
  reset(): void {
    this.length = 0;
    this.exporters.length = 0;
  }
}

/**
 * Receives each batch once it is full or flushed. The batch is owned by the sink afterwards,
 * unless the writer was made with `recycle` (then the sink must be done with it on return).
 */
export type FlowSink = (batch: FlowBatch) => void;

export interface FlowBatchWriterOptions {
  /**
   * The sink is done with each batch when it returns (it copies or aggregates what it needs):
   * the writer then resets and reuses the batch instead of allocating a new one per flush.
   */
  recycle?: boolean;
  /** Batches kept for reuse, recycled or given back with `release()` (default 4). */
  poolSize?: number;
}

/**
 * Hands out rows across batches: when the current batch fills, it goes to the sink and a
 * fresh one (from the pool when batches come back) takes its place.
 */
export class FlowBatchWriter {
  private current: FlowBatch;
  private exporterAddress = '';
  private exporterIdx = 0;
  private readonly recycle: boolean;
  private readonly poolSize: number;
  private readonly pool: FlowBatch[] = [];

  constructor(
    private readonly sink: FlowSink,
    private readonly capacity = DEFAULT_BATCH_CAPACITY,
    options: FlowBatchWriterOptions = {},
  ) {
    this.current = new FlowBatch(capacity);
    this.recycle = options.recycle ?? false;
    this.poolSize = options.poolSize ?? 4;
  }

  /** The batch to write the next row into (flushing first if the current one is full). */
  batch(): FlowBatch {
    if (this.current.full) this.flush();
    return this.current;
  }

  /** Claims a row in the current batch for a record from `exporter`. */
  row(exporter: string, version: number): number {
    let batch = this.current;
    if (batch.full) {
      this.flush();
      batch = this.current;
    }
    if (exporter !== this.exporterAddress || batch.length === 0) {
      this.exporterAddress = exporter;
      this.exporterIdx = batch.exporterIndex(exporter);
    }
    return batch.addRow(this.exporterIdx, version);
  }

  /**
   * Claims up to `wanted` (>= 1) consecutive rows in the current batch for records from
   * `exporter` (flushing first if it is full); returns how many were claimed, at least 1. The
   * rows are the last ones of `active`: `active.length - claimed` onwards.
   */
  rows(exporter: string, version: number, wanted: number): number {
    let batch = this.current;
    if (batch.full) {
      this.flush();
      batch = this.current;
    }
    if (exporter !== this.exporterAddress || batch.length === 0) {
      this.exporterAddress = exporter;
      this.exporterIdx = batch.exporterIndex(exporter);
    }
    const room = batch.capacity - batch.length;
    const count = wanted < room ? (wanted > 1 ? wanted : 1) : room;
    batch.addRows(this.exporterIdx, version, count);
    return count;
  }

  /** The batch the last `row()` call wrote into. */
  get active(): FlowBatch {
    return this.current;
  }

  /** Sends the current batch on if it holds any rows. */
  flush(): void {
    if (this.current.length === 0) return;
    const done = this.current;
    this.current = this.pool.pop() ?? new FlowBatch(this.capacity);
    this.exporterAddress = '';
    this.sink(done);
    if (this.recycle) this.release(done);
  }

  /**
   * Gives back a batch the sink has finished with, for reuse; the caller must not touch it
   * afterwards. Batches of another capacity, the batch being written and a full pool are ignored.
   */
  release(batch: FlowBatch): void {
    if (batch.capacity !== this.capacity || batch === this.current) return;
    if (this.pool.length >= this.poolSize || this.pool.includes(batch)) return;
    batch.reset();
    this.pool.push(batch);
  }

  /** Batches waiting in the pool (for tests and metrics). */
  get pooled(): number {
    return this.pool.length;
  }
}
