/**
 * Detector benchmark: quality against the standard scenario's truth (precision, recall, traps),
 * publication delay (stream time and wall time, also paced at 100k flows/s), throughput alone
 * and behind the IPFIX decoder (its peer, measured in the same run), and memory over a day.
 *
 *   npm run bench:detect            (node --expose-gc --import tsx bench/detect/run.ts)
 *   BENCH_HOURS=6 npm run bench:detect   a shorter day
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowBatch } from '../../src/core/flowbatch.ts';
import { DecoderConfig } from '../../src/flow/config.ts';
import { createFlowDecoder } from '../../src/flow/decoder.ts';
import { replayFiles } from '../../src/flow/input-file.ts';
import { createDetector, protoName } from '../../src/detect/index.ts';
import { evaluate, generateScenario, writeExportPcap, type Detection } from '../../src/scenario/index.ts';

const HOURS = Number(process.env.BENCH_HOURS ?? 24);
const STANDARD = { seed: 1, subscribers: 2000, hours: HOURS };
const gc = (globalThis as { gc?: () => void }).gc;

/** JS heap plus array buffers (the detector's state lives in typed arrays), after a gc when exposed. */
function heapMb(): number {
  gc?.();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 1048576;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const rows: [string, string][] = [];
const row = (name: string, value: string) => {
  rows.push([name, value]);
  process.stderr.write(`  ${name}: ${value}\n`);
};

/** Replays the standard day through a detector; returns detections with stream and wall delays. */
function qualityRun(useSubscribers: boolean) {
  const scenario = generateScenario(STANDARD);
  const detections: Detection[] = [];
  const wallDelays: number[] = [];
  let batchWall = 0;
  const detector = createDetector(
    { subscriberPrefixes: useSubscribers ? scenario.truth.subscriberPrefixes : [] },
    {
      onPublish: (c) => {
        wallDelays.push(performance.now() - batchWall);
        detections.push({
          ip: c.ip,
          port: c.port,
          proto: protoName(c.proto),
          publishedAtMs: detector.detector.clockMs,
        });
      },
    },
  );
  detector.setBots(scenario.truth.botList);
  const heap: { hour: number; mb: number; keys: number }[] = [{ hour: 0, mb: heapMb(), keys: 0 }];
  let lastTick = 0;
  let nextHeapHour = 6;
  let cpu = 0;
  for (const batch of scenario.batches()) {
    batchWall = performance.now();
    const before = process.cpuUsage();
    detector.ingest(batch);
    const clock = detector.detector.clockMs;
    if (clock - lastTick >= 60_000) {
      detector.tick(clock);
      lastTick = clock;
    }
    const used = process.cpuUsage(before);
    cpu += (used.user + used.system) / 1e6;
    const hour = (clock - scenario.truth.startMs) / 3_600_000;
    if (hour >= nextHeapHour) {
      heap.push({ hour: nextHeapHour, mb: heapMb(), keys: detector.detector.table.size });
      nextHeapHour += 6;
    }
  }
  return {
    scenario,
    result: evaluate(detections, scenario.truth),
    wallDelays,
    heap,
    cpu,
    flows: detector.stats.flows,
    keys: detector.detector.table.capacity,
  };
}

async function main() {
  process.stderr.write(
    `standard scenario: seed ${STANDARD.seed}, ${STANDARD.subscribers} subscribers, ${HOURS} h\n`,
  );
  const quality = qualityRun(true);
  const r = quality.result;
  const t = quality.scenario.truth;
  row('flows in the day', String(t.flows));
  row('C&C servers in truth (detectable)', `${t.c2.length} (${r.detectable})`);
  row('precision', r.precision.toFixed(3));
  row('recall (all C&C)', r.recall.toFixed(3));
  row('recall (detectable: >=2 listed bots, >=3 periods seen)', r.detectableRecall.toFixed(3));
  row('false positives (of which traps)', `${r.falsePositives} (${r.trapsHit.length})`);
  row(
    'publication delay, stream time p50 / p99 / max (s)',
    `${(percentile(r.delaysMs, 50) / 1000).toFixed(0)} / ${(percentile(r.delaysMs, 99) / 1000).toFixed(0)} / ${(Math.max(...r.delaysMs) / 1000).toFixed(0)}`,
  );
  row('publication delay, wall time in the detector p99 (ms)', percentile(quality.wallDelays, 99).toFixed(2));
  const alone = quality.flows / quality.cpu;
  row('detector alone (flows per CPU-second)', Math.round(alone).toLocaleString('en'));
  row(
    'heap + array buffers after gc at 0/6/12/18/24 h (MB; live keys)',
    quality.heap.map((h) => `${h.mb.toFixed(0)} (${h.keys})`).join(' / '),
  );
  row('state capacity (keys, preallocated)', String(quality.keys));

  const peer = qualityRun(false).result;
  row(
    'without subscriber prefixes: precision / recall / traps hit',
    `${peer.precision.toFixed(3)} / ${peer.recall.toFixed(3)} / ${peer.trapsHit.length} (${[...new Set(peer.trapsHit.map((x) => x.kind))].join(',')})`,
  );

  // Paced live path: batches arrive at 100k flows/s; delay = publish time - batch arrival time.
  {
    const scenario = generateScenario({ ...STANDARD, hours: Math.min(HOURS, 2) });
    const batches = [...scenario.batches()];
    const rate = 100_000;
    const delays: number[] = [];
    let arrival = 0;
    const detector = createDetector(
      { subscriberPrefixes: scenario.truth.subscriberPrefixes },
      { onPublish: () => delays.push(performance.now() - arrival) },
    );
    detector.setBots(scenario.truth.botList);
    const start = performance.now();
    let sent = 0;
    let lastTick = 0;
    for (const batch of batches) {
      const due = start + (sent / rate) * 1000;
      while (performance.now() < due) await new Promise((resolve) => setImmediate(resolve));
      arrival = performance.now();
      detector.ingest(batch);
      sent += batch.length;
      if (arrival - lastTick >= 1000) {
        detector.tick();
        lastTick = arrival;
      }
    }
    const seconds = (performance.now() - start) / 1000;
    row(
      'paced at 100k flows/s: achieved rate, publications, delay p99 (ms, + collector flush <= 500)',
      `${Math.round(sent / seconds).toLocaleString('en')} flows/s, ${delays.length}, ${percentile(delays, 99).toFixed(2)}`,
    );
  }

  // Behind the collector: the same first hour as an IPFIX pcap, decoded and detected.
  {
    const dir = mkdtempSync(join(tmpdir(), 'bench-detect-'));
    const path = join(dir, 'flows.pcap');
    const options = { ...STANDARD, hours: Math.min(HOURS, 1) };
    await writeExportPcap(generateScenario(options).batches(), path, { format: 'ipfix' });
    const scenario = generateScenario(options);
    const detector = createDetector({ subscriberPrefixes: scenario.truth.subscriberPrefixes });
    detector.setBots(scenario.truth.botList);
    const decoder = createFlowDecoder(DecoderConfig.parse({}));
    const before = process.cpuUsage();
    const summary = await replayFiles([path], decoder, (b: FlowBatch) => detector.ingest(b));
    const used = process.cpuUsage(before);
    const behind = summary.records / ((used.user + used.system) / 1e6);
    rmSync(dir, { recursive: true, force: true });
    row(
      'behind the collector: pcap replay + IPFIX decode + detect (flows per CPU-second)',
      Math.round(behind).toLocaleString('en'),
    );
    row('ratio detector alone / behind the collector', (alone / behind).toFixed(2));
  }

  const width = Math.max(...rows.map(([name]) => name.length));
  process.stdout.write(`\n| ${'measure'.padEnd(width)} | value |\n| ${'-'.repeat(width)} | ----- |\n`);
  for (const [name, value] of rows) process.stdout.write(`| ${name.padEnd(width)} | ${value} |\n`);
  process.stdout.write(
    `\ngoals: recall >= 0.95, precision >= 0.99, delay p99 < 2 s at 100k flows/s, memory flat over the day\n`,
  );
}

await main();
