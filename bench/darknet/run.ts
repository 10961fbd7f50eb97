/**
 * `npm run bench:darknet`: one generated darknet capture through tsunagi's full darknet analysis
 * and through `tcpdump -r FILE -w /dev/null 'net PREFIX'` (the least C work that reads the same
 * packets: read, BPF-filter, discard) and `tshark -z endpoints,ip` (per-address statistics, the
 * nearest Debian tool to per-source state), printing packets per CPU-second and the ratios.
 *
 * Same clock for every side: each is a whole process, started cold, and its CPU is user + system
 * of that process from start to exit (bash's `time`), so tsunagi's module loading and
 * configuration count as the peers' start-up does. tsunagi's in-process figure (from the
 * analyzer's construction to its infected-host list, after module loading settled) is printed
 * beside it, labelled warm and never put in a ratio: the peers have no such figure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { analyzeFiles, DarknetAnalyzer, DarknetConfig, SyntheticDarknet } from '../../src/darknet/index.ts';
import { commandLine, machineLoad, markdownTable, publishReport } from '../lib/report.ts';

const PREFIX = '198.18.0.0/16';

const { values: options } = parseArgs({
  options: {
    /** Roughly this many packets (the generator rounds by source). */
    packets: { type: 'string', default: '1000000' },
    /** Child mode: analyze this file and print {packets, cpu, wall} as JSON. */
    child: { type: 'string' },
    keep: { type: 'boolean', default: false },
    /** Use this capture instead of generating one (e.g. one kept with --keep). */
    capture: { type: 'string' },
    /** Runs of tsunagi and tcpdump (the median is printed). */
    runs: { type: 'string', default: '3' },
    /** Leave out the tshark peer (about a minute at 3M packets). */
    'no-tshark': { type: 'boolean', default: false },
    /** Put the printed "Darknet" section into this markdown file (BENCHMARKS.md). */
    write: { type: 'string' },
  },
});

/** CPU ns the process's threads other than the main one have run (Linux), or undefined. */
function otherThreadsCpu(): number | undefined {
  try {
    let ns = 0;
    for (const task of readdirSync('/proc/self/task')) {
      if (Number(task) === process.pid) continue;
      try {
        ns += Number(readFileSync(`/proc/self/task/${task}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    return ns;
  } catch {
    return undefined;
  }
}

/**
 * Waits (up to 2 s) until module loading has settled: V8 compiles the code that loading ran hot
 * on background threads, which went on for 20-25 ms of CPU into the timed window when it started
 * at once. Settled: those threads ran under 0.5 ms in the last 20 ms.
 */
async function settle(): Promise<number> {
  const started = performance.now();
  let last = otherThreadsCpu();
  if (last === undefined) return 0;
  for (let i = 0; i < 100; i++) {
    await sleep(20);
    const now = otherThreadsCpu()!;
    if (now - last < 0.5e6) break;
    last = now;
  }
  return performance.now() - started;
}

async function child(file: string): Promise<void> {
  // Statistics rows are handed over as for `--stats`, a closing layer at a time (counted here
  // instead of written). Timed from the analyzer's construction (its tables) to the
  // infected-host list; the configuration is parsed and module loading has settled before.
  let statsRows = 0;
  const config = DarknetConfig.parse({ prefixes: [PREFIX] });
  const settledMs = await settle();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const analyzer = new DarknetAnalyzer(config, {
    onStatsRows: (batch) => (statsRows += batch.length),
  });
  const result = await analyzeFiles([file], analyzer);
  analyzer.finish();
  const infected = analyzer.infectedHosts().length;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    JSON.stringify({
      packets: result.packets,
      cpu: (cpu.user + cpu.system) / 1e6,
      wall: (performance.now() - wall0) / 1000,
      infected,
      statsRows,
      settledMs,
      native: analyzer.usesNative,
    }) + '\n',
  );
}

/** One measurement of a tool: packets, CPU s (user + system) and wall s. */
type Measured = {
  packets: number;
  cpu: number;
  wall: number;
  infected?: number;
  native?: boolean;
  settledMs?: number;
};

/**
 * Mostly scanners and bots with many packets each, plus a long tail of one-packet noise, at about
 * 20k packets/s of capture time (a /16 telescope's order of magnitude).
 */
const PACKETS_PER_SOURCE = 400;

/** Writes the generated capture (unless one was given); returns its packets (0 when given) and size. */
async function prepareCapture(target: number, file: string): Promise<{ bytes: number }> {
  const scale = target / 1_000_000;
  const synthetic = new SyntheticDarknet({
    seed: 2025,
    darknet: PREFIX,
    mirai: Math.round(1500 * scale),
    masscan: Math.round(150 * scale),
    zmapBenign: Math.round(20 * scale),
    zmapUnknown: Math.round(20 * scale),
    backscatter: Math.round(400 * scale),
    noise: Math.round(150_000 * scale),
    packetsPerSource: PACKETS_PER_SOURCE,
    durationMs: Math.round(target / 20),
  });
  const t0 = performance.now();
  const packets = options.capture ? 0 : await synthetic.writePcap(file);
  const bytes = statSync(file).size;
  console.log(
    options.capture
      ? `capture: ${file}, ${(bytes / 1e6).toFixed(0)} MB`
      : `capture: ${packets} packets, ${(bytes / 1e6).toFixed(0)} MB, generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return { bytes };
}

/** bash's `time` line (user sys real) of a finished child. */
function timesOf(stderr: string): [number, number, number] {
  return stderr.trim().split('\n').pop()!.split(/\s+/).map(Number) as [number, number, number];
}

/** tsunagi as a whole process (cold: tsx, module loading, config), timed like the peers. */
function tsunagiOnce(file: string, native: boolean): { cold: Measured; warm: Measured } {
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(
    'bash',
    [
      '-c',
      `TIMEFORMAT='%U %S %R'; time "${process.execPath}" --import tsx "${self}" --child "$1" 2>/dev/null`,
      'bash',
      file,
    ],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
      env: { ...process.env, TSUNAGI_DARKNET_NATIVE: native ? '1' : '0' },
    },
  );
  if (child.status !== 0) throw new Error(`tsunagi child failed: ${child.stderr}`);
  const warm = JSON.parse(child.stdout.trim().split('\n').pop()!) as Measured;
  const [user, sys, real] = timesOf(child.stderr);
  return { warm, cold: { ...warm, cpu: user + sys, wall: real } };
}

function timed(file: string, command: string, what: string): Measured {
  const peer = spawnSync(
    'bash',
    ['-c', `TIMEFORMAT='%U %S %R'; time ${command} >/dev/null 2>&1`, 'bash', file],
    {
      encoding: 'utf8',
    },
  );
  if (peer.status !== 0) throw new Error(`${what} failed (is it installed?): ${peer.stderr}`);
  const [user, sys, real] = timesOf(peer.stderr);
  return { packets: 0, cpu: user + sys, wall: real };
}

/** The run with the median CPU time (the machine is shared; one run can be unlucky either way). */
function median(measured: Measured[]): Measured {
  const all = [...measured].sort((a, b) => a.cpu - b.cpu);
  return all[Math.floor(all.length / 2)]!;
}

interface Measurements {
  tsunagi: Measured;
  tsunagiWarm: Measured;
  typescript: Measured;
  tcpdump: Measured;
  tshark: Measured | undefined;
}

/** tsunagi (C loop, then TypeScript only) and the Debian peers on the same capture. */
function measure(file: string, runs: number): Measurements {
  // tsunagi and tcpdump take turns, so a change in the machine's load falls on both alike.
  const tcpdumpCommand = `tcpdump -q -r "$1" -w /dev/null "net ${PREFIX}"`;
  const nativeRuns: { cold: Measured; warm: Measured }[] = [];
  const tcpdumpRuns: Measured[] = [];
  for (let i = 0; i < runs; i++) {
    nativeRuns.push(tsunagiOnce(file, true));
    tcpdumpRuns.push(timed(file, tcpdumpCommand, 'tcpdump'));
  }
  const tsunagi = median(nativeRuns.map((r) => r.cold));
  const tsunagiWarm = median(nativeRuns.map((r) => r.warm));
  const typescriptRuns = Array.from({ length: runs }, () => tsunagiOnce(file, false));
  const typescript = median(typescriptRuns.map((r) => r.cold));
  const tcpdump = { ...median(tcpdumpRuns), packets: tsunagi.packets };
  // tshark's per-address statistics are the nearest Debian tool to per-source state (and slow).
  const tsharkCommand = `tshark -r "$1" -q -z "endpoints,ip,ip.dst==${PREFIX}"`;
  const tshark = options['no-tshark']
    ? undefined
    : { ...timed(file, tsharkCommand, 'tshark'), packets: tsunagi.packets };
  return { tsunagi, tsunagiWarm, typescript, tcpdump, tshark };
}

function resultTable({ tsunagi, tsunagiWarm, typescript, tcpdump, tshark }: Measurements): string {
  const rate = (r: { packets: number; cpu: number }) => r.packets / r.cpu;
  const line = (tool: string, r: Measured, ratio: boolean) => [
    tool,
    r.packets.toLocaleString('en-US'),
    r.cpu.toFixed(2),
    r.wall.toFixed(2),
    `${(rate(r) / 1e6).toFixed(2)}M`,
    ratio ? (rate(tsunagi) / rate(r)).toFixed(2) : 'no ratio (in-process, warm)',
  ];
  return markdownTable(
    [
      'tool (whole process unless marked)',
      'packets',
      'CPU s',
      'wall s',
      'packets/CPU-s',
      'tsunagi (C loop) ×',
    ],
    [
      line('tsunagi darknet (full analysis, C hot loop)', tsunagi, true),
      line('tsunagi darknet (full analysis, TypeScript only)', typescript, true),
      line(`\`tcpdump -r -w /dev/null 'net ${PREFIX}'\` (read + filter)`, tcpdump, true),
      ...(tshark ? [line('`tshark -q -z endpoints,ip` (per-address statistics)', tshark, true)] : []),
      line('tsunagi darknet, C hot loop, in-process after start-up (warm)', tsunagiWarm, false),
    ],
    ['l', 'r', 'r', 'r', 'r', 'r'],
  );
}

async function run(): Promise<void> {
  const target = Number(options.packets);
  if (!(target >= 1000)) throw new Error('--packets: at least 1000');
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-bench-darknet-'));
  const file = options.capture ?? join(dir, 'darknet.pcap');
  const startedAt = new Date();
  try {
    const { bytes } = await prepareCapture(target, file);
    const loadBefore = machineLoad();
    const runs = Number(options.runs);
    const measured = measure(file, runs);
    const { tsunagi, tsunagiWarm } = measured;
    const caveats = [
      'The machine has 2 cores shared with other sessions: figures move by tens of percent between runs.',
      "The ratio against tcpdump compares tsunagi's full analysis with tcpdump's read-and-filter: tcpdump does less work, so a ratio above 1 is not expected.",
      `tsunagi's start-up (node, tsx compiling TypeScript, module loading) is in its whole-process figure; on this capture it is a large part of the CPU time at small sizes.`,
      'The capture is generated (src/darknet/synth.ts); the fingerprints are checked against packets of the real masscan and zmap in bench/darknet/scanners.test.ts.',
    ];
    if (!tsunagiWarm.native)
      caveats.unshift(
        'The C hot loop is not built (npm run build:native): both tsunagi rows are TypeScript.',
      );
    publishReport(
      {
        title: 'Darknet',
        command: commandLine('bench:darknet'),
        method:
          `One generated capture of ${tsunagi.packets.toLocaleString('en-US')} packets (${(bytes / 1e6).toFixed(0)} MB; Mirai-like, masscan-like, ZMap and backscatter sources of ${PACKETS_PER_SOURCE} packets each and one-packet noise) ` +
          `through tsunagi's full darknet analysis (per-source state and fingerprints, port statistics rolled up to 5 minutes, hour, day and total, classification, infected-host list) and through the Debian peers. ` +
          `Every row but the last is a whole process timed by bash's \`time\` (user + system, cold start included); median of ${runs} runs for tsunagi and tcpdump, taking turns; one run of tshark. ` +
          `Infected hosts found: ${tsunagi.infected}.`,
        started: startedAt,
        loadBefore,
        loadAfter: machineLoad(),
        tables: [resultTable(measured)],
        caveats,
      },
      options.write,
    );
  } finally {
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${file}`);
  }
}

if (options.child) await child(options.child);
else await run();
