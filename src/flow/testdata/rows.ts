/** Test helper: decodes payloads with one decoder and returns the rows as plain objects. */
import { FlowBatchWriter, type FlowBatch, ipv4ToString, ipv6ToString } from '../../core/index.ts';
import type { FlowDecoder } from '../decoder/decoder.ts';

export interface Row {
  exporter: string;
  version: number;
  startMs: number;
  endMs: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  proto: number;
  tcpFlags: number;
  packets: number;
  bytes: number;
  samplingRate: number;
}

export function batchRows(batch: FlowBatch): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < batch.length; i++) {
    const v6 = batch.ipVersion[i] === 6;
    rows.push({
      exporter: batch.exporters[batch.exporter[i]!]!,
      version: batch.version[i]!,
      startMs: batch.startMs[i]!,
      endMs: batch.endMs[i]!,
      src: v6 ? ipv6ToString(batch.src6, i * 16) : ipv4ToString(batch.src4[i]!),
      dst: v6 ? ipv6ToString(batch.dst6, i * 16) : ipv4ToString(batch.dst4[i]!),
      srcPort: batch.srcPort[i]!,
      dstPort: batch.dstPort[i]!,
      proto: batch.proto[i]!,
      tcpFlags: batch.tcpFlags[i]!,
      packets: batch.packets[i]!,
      bytes: batch.bytes[i]!,
      samplingRate: batch.samplingRate[i]!,
    });
  }
  return rows;
}

/** Decodes each payload in order with `decoder`; returns all rows (small batches to cross batch edges). */
export function decodeAll(
  decoder: FlowDecoder,
  payloads: Buffer[],
  source: { exporter?: string; exporterPort?: number; receivedMs?: number } = {},
  batchSize = 7,
): Row[] {
  const rows: Row[] = [];
  const writer = new FlowBatchWriter((batch) => rows.push(...batchRows(batch)), batchSize);
  for (const payload of payloads) {
    decoder.decode(
      payload,
      {
        exporter: source.exporter ?? '192.0.2.1',
        exporterPort: source.exporterPort ?? 40000,
        receivedMs: source.receivedMs ?? 0,
      },
      writer,
    );
  }
  writer.flush();
  return rows;
}
