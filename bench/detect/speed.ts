/**
 * Detector CPU cost and output identity on TUNING seeds (< 1000), robust to a loaded machine:
 *
 *   node --import tsx bench/detect/speed.ts --seeds 1,2,3 [--repeat 5] [--hours 12] [--rate 1]
 *                                           [--out DIR]   (writes seed-N.jsonl: every event)
 *
 * Each seed's day is generated once and held in memory; the detector is then run `repeat` times
 * on it, `process.cpuUsage()` around ingest and tick only. Printed: flows per CPU-second per run
 * and the median, and a sha256 over every publish / withdraw / peer event (with its evidence)
 * plus the final candidates, so a speed change can be checked to leave the output byte-identical.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { FlowBatch } from '../../src/core/index.ts';
import { createDetector, parseBotList } from '../../src/detect/index.ts';
import {
  PacketSampler,
  botListCsv,
  generateSeededScenario,
  type SeededTruth,
} from '../../src/scenario/index.ts';
import { detectorConfig } from './config.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3' },
    repeat: { type: 'string', default: '5' },
    hours: { type: 'string', default: '12' },
    subscribers: { type: 'string', default: '800' },
    rate: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
  strict: true,
});
const seeds = values.seeds.split(',').map(Number);
const repeat = Number(values.repeat);
const rate = Number(values.rate);
if (seeds.some((s) => !Number.isInteger(s) || s < 0 || s >= 1000)) {
  process.stderr.write('speed: --seeds takes tuning seeds only (integers below 1000)\n');
  process.exit(2);
}
if (!Number.isInteger(repeat) || repeat < 1 || !Number.isInteger(rate) || rate < 1) {
  process.stderr.write('speed: --repeat and --rate must be integers >= 1\n');
  process.exit(2);
}

function runOnce(
  truth: SeededTruth,
  batches: FlowBatch[],
): { cpu: number; tickShare: number; flows: number; events: string[] } {
  const events: string[] = [];
  let clock = truth.startMs;
  const detector = createDetector(detectorConfig(truth), {
    onPublish: (c) => events.push(JSON.stringify(['publish', clock, c])),
    onWithdraw: (c, reason) => events.push(JSON.stringify(['withdraw', clock, reason, c])),
    onPeer: (p) => events.push(JSON.stringify(['peer', clock, p])),
  });
  detector.setBots(parseBotList(botListCsv(truth.botListRows)).entries);
  let lastTick = truth.startMs;
  let cpu = 0;
  let tickCpu = 0;
  let flows = 0;
  for (const batch of batches) {
    clock = batch.startMs[batch.length - 1]!;
    const tick = clock - lastTick >= 60_000;
    if (tick) lastTick = clock;
    const before = process.cpuUsage();
    detector.ingest(batch);
    const ingested = process.cpuUsage(before);
    cpu += (ingested.user + ingested.system) / 1e6;
    if (tick) {
      const beforeTick = process.cpuUsage();
      detector.tick(clock);
      const used = process.cpuUsage(beforeTick);
      tickCpu += (used.user + used.system) / 1e6;
    }
    flows += batch.length;
  }
  const before = process.cpuUsage();
  detector.tick();
  const used = process.cpuUsage(before);
  tickCpu += (used.user + used.system) / 1e6;
  for (const c of detector.candidates()) events.push(JSON.stringify(['candidate', c]));
  for (const row of detector.peerRows({ internal: true })) events.push(JSON.stringify(['peerRow', row]));
  return { cpu: cpu + tickCpu, tickShare: tickCpu / (cpu + tickCpu), flows, events };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const allRates: number[] = [];
for (const seed of seeds) {
  const scenario = generateSeededScenario({
    seed,
    hours: Number(values.hours),
    subscribers: Number(values.subscribers),
  });
  const sampler = new PacketSampler(rate, seed);
  const batches = [...scenario.batches()].map((b) => (rate === 1 ? b : sampler.sample(b)));
  const rates: number[] = [];
  const tickShares: number[] = [];
  let digest = '';
  for (let i = 0; i < repeat; i++) {
    const r = runOnce(scenario.truth, batches);
    rates.push(r.flows / r.cpu);
    tickShares.push(r.tickShare);
    const text = r.events.join('\n') + '\n';
    const d = createHash('sha256').update(text).digest('hex').slice(0, 16);
    if (digest && d !== digest) process.stderr.write(`speed: seed ${seed} run ${i} differs from run 0\n`);
    digest = d;
    if (i === 0 && values.out) {
      mkdirSync(values.out, { recursive: true });
      writeFileSync(join(values.out, `seed-${seed}.jsonl`), text);
    }
    if (i === 0)
      process.stdout.write(`seed ${seed}: ${r.flows} flows, ${r.events.length} events, sha256 ${digest}\n`);
  }
  allRates.push(...rates);
  process.stdout.write(
    `seed ${seed}: flows/CPU-s ${rates.map((x) => Math.round(x).toLocaleString('en')).join(' ')} median ${Math.round(median(rates)).toLocaleString('en')} (tick ${(100 * median(tickShares)).toFixed(0)} % of it)\n`,
  );
}
process.stdout.write(
  `all: median flows/CPU-s ${Math.round(median(allRates)).toLocaleString('en')} over ${allRates.length} runs\n`,
);
