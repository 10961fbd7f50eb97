/**
 * Why the detector missed a C&C server or published something else, on TUNING seeds only:
 *
 *   node --import tsx bench/detect/explain.ts --seed 11 [--rate 10] [--hours 12] [--subscribers 800]
 *
 * Pass 1 runs the seed as bench:detect does and lists the seen servers it missed and the false
 * positives. Pass 2 regenerates the same day (the generator is deterministic) and snapshots the
 * detector's evidence for those addresses every stream minute, then prints, per address, the
 * snapshot with the highest confidence (`explain()`: the same columns as `tsunagi detect --explain`).
 * Evaluation seeds (>= 1000) are refused: they are for the final figures, never for diagnosis.
 */
import { parseArgs } from 'node:util';
import { createDetector, parseBotList, protoName, type Evidence } from '../../src/detect/index.ts';
import {
  PacketSampler,
  botListCsv,
  generateSeededScenario,
  scorePublications,
  type Publication,
  type SeededTruth,
} from '../../src/scenario/index.ts';
import { detectorConfig } from './config.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    rate: { type: 'string', default: '1' },
    hours: { type: 'string', default: '12' },
    subscribers: { type: 'string', default: '800' },
  },
  strict: true,
});
const seed = Number(values.seed);
const rate = Number(values.rate);
if (!Number.isInteger(seed) || seed < 0) {
  process.stderr.write('explain: --seed N is required (a tuning seed below 1000)\n');
  process.exit(2);
}
if (seed >= 1000) {
  process.stderr.write('explain: seeds from 1000 are evaluation seeds and are never diagnosed\n');
  process.exit(2);
}
if (!Number.isInteger(rate) || rate < 1) {
  process.stderr.write('explain: --rate must be an integer >= 1\n');
  process.exit(2);
}
const hours = Number(values.hours);
const subscribers = Number(values.subscribers);

type Watch = Map<string, { confidence: number; port: number; evidence: Evidence } | undefined>;

function run(watch?: Watch): { publications: Publication[]; truth: SeededTruth } {
  const scenario = generateSeededScenario({ seed, hours, subscribers });
  const truth = scenario.truth;
  const best = new Map<string, Publication>();
  const component = createDetector(detectorConfig(truth), {
    onPublish: (c) => {
      const key = `${c.ip}|${c.port}|${c.proto}`;
      if ((best.get(key)?.confidence ?? -1) < c.confidence)
        best.set(key, { ip: c.ip, port: c.port, proto: protoName(c.proto), confidence: c.confidence });
    },
  });
  component.setBots(parseBotList(botListCsv(truth.botListRows)).entries);
  const sampler = new PacketSampler(rate, seed);
  let lastTick = truth.startMs;
  for (const batch of scenario.batches()) {
    const clock = batch.startMs[batch.length - 1]!;
    component.ingest(rate === 1 ? batch : sampler.sample(batch));
    if (clock - lastTick < 60_000) continue;
    lastTick = clock;
    component.tick(clock);
    if (!watch) continue;
    for (const [key, seen] of watch) {
      const [ip, proto] = key.split('|');
      const now = component.detector.explain(ip!, proto === 'udp' ? 17 : 6);
      if (now && (!seen || now.confidence >= seen.confidence)) watch.set(key, now);
    }
  }
  component.tick();
  for (const c of component.candidates())
    best.set(`${c.ip}|${c.port}|${c.proto}`, {
      ip: c.ip,
      port: c.port,
      proto: protoName(c.proto),
      confidence: c.confidence,
    });
  return { publications: [...best.values()], truth };
}

const first = run();
const score = scorePublications(first.publications, first.truth);
const missed = score.units.filter((u) => u.seen && !u.found);
process.stdout.write(
  `seed ${seed} 1:${rate}: precision ${score.precision.toFixed(3)} recall ${score.recall.toFixed(3)} (${score.correct}/${score.published}, seen ${score.seen}); missed ${missed.length}, false ${score.falsePositives.length}\n`,
);
const watch: Watch = new Map();
const label = new Map<string, string>();
for (const u of missed) {
  const c2 = first.truth.c2.find((c) =>
    u.kind === 'fast-flux' ? c.ip === u.key : `${c.ip}|${c.port}|${c.proto}` === u.key,
  )!;
  const key = `${c2.ip}|${c2.proto}`;
  watch.set(key, undefined);
  label.set(
    key,
    `missed ${u.kind} ${u.family} ${u.key} (listed bots ${c2.knownBots}, contacts ${c2.contacts})`,
  );
}
for (const fp of score.falsePositives) {
  const key = `${fp.ip}|${fp.proto}`;
  watch.set(key, undefined);
  const trap = first.truth.traps.find((t) => t.ip === fp.ip);
  label.set(
    key,
    `false ${trap?.kind ?? 'other'} ${fp.ip}:${fp.port}/${fp.proto} confidence ${fp.confidence}`,
  );
}
if (watch.size > 0) run(watch);
for (const [key, best] of watch) {
  process.stdout.write(`\n${label.get(key)}\n`);
  if (!best) {
    process.stdout.write('  never tracked (no established contact by a listed bot)\n');
    continue;
  }
  process.stdout.write(`  peak confidence ${best.confidence} on port ${best.port}\n`);
  const { sub, ...rest } = best.evidence;
  process.stdout.write(`  sub ${JSON.stringify(sub)}\n  ${JSON.stringify(rest)}\n`);
}
