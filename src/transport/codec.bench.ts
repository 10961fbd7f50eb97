/**
 * Micro-benchmark of the FlowBatch wire codec and partitioner on 4096-row batches (all IPv4, and
 * 10 % IPv6): encode whole, partition + gather-encode into 4 messages (what the publisher does),
 * decode; prints rows per CPU-second and bytes per row. Run: node --import tsx src/transport/codec.bench.ts [seconds]
 */
import { FlowBatch, PrefixSet } from '../core/index.ts';
import { decodeFlowBatch, encodeExporterTable, encodeFlowBatch, encodeFlowRows } from './codec.ts';
import { assignPartitions, groupRows, partitionBatch } from './partition.ts';

const seconds = Number(process.argv[2] ?? 2);
const ROWS = 4096;
const PARTITIONS = 4;
const subscribers = new PrefixSet(['10.0.0.0/8', '2001:db8:1::/48']);

function makeBatch(v6Share: number, seed: number): FlowBatch {
  const batch = new FlowBatch(ROWS);
  batch.exporterIndex('192.0.2.1');
  batch.exporterIndex('192.0.2.2');
  let x = seed >>> 0;
  for (let i = 0; i < ROWS; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const r = batch.addRow(i & 1, 10);
    const reply = (x & 1) === 1;
    if ((x >>> 8) % 100 < v6Share * 100) {
      batch.ipVersion[r] = 6;
      const client = reply ? batch.dst6 : batch.src6;
      const server = reply ? batch.src6 : batch.dst6;
      client.set([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, x >>> 24, x >>> 16, x >>> 8, x], r * 16);
      server.set([0x24, 0x00, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (x >>> 4) & 255, x >>> 12], r * 16);
    } else {
      const client = (0x0a000000 | (x & 0xffffff)) >>> 0;
      const server = (0xc6336400 + ((x >>> 12) & 0xfff)) >>> 0;
      batch.src4[r] = reply ? server : client;
      batch.dst4[r] = reply ? client : server;
    }
    batch.srcPort[r] = reply ? 443 : 1024 + (x % 60000);
    batch.dstPort[r] = reply ? 1024 + (x % 60000) : 443;
    batch.proto[r] = 6;
    batch.tcpFlags[r] = 0x1b;
    batch.packets[r] = 1 + (x % 100);
    batch.bytes[r] = 40 + (x % 100_000);
    batch.startMs[r] = 1_700_000_000_000 + i;
    batch.endMs[r] = 1_700_000_000_500 + i;
  }
  return batch;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Runs `step` (which handles `rowsPerStep` rows) for about `seconds` of CPU time; returns rows per CPU-second. */
function measure(step: () => void, rowsPerStep: number): number {
  for (let i = 0; i < 50; i++) step(); // warm up the JIT
  const start = cpuMs();
  let rows = 0;
  let checks = 0;
  while (true) {
    for (let i = 0; i < 20; i++) step();
    rows += 20 * rowsPerStep;
    if (++checks % 5 === 0 && cpuMs() - start > seconds * 1000) break;
  }
  return rows / ((cpuMs() - start) / 1000);
}

const fmt = (n: number) => `${(n / 1e6).toFixed(1)} M`;
console.log(`FlowBatch codec, ${ROWS}-row batches, ${PARTITIONS} partitions, ~${seconds} s CPU per line`);
for (const [label, v6Share] of [
  ['IPv4 only', 0],
  ['10 % IPv6', 0.1],
] as const) {
  const batch = makeBatch(v6Share, 12345);
  const message = encodeFlowBatch(batch);
  const encode = measure(() => encodeFlowBatch(batch), ROWS);
  const decode = measure(() => {
    if (!decodeFlowBatch(message).ok) throw new Error('decode failed');
  }, ROWS);
  const ids = new Uint16Array(ROWS);
  const counts = new Uint32Array(PARTITIONS);
  const rows = new Uint32Array(ROWS);
  const offsets = new Uint32Array(PARTITIONS + 1);
  const options = { subscribers };
  const publishPath = measure(() => {
    assignPartitions(batch, PARTITIONS, ids, counts, options);
    groupRows(ids, ROWS, counts, PARTITIONS, rows, offsets);
    const table = encodeExporterTable(batch.exporters);
    for (let p = 0; p < PARTITIONS; p++) encodeFlowRows(batch, rows, offsets[p]!, offsets[p + 1]!, table);
  }, ROWS);
  const split = measure(() => partitionBatch(batch, PARTITIONS, options), ROWS);
  console.log(
    `${label.padEnd(10)}  encode ${fmt(encode)} rows/CPU-s   decode ${fmt(decode)} rows/CPU-s   ` +
      `partition+encode ${fmt(publishPath)} rows/CPU-s   partitionBatch ${fmt(split)} rows/CPU-s   ` +
      `${(message.length / ROWS).toFixed(1)} bytes/row`,
  );
}
