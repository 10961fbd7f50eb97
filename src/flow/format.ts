/** Text forms of FlowBatch rows: the CSV and JSON-lines contract of `tsunagi flows decode`. */
import { flowVersionLabel, type FlowBatch, ipv4ToString, ipv6ToString } from '../core/index.ts';

export const FLOW_CSV_HEADER =
  'exporter,version,start_ms,end_ms,src,dst,src_port,dst_port,proto,tcp_flags,packets,bytes,sampling_rate';

export function rowAddresses(batch: FlowBatch, row: number): [string, string] {
  if (batch.ipVersion[row] === 6)
    return [ipv6ToString(batch.src6, row * 16), ipv6ToString(batch.dst6, row * 16)];
  return [ipv4ToString(batch.src4[row]!), ipv4ToString(batch.dst4[row]!)];
}

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Appends one CSV line per row (each ending in a newline). */
export function formatCsv(batch: FlowBatch): string {
  let out = '';
  for (let row = 0; row < batch.length; row++) {
    const [src, dst] = rowAddresses(batch, row);
    out +=
      `${csvField(batch.exporters[batch.exporter[row]!]!)},${flowVersionLabel(batch.version[row]!)},` +
      `${batch.startMs[row]},${batch.endMs[row]},${src},${dst},${batch.srcPort[row]},${batch.dstPort[row]},` +
      `${batch.proto[row]},${batch.tcpFlags[row]},${batch.packets[row]},${batch.bytes[row]},${batch.samplingRate[row]}\n`;
  }
  return out;
}

export interface FlowRecordJson {
  exporter: string;
  version: string;
  start_ms: number;
  end_ms: number;
  src: string;
  dst: string;
  src_port: number;
  dst_port: number;
  proto: number;
  tcp_flags: number;
  packets: number;
  bytes: number;
  sampling_rate: number;
}

export function rowToJson(batch: FlowBatch, row: number): FlowRecordJson {
  const [src, dst] = rowAddresses(batch, row);
  return {
    exporter: batch.exporters[batch.exporter[row]!]!,
    version: flowVersionLabel(batch.version[row]!),
    start_ms: batch.startMs[row]!,
    end_ms: batch.endMs[row]!,
    src,
    dst,
    src_port: batch.srcPort[row]!,
    dst_port: batch.dstPort[row]!,
    proto: batch.proto[row]!,
    tcp_flags: batch.tcpFlags[row]!,
    packets: batch.packets[row]!,
    bytes: batch.bytes[row]!,
    sampling_rate: batch.samplingRate[row]!,
  };
}

export function formatJsonl(batch: FlowBatch): string {
  let out = '';
  for (let row = 0; row < batch.length; row++) out += `${JSON.stringify(rowToJson(batch, row))}\n`;
  return out;
}
