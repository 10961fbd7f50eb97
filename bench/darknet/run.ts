/**
 * `npm run bench:darknet`: one generated darknet capture (a few million packets) through
 * tsunagi's full darknet analysis and through `tcpdump -r FILE -w /dev/null 'net PREFIX'`
 * (the least comparable C work: read, BPF-filter, discard), and prints packets per CPU-second
 * for each and the ratio. Each runs in its own process; CPU is user + system of that process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DarknetAnalyzer } from '../../src/darknet/analyzer.ts';
import { DarknetConfig } from '../../src/darknet/config.ts';
import { analyzeFiles } from '../../src/darknet/input-file.ts';
import { SyntheticDarknet } from '../../src/darknet/synth.ts';

const PREFIX = '198.18.0.0/16';

const { values: options } = parseArgs({
  options: {
    /** Roughly this many packets (the generator rounds by source). */
    packets: { type: 'string', default: '3000000' },
    /** Child mode: analyze this file and print {packets, cpu, wall} as JSON. */
    child: { type: 'string' },
    keep: { type: 'boolean', default: false },
    /** Use this capture instead of generating one (e.g. one kept with --keep). */
    capture: { type: 'string' },
  },
});

async function child(file: string): Promise<void> {
  // Statistics rows are built as for `--stats` (counted here instead of written).
  let statsRows = 0;
  const analyzer = new DarknetAnalyzer(DarknetConfig.parse({ prefixes: [PREFIX] }), {
    onStatsRow: () => statsRows++,
  });
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
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
      native: analyzer.usesNative,
    }) + '\n',
  );
}

async function run(): Promise<void> {
  const target = Number(options.packets);
  if (!(target >= 1000)) throw new Error('--packets: at least 1000');
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-bench-darknet-'));
  const file = options.capture ?? join(dir, 'darknet.pcap');
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  try {
    // Mostly scanners and bots with many packets each, plus a long tail of one-packet noise,
    // at about 20k packets/s of capture time (a /16 telescope's order of magnitude).
    const perSource = 400;
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
      packetsPerSource: perSource,
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
    const loadBefore = load();

    const self = fileURLToPath(import.meta.url);
    const ours = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', file], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    if (ours.status !== 0) throw new Error(`tsunagi child failed: ${ours.stderr}`);
    const tsunagi = JSON.parse(ours.stdout.trim().split('\n').pop()!) as {
      packets: number;
      cpu: number;
      wall: number;
      infected: number;
    };

    const peer = spawnSync(
      'bash',
      [
        '-c',
        `TIMEFORMAT='%U %S %R'; time tcpdump -q -r "$1" -w /dev/null "net ${PREFIX}" 2>/dev/null`,
        'bash',
        file,
      ],
      { encoding: 'utf8' },
    );
    if (peer.status !== 0) throw new Error(`tcpdump failed (is it installed?): ${peer.stderr}`);
    const [user, sys, real] = peer.stderr.trim().split('\n').pop()!.split(/\s+/).map(Number) as [
      number,
      number,
      number,
    ];
    const tcpdump = { packets: tsunagi.packets, cpu: user + sys, wall: real };

    const rate = (r: { packets: number; cpu: number }) => r.packets / r.cpu;
    const rows = [
      ['tool', 'packets', 'CPU s', 'wall s', 'packets/CPU-s'],
      [
        'tsunagi darknet (full analysis)',
        String(tsunagi.packets),
        tsunagi.cpu.toFixed(2),
        tsunagi.wall.toFixed(2),
        `${(rate(tsunagi) / 1e6).toFixed(2)}M`,
      ],
      [
        `tcpdump -r -w /dev/null 'net ${PREFIX}'`,
        String(tcpdump.packets),
        tcpdump.cpu.toFixed(2),
        tcpdump.wall.toFixed(2),
        `${(rate(tcpdump) / 1e6).toFixed(2)}M`,
      ],
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
    console.log(`load average (1/5/15 min) before: ${loadBefore}; after: ${load()} (2 CPUs shared)`);
    console.log(
      `ratio tsunagi/tcpdump: ${(rate(tsunagi) / rate(tcpdump)).toFixed(2)}  (goal: >= 5M packets/CPU-s; infected hosts found: ${tsunagi.infected})`,
    );
  } finally {
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${file}`);
  }
}

if (options.child) await child(options.child);
else await run();
