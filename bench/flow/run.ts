/**
 * `npm run bench:flow`: replays identical NetFlow v5 / v9 / IPFIX datagrams over loopback to
 * tsunagi's collector, nfdump's nfcapd and pmacct's nfacctd, one after the other, each pinned to
 * one core, and prints flows per CPU-second, the ratios tsunagi/nfcapd and tsunagi/nfacctd, loss,
 * and the highest rate (stepped up) at which each receiver lost nothing. Every side does the same
 * work: decode every record and write it to a file on disk (tsunagi its flow CSV, nfcapd its
 * nffile, nfacctd a CSV from its print plugin), and the ratios are on the same clock: the whole
 * receiver process, cold, from exec to exit. tsunagi's decode-only figure and its older formatCsv
 * writer are shown beside, never in a ratio.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { commandLine, machineLoad, markdownTable, publishReport } from '../lib/report.ts';
import { buildPool, RECORDS_PER_DATAGRAM, VERSION_LABEL, writePool, type BenchVersion } from './payloads.ts';
import {
  freeUdpPort,
  readTreeCpuTimes,
  readUdpSocket,
  readWholeProcessCpu,
  sleep,
  startChild,
  startWholeProcess,
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
    rates: { type: 'string', default: '100000,200000,800000' },
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
    receivers: { type: 'string', default: 'tsunagi,tsunagi-formatcsv,tsunagi-count,nfcapd,nfacctd' },
  },
});

const RECEIVERS: readonly ReceiverName[] = [
  'tsunagi',
  'tsunagi-formatcsv',
  'tsunagi-count',
  'nfcapd',
  'nfacctd',
];
/** The peers a ratio is taken against, in the order of the tables. */
const PEERS = ['nfcapd', 'nfacctd'] as const;
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
for (const [tool, debian] of [
  ['nfcapd', 'nfdump'],
  ['nfdump', 'nfdump'],
  ['nfacctd', 'pmacct'],
] as const) {
  if (receivers.some((r) => (debian === 'pmacct' ? r === 'nfacctd' : r === 'nfcapd')) && !hasCommand(tool)) {
    process.stderr.write(
      `bench:flow needs ${tool} (Debian package ${debian}): apt-get install -y ${debian}\n`,
    );
    process.exit(2);
  }
}
const useTaskset = !options['no-taskset'] && hasCommand('taskset') && cpus().length >= 2;
/** Receivers get core 1 to themselves (as far as this bench is concerned); the sender core 0. */
const pin = (core: number, command: string, args: string[]): [string, string[]] =>
  useTaskset ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];

/**
 * tsunagi writes its flow CSV to disk (FlowCsvFile) like nfcapd its nffile and nfacctd its CSV;
 * tsunagi-formatcsv writes the same bytes through formatCsv (the writer used until 2026-12-05);
 * tsunagi-count only counts rows.
 */
type ReceiverName = 'tsunagi' | 'tsunagi-formatcsv' | 'tsunagi-count' | 'nfcapd' | 'nfacctd';

interface RunResult {
  receiver: ReceiverName;
  version: BenchVersion;
  rate: number;
  datagrams: number;
  sentFlows: number;
  sendSeconds: number;
  receivedFlows: number;
  /** CPU from the start of sending until the socket queue is empty (start-up and exit left out). */
  cpuSeconds: number;
  /** Of cpuSeconds, the part in the kernel (mostly receiving datagrams). */
  systemSeconds: number;
  /** CPU of the whole receiver process, cold, from exec to exit, with what it forked (the ratios' clock). */
  wholeCpuSeconds: number;
  wholeSystemSeconds: number;
  kernelDrops: number;
  /** tsunagi only: its UDP receive path and datagrams handed to JS per receive call. */
  receivePath?: string;
  datagramsPerCall?: number;
}

const lost = (r: RunResult) => r.sentFlows - r.receivedFlows;
/** Flows written per CPU-second of the whole process (the ratios' clock). */
const perCpuSecond = (r: RunResult) => (r.wholeCpuSeconds > 0 ? r.receivedFlows / r.wholeCpuSeconds : 0);
/** Flows written per CPU-second while the stream lasted (start-up and exit left out). */
const perStreamCpuSecond = (r: RunResult) => (r.cpuSeconds > 0 ? r.receivedFlows / r.cpuSeconds : 0);

interface Receiver {
  child: Child;
  port: number;
  /** Where the shell around the receiver writes its whole-process CPU (startWholeProcess). */
  statFile: string;
  /** Stops the receiver and returns the flows it counted and the drops seen at the end. */
  finish(): Promise<{ flows: number; kernelDrops: number; receivePath?: string; datagramsPerCall?: number }>;
}

async function startTsunagi(workDir: string, sink: 'csv' | 'formatcsv' | 'count'): Promise<Receiver> {
  const csvFile = join(workDir, 'tsunagi-flows.csv');
  const writeCsv = sink !== 'count';
  const statFile = join(workDir, 'tsunagi.stat');
  const nodeArgs = ['--import', 'tsx'];
  if (options['cpu-prof']) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', resolve(options['cpu-prof']));
  const [command, args] = pin(1, process.execPath, [
    ...nodeArgs,
    join(here, 'receiver.ts'),
    String(receiveBuffer),
    writeCsv ? `${sink}:${csvFile}` : 'count',
  ]);
  const child = await startWholeProcess(command, args, statFile, { cwd: repo });
  const ready = JSON.parse(await child.nextLine(30_000, 'tsunagi receiver to listen')) as { port: number };
  return {
    child,
    port: ready.port,
    statFile,
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
  const statFile = join(workDir, 'nfcapd.stat');
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
  const child = await startWholeProcess(command, args, statFile);
  await waitFor(() => readUdpSocket(port) !== undefined, 10_000, 'nfcapd to bind');
  return {
    child,
    port,
    statFile,
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
 * pmacct's nfacctd with one print plugin writing a CSV of every record: the aggregate is the
 * columns of tsunagi's flow CSV (exporter, version, start, end, addresses, ports, protocol, TCP
 * flags, sampling rate; packets and bytes come with every print) plus the export datagram's
 * sequence number, so that no two records fall into one aggregate (the sender replays its pool:
 * only the sequence numbers differ between rounds). The cache holds the whole run and is
 * written on SIGINT; nothing is kept in memory only.
 */
async function startNfacctd(workDir: string, flows: number): Promise<Receiver> {
  const port = await freeUdpPort();
  const csvFile = join(workDir, 'nfacctd-flows.csv');
  const statFile = join(workDir, 'nfacctd.stat');
  const configFile = join(workDir, 'nfacctd.conf');
  // About 10 entries per bucket (pmacct's CONFIG-KEYS, print_cache_entries); a prime count, at
  // most ~265 MB of base cache (more, and it wrote nothing here): a fuller cache is written out
  // early, as nfacctd does in production ("Finished cache entries").
  const buckets = nextPrime(Math.min(65_521, Math.max(16411, Math.ceil(flows / 8))));
  writeFileSync(
    configFile,
    [
      'daemonize: false',
      'nfacctd_ip: 127.0.0.1',
      `nfacctd_port: ${port}`,
      `nfacctd_pipe_size: ${receiveBuffer}`,
      'plugins: print[flows]',
      'aggregate[flows]: peer_src_ip, export_proto_version, timestamp_start, timestamp_end, src_host, dst_host, src_port, dst_port, proto, tcpflags, sampling_rate, export_proto_seqno',
      'print_output[flows]: csv',
      `print_output_file[flows]: ${csvFile}`,
      'print_output_file_append[flows]: true',
      'print_refresh_time[flows]: 3600',
      'print_history[flows]: 1h',
      `print_cache_entries[flows]: ${buckets}`,
      'plugin_pipe_size[flows]: 268435456',
      'plugin_buffer_size[flows]: 1048576',
      '',
    ].join('\n'),
  );
  const [command, args] = pin(1, 'nfacctd', ['-f', configFile]);
  const child = await startWholeProcess(command, args, statFile);
  await waitFor(() => readUdpSocket(port) !== undefined, 10_000, 'nfacctd to bind');
  return {
    child,
    port,
    statFile,
    async finish() {
      const kernelDrops = readUdpSocket(port)?.drops ?? 0;
      // SIGINT: nfacctd's core tells its plugins to write their caches and exit.
      child.kill('SIGINT');
      await waitExit(child, 120_000);
      const log = [...child.lines, child.stderr()].join('\n');
      if (/missing data detected/i.test(log))
        process.stderr.write(`  nfacctd: its plugin pipe lost data (see below)\n`);
      let lines = 0;
      try {
        lines = countLines(csvFile) - 1;
      } catch {
        // No file is a result (nothing written: every flow counts as lost), not a reason to stop the run.
        process.stderr.write(
          `  nfacctd wrote no CSV; its log ends:\n${log.trim().split('\n').slice(-6).join('\n')}\n`,
        );
      }
      rmSync(csvFile, { force: true });
      return { flows: Math.max(0, lines), kernelDrops };
    },
  };
}

function nextPrime(n: number): number {
  const isPrime = (k: number) => {
    for (let d = 2; d * d <= k; d++) if (k % d === 0) return false;
    return k > 1;
  };
  while (!isPrime(n)) n++;
  return n;
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
  const perDatagram = RECORDS_PER_DATAGRAM[version];
  const datagramRate = Math.ceil(rate / perDatagram);
  const datagrams = Math.ceil(datagramRate * stepSeconds);
  const receiver =
    name === 'nfcapd'
      ? await startNfcapd(workDir)
      : name === 'nfacctd'
        ? await startNfacctd(workDir, datagrams * perDatagram)
        : await startTsunagi(
            workDir,
            name === 'tsunagi' ? 'csv' : name === 'tsunagi-formatcsv' ? 'formatcsv' : 'count',
          );
  try {
    await sleep(200);
    const dropsBefore = readUdpSocket(receiver.port)?.drops ?? 0;
    const cpuBefore = readTreeCpuTimes(receiver.child.pid);
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
    const treeSeconds = () => {
      const { user, system } = readTreeCpuTimes(receiver.child.pid);
      return user + system;
    };
    let lastCpu = treeSeconds();
    await waitFor(
      () => {
        const cpu = treeSeconds();
        const queue = readUdpSocket(receiver.port)?.rxQueue ?? 0;
        quiet = queue === 0 && cpu === lastCpu ? quiet + 1 : 0;
        lastCpu = cpu;
        return quiet >= 3;
      },
      30_000,
      `${name} to drain its socket`,
      50,
    );
    const cpuAfter = readTreeCpuTimes(receiver.child.pid);
    const systemSeconds = cpuAfter.system - cpuBefore.system;
    const cpuSeconds = cpuAfter.user - cpuBefore.user + systemSeconds;
    const { flows, kernelDrops, receivePath, datagramsPerCall } = await receiver.finish();
    const whole = readWholeProcessCpu(receiver.statFile);
    rmSync(receiver.statFile, { force: true });
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
      wholeCpuSeconds: whole.user + whole.system,
      wholeSystemSeconds: whole.system,
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
    `  ${VERSION_LABEL[r.version].padEnd(10)} ${r.receiver.padEnd(17)} target ${fmtRate(r.rate).padStart(6)} flows/s` +
    ` (sent ${fmtRate(achieved)}/s): sent ${fmt(r.sentFlows)}, written ${fmt(r.receivedFlows)}, lost ${fmt(lost(r))}` +
    ` (kernel drops ${fmt(r.kernelDrops)} datagrams), whole-process CPU ${r.wholeCpuSeconds.toFixed(2)} s, ${fmt(perCpuSecond(r))} flows/CPU-s;` +
    ` while streaming ${r.cpuSeconds.toFixed(2)} s (kernel ${r.systemSeconds.toFixed(2)}), ${fmt(perStreamCpuSecond(r))} flows/CPU-s` +
    (r.receivePath
      ? ` [${r.receivePath} receive path, ${r.datagramsPerCall!.toFixed(1)} datagrams per call]`
      : '')
  );
}

interface VersionSummary {
  version: BenchVersion;
  base: Partial<Record<ReceiverName, RunResult>>;
  maxNoLoss: Partial<Record<ReceiverName, number>>;
  /** Whether stepping stopped before finding loss (budget or rates exhausted, or sender limit). */
  ceilingNote: Partial<Record<ReceiverName, string>>;
  steps: RunResult[];
}

/** The receivers a ratio is taken between; the other tsunagi receivers are shown beside. */
const compared = receivers.filter(
  (name) => name === 'tsunagi' || (PEERS as readonly string[]).includes(name),
);

async function benchVersion(version: BenchVersion, workDir: string): Promise<VersionSummary> {
  const pool = buildPool(version, Number(options['pool-datagrams']));
  const poolPath = join(workDir, `pool-v${version}.bin`);
  writePool(poolPath, pool);
  const steps: RunResult[] = [];
  const maxNoLoss: Partial<Record<ReceiverName, number>> = {};
  const ceilingNote: Partial<Record<ReceiverName, string>> = Object.fromEntries(
    receivers.map((name) => [name, 'rates exhausted']),
  );
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
  // Compare at the same offered load: the highest rate at which tsunagi and every peer lost
  // nothing (most flows for the same start-up, least rounding from 10 ms clock ticks), else the first rate.
  const clean = (rate: number) =>
    compared.every((name) => steps.some((s) => s.receiver === name && s.rate === rate && lost(s) === 0));
  const baseRate = [...rates].reverse().find(clean) ?? rates[0]!;
  const base = Object.fromEntries(
    receivers.map((name) => [name, steps.find((s) => s.receiver === name && s.rate === baseRate)]),
  ) as Partial<Record<ReceiverName, RunResult>>;
  return { version, base, maxNoLoss, ceilingNote, steps };
}

const ratioOf = (a: number, b: number) => (a > 0 && b > 0 ? `${(a / b).toFixed(2)}` : '-');
const flowsOf = (r: RunResult | undefined) => (r ? fmt(r.receivedFlows) : '-');

/** The headline: every receiver as a whole process, cold, from exec to exit. */
function summaryTable(summaries: VersionSummary[]): string {
  const peers = PEERS.filter((p) => receivers.includes(p));
  const header = [
    'version',
    'compared at (flows/s)',
    'flows sent',
    'written: tsunagi (CSV)',
    ...peers.map((p) => `written: ${p} (${p === 'nfcapd' ? 'nffile' : 'CSV'})`),
    'whole-process CPU s: tsunagi',
    ...peers.map((p) => `CPU s: ${p}`),
    'flows/CPU-s: tsunagi',
    ...peers.map((p) => `flows/CPU-s: ${p}`),
    ...peers.map((p) => `ratio tsunagi/${p}`),
  ];
  const rows = summaries.map((s) => {
    const t = s.base.tsunagi;
    const any = (t ?? s.base[peers[0] ?? 'nfcapd'] ?? s.steps[0])!;
    return [
      VERSION_LABEL[s.version],
      fmtRate(any.rate),
      fmt(any.sentFlows),
      flowsOf(t),
      ...peers.map((p) => flowsOf(s.base[p])),
      t ? t.wholeCpuSeconds.toFixed(2) : '-',
      ...peers.map((p) => s.base[p]?.wholeCpuSeconds.toFixed(2) ?? '-'),
      t ? fmt(perCpuSecond(t)) : '-',
      ...peers.map((p) => (s.base[p] ? fmt(perCpuSecond(s.base[p]!)) : '-')),
      ...peers.map((p) => (t && s.base[p] ? ratioOf(perCpuSecond(t), perCpuSecond(s.base[p]!)) : '-')),
    ];
  });
  return markdownTable(header, rows, ['l', ...header.slice(1).map(() => 'r' as const)]);
}

/** Beside the headline: the stream alone (start-up and exit left out), loss, and tsunagi's other sinks. */
function streamingTable(summaries: VersionSummary[]): string {
  const shown = receivers;
  const header = [
    'version',
    'receiver',
    'at (flows/s)',
    'flows written',
    'whole-process flows/CPU-s',
    'while-streaming flows/CPU-s',
    'streaming ratio tsunagi/this',
    'lost',
    'max no-loss rate',
  ];
  const rows: string[][] = [];
  for (const s of summaries) {
    const t = s.base.tsunagi;
    for (const name of shown) {
      const r = s.base[name];
      if (!r) continue;
      const value = s.maxNoLoss[name];
      rows.push([
        VERSION_LABEL[s.version],
        name,
        fmtRate(r.rate),
        fmt(r.receivedFlows),
        fmt(perCpuSecond(r)),
        fmt(perStreamCpuSecond(r)),
        name === 'nfcapd' && t ? ratioOf(perStreamCpuSecond(t), perStreamCpuSecond(r)) : '-',
        fmt(lost(r)),
        value === undefined ? `< ${fmtRate(rates[0]!)}` : `${fmtRate(value)} (${s.ceilingNote[name]})`,
      ]);
    }
  }
  return markdownTable(header, rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
}

function stepsTable(summaries: VersionSummary[]): string {
  const header = [
    'version',
    'receiver',
    'target flows/s',
    'achieved flows/s',
    'flows sent',
    'flows written',
    'lost',
    'kernel drops (datagrams)',
    'whole-process CPU s',
    'streaming CPU s',
    'of which kernel s',
    'flows/CPU-s (whole process)',
  ];
  const rows = summaries.flatMap((s) =>
    s.steps.map((r) => [
      VERSION_LABEL[r.version],
      r.receiver,
      fmtRate(r.rate),
      fmtRate(r.sentFlows / r.sendSeconds),
      fmt(r.sentFlows),
      fmt(r.receivedFlows),
      fmt(lost(r)),
      fmt(r.kernelDrops),
      r.wholeCpuSeconds.toFixed(2),
      r.cpuSeconds.toFixed(2),
      r.systemSeconds.toFixed(2),
      fmt(perCpuSecond(r)),
    ]),
  );
  return markdownTable(header, rows, ['l', 'l', ...header.slice(2).map(() => 'r' as const)]);
}

/** Where no rate was loss-free for tsunagi and the peers, the summary's row compares receivers that lost flows: say so. */
function lossCaveats(summaries: VersionSummary[]): string[] {
  return summaries.flatMap((s) => {
    const lossy = compared.filter((name) => s.base[name] && lost(s.base[name]!) > 0);
    if (lossy.length === 0) return [];
    const rate = fmtRate(s.base[lossy[0]!]!.rate);
    const who = lossy.map((name) => `${name} lost ${fmt(lost(s.base[name]!))}`).join(', ');
    return [
      `${VERSION_LABEL[s.version]}: no rate was loss-free for every compared receiver, so its row is at ${rate} flows/s, where ${who} of ${fmt(s.base[lossy[0]!]!.sentFlows)} flows; flows/CPU-s there counts the flows written.`,
    ];
  });
}

function firstLine(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`.trim().split('\n')[0] ?? 'unknown';
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'tsunagi-bench-flow-'));
  const summaries: VersionSummary[] = [];
  try {
    process.stderr.write(
      `bench:flow: ${versions.map((v) => VERSION_LABEL[v]).join(', ')}; rates ${rates.map(fmtRate).join(' -> ')} flows/s, ` +
        `${stepSeconds} s each; receivers ${receivers.join(', ')}, ${useTaskset ? 'pinned to core 1, sender to core 0' : 'not pinned (no taskset or one core)'}\n`,
    );
    for (const version of versions) summaries.push(await benchVersion(version, workDir));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const versionsOf = [
    receivers.includes('nfcapd') ? firstLine('nfcapd', ['-V']) : '',
    receivers.includes('nfacctd') ? firstLine('nfacctd', ['-V']) : '',
  ].filter(Boolean);
  const method =
    `Identical NetFlow v5 / v9 / IPFIX datagrams (a pool of ${fmt(Number(options['pool-datagrams']))} per version, sent in a loop with fresh sequence numbers) over loopback to each receiver in turn, ` +
    `stepping the rate ${rates.map(fmtRate).join(' -> ')} flows/s, ${stepSeconds} s a step, so every receiver gets the same datagrams and the same number of flows at a step. ` +
    `Equal work: every receiver decodes every record and writes it to a file, and what reached the file is counted afterwards: ` +
    `tsunagi its flow CSV (the \`tsunagi flows decode\` columns: exporter, version, start, end, addresses, ports, protocol, TCP flags, packets, bytes, sampling rate; lines counted), ` +
    `nfcapd \`-w\` its binary nffile (counted with \`nfdump -I\`), ` +
    `nfacctd its print plugin's CSV aggregated on the same columns plus the export sequence number so that no two records merge (lines counted; written from its cache on SIGINT). ` +
    `Same clock for the ratios: CPU (user + system) of the whole receiver process, cold, from exec to exit, with every process it forked and reaped (a shell around it reads its children's time from /proc after it exits). ` +
    `Beside it, the CPU from the start of sending until the socket queue is empty ("while streaming", start-up and exit left out). ` +
    `The summary compares the highest rate at which tsunagi and the peers lost nothing. ` +
    `Receivers ${useTaskset ? 'pinned to core 1 (taskset), sender on core 0' : 'not pinned'}; receive buffer ${fmt(receiveBuffer)} bytes asked by each; ${versionsOf.join('; ')}.`;
  publishReport(
    {
      title: 'Flow collection',
      command: commandLine('bench:flow'),
      method,
      started: startedAt,
      loadBefore,
      loadAfter: machineLoad(),
      tables: [
        summaryTable(summaries),
        "The stream alone, loss, and tsunagi's other sinks at the same rate (tsunagi-formatcsv: the same CSV bytes through `formatCsv`, the writer until 2026-12-05; tsunagi-count: decode only, no file, never in a ratio):",
        streamingTable(summaries),
        'Every step of the rate search:',
        stepsTable(summaries),
      ],
      caveats: [
        'The machine has 2 cores shared with other sessions: figures move by tens of percent between runs; the load line above says how busy it was.',
        "The whole-process clock includes start-up: tsunagi's (node, tsx compiling TypeScript, loading the flow room) is a large fixed share at a few hundred thousand flows, while nfcapd and nfacctd start in milliseconds; the while-streaming figures leave it out.",
        "The file formats differ: tsunagi's and nfacctd's CSV are text, nfcapd's nffile is binary (LZO off); all go through the page cache to the same file system. nfcapd keeps more fields per record than the CSVs hold (interfaces, ToS, next hop...).",
        'nfacctd writes its CSV when its cache is flushed (on SIGINT here, or when the cache fills): that writing is in its whole-process time but mostly outside the while-streaming window, so it has no streaming ratio.',
        "tsunagi's CSV is written by the bench's FlowCsvFile: the same bytes as `formatCsv` (bench/flow/bench.test.ts compares them), formatted into a reused buffer; tsunagi-formatcsv shows the old writer. The product never writes raw flows to disk; this sink exists only so that every side does the same work.",
        'CPU times come from 10 ms clock ticks: at low rates a step uses a few tenths of a second, so the lowest rate is the least precise.',
        ...lossCaveats(summaries),
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
