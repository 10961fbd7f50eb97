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
 * CPU: each worker's user+system seconds (from /proc at the end of its run), the publisher's
 * (this process) and the NATS server's when it runs on this machine, so the table shows where
 * the cores went when the rate does not grow with workers.
 *
 * Run: npm run bench:scale [-- ROWS] [--write BENCHMARKS.md]   (default 300,000 rows, about 3 min;
 * env TSUNAGI_BENCH_NATS_URL or TSUNAGI_TEST_NATS_URL, default nats://127.0.0.1:4222;
 * SCALE_BENCH_WORKERS=1,2,4). The section is printed through bench/lib/report.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connect, type JetStreamManager } from 'nats';
import { FlowBatch, PrefixSet } from '../../src/core/index.ts';
import { generateScenario } from '../../src/scenario/index.ts';
import { assignPartitions, balancePartitions, createFlowPublisher } from '../../src/transport/index.ts';
import { commandLine, machineLoad, markdownTable, publishReport } from '../lib/report.ts';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));
const URL_ =
  process.env.TSUNAGI_BENCH_NATS_URL ?? process.env.TSUNAGI_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const args = process.argv.slice(2);
const writeAt = args.indexOf('--write');
const WRITE = writeAt >= 0 ? args[writeAt + 1] : undefined;
if (writeAt >= 0 && !WRITE) throw new Error('--write needs a file (BENCHMARKS.md)');
const positional = args.filter((_, i) => writeAt < 0 || (i !== writeAt && i !== writeAt + 1));
const ROWS = Number(positional[0] ?? 300_000);
if (!Number.isInteger(ROWS) || ROWS < 1000)
  throw new Error(`rows: a whole number >= 1000, not "${positional[0]}"`);
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
  /** User+system CPU seconds of each worker process over the run (the restarted one: both lives). */
  workerCpu: number;
  publisherCpu: number;
  /** null when the NATS server is not a process of this machine. */
  natsCpu: number | null;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** User+system CPU seconds of a live process, from /proc (0 when it is gone). */
function cpuSecondsOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The local nats-server's pid, when the server runs on this machine. */
function natsServerPid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'nats-server') return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}
const NATS_PID = natsServerPid();

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
  let killedCpu = 0;
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
    const natsBefore = NATS_PID ? cpuSecondsOf(NATS_PID) : 0;
    const cpuBefore = process.cpuUsage();
    const workersBefore = children.map((c) => cpuSecondsOf(c.pid));
    const began = performance.now();
    let handed = 0;
    for (const [n, batch] of data.batches.entries()) {
      handed += batch.length;
      publisher.publish(batch);
      if (killOne && n === Math.floor(data.batches.length / 2)) {
        killedCpu = cpuSecondsOf(children[0]!.pid) - workersBefore[0]!;
        workersBefore[0] = 0;
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
    const cpu = process.cpuUsage(cpuBefore);
    const workerCpu =
      killedCpu + children.reduce((sum, c, w) => sum + cpuSecondsOf(c.pid) - workersBefore[w]!, 0);
    const natsCpu = NATS_PID ? cpuSecondsOf(NATS_PID) - natsBefore : null;
    const state = (await jsm.streams.info(id)).state;
    const discarded = state.first_seq > 1 ? state.first_seq - 1 : 0;
    const lost = handed - publisher.stats.rows + (discarded > 0 ? discarded : 0);
    return {
      workers,
      rows: handed,
      seconds,
      lost,
      restarted: killOne,
      workerCpu,
      publisherCpu: (cpu.user + cpu.system) / 1e6,
      natsCpu,
    };
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

/** Says, from the figures, whether the rate grew with workers and what held it back. */
function linearity(results: Run[]): string {
  const rate = (r: Run) => r.rows / r.seconds;
  const base = results[0]!;
  const steps = results
    .slice(1)
    .map(
      (r) =>
        `${r.workers} workers ${(rate(r) / rate(base)).toFixed(2)}x (linear: ${r.workers / base.workers}x)`,
    );
  const linear = results.slice(1).every((r) => rate(r) / rate(base) >= 0.8 * (r.workers / base.workers));
  const busiest = Math.max(
    ...results.map((r) => (r.workerCpu + r.publisherCpu + (r.natsCpu ?? 0)) / r.seconds),
  );
  return (
    `${linear ? 'Close to linear' : 'Not linear here'}: relative to ${base.workers} worker(s), ${steps.join(', ')}. ` +
    `Scaling is linear only while each worker has a core of its own; the publisher, the NATS server and the workers ` +
    `together kept up to ${busiest.toFixed(2)} of ${cpus().length} cores busy, the rest went to the other sessions, ` +
    `so adding workers past that adds processes competing for the same cores, not throughput. ` +
    `Rows per worker CPU-second is the figure that carries over to machines with cores to spare.`
  );
}

const started = new Date();
const loadBefore = machineLoad();
const dir = mkdtempSync(join(tmpdir(), 'tsunagi-bench-scale-'));
const nc = await connect({ servers: URL_ });
const jsm = await nc.jetstreamManager();
try {
  const data = loadRows();
  const total = data.loads.reduce((a, b) => a + b, 0);
  const rows = data.batches.reduce((n, b) => n + b.length, 0);
  process.stderr.write(
    `scale bench: ${rows} rows, ${PARTITIONS} partitions, ${cpus().length} CPUs, NATS ${URL_}\n`,
  );
  const results: Run[] = [];
  for (const workers of WORKERS) {
    results.push(await runOnce(jsm, data, workers, false, dir));
    process.stderr.write(`  ${workers} worker(s) done\n`);
  }
  const killed = await runOnce(jsm, data, 2, true, dir);
  const share = (workers: number) =>
    balancePartitions(data.loads, workers)
      .map((list) => `${((100 * list.reduce((s, p) => s + data.loads[p]!, 0)) / total).toFixed(0)}%`)
      .join('/');
  const cpuS = (x: number | null) => (x === null ? 'n/a' : x.toFixed(1));
  const row = (run: Run, label: string) => [
    label,
    Math.round(run.rows / run.seconds),
    run.seconds.toFixed(1),
    run.lost,
    share(run.workers),
    cpuS(run.workerCpu),
    Math.round(run.rows / Math.max(run.workerCpu, 0.01)),
    cpuS(run.publisherCpu),
    cpuS(run.natsCpu),
    ((run.workerCpu + run.publisherCpu + (run.natsCpu ?? 0)) / run.seconds).toFixed(2),
  ];
  const table = markdownTable(
    [
      'workers',
      'rows/s end to end',
      'seconds',
      'rows lost',
      'rows per worker',
      'worker CPU-s',
      'rows per worker CPU-s',
      'publisher CPU-s',
      'NATS CPU-s',
      'cores busy (these three)',
    ],
    [
      ...results.map((run) => row(run, String(run.workers))),
      row(killed, '2, one SIGKILLed mid-stream and restarted'),
    ],
    ['l', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'r', 'r'],
  );
  const one = results.find((r) => r.workers === 1);
  const perWorkerCpu = one ? one.rows / Math.max(one.workerCpu, 0.01) : undefined;
  const best = results.reduce((a, b) => (b.rows / b.seconds > a.rows / a.seconds ? b : a));
  const model = perWorkerCpu
    ? `Model for N machines: a worker folds R ~ ${Math.round(perWorkerCpu)} rows per CPU-second here (NATS decoding included). ` +
      `With N machines x k workers, each worker on a core of its own, the detectors carry ~min(collector publish rate, R / s) rows/s, ` +
      `where s is the heaviest worker's share of the rows (the "rows per worker" column; 1/(N x k) when balanced), ` +
      `so ~N x k x ${Math.round(perWorkerCpu)} rows/s when balanced. ` +
      `On this machine the best measured end-to-end rate was ${Math.round(best.rows / best.seconds)} rows/s, with ${best.workers} worker(s).`
    : '';
  const fixedCost = (() => {
    const last = results.at(-1)!;
    if (!one || last === one) return undefined;
    const drop = 1 - last.rows / Math.max(last.workerCpu, 0.01) / perWorkerCpu!;
    return (
      `Rows per worker CPU-second fell by ${(100 * drop).toFixed(0)} % from 1 to ${last.workers} workers: every process pays ` +
      `its fixed costs (ticks, re-scoring, a pull loop per partition) on fewer rows, and on an oversubscribed machine each ` +
      `context switch costs cache refills that count as the worker's CPU time.`
    );
  })();
  publishReport(
    {
      title: 'Scale-out over NATS',
      command: commandLine('bench:scale'),
      method:
        `${rows} rows of the standard scenario (seed 1001, 2000 homes) published by this process over NATS JetStream ` +
        `(${PARTITIONS} partitions hashed by the external (address, protocol), assigned to workers by balancePartitions) ` +
        `into ${WORKERS.join(', ')} \`tsunagi detect --nats\` worker processes with durable consumers. ` +
        `End to end: from the first publish until every partition's consumer has nothing pending or unacknowledged. ` +
        `Lost: rows handed to the publisher that the stream never acknowledged, plus messages the stream discarded. ` +
        `CPU-seconds from /proc over each run; NATS is the server process on this machine.`,
      started,
      loadBefore,
      loadAfter: machineLoad(),
      tables: [table, model],
      caveats: [
        `The machine has ${cpus().length} cores shared with other sessions (see the load figures above): the publisher, the NATS server and every worker compete for them, so more workers than free cores cannot add throughput, and the rates move by tens of percent between runs.`,
        linearity(results),
        ...(fixedCost ? [fixedCost] : []),
        'The SIGKILL row measures loss, not speed: its time includes a 1 s pause and the restarted process starting (tsx compiling the CLI), and its worker CPU both lives of the killed worker.',
        'The collector side is the in-process publisher, not UDP: `bench:flow` measures the collector.',
      ],
    },
    WRITE,
  );
} finally {
  await nc.close();
  rmSync(dir, { recursive: true, force: true });
}
