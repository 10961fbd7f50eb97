/**
 * Benchmark (not a test): identification of the same emulated devices by tsunagi and by
 * `nmap -sV`, printing hosts per second, CPU per host and identification accuracy, with ratios.
 * Run: npm run bench:survey -- [rounds]   (needs busybox-static and nmap).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { silentLogger } from '../../src/core/logger.ts';
import { SurveyConfig } from '../../src/survey/config.ts';
import { LAB_PORTS, labScope, RECOG_DIR } from '../../src/survey/harness/lab.ts';
import { authorisePlan, createSurvey, type Finding } from '../../src/survey/index.ts';

const NET = 74;
const ROUNDS = Number(process.argv[2] ?? 3);

interface Expect {
  vendor?: string;
  model?: string;
  firmware?: string;
}

async function startLabProcess(): Promise<{
  dir: string;
  expect: Record<string, Expect>;
  stop(): Promise<void>;
}> {
  const serve = new URL('../../src/survey/harness/serve.ts', import.meta.url).pathname;
  // Hostile devices are left out: nmap would spend minutes on them, which measures nothing useful.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', serve, String(NET), 'loop,huge,silent,opted-out'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`lab exited ${code}`)));
  });
  const [, dir, json] = /^ready (\S+) (.*)$/.exec(line) ?? [];
  if (!dir || !json) throw new Error(`unexpected lab output: ${line}`);
  return {
    dir,
    expect: JSON.parse(json) as Record<string, Expect>,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Share of expected vendor/model/firmware values that a tool's text for the host contains. */
function accuracy(
  expect: Record<string, Expect>,
  textFor: (ip: string) => string,
): { hit: number; total: number } {
  let hit = 0;
  let total = 0;
  for (const [ip, e] of Object.entries(expect)) {
    const text = textFor(ip).toLowerCase();
    for (const value of [e.vendor, e.model, e.firmware]) {
      if (!value) continue;
      total++;
      if (text.includes(value.toLowerCase())) hit++;
    }
  }
  return { hit, total };
}

async function runTsunagi(dir: string) {
  const raw = parse(readFileSync(join(dir, 'plan.yaml'), 'utf8')) as Record<string, unknown>;
  const plan = authorisePlan(
    {
      ...raw,
      scope: { cidrs: [labScope(NET)] },
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
    { baseDir: dir },
  );
  const survey = createSurvey(SurveyConfig.parse({ recogPath: RECOG_DIR }), {
    logger: silentLogger(),
    registry: new Registry(),
  });
  await survey.start();
  const findings: Finding[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  await survey.run(plan, { onHost: (h) => findings.push(...h.findings) });
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000, findings };
}

function runNmap(dir: string) {
  const ports = LAB_PORTS.map((p) => p.port).join(',');
  const xml = join(dir, 'nmap.xml');
  const started = performance.now();
  // The shell reports its children's CPU (cutime + cstime, in clock ticks) once nmap is done.
  const result = spawnSync(
    'sh',
    ['-c', `nmap -sV -Pn -n -p ${ports} -oX ${xml} ${labScope(NET)} >/dev/null; cat /proc/$$/stat`],
    { encoding: 'utf8' },
  );
  const wallMs = performance.now() - started;
  const fields = result.stdout.slice(result.stdout.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[14 - 1]) + Number(fields[15 - 1]);
  const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return { wallMs, cpuMs: (ticks / hz) * 1000, xml: readFileSync(xml, 'utf8') };
}

function nmapText(xml: string, ip: string): string {
  const host = [...xml.matchAll(/<host [\s\S]*?<\/host>/g)]
    .map((m) => m[0])
    .find((h) => h.includes(`addr="${ip}"`));
  if (!host) return '';
  return [...host.matchAll(/<service ([^>]*)/g)]
    .map((m) =>
      [...m[1]!.matchAll(/(product|version|extrainfo|devicetype|ostype)="([^"]*)"/g)]
        .map((a) => a[2])
        .join(' '),
    )
    .join(' ');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (spawnSync('sh', ['-c', 'command -v nmap']).status !== 0) {
  console.error('nmap is not installed (apt-get install -y nmap)');
  process.exit(1);
}
const lab = await startLabProcess();
try {
  const hosts = 16;
  const ours = [];
  for (let i = 0; i < ROUNDS; i++) ours.push(await runTsunagi(lab.dir));
  const last = ours.at(-1)!;
  const ourText = (ip: string) =>
    last.findings
      .filter((f) => f.ip === ip)
      .map((f) => [f.vendor, f.model, f.firmware, f.cpe].join(' '))
      .join(' ');
  const ourAcc = accuracy(lab.expect, ourText);
  const nmap = runNmap(lab.dir);
  const nmapAcc = accuracy(lab.expect, (ip) => nmapText(nmap.xml, ip));
  const ourWall = median(ours.map((o) => o.wallMs));
  const ourCpu = median(ours.map((o) => o.cpuMs));
  const row = (name: string, wallMs: number, cpuMs: number, acc: { hit: number; total: number }) =>
    `${name.padEnd(16)} ${(hosts / (wallMs / 1000)).toFixed(2).padStart(10)} ${(cpuMs / hosts).toFixed(2).padStart(12)} ${(wallMs / 1000).toFixed(2).padStart(8)} ${`${acc.hit}/${acc.total}`.padStart(9)}`;
  console.log(
    `${'tool'.padEnd(16)} ${'hosts/s'.padStart(10)} ${'CPU ms/host'.padStart(12)} ${'wall s'.padStart(8)} ${'identified'.padStart(9)}`,
  );
  console.log(row(`tsunagi (x${ROUNDS})`, ourWall, ourCpu, ourAcc));
  console.log(row('nmap -sV', nmap.wallMs, nmap.cpuMs, nmapAcc));
  console.log(
    `ratio: tsunagi hosts/s = ${(nmap.wallMs / ourWall).toFixed(1)}x nmap; CPU per host = ${(ourCpu / nmap.cpuMs).toFixed(2)}x nmap's`,
  );
  console.log(
    `(${hosts} addresses of ${labScope(NET)}, ports ${LAB_PORTS.map((p) => p.port).join(',')}; 6 devices; identification = expected vendor/model/firmware values found)`,
  );
} finally {
  await lab.stop();
}
