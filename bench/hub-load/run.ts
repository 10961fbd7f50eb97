/**
 * Hub load benchmark (issue #15, finding 6): signed-in readers beside an anonymous flood of large
 * POST bodies. The hub runs in its own process (server.ts) on 127.0.0.1; this process drives
 * READERS signed-in clients looping over TAXII pages and API calls for SECONDS, first alone, then
 * beside FLOODERS loops each POSTing a 26 MB envelope without a token, and prints the readers'
 * p50/p99 latency for both runs, the flood's answers and the server's resident memory.
 *
 * Run: npm run bench:hub-load [-- SECONDS] [--write BENCHMARKS.md]   (default 30; env HUB_LOAD_SECONDS, HUB_LOAD_READERS
 * (200), HUB_LOAD_FLOODERS (4), HUB_LOAD_BODY_MB (26), HUB_LOAD_INDICATORS (2000)). Everything is
 * bounded: each run stops after SECONDS (and at most 2,000,000 reads), and the server is stopped.
 * The section goes through bench/lib/report.ts; `--write FILE` puts it into FILE (BENCHMARKS.md).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { COLLECTION_IDS } from '../../src/share/index.ts';
import { commandLine, machineLoad, markdownTable, publishReport } from '../lib/report.ts';

const { values: cli, positionals } = parseArgs({
  options: { write: { type: 'string' } },
  allowPositionals: true,
});
const startedAt = new Date();
const loadBefore = machineLoad();
const SECONDS = Number(positionals[0] ?? process.env.HUB_LOAD_SECONDS ?? 30);
if (!(SECONDS > 0)) {
  process.stderr.write(`bench:hub-load: SECONDS must be a positive number, not ${positionals[0]}\n`);
  process.exit(2);
}
const READERS = Number(process.env.HUB_LOAD_READERS ?? 200);
const FLOODERS = Number(process.env.HUB_LOAD_FLOODERS ?? 4);
const BODY_MB = Number(process.env.HUB_LOAD_BODY_MB ?? 26);
const INDICATORS = Number(process.env.HUB_LOAD_INDICATORS ?? 2000);
const MAX_READS = 2_000_000;
const TAXII = 'application/taxii+json;version=2.1';
const HERE = dirname(fileURLToPath(import.meta.url));

interface Server {
  url: string;
  token: string;
  pid: number;
  stop(): Promise<void>;
}

async function startServer(dir: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(HERE, 'server.ts'), dir, String(INDICATORS)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`hub server exited (${code}) before listening`)));
  });
  const { url, token } = JSON.parse(line) as { url: string; token: string };
  return {
    url,
    token,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The server process's resident and peak resident memory, MB (Linux /proc). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

function request(
  agent: http.Agent,
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, ms: performance.now() - start }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** READERS loops of signed-in reads until `deadline`; their latencies and failures. */
async function readers(server: Server, deadline: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: READERS });
  const headers = { authorization: `Bearer ${server.token}`, accept: TAXII };
  const urls = [
    `${server.url}/council/collections/${COLLECTION_IDS.council}/objects/?limit=100`,
    `${server.url}/api/indicators?limit=100`,
    `${server.url}/taxii2/`,
  ];
  const latencies: number[] = [];
  let failed = 0;
  let reads = 0;
  await Promise.all(
    Array.from({ length: READERS }, async (_, i) => {
      while (performance.now() < deadline && reads < MAX_READS) {
        reads++;
        try {
          const r = await request(agent, urls[(i + reads) % urls.length]!, headers);
          if (r.status === 200) latencies.push(r.ms);
          else failed++;
        } catch {
          failed++;
        }
      }
    }),
  );
  agent.destroy();
  return { latencies, failed };
}

/** The flood in its own process (flood.ts) until `seconds` have passed: its answers by status. */
async function flood(server: Server, seconds: number): Promise<Map<string, number>> {
  const url = `${server.url}/council/collections/${COLLECTION_IDS.submissions}/objects/`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(HERE, 'flood.ts'), url, String(seconds), String(BODY_MB), String(FLOODERS)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`flood exited (${code})`))));
  });
  return new Map(Object.entries(JSON.parse(line) as Record<string, number>));
}

/** Nearest rank, as bench/taxii: the p99 of 100 requests is the 99th, not the 100th (the maximum). */
function quantiles(latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.max(0, Math.ceil(sorted.length * q) - 1)] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-hub-load-'));
const server = await startServer(dir);
const rows: (string | number)[][] = [];
try {
  process.stderr.write(
    `hub-load: ${READERS} signed-in readers for ${SECONDS}s, alone then beside ${FLOODERS} anonymous ${BODY_MB} MB POST loops\n`,
  );
  // Warm-up (not measured): JIT, the page cache and the first pages of each URL.
  await readers(server, performance.now() + Math.min(5, SECONDS / 5) * 1000);
  for (const withFlood of [false, true]) {
    const deadline = performance.now() + SECONDS * 1000;
    const [read, answers] = await Promise.all([
      readers(server, deadline),
      withFlood ? flood(server, SECONDS) : Promise.resolve(new Map<string, number>()),
    ]);
    const { p50, p99, max } = quantiles(read.latencies);
    const mem = memory(server.pid);
    const floodText = withFlood
      ? [...answers].map(([what, n]) => `${what}×${n}`).join(' ') || 'none answered'
      : '-';
    const n = read.latencies.length;
    rows.push([
      withFlood ? `beside ${FLOODERS} anonymous ${BODY_MB} MB POST loops` : 'alone',
      n.toLocaleString('en-US'),
      read.failed,
      (n / SECONDS).toFixed(0),
      p50.toFixed(1),
      // A p99 over fewer than 100 reads would be the maximum: print it as such.
      n >= 100 ? p99.toFixed(1) : `max ${max.toFixed(1)}`,
      max.toFixed(1),
      floodText,
      mem.rss,
      mem.peak,
    ]);
  }
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
publishReport(
  {
    title: 'Hub under load',
    command: commandLine('bench:hub-load'),
    method:
      `tsunagi's hub (SQLite, ${INDICATORS.toLocaleString('en-US')} council indicators published as STIX) in a process of its own on 127.0.0.1. ` +
      `${READERS} signed-in readers (one analysis-centre token, keep-alive) loop over a council TAXII page (limit=100), an API page of indicators (limit=100) and TAXII discovery for ${SECONDS} s, ` +
      `first alone, then while ${FLOODERS} loops in another process POST a ${BODY_MB} MB envelope without a token on fresh connections. ` +
      "Latency is per read, from request to the end of the answer; the server's resident memory is read from /proc after each run. There is no peer: the comparison is the hub with and without the flood.",
    started: startedAt,
    loadBefore,
    loadAfter: machineLoad(),
    tables: [
      markdownTable(
        [
          'readers',
          'signed-in reads',
          'failed',
          'reads/s',
          'p50 ms',
          'p99 ms',
          'max ms',
          'anonymous flood answers',
          'server RSS MB',
          'peak RSS MB',
        ],
        rows,
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'r', 'r'],
      ),
    ],
    caveats: [
      'The machine has 2 cores shared with other sessions: figures move by tens of percent between runs; the load line above says how busy it was.',
      `The readers and the server share the machine's 2 cores with the flood process: the flood's CPU for building and sending ${BODY_MB} MB bodies is part of what the readers feel.`,
      'The percentiles are over every read of the run (the reads column), after an unmeasured warm-up of the same readers.',
      'No ratio: no other TAXII server is run here (bench/taxii compares with medallion).',
    ],
  },
  cli.write,
);
