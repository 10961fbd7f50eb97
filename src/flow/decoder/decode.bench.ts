/**
 * Micro-benchmark of decode alone (no UDP): realistic NetFlow v5 (30 records/packet), v9 and
 * IPFIX (25 records/packet, typical v4 template) payloads decoded in a loop for ~3 s each;
 * prints flows per CPU-second. Run: node --import tsx src/flow/decoder/decode.bench.ts [seconds]
 */
import { FlowBatchWriter } from '../../core/index.ts';
import { DecoderConfig } from '../config.ts';
import { createFlowDecoder } from './decoder.ts';
import { encodeIpfixFlows, encodeNetflow5Flows, encodeV9Flows, type SimpleFlow } from '../encode.ts';

const seconds = Number(process.argv[2] ?? 3);
const T0 = 1_700_000_000;

function makeFlows(n: number, seed: number): SimpleFlow[] {
  return Array.from({ length: n }, (_, i) => {
    const x = (seed * 7919 + i * 104729) >>> 0;
    return {
      src: `10.${(x >> 16) & 255}.${(x >> 8) & 255}.${x & 255}`,
      dst: `198.51.${(x >> 4) & 255}.${(x >> 12) & 255}`,
      srcPort: 1024 + (x % 60000),
      dstPort: [80, 443, 53, 22, 8080][i % 5]!,
      proto: i % 5 === 2 ? 17 : 6,
      tcpFlags: i % 5 === 2 ? 0 : 0x1b,
      packets: 1 + (x % 1000),
      bytes: 40 + (x % 1_000_000),
      startMs: T0 * 1000 - 30_000 + (x % 20_000),
      endMs: T0 * 1000 - (x % 5000),
    };
  });
}

const PACKETS = 64;
const cases: [string, Buffer[], number][] = [
  [
    'netflow v5',
    Array.from({ length: PACKETS }, (_, p) =>
      encodeNetflow5Flows(makeFlows(30, p), { unixSecs: T0, sysUptime: 86_400_000, sequence: p * 30 }),
    ),
    30,
  ],
  [
    'netflow v9',
    Array.from({ length: PACKETS }, (_, p) =>
      encodeV9Flows(makeFlows(25, p), {
        unixSecs: T0,
        sysUptime: 86_400_000,
        sequence: p,
        withTemplate: p === 0,
      }),
    ),
    25,
  ],
  [
    'ipfix',
    Array.from({ length: PACKETS }, (_, p) =>
      encodeIpfixFlows(makeFlows(25, p), { exportTime: T0, sequence: p * 25, withTemplate: p === 0 }),
    ),
    25,
  ],
];

for (const [name, payloads, perPacket] of cases) {
  const decoder = createFlowDecoder(DecoderConfig.parse({}));
  const writer = new FlowBatchWriter((batch) => batch.reset(), 4096);
  const source = { exporter: '192.0.2.1', exporterPort: 2055, receivedMs: 0 };
  for (const p of payloads) decoder.decode(p, source, writer); // templates + warm-up
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  let flows = 0;
  while (performance.now() - wall0 < seconds * 1000) {
    for (let r = 0; r < 50; r++)
      for (let i = 0; i < payloads.length; i++) flows += decoder.decode(payloads[i]!, source, writer);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const errors = Object.values(decoder.stats.errors).reduce((n, e) => n + Object.keys(e).length, 0);
  console.log(
    `${name.padEnd(11)} ${perPacket} rec/pkt  ${(flows / cpuSeconds / 1e6).toFixed(2)} M flows/CPU-s  (${flows} flows, ${cpuSeconds.toFixed(2)} CPU-s${errors ? ', ERRORS' : ''})`,
  );
}
