/**
 * The collector's JS side without sockets: the bench pool's datagrams are laid out in 64-slot
 * receive buffers as the recvmmsg addon fills them, then each is decoded from a Buffer view into
 * recycled batches, as src/flow/input/udp/udp.ts and src/flow/index.ts do. Prints flows per
 * CPU-second and GC time; tells decode-side changes apart from kernel and load noise.
 * Usage: node --import tsx bench/flow/pipeline.ts [seconds] [versions, e.g. 5,9,10]
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { FlowBatchWriter } from '../../src/core/index.ts';
import { DecoderConfig, createFlowDecoder, type PayloadSource } from '../../src/flow/index.ts';
import { buildPool, VERSION_LABEL, type BenchVersion } from './payloads.ts';

const seconds = Number(process.argv[2] ?? 2);
const versions = (process.argv[3] ?? '5,9,10').split(',').map(Number) as BenchVersion[];
const SLOTS = 64;
const SLOT_BYTES = 65536;

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

for (const version of versions) {
  const pool = buildPool(version, 4000);
  // Receive buffers as the addon leaves them: datagram i of a batch at slot i.
  const batches: { data: Buffer; lengths: Int32Array; count: number }[] = [];
  for (let at = 0; at < pool.datagrams.length; at += SLOTS) {
    const data = Buffer.alloc(SLOTS * SLOT_BYTES);
    const lengths = new Int32Array(SLOTS);
    const count = Math.min(SLOTS, pool.datagrams.length - at);
    for (let i = 0; i < count; i++) {
      const d = pool.datagrams[at + i]!;
      d.copy(data, i * SLOT_BYTES);
      lengths[i] = d.length;
    }
    batches.push({ data, lengths, count });
  }
  const decoder = createFlowDecoder(DecoderConfig.parse({}));
  let rows = 0;
  const writer = new FlowBatchWriter((b) => (rows += b.length), 4096, { recycle: true });
  const source: PayloadSource = { exporter: '127.0.0.1', exporterPort: 40000, receivedMs: 0 };
  const run = (): number => {
    let flows = 0;
    for (const { data, lengths, count } of batches) {
      source.receivedMs = Date.now();
      for (let i = 0; i < count; i++) {
        const offset = i * SLOT_BYTES;
        flows += decoder.decode(data.subarray(offset, offset + lengths[i]!), source, writer);
      }
    }
    return flows;
  };
  run(); // templates and warm-up
  await new Promise((resolve) => setTimeout(resolve, 50)); // let set-up GC entries arrive first
  gcMs = 0;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  let flows = 0;
  while (performance.now() - wall0 < seconds * 1000) flows += run();
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  await new Promise((resolve) => setTimeout(resolve, 50)); // GC entries arrive asynchronously
  console.log(
    `${VERSION_LABEL[version].padEnd(11)} ${(flows / cpuSeconds / 1e6).toFixed(2)} M flows/CPU-s, ` +
      `${((cpuSeconds * 1e6) / (flows / (pool.records.reduce((a, b) => a + b, 0) / pool.datagrams.length))).toFixed(2)} µs/datagram, ` +
      `GC ${((gcMs / (cpuSeconds * 1000)) * 100).toFixed(1)}% (${flows} flows, ${cpuSeconds.toFixed(2)} CPU-s)`,
  );
}
