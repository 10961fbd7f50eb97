/**
 * Benchmark (not a test): identification of real Debian daemons (dropbear, busybox telnetd and
 * httpd, lighttpd on loopback addresses; bench/survey/daemons.ts) by tsunagi and by nmap, each
 * as a whole process started cold, taking turns, the median of N runs. The truth is the daemons'
 * product names and upstream versions from dpkg, written without recog. Peers: `nmap -sV` and
 * its fastest mode `nmap -sV --version-light`; the ratio is against the fastest.
 *
 * Run: npm run bench:survey [-- --runs N] [-- --write BENCHMARKS.md]
 * (needs busybox-static, dropbear-bin, lighttpd and nmap: scripts/install-test-tools.sh).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { silentLogger } from '../../src/core/index.ts';
import { authorisePlan, createSurvey, type Finding, SurveyConfig } from '../../src/survey/index.ts';
import { LAB_PORTS, RECOG_DIR, writeLabPlan } from '../../src/survey/testing.ts';
import { commandLine, machineLoad, markdownTable, publishReport } from '../lib/report.ts';
import { missingDaemons, startDaemons, type DaemonTruth } from './daemons.ts';

const NET = 75;
const SCOPE = `127.0.${NET}.0/29`;
const HOSTS = 8;
const PORTS = LAB_PORTS.map((p) => p.port).join(',');

const { values: options } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    /** Child mode: survey the plan in this directory twice in one process, print JSON. */
    child: { type: 'string' },
    /** Put the printed "IoT survey" section into this markdown file (BENCHMARKS.md). */
    write: { type: 'string' },
  },
});

interface Measured {
  cpuMs: number;
  wallMs: number;
}

/** Child: one survey (what the whole process is timed on), then a second, warm, in-process one. */
async function child(dir: string): Promise<void> {
  const raw = parse(readFileSync(join(dir, 'plan.yaml'), 'utf8')) as Record<string, unknown>;
  const plan = authorisePlan(raw, { baseDir: dir });
  const survey = createSurvey(SurveyConfig.parse({ recogPath: RECOG_DIR }), {
    logger: silentLogger(),
    registry: new Registry(),
  });
  await survey.start();
  const once = async () => {
    const findings: Finding[] = [];
    const cpu = process.cpuUsage();
    const started = performance.now();
    await survey.run(plan, { onHost: (h) => findings.push(...h.findings) });
    const used = process.cpuUsage(cpu);
    return { findings, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - started };
  };
  const first = await once();
  const warm = await once();
  await survey.stop?.();
  process.stdout.write(
    JSON.stringify({ findings: first.findings, warm: { cpuMs: warm.cpuMs, wallMs: warm.wallMs } }) + '\n',
  );
  process.exit(0);
}

/** Runs `command` as a whole process under bash's `time`; returns its stdout and CPU/wall. */
function timedProcess(command: string, args: string[], errFile: string): Measured & { stdout: string } {
  const result = spawnSync(
    'bash',
    ['-c', `TIMEFORMAT='%U %S %R'; time "$@" 2>"${errFile}"`, 'bash', command, ...args],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (result.status !== 0)
    throw new Error(`${command} failed: ${readFileSync(errFile, 'utf8').slice(-1500)}`);
  const [user, sys, real] = result.stderr.trim().split('\n').pop()!.split(/\s+/).map(Number) as [
    number,
    number,
    number,
  ];
  return { stdout: result.stdout, cpuMs: (user + sys) * 1000, wallMs: real * 1000 };
}

/** What nmap's XML says about one port: product, version, extra info, OS and device type. */
function nmapText(xml: string, ip: string, port: number): string {
  const host = [...xml.matchAll(/<host [\s\S]*?<\/host>/g)]
    .map((m) => m[0])
    .find((h) => h.includes(`addr="${ip}"`));
  const portXml = host
    ? new RegExp(`<port protocol="tcp" portid="${port}">[\\s\\S]*?</port>`).exec(host)?.[0]
    : '';
  const service = portXml ? /<service ([^>]*)/.exec(portXml)?.[1] : '';
  return [...(service ?? '').matchAll(/(product|version|extrainfo|devicetype|ostype)="([^"]*)"/g)]
    .map((m) => m[2])
    .join(' ');
}

function tsunagiText(findings: readonly Finding[], ip: string, port: number): string {
  return findings
    .filter((f) => f.ip === ip && f.port === port)
    .map((f) => [f.vendor, f.model, f.firmware, f.cpe, f.deviceType].filter(Boolean).join(' '))
    .join(' ');
}

/** Of the truth's product names and versions, how many a tool's identification names. */
function score(truth: readonly DaemonTruth[], textFor: (ip: string, port: number) => string) {
  let hit = 0;
  const found: string[] = [];
  for (const t of truth) {
    const text = textFor(t.ip, t.port).toLowerCase();
    const product = text.includes(t.product.toLowerCase());
    const version = text.includes(t.version.toLowerCase());
    hit += Number(product) + Number(version);
    found.push(`${t.daemon}: ${product ? 'product' : '-'}/${version ? 'version' : '-'}`);
  }
  return { hit, total: truth.length * 2, found: found.join(', ') };
}

const median = <T>(xs: T[], by: (x: T) => number): T =>
  [...xs].sort((a, b) => by(a) - by(b))[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const missing = [
    ...missingDaemons(),
    ...(spawnSync('sh', ['-c', 'command -v nmap']).status === 0 ? [] : ['nmap']),
  ];
  if (missing.length > 0) {
    process.stderr.write(`bench:survey needs ${missing.join(', ')} (scripts/install-test-tools.sh)\n`);
    process.exit(2);
  }
  const startedAt = new Date();
  const loadBefore = machineLoad();
  const runs = Number(options.runs);
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-bench-survey-'));
  const daemons = await startDaemons(NET, join(dir, 'daemons'));
  try {
    writeLabPlan(
      dir,
      {
        scope: { cidrs: [SCOPE] },
        optOut: [],
        // Identification only, like nmap -sV: no login attempts.
        rateLimits: {
          connectionsPerSecond: 10000,
          perHostIntervalMs: 0,
          maxAttemptsPerHost: 0,
          backoffMs: 0,
          concurrency: 16,
        },
        evidenceLog: 'bench-evidence.jsonl',
      },
      NET,
    );
    const self = fileURLToPath(import.meta.url);
    const nmapArgs = (light: boolean, xml: string) => [
      '-sV',
      ...(light ? ['--version-light'] : []),
      '-Pn',
      '-n',
      '-p',
      PORTS,
      '-oX',
      xml,
      SCOPE,
    ];
    const tsunagiRuns: (Measured & { findings: Finding[]; warm: Measured })[] = [];
    const nmapRuns: (Measured & { xml: string })[] = [];
    const lightRuns: (Measured & { xml: string })[] = [];
    for (let i = 0; i < runs; i++) {
      const t = timedProcess(
        process.execPath,
        ['--import', 'tsx', self, '--child', dir],
        join(dir, 'child.err'),
      );
      const out = JSON.parse(t.stdout.trim().split('\n').pop()!) as { findings: Finding[]; warm: Measured };
      tsunagiRuns.push({ cpuMs: t.cpuMs, wallMs: t.wallMs, ...out });
      for (const [light, list] of [
        [true, lightRuns],
        [false, nmapRuns],
      ] as const) {
        const xml = join(dir, `nmap-${light ? 'light' : 'full'}-${i}.xml`);
        const n = timedProcess('nmap', nmapArgs(light, xml), join(dir, 'nmap.err'));
        list.push({ cpuMs: n.cpuMs, wallMs: n.wallMs, xml: readFileSync(xml, 'utf8') });
      }
    }
    const tsunagi = median(tsunagiRuns, (r) => r.wallMs);
    const warm = median(
      tsunagiRuns.map((r) => r.warm),
      (r) => r.wallMs,
    );
    const nmap = median(nmapRuns, (r) => r.wallMs);
    const light = median(lightRuns, (r) => r.wallMs);
    const scores = {
      tsunagi: score(daemons.truth, (ip, port) => tsunagiText(tsunagi.findings, ip, port)),
      nmap: score(daemons.truth, (ip, port) => nmapText(nmap.xml, ip, port)),
      light: score(daemons.truth, (ip, port) => nmapText(light.xml, ip, port)),
    };
    const fastest =
      light.wallMs <= nmap.wallMs
        ? { name: 'nmap -sV --version-light', m: light }
        : { name: 'nmap -sV', m: nmap };
    const row = (
      name: string,
      m: Measured,
      s: { hit: number; total: number; found: string } | undefined,
      ratio: string,
    ) => [
      name,
      (HOSTS / (m.wallMs / 1000)).toFixed(2),
      (m.cpuMs / HOSTS).toFixed(2),
      (m.wallMs / 1000).toFixed(2),
      s ? `${s.hit}/${s.total} (${s.found})` : 'same findings',
      ratio,
    ];
    const vs = (m: Measured) =>
      `${(fastest.m.wallMs / m.wallMs).toFixed(2)}x hosts/s, ${(m.cpuMs / fastest.m.cpuMs).toFixed(2)}x CPU`;
    const table = markdownTable(
      [
        'tool (whole process, cold, unless marked)',
        'hosts/s',
        'CPU ms/host',
        'wall s',
        'identified (product/version)',
        `vs ${fastest.name}`,
      ],
      [
        row('tsunagi survey (identification only)', tsunagi, scores.tsunagi, vs(tsunagi)),
        row('nmap -sV --version-light', light, scores.light, vs(light)),
        row('nmap -sV', nmap, scores.nmap, vs(nmap)),
        row('tsunagi, second survey in the same process (warm)', warm, undefined, 'no ratio (in-process)'),
      ],
      ['l', 'r', 'r', 'r', 'l', 'r'],
    );
    publishReport(
      {
        title: 'IoT survey',
        command: commandLine('bench:survey'),
        method:
          `${daemons.truth.length} real daemons from Debian, one per address of ${SCOPE} (${daemons.truth.map((t) => `${t.daemon} ${t.version} on ${t.ip}:${t.port}`).join(', ')}), ` +
          `every address probed on ports ${PORTS} (${HOSTS} addresses). The truth is each daemon's product name and upstream version from dpkg, written without recog. ` +
          `Each tool runs as a whole process from start to exit (bash \`time\`, user + system CPU), taking turns, median of ${runs} runs by wall time; ` +
          `tsunagi identifies only (no login attempts), as nmap -sV does. "identified" counts product names and versions named by the tool's identification fields ` +
          `(tsunagi: vendor, model, firmware, CPE, device type; nmap: product, version, extra info, OS, device type).`,
        started: startedAt,
        loadBefore,
        loadAfter: machineLoad(),
        tables: [table],
        caveats: [
          'The machine has 2 cores shared with other sessions: figures move by tens of percent between runs.',
          "tsunagi's whole-process time includes node and tsx start-up and loading recog's XML; nmap's includes loading its probe database.",
          'Four daemons on loopback are a small sample: a point of reference, not a measure of identification quality across devices.',
          'busybox telnetd here runs /bin/login, so its banner is the Debian login prompt.',
        ],
      },
      options.write,
    );
  } finally {
    await daemons.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (options.child) await child(options.child);
else await main();
