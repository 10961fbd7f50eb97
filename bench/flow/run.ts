/**
 * `npm run bench:flow`: replays identical NetFlow v5 / v9 / IPFIX datagrams over loopback to
 * tsunagi's collector and to nfdump's nfcapd, one after the other, each pinned to one core,
 * and prints flows per CPU-second, the ratio tsunagi/nfcapd, loss, and the highest rate
 * (stepped up) at which each receiver lost nothing. Both sides do the same work: decode every
 * record and write it to a file on disk (tsunagi its flow CSV, nfcapd its nffile). With
 * `--receivers tsunagi-count,...` tsunagi's decode-only figure is shown beside, never in a ratio.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { commandLine, machineLoad, publishReport } from '../lib/report.ts';
import { buildPool, RECORDS_PER_DATAGRAM, VERSION_LABEL, writePool, type BenchVersion } from './payloads.ts';
import {
  freeUdpPort,
  readCpuSeconds,
  readCpuTimes,
  readUdpSocket,
  sleep,
  startChild,
  waitExit,
  waitFor,
  type Child,
} from '../../src/flow/testing.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

const { values: options } = parseArgs({
  options: {
    versions: { type: 'string', default: '5,9,10' },
    /** Send rates to step through, in flows per second. */
    rates: { type: 'string', default: '200000,800000' },
    seconds: { type: 'string', default: '3' },
    'pool-datagrams': { type: 'string', default: '4000' },
    'receive-buffer': { type: 'string', default: String(4 * 1024 * 1024) },
    /** Give up stepping once the whole run has taken this long. */
    budget: { type: 'string', default: '240' },
    /** Put the printed "Flow collection" section into this markdown file (BENCHMARKS.md). */
    write: { type: 'string' },
    /** Write V8 CPU profiles of the tsunagi receiver into this directory. */
    'cpu-prof': { type: 'string' },
    'no-taskset': { type: 'boolean', default: false },
    receivers: { type: 'string', default: 'tsunagi,tsunagi-count,nfcapd' },
  },
});

const RECEIVERS: readonly ReceiverName[] = ['tsunagi', 'tsunagi-count', 'nfcapd'];
const versions = options.versions.split(',').map(Number) as BenchVersion[];
for (const v of versions) if (![5, 9, 10].includes(v)) throw new Error(`--versions: ${v} is not 5, 9 or 10`);
const receivers = options.receivers.split(',') as ReceiverName[];
for (const r of receivers)
  if (!RECEIVERS.includes(r)) throw new Error(`--receivers: ${r} is not one of ${RECEIVERS.join(', ')}`);
const rates = options.rates.split(',').map(Number);
if (rates.some((r) => !(r > 0))) throw new Error('--rates: positive flows/s values, comma separated');
const stepSeconds = Number(options.seconds);
const receiveBuffer = Number(options['receive-buffer']);
const budgetMs = Number(options.budget) * 1000;
const benchStarted = performance.now();
/** The machine may be shared: the load before and after says how busy it was. */
const loadBefore = machineLoad();
const startedAt = new Date();

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}
for (const tool of ['nfcapd', 'nfdump']) {
  if (!hasCommand(tool)) {
    process.stderr.write(`bench:flow needs ${tool} (Debian package nfdump): apt-get install -y nfdump\n`);
    process.exit(2);
  }
}
const useTaskset = !options['no-taskset'] && hasCommand('taskset') && cpus().length >= 2;
/** Receivers get core 1 to themselves (as far as this bench is concerned); the sender core 0. */
const pin = (core: number, command: string, args: string[]): [string, string[]] =>
  useTaskset ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];

/** tsunagi writes its flow CSV to disk like nfcapd its files; tsunagi-count only counts rows. */
type ReceiverName = 'tsunagi' | 'tsunagi-count' | 'nfcapd';

interface RunResult {
  receiver: ReceiverName;
  version: BenchVersion;
  rate: number;
  datagrams: number;
  sentFlows: number;
  sendSeconds: number;
  receivedFlows: number;
  cpuSeconds: number;
  /** Of cpuSeconds, the part in the kernel (mostly receiving datagrams). */
  systemSeconds: number;
  kernelDrops: number;
  /** tsunagi only: its UDP receive path and datagrams handed to JS per receive call. */
  receivePath?: string;
  datagramsPerCall?: number;
}

const lost = (r: RunResult) => r.sentFlows - r.receivedFlows;
const perCpuSecond = (r: RunResult) => (r.cpuSeconds > 0 ? r.receivedFlows / r.cpuSeconds : 0);

interface Receiver {
  child: Child;
  port: number;
  /** Stops the receiver and returns the flows it counted and the drops seen at the end. */
  finish(): Promise<{ flows: number; kernelDrops: number; receivePath?: string; datagramsPerCall?: number }>;
}

async function startTsunagi(workDir: string, writeCsv: boolean): Promise<Receiver> {
  const csvFile = join(workDir, 'tsunagi-flows.csv');
  const nodeArgs = ['--import', 'tsx'];
  if (options['cpu-prof']) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', resolve(options['cpu-prof']));
  const [command, args] = pin(1, process.execPath, [
    ...nodeArgs,
    join(here, 'receiver.ts'),
    String(receiveBuffer),
    writeCsv ? `csv:${csvFile}` : 'count',
  ]);
  const child = startChild(command, args, { cwd: repo });
  const ready = JSON.parse(await child.nextLine(20_000, 'tsunagi receiver to listen')) as { port: number };
  return {
    child,
    port: ready.port,
    async finish() {
      child.kill('SIGTERM');
      const summary = JSON.parse(await child.nextLine(10_000, 'tsunagi receiver counters')) as {
        rows: number;
        records: number;
        kernelDrops: number;
        payloads: number;
        receiveCalls: number;
        receivePath: string;
      };
      await waitExit(child, 5_000);
      if (summary.rows !== summary.records) {
        throw new Error(`tsunagi: sink saw ${summary.rows} rows but the decoder counted ${summary.records}`);
      }
      if (writeCsv) {
        // What reached the disk, counted from the file (header line left out), as nfdump -I does.
        const lines = countLines(csvFile) - 1;
        rmSync(csvFile, { force: true });
        if (lines !== summary.rows)
          throw new Error(`tsunagi: wrote ${lines} CSV lines for ${summary.rows} rows`);
      }
      return {
        flows: summary.rows,
        kernelDrops: summary.kernelDrops,
        receivePath: summary.receivePath,
        datagramsPerCall: summary.receiveCalls > 0 ? summary.payloads / summary.receiveCalls : 0,
      };
    },
  };
}

function countLines(path: string): number {
  const text = readFileSync(path);
  let lines = 0;
  for (let i = text.indexOf(10); i >= 0; i = text.indexOf(10, i + 1)) lines++;
  return lines;
}

async function startNfcapd(workDir: string): Promise<Receiver> {
  const port = await freeUdpPort();
  const flowDir = mkdtempSync(join(workDir, 'nfcapd-'));
  const [command, args] = pin(1, 'nfcapd', [
    '-b',
    '127.0.0.1',
    '-p',
    String(port),
    '-w',
    flowDir,
    '-t',
    '3600',
    '-B',
    String(receiveBuffer),
  ]);
  const child = startChild(command, args);
  await waitFor(() => readUdpSocket(port) !== undefined, 10_000, 'nfcapd to bind');
  return {
    child,
    port,
    async finish() {
      const kernelDrops = readUdpSocket(port)?.drops ?? 0;
      child.kill('SIGTERM');
      await waitExit(child, 10_000);
      const summary = execFileSync('nfdump', ['-R', flowDir, '-I'], { encoding: 'utf8', timeout: 30_000 });
      const match = /^Flows: (\d+)$/m.exec(summary);
      if (!match) throw new Error(`nfdump -I printed no flow count for ${flowDir}:\n${summary}`);
      rmSync(flowDir, { recursive: true, force: true });
      return { flows: Number(match[1]), kernelDrops };
    },
  };
}

/**
 * One measurement: start the receiver, note its CPU, send, wait until its socket queue is
 * empty and its CPU time has settled, note the CPU again, stop it and count what it kept.
 */
async function measure(
  name: ReceiverName,
  version: BenchVersion,
  poolPath: string,
  rate: number,
  workDir: string,
): Promise<RunResult> {
  const receiver =
    name === 'nfcapd' ? await startNfcapd(workDir) : await startTsunagi(workDir, name === 'tsunagi');
  try {
    const perDatagram = RECORDS_PER_DATAGRAM[version];
    const datagramRate = Math.ceil(rate / perDatagram);
    const datagrams = Math.ceil(datagramRate * stepSeconds);
    await sleep(200);
    const dropsBefore = readUdpSocket(receiver.port)?.drops ?? 0;
    const cpuBefore = readCpuTimes(receiver.child.pid);
    const [command, args] = pin(0, process.execPath, [
      '--import',
      'tsx',
      join(here, 'sender.ts'),
      poolPath,
      `127.0.0.1:${receiver.port}`,
      String(datagramRate),
      String(datagrams),
    ]);
    const sender = startChild(command, args, { cwd: repo });
    const sent = JSON.parse(await sender.nextLine(stepSeconds * 1000 + 30_000, 'the sender to finish')) as {
      datagrams: number;
      records: number;
      seconds: number;
    };
    await waitExit(sender, 5_000);
    // Drained: empty receive queue and no CPU used across three polls 50 ms apart.
    let quiet = 0;
    let lastCpu = readCpuSeconds(receiver.child.pid);
    await waitFor(
      () => {
        const cpu = readCpuSeconds(receiver.child.pid);
        const queue = readUdpSocket(receiver.port)?.rxQueue ?? 0;
        quiet = queue === 0 && cpu === lastCpu ? quiet + 1 : 0;
        lastCpu = cpu;
        return quiet >= 3;
      },
      30_000,
      `${name} to drain its socket`,
      50,
    );
    const cpuAfter = readCpuTimes(receiver.child.pid);
    const systemSeconds = cpuAfter.system - cpuBefore.system;
    const cpuSeconds = cpuAfter.user - cpuBefore.user + systemSeconds;
    const { flows, kernelDrops, receivePath, datagramsPerCall } = await receiver.finish();
    return {
      receiver: name,
      version,
      rate,
      datagrams: sent.datagrams,
      sentFlows: sent.records,
      sendSeconds: sent.seconds,
      receivedFlows: flows,
      cpuSeconds,
      systemSeconds,
      kernelDrops: kernelDrops - dropsBefore,
      receivePath,
      datagramsPerCall,
    };
  } finally {
    receiver.child.kill('SIGKILL');
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtRate = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${Math.round(n / 1000)}k`);

function describeRun(r: RunResult): string {
  const achieved = r.sentFlows / r.sendSeconds;
  return (
    `  ${VERSION_LABEL[r.version].padEnd(10)} ${r.receiver.padEnd(7)} target ${fmtRate(r.rate).padStart(6)} flows/s` +
    ` (sent ${fmtRate(achieved)}/s): sent ${fmt(r.sentFlows)}, received ${fmt(r.receivedFlows)}, lost ${fmt(lost(r))}` +
    ` (kernel drops ${fmt(r.kernelDrops)} datagrams), CPU ${r.cpuSeconds.toFixed(2)} s (kernel ${r.systemSeconds.toFixed(2)}), ${fmt(perCpuSecond(r))} flows/CPU-s` +
    (r.receivePath
      ? ` [${r.receivePath} receive path, ${r.datagramsPerCall!.toFixed(1)} datagrams per call]`
      : '')
  );
}

interface VersionSummary {
  version: BenchVersion;
  base: Partial<Record<ReceiverName, RunResult>>;
  maxNoLoss: Record<ReceiverName, number | undefined>;
  /** Whether stepping stopped before finding loss (budget or rates exhausted, or sender limit). */
  ceilingNote: Record<ReceiverName, string>;
  steps: RunResult[];
}

async function benchVersion(version: BenchVersion, workDir: string): Promise<VersionSummary> {
  const pool = buildPool(version, Number(options['pool-datagrams']));
  const poolPath = join(workDir, `pool-v${version}.bin`);
  writePool(poolPath, pool);
  const steps: RunResult[] = [];
  const maxNoLoss: Record<ReceiverName, number | undefined> = {
    tsunagi: undefined,
    'tsunagi-count': undefined,
    nfcapd: undefined,
  };
  const ceilingNote: Record<ReceiverName, string> = {
    tsunagi: 'rates exhausted',
    'tsunagi-count': 'rates exhausted',
    nfcapd: 'rates exhausted',
  };
  const active = new Set(receivers);
  for (const rate of rates) {
    for (const name of receivers) {
      if (!active.has(name)) continue;
      // Every receiver gets the first rate of every version; the budget only cuts the search above it.
      if (rate !== rates[0] && performance.now() - benchStarted > budgetMs) {
        ceilingNote[name] = 'time budget';
        active.delete(name);
        continue;
      }
      const result = await measure(name, version, poolPath, rate, workDir);
      steps.push(result);
      process.stderr.write(describeRun(result) + '\n');
      const senderLimited = result.sentFlows / result.sendSeconds < rate * 0.9;
      if (lost(result) !== 0) {
        ceilingNote[name] = `loss at ${fmtRate(rate)}`;
        active.delete(name);
      } else if (senderLimited) {
        maxNoLoss[name] = result.sentFlows / result.sendSeconds;
        ceilingNote[name] = 'sender limit';
        active.delete(name);
      } else {
        maxNoLoss[name] = rate;
      }
    }
    if (active.size === 0) break;
  }
  // Compare at the same offered load: the highest rate at which every receiver lost nothing
  // (most CPU time, so the least rounding from 10 ms clock ticks), else the first rate.
  const clean = (rate: number) =>
    receivers.every((name) => steps.some((s) => s.receiver === name && s.rate === rate && lost(s) === 0));
  const baseRate = [...rates].reverse().find(clean) ?? rates[0]!;
  const base = Object.fromEntries(
    receivers.map((name) => [name, steps.find((s) => s.receiver === name && s.rate === baseRate)]),
  ) as Partial<Record<ReceiverName, RunResult>>;
  return { version, base, maxNoLoss, ceilingNote, steps };
}

function summaryTable(summaries: VersionSummary[]): string {
  const decodeOnly = receivers.includes('tsunagi-count');
  const rows = [
    '| version | flows/datagram | compared at (flows/s) | flows sent | tsunagi flows (CSV on disk) | nfcapd flows (nffile on disk) | tsunagi flows/CPU-s | nfcapd flows/CPU-s | ratio tsunagi/nfcapd | loss tsunagi / nfcapd | max no-loss rate tsunagi | max no-loss rate nfcapd |' +
      (decodeOnly ? ' tsunagi decode-only flows/CPU-s (no ratio: no file written) |' : ''),
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |' +
      (decodeOnly ? ' ---: |' : ''),
  ];
  for (const s of summaries) {
    const t = s.base.tsunagi;
    const n = s.base.nfcapd;
    const any = (t ?? n ?? s.base['tsunagi-count'])!;
    const ratio = t && n && perCpuSecond(n) > 0 ? (perCpuSecond(t) / perCpuSecond(n)).toFixed(2) : '-';
    const flows = (r: RunResult | undefined) => (r ? fmt(r.receivedFlows) : '-');
    const rate = (r: RunResult | undefined) => (r ? fmt(perCpuSecond(r)) : '-');
    const loss = (r: RunResult | undefined) => (r ? fmt(lost(r)) : '-');
    const ceiling = (name: ReceiverName) => {
      if (!s.base[name]) return '-';
      const value = s.maxNoLoss[name];
      return value === undefined
        ? `< ${fmtRate(rates[0]!)} flows/s`
        : `${fmtRate(value)} flows/s (${s.ceilingNote[name]})`;
    };
    rows.push(
      `| ${VERSION_LABEL[s.version]} | ${RECORDS_PER_DATAGRAM[s.version]} | ${fmtRate(any.rate)} | ${fmt(any.sentFlows)} | ${flows(t)} | ${flows(n)} | ${rate(t)} | ${rate(n)} | ${ratio} | ${loss(t)} / ${loss(n)} | ${ceiling('tsunagi')} | ${ceiling('nfcapd')} |` +
        (decodeOnly ? ` ${rate(s.base['tsunagi-count'])} |` : ''),
    );
  }
  return rows.join('\n');
}

function stepsTable(summaries: VersionSummary[]): string {
  const rows = [
    '| version | receiver | target flows/s | achieved flows/s | flows sent | flows received | lost | kernel drops (datagrams) | CPU s | of which kernel s | flows/CPU-s |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of summaries) {
    for (const r of s.steps) {
      rows.push(
        `| ${VERSION_LABEL[r.version]} | ${r.receiver} | ${fmtRate(r.rate)} | ${fmtRate(r.sentFlows / r.sendSeconds)} | ${fmt(r.sentFlows)} | ${fmt(r.receivedFlows)} | ${fmt(lost(r))} | ${fmt(r.kernelDrops)} | ${r.cpuSeconds.toFixed(2)} | ${r.systemSeconds.toFixed(2)} | ${fmt(perCpuSecond(r))} |`,
      );
    }
  }
  return rows.join('\n');
}

function nfcapdVersion(): string {
  const result = spawnSync('nfcapd', ['-V'], { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`.trim().split('\n')[0] ?? 'unknown';
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'tsunagi-bench-flow-'));
  const summaries: VersionSummary[] = [];
  try {
    process.stderr.write(
      `bench:flow: ${versions.map((v) => VERSION_LABEL[v]).join(', ')}; rates ${rates.map(fmtRate).join(' -> ')} flows/s, ` +
        `${stepSeconds} s each; receivers ${useTaskset ? 'pinned to core 1, sender to core 0' : 'not pinned (no taskset or one core)'}\n`,
    );
    for (const version of versions) summaries.push(await benchVersion(version, workDir));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const summary = summaryTable(summaries);
  const steps = stepsTable(summaries);
  const method =
    `Identical NetFlow v5 / v9 / IPFIX datagrams (a pool of ${fmt(Number(options['pool-datagrams']))} per version, sent in a loop) over loopback to each receiver in turn, ` +
    `stepping the rate ${rates.map(fmtRate).join(' -> ')} flows/s, ${stepSeconds} s a step. Equal work: both receivers decode every record and write it to a file ` +
    `(tsunagi its flow CSV through \`formatCsv\`, the lines counted afterwards; nfcapd \`-w\` its nffile, counted with \`nfdump -I\`). ` +
    `CPU is user+system of the receiver process (all threads, /proc/PID/stat) from the start of sending until its socket queue is empty; ` +
    `the summary compares the highest rate at which both lost nothing. ` +
    `Receivers ${useTaskset ? 'pinned to core 1 (taskset), sender on core 0' : 'not pinned'}; receive buffer ${fmt(receiveBuffer)} bytes asked by both; ${nfcapdVersion()}.`;
  publishReport(
    {
      title: 'Flow collection',
      command: commandLine('bench:flow'),
      method,
      started: startedAt,
      loadBefore,
      loadAfter: machineLoad(),
      tables: [summary, 'Every step of the rate search:', steps],
      caveats: [
        'The machine has 2 cores shared with other sessions: figures move by tens of percent between runs; the load line above says how busy it was.',
        "The file formats differ: tsunagi's CSV is text, nfcapd's nffile is binary (LZO off); both go through the page cache to the same file system.",
        'One peer only: pmacct nfacctd (Debian pmacct) was tried as a second peer and wrote no output file from its print plugin in this setup, so it is not in the table.',
        'CPU times come from 10 ms clock ticks: at low rates a step uses a few tenths of a second, so the lowest rate is the least precise.',
      ],
    },
    options.write,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:flow: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
