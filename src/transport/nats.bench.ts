/**
 * End-to-end throughput through a local NATS JetStream: one publisher, one subscriber owning all
 * 4 partitions, in this process; prints rows/s (wall) and rows per CPU-second of this process
 * (the server's CPU is not counted). Uses its own stream and deletes it.
 * Run: node --import tsx src/transport/nats.bench.ts [nats-url] [batches]
 */
import { connect } from 'nats';
import { FlowBatch } from '../core/index.ts';
import { createFlowPublisher, createFlowSubscriber } from './index.ts';

const url = process.argv[2] ?? process.env.TSUNAGI_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const batches = Number(process.argv[3] ?? 250);
const ROWS = 4096;
const id = `BENCH_${process.pid}_${Date.now().toString(36)}`;
const stream = { name: id, subjectPrefix: `tsunagi.bench.${id}`, partitions: 4 };

function makeBatch(seed: number): FlowBatch {
  const batch = new FlowBatch(ROWS);
  batch.exporterIndex('192.0.2.1');
  let x = seed >>> 0;
  for (let i = 0; i < ROWS; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const r = batch.addRow(0, 10);
    batch.src4[r] = (0x0a000000 | (x & 0xffffff)) >>> 0;
    batch.dst4[r] = (0xc6336400 + ((x >>> 12) & 0xfff)) >>> 0;
    batch.srcPort[r] = 1024 + (x % 60000);
    batch.dstPort[r] = 443;
    batch.proto[r] = 6;
    batch.packets[r] = 1 + (x % 100);
    batch.bytes[r] = 40 + (x % 100_000);
    batch.endMs[r] = 1_700_000_000_000 + i;
  }
  return batch;
}

const publisher = createFlowPublisher({ url, stream, publish: { subscriberPrefixes: ['10.0.0.0/8'] } });
let received = 0;
const subscriber = createFlowSubscriber(
  { url, stream, subscribe: { fetchMessages: 64 } },
  {
    sink: (batch) => {
      received += batch.length;
    },
  },
);
const inputs = Array.from({ length: 8 }, (_, i) => makeBatch(i + 1));
await publisher.start();
await subscriber.start();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let b = 0; b < batches; b++) {
  publisher.publish(inputs[b % inputs.length]!);
  // Keep the in-flight window busy without dropping: wait when half of it is used.
  if (publisher.stats.inFlightBytes > 16 * 1024 * 1024) await publisher.flush();
}
await publisher.flush();
const total = batches * ROWS;
while (received < total - publisher.stats.dropped.backpressure) await new Promise((r) => setTimeout(r, 5));
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(
  `${total} rows in ${batches} batches over 4 partitions: ${(received / seconds / 1e6).toFixed(2)} M rows/s wall, ` +
    `${(received / cpuSeconds / 1e6).toFixed(2)} M rows per CPU-second (publisher + subscriber process), ` +
    `${publisher.stats.messages} messages, dropped ${publisher.stats.dropped.backpressure}`,
);
await subscriber.stop();
await publisher.stop();
const nc = await connect({ servers: url });
await (await nc.jetstreamManager()).streams.delete(id);
await nc.close();
