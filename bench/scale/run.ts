/**
 * Scale-out benchmark (not a test): flows/s end to end through NATS JetStream into 1, 2 and 4
 * `tsunagi detect --nats` worker processes on this machine, loss at each rate, a kill-and-restart
 * run, and a model for N machines from the measured per-worker rate.
 *
 * End to end = from the first publish until every message of every partition is acknowledged by
 * its worker's durable consumer (folded into a detector). Loss = rows handed to the publisher
 * minus rows acknowledged by the stream, plus messages the stream discarded (first sequence > 1),
 * plus messages no worker acknowledged. The publisher runs in this process at full speed; its
 * backpressure queue, not drops, absorbs the difference.
 *
 * Run: npm run bench:scale [-- ROWS]   (default 100,000 rows, under 3 min; env TSUNAGI_BENCH_NATS_URL or
 * TSUNAGI_TEST_NATS_URL, default nats://127.0.0.1:4222; SCALE_BENCH_WORKERS=1,2,4).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connect, type JetStreamManager } from 'nats';
import { FlowBatch, PrefixSet } from '../../src/core/index.ts';
import { generateScenario } from '../../src/scenario/index.ts';
import { assignPartitions, balancePartitions, createFlowPublisher } from '../../src/transport/index.ts';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));
const URL_ =
  process.env.TSUNAGI_BENCH_NATS_URL ?? process.env.TSUNAGI_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const ROWS = Number(process.argv[2] ?? 100_000);
const WORKERS = (process.env.SCALE_BENCH_WORKERS ?? '1,2,4').split(',').map(Number);
const PARTITIONS = 16;

/** The standard scenario's traffic, kept in memory so every run replays the same rows. */
function loadRows(): { batches: FlowBatch[]; subscribers: string[]; bots: string[]; loads: number[] } {
  const scenario = generateScenario({ seed: 1001, hours: 24, subscribers: 2000 });
  const batches: FlowBatch[] = [];
  let rows = 0;
  const loads = new Array<number>(PARTITIONS).fill(0);
  const options = { subscribers: new PrefixSet(scenario.truth.subscriberPrefixes) };
  // The generator yields a new batch each time: they can be kept and replayed.
  for (const batch of scenario.batches()) {
    const ids = new Uint16Array(batch.length);
    const counts = new Uint32Array(PARTITIONS);
    assignPartitions(batch, PARTITIONS, ids, counts, options);
    counts.forEach((c, p) => (loads[p]! += c));
    batches.push(batch);
    rows += batch.length;
    if (rows >= ROWS) break;
  }
  return {
    batches,
    subscribers: scenario.truth.subscriberPrefixes,
    bots: scenario.truth.botList,
    loads,
  };
}

interface Run {
  workers: number;
  rows: number;
  seconds: number;
  lost: number;
  restarted: boolean;
}

async function runOnce(
  jsm: JetStreamManager,
  data: ReturnType<typeof loadRows>,
  workers: number,
  killOne: boolean,
  dir: string,
): Promise<Run> {
  const id = `SCALE_${process.pid}_${workers}_${killOne ? 'k' : 'n'}_${Date.now().toString(36)}`;
  const stream = { name: id, subjectPrefix: `tsunagi.${id.toLowerCase()}`, partitions: PARTITIONS };
  const durable = `bench-${id}`;
  const owned = balancePartitions(data.loads, workers);
  const bots = join(dir, 'bots.txt');
  writeFileSync(bots, `${data.bots.join('\n')}\n`);
  const publisher = createFlowPublisher({
    url: URL_,
    stream: { ...stream, sizing: { rowsPerSecond: 400_000, downtimeSeconds: 60 } },
    publish: { subscriberPrefixes: data.subscribers },
  });
  await publisher.start();
  const children: ChildProcess[] = [];
  const start = (w: number) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(
        BIN,
        [
          'detect',
          '--nats',
          URL_,
          '--stream',
          id,
          '--partition-count',
          String(PARTITIONS),
          '--partitions',
          owned[w]!.join(','),
          '--durable',
          durable,
          '--no-hub',
          '--bots',
          bots,
          '--subscribers',
          ...data.subscribers,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      child.stderr!.on('data', (d) => {
        err += d;
        if (/consuming partitions/.test(err)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`worker exited ${code}: ${err}`)));
      children[w] = child;
    });
  try {
    await Promise.all(owned.map((_, w) => start(w)));
    const began = performance.now();
    let handed = 0;
    for (const [n, batch] of data.batches.entries()) {
      handed += batch.length;
      publisher.publish(batch);
      if (killOne && n === Math.floor(data.batches.length / 2)) {
        children[0]!.removeAllListeners('exit');
        children[0]!.kill('SIGKILL');
      }
      if (publisher.stats.queuedBytes > 64 << 20) await publisher.flush();
    }
    await publisher.flush();
    if (killOne) {
      await sleep(1000);
      await start(0);
    }
    for (;;) {
      let done = true;
      for (let p = 0; p < PARTITIONS && done; p++) {
        const info = await jsm.consumers.info(id, `${durable}-p${p}`);
        done = info.num_pending === 0 && info.num_ack_pending === 0;
      }
      if (done) break;
      await sleep(50);
    }
    const seconds = (performance.now() - began) / 1000;
    const state = (await jsm.streams.info(id)).state;
    const discarded = state.first_seq > 1 ? state.first_seq - 1 : 0;
    const lost = handed - publisher.stats.rows + (discarded > 0 ? discarded : 0);
    return { workers, rows: handed, seconds, lost, restarted: killOne };
  } finally {
    for (const c of children) {
      c?.removeAllListeners('exit');
      c?.kill('SIGINT');
    }
    await publisher.stop();
    await sleep(500);
    await jsm.streams.delete(id).catch(() => undefined);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-bench-scale-'));
const nc = await connect({ servers: URL_ });
const jsm = await nc.jetstreamManager();
try {
  const data = loadRows();
  const total = data.loads.reduce((a, b) => a + b, 0);
  console.log(
    `scale bench: ${data.batches.reduce((n, b) => n + b.length, 0)} rows, ${PARTITIONS} partitions, ` +
      `${cpus().length} CPUs, NATS ${URL_}`,
  );
  console.log('workers | rows/s end to end | seconds | rows lost | partition share per worker');
  const results: Run[] = [];
  for (const workers of WORKERS) {
    const run = await runOnce(jsm, data, workers, false, dir);
    results.push(run);
    const shares = balancePartitions(data.loads, workers)
      .map((list) => `${((100 * list.reduce((s, p) => s + data.loads[p]!, 0)) / total).toFixed(0)}%`)
      .join('/');
    console.log(
      `${workers} | ${Math.round(run.rows / run.seconds)} | ${run.seconds.toFixed(1)} | ${run.lost} | ${shares}`,
    );
  }
  const killed = await runOnce(jsm, data, 2, true, dir);
  console.log(
    `2, one SIGKILLed mid-stream and restarted | ${Math.round(killed.rows / killed.seconds)} | ${killed.seconds.toFixed(1)} | ${killed.lost} |`,
  );
  const one = results.find((r) => r.workers === 1);
  if (one) {
    const perWorker = one.rows / one.seconds;
    console.log(
      `model: a worker folds ~${Math.round(perWorker)} rows/s here (its process includes NATS decoding); ` +
        `N machines x k workers ~ min(collector publish rate, N x k x ${Math.round(perWorker)}) rows/s ` +
        `while each worker has a core, times the share of the heaviest worker (balancePartitions) ` +
        `relative to 1/(N x k).`,
    );
  }
} finally {
  await nc.close();
  rmSync(dir, { recursive: true, force: true });
}
