/**
 * Builds the benchmark's export datagrams: a deterministic pool of NetFlow v5, v9 or IPFIX
 * packets over many distinct IPv4 flows, and the file format the sender replays them from.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ipv4ToString } from '../../src/core/index.ts';
import {
  encodeIpfix,
  encodeNetflow5,
  encodeV9,
  IPFIX_TEMPLATE_V4,
  V9_TEMPLATE_V4,
  type FieldValue,
  type Netflow5Record,
} from '../../src/flow/index.ts';

export type BenchVersion = 5 | 9 | 10;

export const VERSION_LABEL: Record<BenchVersion, string> = { 5: 'NetFlow v5', 9: 'NetFlow v9', 10: 'IPFIX' };

/** Records per datagram: v5's maximum, and what v9/IPFIX routers put in a 1500-byte MTU. */
export const RECORDS_PER_DATAGRAM: Record<BenchVersion, number> = { 5: 30, 9: 28, 10: 24 };

/** v9 and IPFIX exporters resend their template periodically; here every this many datagrams. */
export const TEMPLATE_EVERY = 64;

/** A pool of datagrams and the flow records each one carries (templates carry none). */
export interface DatagramPool {
  version: BenchVersion;
  datagrams: Buffer[];
  records: Uint16Array;
}

/** xorshift32: a small deterministic generator so every run replays the same flows. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** One generated flow; times are exporter uptime (ms), as v5 and v9 carry them. */
type BenchRecord = Netflow5Record & { input: number; output: number; tcpFlags: number };

/** A mix resembling an ISP edge: subscribers in 10/8 talking to many servers, mostly TCP. */
export function generateRecords(count: number, seed = 1, uptimeMs = 3_600_000): BenchRecord[] {
  const random = rng(seed);
  const records: BenchRecord[] = [];
  for (let i = 0; i < count; i++) {
    const kind = random();
    const proto = kind < 0.8 ? 6 : kind < 0.98 ? 17 : 1;
    const packets = 1 + Math.floor(random() ** 3 * 2000);
    const bytes = packets * (40 + Math.floor(random() * 1460));
    const duration = Math.floor(random() * 60_000);
    const last = uptimeMs - Math.floor(random() * 5_000);
    const server = [80, 443, 443, 443, 53, 123, 8080, 25, 993, 22][Math.floor(random() * 10)]!;
    records.push({
      src: ipv4ToString((0x0a000000 | Math.floor(random() * 0x1000000)) >>> 0),
      dst: ipv4ToString((0x01000000 + Math.floor(random() * 0xdf000000)) >>> 0),
      srcPort: proto === 1 ? 0 : 1024 + Math.floor(random() * 64000),
      dstPort: proto === 1 ? 0x0800 : server,
      proto,
      tcpFlags: proto === 6 ? [0x02, 0x12, 0x18, 0x19, 0x1b, 0x11][Math.floor(random() * 6)]! : 0,
      input: 1 + Math.floor(random() * 16),
      output: 1 + Math.floor(random() * 16),
      packets,
      bytes: Math.min(bytes, 0xffffffff),
      first: Math.max(0, last - duration),
      last,
    });
  }
  return records;
}

/** Field values in the order of V9_TEMPLATE_V4 / IPFIX_TEMPLATE_V4 (IPFIX times are absolute). */
function templateValues(r: BenchRecord, bootMs: number): FieldValue[] {
  return [
    r.src,
    r.dst,
    r.srcPort,
    r.dstPort,
    r.proto,
    r.tcpFlags,
    r.input,
    r.output,
    r.packets,
    r.bytes,
    bootMs + r.first,
    bootMs + r.last,
  ];
}

/**
 * Builds `datagramCount` datagrams of `version`, each with a fresh slice of distinct flows; v9
 * and IPFIX datagrams carry the exporters' typical IPv4 template (src/flow/encode.ts), resent
 * every TEMPLATE_EVERY datagrams as routers do.
 */
export function buildPool(version: BenchVersion, datagramCount: number, seed = 1): DatagramPool {
  const perDatagram = RECORDS_PER_DATAGRAM[version];
  const sysUptime = 3_600_000;
  const unixSecs = Math.floor(Date.now() / 1000);
  const bootMs = unixSecs * 1000 - sysUptime;
  const records = generateRecords(datagramCount * perDatagram, seed, sysUptime);
  const datagrams: Buffer[] = [];
  const counts = new Uint16Array(datagramCount);
  let flowSequence = 0;
  for (let i = 0; i < datagramCount; i++) {
    const slice = records.slice(i * perDatagram, (i + 1) * perDatagram);
    const withTemplate = i % TEMPLATE_EVERY === 0;
    if (version === 5) {
      datagrams.push(encodeNetflow5(slice, { sysUptime, unixSecs, sequence: flowSequence }));
    } else if (version === 9) {
      const data = { template: V9_TEMPLATE_V4, records: slice.map((r) => templateValues(r, 0)) };
      const sets = withTemplate ? [{ templates: [V9_TEMPLATE_V4] }, data] : [data];
      datagrams.push(encodeV9({ sysUptime, unixSecs, sequence: i, sourceId: 0 }, sets));
    } else {
      const data = { template: IPFIX_TEMPLATE_V4, records: slice.map((r) => templateValues(r, bootMs)) };
      const sets = withTemplate ? [{ templates: [IPFIX_TEMPLATE_V4] }, data] : [data];
      datagrams.push(encodeIpfix({ exportTime: unixSecs, sequence: flowSequence, domain: 0 }, sets));
    }
    counts[i] = slice.length;
    flowSequence += slice.length;
  }
  return { version, datagrams, records: counts };
}

/**
 * Rewrites the header sequence number of `datagram` in place: v5 and IPFIX count flow records
 * sent before this packet, v9 counts packets. Keeps the collectors' sequence checks quiet when
 * the sender cycles through the pool.
 */
export function setSequence(
  version: BenchVersion,
  datagram: Buffer,
  packetIndex: number,
  recordsBefore: number,
): void {
  if (version === 5) datagram.writeUInt32BE(recordsBefore >>> 0, 16);
  else if (version === 9) datagram.writeUInt32BE(packetIndex >>> 0, 12);
  else datagram.writeUInt32BE(recordsBefore >>> 0, 8);
}

/** File layout: u8 version, u32 count, then per datagram u16 records, u16 length, bytes. */
export function writePool(path: string, pool: DatagramPool): void {
  const size = 5 + pool.datagrams.reduce((sum, d) => sum + 4 + d.length, 0);
  const out = Buffer.alloc(size);
  out[0] = pool.version;
  out.writeUInt32BE(pool.datagrams.length, 1);
  let o = 5;
  pool.datagrams.forEach((d, i) => {
    out.writeUInt16BE(pool.records[i]!, o);
    out.writeUInt16BE(d.length, o + 2);
    d.copy(out, o + 4);
    o += 4 + d.length;
  });
  writeFileSync(path, out);
}

export function readPool(path: string): DatagramPool {
  const data = readFileSync(path);
  const version = data[0] as BenchVersion;
  if (version !== 5 && version !== 9 && version !== 10) throw new Error(`${path}: not a datagram pool`);
  const count = data.readUInt32BE(1);
  const datagrams: Buffer[] = [];
  const records = new Uint16Array(count);
  let o = 5;
  for (let i = 0; i < count; i++) {
    if (o + 4 > data.length) throw new Error(`${path}: truncated at datagram ${i}`);
    records[i] = data.readUInt16BE(o);
    const length = data.readUInt16BE(o + 2);
    if (o + 4 + length > data.length) throw new Error(`${path}: truncated at datagram ${i}`);
    datagrams.push(data.subarray(o + 4, o + 4 + length));
    o += 4 + length;
  }
  return { version, datagrams, records };
}
