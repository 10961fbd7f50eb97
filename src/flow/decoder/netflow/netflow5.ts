/** NetFlow v5: 24-byte header and fixed 48-byte records. */
import type { FlowBatchWriter } from '../../../core/index.ts';
import type { PayloadSource } from '../../types.ts';

export const NETFLOW5_HEADER_LENGTH = 24;
export const NETFLOW5_RECORD_LENGTH = 48;

export interface Netflow5Deps {
  countError(protocol: 'netflow5', kind: string): void;
  countRecords(n: number): void;
  defaultSamplingRate: number;
}

/** Decodes one NetFlow v5 packet; returns rows written. Never throws on bad input. */
export function decodeNetflow5(
  deps: Netflow5Deps,
  b: Buffer,
  source: PayloadSource,
  out: FlowBatchWriter,
): number {
  if (b.length < NETFLOW5_HEADER_LENGTH) {
    deps.countError('netflow5', 'header_truncated');
    return 0;
  }
  const count = (b[2]! << 8) | b[3]!;
  const sysUptime = b.readUInt32BE(4);
  const exportMs = b.readUInt32BE(8) * 1000 + Math.floor(b.readUInt32BE(12) / 1e6);
  // Top 2 bits: sampling mode; low 14 bits: interval (0 = not sampled or unknown).
  const interval = ((b[22]! << 8) | b[23]!) & 0x3fff;
  const rate = interval >= 1 ? interval : deps.defaultSamplingRate;
  const fits = Math.floor((b.length - NETFLOW5_HEADER_LENGTH) / NETFLOW5_RECORD_LENGTH);
  let n = count;
  if (count * NETFLOW5_RECORD_LENGTH + NETFLOW5_HEADER_LENGTH !== b.length) {
    deps.countError('netflow5', 'length_mismatch');
    if (fits < n) n = fits;
  }
  const exporter = source.exporter;
  let o = NETFLOW5_HEADER_LENGTH;
  for (let left = n; left > 0;) {
    // Rows are claimed for as many records as fit in the batch at once.
    const claimed = out.rows(exporter, 5, left);
    left -= claimed;
    const B = out.active;
    const endRow = B.length;
    for (let row = endRow - claimed; row < endRow; row++, o += NETFLOW5_RECORD_LENGTH) {
      B.src4[row] = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
      B.dst4[row] = ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0;
      const packets = ((b[o + 16]! << 24) | (b[o + 17]! << 16) | (b[o + 18]! << 8) | b[o + 19]!) >>> 0;
      const bytes = ((b[o + 20]! << 24) | (b[o + 21]! << 16) | (b[o + 22]! << 8) | b[o + 23]!) >>> 0;
      const first = ((b[o + 24]! << 24) | (b[o + 25]! << 16) | (b[o + 26]! << 8) | b[o + 27]!) >>> 0;
      const last = ((b[o + 28]! << 24) | (b[o + 29]! << 16) | (b[o + 30]! << 8) | b[o + 31]!) >>> 0;
      B.startMs[row] = exportMs - upTimeDiff(sysUptime, first);
      B.endMs[row] = exportMs - upTimeDiff(sysUptime, last);
      B.srcPort[row] = (b[o + 32]! << 8) | b[o + 33]!;
      B.dstPort[row] = (b[o + 34]! << 8) | b[o + 35]!;
      B.tcpFlags[row] = b[o + 37]!;
      B.proto[row] = b[o + 38]!;
      B.packets[row] = packets * rate;
      B.bytes[row] = bytes * rate;
      B.samplingRate[row] = rate;
    }
  }
  deps.countRecords(n);
  return n;
}

/** sysUptime minus a record's uptime stamp, in the 32-bit clock (wraps, small skew either way). */
function upTimeDiff(sysUptime: number, stamp: number): number {
  let diff = sysUptime - stamp;
  if (diff > 2147483648) diff -= 4294967296;
  else if (diff < -2147483648) diff += 4294967296;
  return diff;
}
