/**
 * A sensor lab on this machine, shared by the benchmark and the end-to-end test: a real centre
 * (`tsunagi sensor serve` as its own process, on its own data directory) with a planted C&C in
 * intel, and real sensors (the bundle `npm run build:sensor` makes, each its own process,
 * optionally inside a network namespace). Processes are ended by their pid, nothing broader.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { createSensorReader, type SensorTables } from '../../src/sensor/index.ts';

const run = promisify(execFile);
export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TSUNAGI = join(repo, 'bin', 'tsunagi');

/** `tsunagi ARGS` run to its end; throws with its stderr when it fails. */
export async function tsunagi(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [TSUNAGI, ...args], {
    cwd: repo,
    timeout: 180_000,
    env: labEnv(),
  });
  return stdout;
}

function labEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.TSUNAGI_DATABASE_URL; // the lab's centre keeps its own SQLite store
  return env;
}

/** Builds the bundle into `outDir`; its SHA-256 is what the centre allows at enrolment. */
export async function buildBundle(outDir: string): Promise<{ bundle: string; digest: string }> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', join(repo, 'scripts', 'build-sensor.ts'), '--out', outDir],
    { cwd: repo, timeout: 180_000 },
  );
  const [digest, bundle] = stdout.trim().split('\n')[0]!.split(/\s+/);
  return { bundle: bundle!, digest: digest! };
}

export interface Centre {
  url: string;
  caSha256: string;
  dataDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
  /** Starts the stopped centre again on the same data directory and port. */
  restart(): Promise<void>;
}

export interface CentreOptions {
  dataDir: string;
  listen: string;
  bundleDigests: string[];
  /** Extra names (addresses) the server certificate must hold: the centre's address seen from a namespace. */
  names?: string[];
  /** C&C ip:port recorded in intel before the centre starts, so its first IoC list holds them. */
  plantedC2: { ip: string; port: number }[];
}

async function plant(dataDir: string, c2: CentreOptions['plantedC2']): Promise<void> {
  const data = ['--data', dataDir];
  await tsunagi(['org', 'add', 'lab-feed', '--role', 'analysis', ...data]);
  const csv = join(dataDir, 'planted-c2.csv');
  const rows = c2.map((c) => `${c.ip},${c.port},tcp,90,labbot`);
  writeFileSync(csv, ['ip,port,proto,confidence,family', ...rows].join('\n') + '\n');
  await tsunagi(['import', csv, '--org', 'lab-feed', ...data]);
}

/** `tsunagi sensor serve` until it says where it listens. */
async function serve(args: string[]): Promise<{ child: ChildProcess; url: string; caSha256: string }> {
  const child = spawn(process.execPath, [TSUNAGI, ...args], {
    cwd: repo,
    env: labEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const started = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the centre did not start in 120 s: ${stderr.slice(-500)}`)),
      120_000,
    );
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-16_384);
      const match = /centre on (https:\/\/\S+) \(CA sha256 ([0-9a-f]{64})\)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.on('exit', (code) => reject(new Error(`the centre exited (${code}): ${stderr.slice(-500)}`)));
  });
  return { child, url: started[1]!, caSha256: started[2]! };
}

export async function startCentre(options: CentreOptions): Promise<Centre> {
  mkdirSync(options.dataDir, { recursive: true });
  await plant(options.dataDir, options.plantedC2);
  const args = (listen: string) => {
    const argv = ['sensor', 'serve', '--listen', listen, '--data', options.dataDir];
    for (const digest of options.bundleDigests) argv.push('--bundle-digest', digest);
    for (const name of options.names ?? []) argv.push('--name', name);
    return argv;
  };
  const first = await serve(args(options.listen));
  const centre: Centre = {
    url: first.url,
    caSha256: first.caSha256,
    dataDir: options.dataDir,
    process: first.child,
    stop: () => stopProcess(centre.process),
    async restart() {
      const port = new URL(centre.url).port;
      const host = options.listen.slice(0, options.listen.lastIndexOf(':'));
      centre.process = (await serve(args(`${host}:${port}`))).child;
    },
  };
  return centre;
}

export async function invite(centre: Centre, org: string): Promise<string> {
  return (await tsunagi(['sensor', 'invite', '--org', org, '--data', centre.dataDir])).trim();
}

/** SIGTERM to one process we started, then SIGKILL if it lingers. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** argv run inside network namespace `netns` when given (`ip netns exec` execs it: the pid is the command's). */
function inNetns(argv: string[], netns?: string): [string, string[]] {
  const full = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
  return [full[0]!, full.slice(1)];
}

export async function sensorOnce(bundle: string, args: string[], netns?: string): Promise<string> {
  const [file, argv] = inNetns([process.execPath, bundle, ...args], netns);
  const { stdout } = await run(file, argv, { timeout: 180_000 });
  return stdout;
}

/** A long-running process (a sensor, a synthetic workload); the last 8 KiB of its stderr is kept in `tail`. */
export function startProcess(argv: string[], netns?: string): ChildProcess & { tail: () => string } {
  const [file, rest] = inNetns(argv, netns);
  const child = spawn(file, rest, { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr!.on('data', (chunk: Buffer) => (tail = (tail + chunk.toString('utf8')).slice(-8192)));
  return Object.assign(child, { tail: () => tail });
}

export function startSensor(bundle: string, args: string[], netns?: string) {
  return startProcess([process.execPath, bundle, ...args], netns);
}

/** What the console's sensor page reads, from the centre's store (read-only, while it runs or after). */
export async function centreView(centre: Centre) {
  const sqlite = new Database(join(centre.dataDir, 'tsunagi.sqlite'), { readonly: true });
  const db = new Kysely<SensorTables>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    const reader = createSensorReader(db);
    const sightings = sqlite
      .prepare(
        `SELECT s.source AS source, i.value AS value, i.port AS port FROM sightings s
         JOIN indicators i ON i.id = s.indicator_id WHERE s.source LIKE 'sensor:%' ORDER BY s.source`,
      )
      .all() as { source: string; value: string; port: number }[];
    return {
      sensors: await reader.sensors(),
      topIocs: await reader.topIocs(1, 10),
      daily: await reader.daily(1),
      sightings,
    };
  } finally {
    await db.destroy();
  }
}
