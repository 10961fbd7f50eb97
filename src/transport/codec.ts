/** Binary wire format of a FlowBatch (header, exporter table, aligned little-endian columns) and its checked decoder. */
import { FlowBatch } from '../core/index.ts';

/**
 * Layout, version 1 (all integers little-endian):
 *
 *   0  magic "TSFB"            4 bytes
 *   4  format version          u8 (1)
 *   5  flags                   u8 (bit 0: IPv6 columns present)
 *   6  exporter count          u16
 *   8  row count               u32
 *  12  exporter table bytes    u32 (each entry: u8 length + UTF-8 text)
 *  16  exporter table, then zero padding to a multiple of 8
 *      columns, n = row count, widest first so every column starts aligned to its element size:
 *      f64 startMs, endMs, packets, bytes | u32 src4, dst4, samplingRate |
 *      u16 exporter, srcPort, dstPort | u8 version, ipVersion, proto, tcpFlags |
 *      [flag bit 0 only] src6 (16 n), dst6 (16 n)
 *
 * The message length must equal exactly what the header implies, which is checked before any
 * column is allocated: a hostile row count cannot make the decoder allocate more than about
 * twice the bytes it was given.
 */
export const MAGIC = 0x42465354; // "TSFB" read as a little-endian u32
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 16;
const FLAG_V6 = 1;
/** Bytes per row without and with the IPv6 columns. */
export const ROW_BYTES_V4 = 4 * 8 + 3 * 4 + 3 * 2 + 4;
export const ROW_BYTES_V6 = ROW_BYTES_V4 + 32;
/** Largest row count the decoder accepts unless told otherwise (FlowConfig.batchSize's maximum). */
export const DEFAULT_MAX_ROWS = 1 << 16;

// Typed arrays use the host's byte order; the wire is little-endian, so columns are copied
// byte for byte only on little-endian hosts (x86, ARM as Node runs them).
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function requireLittleEndian(): void {
  if (!LITTLE_ENDIAN) throw new Error('the FlowBatch wire codec needs a little-endian host');
}

const align8 = (n: number) => (n + 7) & ~7;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Encoded exporter table of a batch, computed once per batch and reused for each message. */
export interface ExporterTable {
  readonly count: number;
  readonly bytes: Uint8Array;
}

export function encodeExporterTable(exporters: readonly string[]): ExporterTable {
  if (exporters.length > 0xffff)
    throw new RangeError(`too many exporters in one batch (${exporters.length})`);
  const encoded = exporters.map((text) => textEncoder.encode(text));
  let size = 0;
  for (const e of encoded) {
    if (e.length > 255) throw new RangeError(`exporter name longer than 255 bytes`);
    size += 1 + e.length;
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const e of encoded) {
    bytes[at++] = e.length;
    bytes.set(e, at);
    at += e.length;
  }
  return { count: exporters.length, bytes };
}

/** Exact encoded size of `rows` rows. */
export function encodedSize(rows: number, hasV6: boolean, table: ExporterTable): number {
  return align8(HEADER_BYTES + table.bytes.length) + rows * (hasV6 ? ROW_BYTES_V6 : ROW_BYTES_V4);
}

/** Rows that fit in a message of `maxBytes` (at least 1 is never promised: 0 means not even one). */
export function rowsPerMessage(maxBytes: number, hasV6: boolean, table: ExporterTable): number {
  const room = maxBytes - align8(HEADER_BYTES + table.bytes.length);
  return room <= 0 ? 0 : Math.floor(room / (hasV6 ? ROW_BYTES_V6 : ROW_BYTES_V4));
}

// Gathers, one per element type so each loop stays monomorphic for the JIT.
function gatherF64(
  dst: Float64Array,
  column: Float64Array,
  rows: Uint32Array,
  from: number,
  n: number,
): void {
  for (let k = 0; k < n; k++) dst[k] = column[rows[from + k]!]!;
}
function gatherU32(dst: Uint32Array, column: Uint32Array, rows: Uint32Array, from: number, n: number): void {
  for (let k = 0; k < n; k++) dst[k] = column[rows[from + k]!]!;
}
function gatherU16(dst: Uint16Array, column: Uint16Array, rows: Uint32Array, from: number, n: number): void {
  for (let k = 0; k < n; k++) dst[k] = column[rows[from + k]!]!;
}
function gatherU8(
  out: Uint8Array,
  at: number,
  column: Uint8Array,
  rows: Uint32Array,
  from: number,
  n: number,
): void {
  for (let k = 0; k < n; k++) out[at + k] = column[rows[from + k]!]!;
}
function gatherAddr6(
  out: Uint8Array,
  at: number,
  column: Uint8Array,
  ipVersion: Uint8Array,
  rows: Uint32Array,
  from: number,
  n: number,
): void {
  for (let k = 0; k < n; k++) {
    const row = rows[from + k]!;
    // The buffer starts zeroed and v4 rows' v6 bytes mean nothing: copy only v6 rows.
    if (ipVersion[row] !== 6) continue;
    const src = row * 16;
    const dst = at + k * 16;
    for (let b = 0; b < 16; b++) out[dst + b] = column[src + b]!;
  }
}

/** Encodes the whole batch. */
export function encodeFlowBatch(batch: FlowBatch): Uint8Array {
  return encodeFlowRows(batch, null, 0, batch.length);
}

/**
 * Encodes some rows of `batch`: `rows[from..to)` when `rows` is given (a gather, as the
 * partitioner produces), else the contiguous rows `from..to`. `table` may be passed in when the
 * same batch is encoded several times.
 */
export function encodeFlowRows(
  batch: FlowBatch,
  rows: Uint32Array | null,
  from: number,
  to: number,
  table: ExporterTable = encodeExporterTable(batch.exporters),
): Uint8Array {
  requireLittleEndian();
  const n = to - from;
  if (n < 0 || (rows === null && to > batch.length) || (rows !== null && to > rows.length)) {
    throw new RangeError(`row range ${from}..${to} outside the batch`);
  }
  const ipVersion = batch.ipVersion;
  let hasV6 = false;
  if (rows === null) {
    for (let r = from; r < to; r++)
      if (ipVersion[r] === 6) {
        hasV6 = true;
        break;
      }
  } else {
    for (let k = from; k < to; k++)
      if (ipVersion[rows[k]!] === 6) {
        hasV6 = true;
        break;
      }
  }
  const size = encodedSize(n, hasV6, table);
  const buffer = new ArrayBuffer(size);
  const out = new Uint8Array(buffer);
  const view = new DataView(buffer);
  view.setUint32(0, MAGIC, true);
  out[4] = FORMAT_VERSION;
  out[5] = hasV6 ? FLAG_V6 : 0;
  view.setUint16(6, table.count, true);
  view.setUint32(8, n, true);
  view.setUint32(12, table.bytes.length, true);
  out.set(table.bytes, HEADER_BYTES);
  let at = align8(HEADER_BYTES + table.bytes.length);

  const f64 = (column: Float64Array) => {
    const dst = new Float64Array(buffer, at, n);
    if (rows === null) dst.set(column.subarray(from, to));
    else gatherF64(dst, column, rows, from, n);
    at += n * 8;
  };
  const u32 = (column: Uint32Array) => {
    const dst = new Uint32Array(buffer, at, n);
    if (rows === null) dst.set(column.subarray(from, to));
    else gatherU32(dst, column, rows, from, n);
    at += n * 4;
  };
  const u16 = (column: Uint16Array) => {
    const dst = new Uint16Array(buffer, at, n);
    if (rows === null) dst.set(column.subarray(from, to));
    else gatherU16(dst, column, rows, from, n);
    at += n * 2;
  };
  const u8 = (column: Uint8Array) => {
    if (rows === null) out.set(column.subarray(from, to), at);
    else gatherU8(out, at, column, rows, from, n);
    at += n;
  };
  const addr6 = (column: Uint8Array) => {
    if (rows === null) out.set(column.subarray(from * 16, to * 16), at);
    else gatherAddr6(out, at, column, ipVersion, rows, from, n);
    at += n * 16;
  };
  f64(batch.startMs);
  f64(batch.endMs);
  f64(batch.packets);
  f64(batch.bytes);
  u32(batch.src4);
  u32(batch.dst4);
  u32(batch.samplingRate);
  u16(batch.exporter);
  u16(batch.srcPort);
  u16(batch.dstPort);
  u8(batch.version);
  u8(batch.ipVersion);
  u8(batch.proto);
  u8(batch.tcpFlags);
  if (hasV6) {
    addr6(batch.src6);
    addr6(batch.dst6);
  }
  return out;
}

/** Why a message was refused; each is a label value of the decode error counter. */
export type DecodeErrorKind =
  | 'truncated'
  | 'bad_magic'
  | 'bad_version'
  | 'bad_flags'
  | 'too_many_rows'
  | 'length_mismatch'
  | 'bad_exporter_table'
  | 'bad_exporter_index'
  | 'bad_ip_version'
  | 'bad_value';

export const DECODE_ERROR_KINDS: readonly DecodeErrorKind[] = [
  'truncated',
  'bad_magic',
  'bad_version',
  'bad_flags',
  'too_many_rows',
  'length_mismatch',
  'bad_exporter_table',
  'bad_exporter_index',
  'bad_ip_version',
  'bad_value',
];

export type DecodeResult =
  | { readonly ok: true; readonly batch: FlowBatch }
  | { readonly ok: false; readonly error: DecodeErrorKind; readonly detail: string };

export interface DecodeLimits {
  /** Messages claiming more rows than this are refused before anything is allocated. */
  maxRows?: number;
}

const fail = (error: DecodeErrorKind, detail: string): DecodeResult => ({ ok: false, error, detail });

/** Decodes one message into a fresh FlowBatch sized to its rows. Never throws on bad input. */
export function decodeFlowBatch(message: Uint8Array, limits: DecodeLimits = {}): DecodeResult {
  requireLittleEndian();
  const maxRows = limits.maxRows ?? DEFAULT_MAX_ROWS;
  const length = message.length;
  if (length < HEADER_BYTES) return fail('truncated', `${length} bytes is shorter than the header`);
  const view = new DataView(message.buffer, message.byteOffset, length);
  if (view.getUint32(0, true) !== MAGIC) return fail('bad_magic', 'not a tsunagi FlowBatch message');
  if (message[4] !== FORMAT_VERSION)
    return fail('bad_version', `format version ${message[4]} is not supported`);
  const flags = message[5]!;
  if ((flags & ~FLAG_V6) !== 0) return fail('bad_flags', `unknown flags 0x${flags.toString(16)}`);
  const hasV6 = (flags & FLAG_V6) !== 0;
  const exporterCount = view.getUint16(6, true);
  const n = view.getUint32(8, true);
  const tableBytes = view.getUint32(12, true);
  if (n > maxRows) return fail('too_many_rows', `${n} rows exceeds the limit of ${maxRows}`);
  // Each table entry takes at least its length byte; larger than the message means a lie.
  if (tableBytes > length || exporterCount > tableBytes) {
    return fail('bad_exporter_table', `table of ${exporterCount} exporters in ${tableBytes} bytes`);
  }
  const columnsAt = align8(HEADER_BYTES + tableBytes);
  const expected = columnsAt + n * (hasV6 ? ROW_BYTES_V6 : ROW_BYTES_V4);
  if (expected !== length)
    return fail(
      length < expected ? 'truncated' : 'length_mismatch',
      `${length} bytes, header implies ${expected}`,
    );

  const exporters: string[] = new Array(exporterCount);
  let at = HEADER_BYTES;
  const tableEnd = HEADER_BYTES + tableBytes;
  for (let i = 0; i < exporterCount; i++) {
    const size = message[at]!;
    at++;
    if (at + size > tableEnd) return fail('bad_exporter_table', `exporter ${i} runs past the table`);
    try {
      exporters[i] = textDecoder.decode(message.subarray(at, at + size));
    } catch {
      return fail('bad_exporter_table', `exporter ${i} is not valid UTF-8`);
    }
    at += size;
  }
  if (at !== tableEnd)
    return fail('bad_exporter_table', `${tableEnd - at} stray bytes after the exporter table`);

  const batch = new FlowBatch(n);
  for (const e of exporters) batch.exporters.push(e);
  at = columnsAt;
  const copy = (column: { buffer: ArrayBufferLike; byteOffset: number }, bytes: number) => {
    new Uint8Array(column.buffer, column.byteOffset, bytes).set(message.subarray(at, at + bytes));
    at += bytes;
  };
  copy(batch.startMs, n * 8);
  copy(batch.endMs, n * 8);
  copy(batch.packets, n * 8);
  copy(batch.bytes, n * 8);
  copy(batch.src4, n * 4);
  copy(batch.dst4, n * 4);
  copy(batch.samplingRate, n * 4);
  copy(batch.exporter, n * 2);
  copy(batch.srcPort, n * 2);
  copy(batch.dstPort, n * 2);
  copy(batch.version, n);
  copy(batch.ipVersion, n);
  copy(batch.proto, n);
  copy(batch.tcpFlags, n);
  if (hasV6) {
    copy(batch.src6, n * 16);
    copy(batch.dst6, n * 16);
  }

  // Rows must be usable as they are by the detector: indices in range, numbers that add up.
  const { exporter, ipVersion, startMs, endMs, packets, bytes } = batch;
  for (let r = 0; r < n; r++) {
    if (exporter[r]! >= exporterCount)
      return fail('bad_exporter_index', `row ${r} names exporter ${exporter[r]}`);
    const ipv = ipVersion[r];
    if (ipv !== 4 && !(ipv === 6 && hasV6)) return fail('bad_ip_version', `row ${r} has IP version ${ipv}`);
    const s = startMs[r]!;
    const e = endMs[r]!;
    const p = packets[r]!;
    const b = bytes[r]!;
    // `x >= 0 && x < Infinity` is false for NaN, negatives and infinities alike.
    if (!(
      s >= 0 &&
      s < Infinity &&
      e >= 0 &&
      e < Infinity &&
      p >= 0 &&
      p < Infinity &&
      b >= 0 &&
      b < Infinity
    )) {
      return fail('bad_value', `row ${r} has a negative or non-finite time or counter`);
    }
  }
  batch.length = n;
  return { ok: true, batch };
}
