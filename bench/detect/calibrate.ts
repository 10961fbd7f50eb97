/**
 * Fits the detector's calibration (src/detect/calibration.json) on TUNING seeds only:
 *
 *   node --import tsx bench/detect/calibrate.ts [--seeds 1-20] [--rates 1,10,100] [--out src/detect/calibration.json]
 *
 * Every seed is run as bench:detect runs it, with the shipped curve switched off and the
 * threshold lowered to `--floor` (40) so that candidates below the publishing threshold are
 * labelled too. Each candidate's highest raw score is labelled by the scenario's truth (the
 * scoring rules of src/scenario/score.ts). Isotonic regression (pool adjacent violators) over
 * (raw score, real C&C) gives a non-decreasing step curve, one for unsampled and one for
 * packet-sampled runs; steps of fewer than 40 candidates join the step below, and each step's probability is (correct + 1) / (candidates + 2), so no band
 * claims certainty from a finite sample. Evaluation seeds (>= 1000) are refused.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CalibrationFile, Detector, DetectConfig, parseBotList, protoName } from '../../src/detect/index.ts';
import {
  PacketSampler,
  botListCsv,
  generateSeededScenario,
  scorePublications,
  type Publication,
  type SeededTruth,
} from '../../src/scenario/index.ts';
import { detectorConfig } from './config.ts';

function fail(message: string): never {
  process.stderr.write(`calibrate: ${message}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1-20' },
    rates: { type: 'string', default: '1,10,100' },
    hours: { type: 'string', default: '12' },
    subscribers: { type: 'string', default: '800' },
    floor: { type: 'string', default: '40' },
    out: { type: 'string', default: 'src/detect/calibration.json' },
  },
  strict: true,
});
const range = /^(\d+)-(\d+)$/.exec(values.seeds);
if (!range) fail('--seeds must be FROM-TO');
const seeds = Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i);
if (seeds.length === 0 || seeds.some((s) => s >= 1000)) fail('only tuning seeds (below 1000) may be used');
const rates = values.rates.split(',').map(Number);
if (rates.some((r) => !Number.isInteger(r) || r < 1)) fail('--rates must be integers >= 1');
const floor = Number(values.floor);
/** Fewest candidates one step of the curve stands on. */
const MIN_BLOCK = 40;

/** Every candidate down to the floor, none held back by hysteresis: the curve needs them all. */
const calibrationConfig = (truth: SeededTruth) =>
  DetectConfig.parse(detectorConfig(truth, { scoring: { threshold: floor, hysteresis: 0 } }));

/** (raw score, real C&C) of every candidate of one seed at one rate. */
function labelled(seed: number, rate: number): [number, boolean][] {
  const scenario = generateSeededScenario({
    seed,
    hours: Number(values.hours),
    subscribers: Number(values.subscribers),
  });
  const truth = scenario.truth;
  const best = new Map<string, Publication>();
  const keep = (c: { ip: string; port: number; proto: number; confidence: number }) => {
    const key = `${c.ip}|${c.port}|${c.proto}`;
    if ((best.get(key)?.confidence ?? -1) < c.confidence)
      best.set(key, { ip: c.ip, port: c.port, proto: protoName(c.proto), confidence: c.confidence });
  };
  const detector = new Detector(calibrationConfig(truth), { onPublish: keep }, { calibration: null });
  detector.setBots(parseBotList(botListCsv(truth.botListRows)).entries);
  const sampler = new PacketSampler(rate, seed);
  let lastTick = truth.startMs;
  for (const batch of scenario.batches()) {
    const clock = batch.startMs[batch.length - 1]!;
    detector.ingest(rate === 1 ? batch : sampler.sample(batch));
    if (clock - lastTick >= 60_000) {
      lastTick = clock;
      detector.tick(clock);
    }
  }
  detector.tick();
  for (const c of detector.candidates()) keep(c);
  const publications = [...best.values()];
  const wrong = new Set(
    scorePublications(publications, truth).falsePositives.map((p) => `${p.ip}|${p.port}|${p.proto}`),
  );
  return publications.map((p) => [p.confidence, !wrong.has(`${p.ip}|${p.port}|${p.proto}`)]);
}

/** Pool adjacent violators: non-decreasing steps [from score, probability] with Laplace smoothing. */
function isotonic(points: [number, boolean][]): [number, number][] {
  const byScore = new Map<number, { n: number; k: number }>();
  for (const [score, real] of points) {
    const s = byScore.get(score) ?? { n: 0, k: 0 };
    s.n++;
    if (real) s.k++;
    byScore.set(score, s);
  }
  const blocks: { from: number; n: number; k: number }[] = [];
  for (const score of [...byScore.keys()].sort((a, b) => a - b)) {
    blocks.push({ from: score, ...byScore.get(score)! });
    while (blocks.length > 1) {
      const last = blocks.at(-1)!;
      const prev = blocks.at(-2)!;
      if (prev.k / prev.n <= last.k / last.n) break;
      prev.n += last.n;
      prev.k += last.k;
      blocks.pop();
    }
  }
  // A step needs enough candidates to say anything: small blocks join their lower neighbour.
  for (let i = blocks.length - 1; i > 0; i--) {
    if (blocks[i]!.n >= MIN_BLOCK) continue;
    blocks[i - 1]!.n += blocks[i]!.n;
    blocks[i - 1]!.k += blocks[i]!.k;
    blocks.splice(i, 1);
  }
  const steps: [number, number][] = [[0, 0]];
  for (const b of blocks) steps.push([b.from, Math.round((1000 * (b.k + 1)) / (b.n + 2)) / 1000]);
  // Smoothing can break monotonicity between a small block and a big one: keep the running max.
  for (let i = 1; i < steps.length; i++) steps[i]![1] = Math.max(steps[i]![1], steps[i - 1]![1]);
  return steps;
}

const unsampled: [number, boolean][] = [];
const sampled: [number, boolean][] = [];
for (const seed of seeds)
  for (const rate of rates) {
    const points = labelled(seed, rate);
    (rate === 1 ? unsampled : sampled).push(...points);
    process.stderr.write(`  seed ${seed} 1:${rate}: ${points.length} candidates\n`);
  }
const count = (p: [number, boolean][]) => `${p.length} candidates, ${p.filter((x) => x[1]).length} real`;
const file: CalibrationFile = {
  format: 'tsunagi-detect-calibration',
  version: 1,
  fitted:
    `bench/detect/calibrate.ts, tuning seeds ${seeds[0]}-${seeds.at(-1)}, rates ${rates.map((r) => `1:${r}`).join(' ')}, ` +
    `raw score >= ${floor}: unsampled ${count(unsampled)}; sampled ${count(sampled)}`,
  unsampled: isotonic(unsampled),
  sampled: isotonic(sampled.length ? sampled : unsampled),
};
CalibrationFile.parse(file);
writeFileSync(values.out, `${JSON.stringify(file, null, 2)}\n`);
process.stdout.write(
  `${file.fitted}\nunsampled ${JSON.stringify(file.unsampled)}\nsampled ${JSON.stringify(file.sampled)}\n`,
);
