/**
 * Test door of core: hand-made flow records as a FlowBatch, for the tests of every room that
 * consumes batches (the detector, the scenario's packets, the transport codec).
 */
import { FlowBatch } from './flowbatch.ts';
import { ipv4FromString, ipv6FromString } from './ip.ts';

export const T0 = Date.UTC(2024, 3, 1);
export const MINUTE = 60_000;
export const TCP = 6;
export const UDP = 17;
/** FIN SYN PSH ACK: a whole TCP exchange in one record. */
export const SESSION = 0x1b;
/** PSH ACK: a record in the middle of a long connection (active-timeout export). */
export const MID_SESSION = 0x18;
export const SYN_ONLY = 0x02;

export interface Row {
  t: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto?: number;
  flags?: number;
  packets?: number;
  bytes?: number;
  durationMs?: number;
  samplingRate?: number;
}

export function batchOf(rows: readonly Row[]): FlowBatch {
  const batch = new FlowBatch(Math.max(16, rows.length));
  const exporter = batch.exporterIndex('192.0.2.1');
  for (const r of [...rows].sort((a, b) => a.t - b.t)) {
    const i = batch.addRow(exporter, 10);
    // Whole milliseconds, as exporters give them.
    batch.startMs[i] = Math.round(r.t);
    batch.endMs[i] = Math.round(r.t) + (r.durationMs ?? 500);
    if (r.src.includes(':')) {
      batch.ipVersion[i] = 6;
      batch.src6.set(ipv6FromString(r.src), i * 16);
      batch.dst6.set(ipv6FromString(r.dst), i * 16);
    } else {
      batch.src4[i] = ipv4FromString(r.src);
      batch.dst4[i] = ipv4FromString(r.dst);
    }
    batch.srcPort[i] = r.sport;
    batch.dstPort[i] = r.dport;
    batch.proto[i] = r.proto ?? TCP;
    batch.tcpFlags[i] = r.flags ?? (r.proto === UDP ? 0 : SESSION);
    batch.samplingRate[i] = r.samplingRate ?? 1;
    batch.packets[i] = r.packets ?? 6;
    batch.bytes[i] = r.bytes ?? 900;
  }
  return batch;
}
