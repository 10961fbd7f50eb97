/**
 * tsunagi's side of the TAXII benchmark: a store filled in this process (indicators recorded
 * through intel, published as tiered STIX, an analysis-centre token made), then served by the real
 * command, `tsunagi serve`, in a process of its own, as medallion is. The server's CPU time is read
 * from /proc by the caller (see processCpuMs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Registry } from 'prom-client';
import { silentLogger } from '../../src/core/index.ts';
import { COLLECTION_IDS, HubConfig, wireHub } from '../../src/share/index.ts';
import { openStore } from '../../src/store/index.ts';
import { ROOM_MIGRATIONS } from '../../src/cli/testing.ts';
import { sighting } from './data.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The share of time some task waited for a CPU over the last 10 s (Linux PSI), or '?'. */
export function cpuPressure(): string {
  try {
    return /some avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

/**
 * CPU time (user + system) the process has used so far, in ms: /proc/PID/stat sums every thread
 * of the process, those that have ended included (medallion's server makes one per connection).
 * Fields are counted after the command name's closing parenthesis, which may hold spaces.
 */
export function processCpuMs(pid: number): number {
  return cpuMsOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** utime + stime of a /proc/PID/stat line, ms. */
export function cpuMsOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are the 14th and 15th fields, in USER_HZ ticks (100 a second on Linux).
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`unexpected /proc stat layout: ${stat.slice(0, 80)}`);
  return ticks * 10;
}

export interface DumpedObject {
  object: Record<string, unknown>;
  dateAdded: string;
  version: string;
}

export interface PreparedStore {
  /** Indicators recorded and published (fewer than asked when the load budget ran out). */
  indicators: number;
  /** STIX rows stored over all collections. */
  rows: number;
  /** Latest objects in the full collection (what GET pages walk). */
  fullObjects: number;
  recordPerSecond: number;
  publishPerSecond: number;
  /** An analysis-centre token, for the full collection. */
  token: string;
  /** The full collection's objects in publishing order, for medallion (only when asked). */
  dump?: DumpedObject[];
  /** What `tsunagi serve` is given: the data directory and, on PostgreSQL, the database's URL. */
  dataDir: string;
  databaseUrl?: string;
  /** Removes the data directory (or drops the database); with keep, leaves it and prints where. */
  remove(keep: boolean): Promise<void>;
}

/** Sightings per intel call (its maxBatch is 10,000): one transaction each. */
const RECORD_BATCH = 10_000;
/**
 * Large sizes are loaded in steps of this many indicators, each recorded then published, so a
 * load that runs out of its time budget stops at a step with everything recorded also published.
 */
export const LOAD_STEP = 100_000;

interface Loaded {
  reached: number;
  recordSeconds: number;
  publishSeconds: number;
}

/**
 * Records `indicators` C&C sightings through intel and publishes them through the hub's
 * publisher, in steps of LOAD_STEP; past budgetMs it stops after the step it is in.
 */
async function load(
  indicators: number,
  budgetMs: number,
  parts: Pick<ReturnType<typeof wireHub>, 'intel' | 'hub'> & { registry: Registry },
): Promise<Loaded> {
  const loud = indicators >= 100_000;
  const startedAt = performance.now();
  let recordMs = 0;
  let publishMs = 0;
  let reached = 0;
  // Progress from the publisher's own counter (no query: SQLite has one connection, busy here).
  const published = parts.registry.getSingleMetric('tsunagi_share_published_indicators_total');
  while (reached < indicators) {
    const stepEnd = Math.min(indicators, reached + LOAD_STEP);
    let began = performance.now();
    for (let b = reached; b < stepEnd; b += RECORD_BATCH)
      await parts.intel.recordSightings(
        Array.from({ length: Math.min(RECORD_BATCH, stepEnd - b) }, (_, i) => sighting(b + i)),
      );
    recordMs += performance.now() - began;
    began = performance.now();
    const progress =
      loud && published
        ? setInterval(() => {
            void Promise.resolve(published.get()).then((m) => {
              process.stderr.write(
                `  publish: ${m.values[0]?.value ?? 0} of ${stepEnd} recorded indicators published, CPU pressure ${cpuPressure()}%\n`,
              );
            });
          }, 30_000)
        : undefined;
    await parts.hub.publisher.sync().finally(() => clearInterval(progress));
    publishMs += performance.now() - began;
    reached = stepEnd;
    if (loud)
      process.stderr.write(
        `  loaded ${reached} indicators in ${((performance.now() - startedAt) / 1000).toFixed(0)} s: ` +
          `intel ${(reached / (recordMs / 1000)).toFixed(0)}/s, publish ${(reached / (publishMs / 1000)).toFixed(0)}/s, CPU pressure ${cpuPressure()}%\n`,
      );
    if (reached < indicators && performance.now() - startedAt > budgetMs) {
      process.stderr.write(
        `  load budget of ${budgetMs / 60_000} min spent: measuring at ${reached} of ${indicators} indicators\n`,
      );
      break;
    }
  }
  return { reached, recordSeconds: recordMs / 1000, publishSeconds: publishMs / 1000 };
}

/** A database of its own on the PostgreSQL server of adminUrl (serve takes no schema), and its URL. */
async function freshDatabase(
  adminUrl: string,
  name: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = new pg.Client({ connectionString: adminUrl });
      await again.connect();
      await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.end();
    },
  };
}

/**
 * Fills a store for `indicators` (in this process, which then closes it) and makes the token the
 * client uses; on PostgreSQL (adminUrl) in a database of its own, else in a temporary directory.
 */
export async function prepareStore(
  indicators: number,
  options: { dump: boolean; budgetMs: number; adminUrl?: string },
): Promise<PreparedStore> {
  const dataDir = mkdtempSync(join(tmpdir(), 'taxii-bench-'));
  const database = options.adminUrl
    ? await freshDatabase(options.adminUrl, `taxii_bench_${process.pid}_${indicators}`)
    : undefined;
  const store = database
    ? await openStore({ databaseUrl: database.url }, { migrations: ROOM_MIGRATIONS })
    : await openStore({ dataDir }, { migrations: ROOM_MIGRATIONS });
  const registry = new Registry();
  const { intel, hub } = wireHub(
    { hub: HubConfig.parse({ listen: '127.0.0.1:0', publishIntervalMs: 0 }) },
    { store, logger: silentLogger(), registry },
  );
  try {
    await hub.start();
    await hub.orgs.add({ name: 'bench-analysis', role: 'analysis' }, 'bench');
    const { token } = await hub.orgs.createToken('bench-analysis', {}, 'bench');
    const loaded = await load(indicators, options.budgetMs, { intel, hub, registry });
    const count = (where: boolean) =>
      store.db
        .selectFrom('stix_objects')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .$if(where, (q) => q.where('collection_id', '=', COLLECTION_IDS.full).where('is_latest', '=', 1))
        .executeTakeFirstOrThrow();
    const rows = Number((await count(false)).n);
    const fullObjects = Number((await count(true)).n);
    const dump = options.dump
      ? (
          await store.db
            .selectFrom('stix_objects')
            .select(['body', 'date_added', 'version'])
            .where('collection_id', '=', COLLECTION_IDS.full)
            .where('is_latest', '=', 1)
            .orderBy('seq')
            .execute()
        ).map((r) => ({
          object: JSON.parse(r.body) as Record<string, unknown>,
          dateAdded: r.date_added,
          version: r.version,
        }))
      : undefined;
    return {
      indicators: loaded.reached,
      rows,
      fullObjects,
      recordPerSecond: loaded.reached / loaded.recordSeconds,
      publishPerSecond: loaded.reached / loaded.publishSeconds,
      token,
      ...(dump ? { dump } : {}),
      dataDir,
      ...(database ? { databaseUrl: database.url } : {}),
      async remove(keep) {
        if (keep && !database) return void console.log(`kept ${dataDir}`);
        rmSync(dataDir, { recursive: true, force: true });
        await database?.drop();
      },
    };
  } finally {
    await hub.stop();
    await store.close();
  }
}

export interface TsunagiServer {
  /** The hub's base URL. */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * `tsunagi serve` on the prepared store, as an operator runs it, with two settings changed: the
 * per-organisation rate limit raised out of the way (the client is one organisation asking as fast
 * as it can) and logging at "error" (medallion runs at ERROR too).
 */
export async function startTsunagi(prepared: PreparedStore): Promise<TsunagiServer> {
  const configFile = join(prepared.dataDir, 'bench-serve.json');
  writeFileSync(
    configFile,
    JSON.stringify({ log: { level: 'error' }, hub: { rateLimit: { perSecond: 1e6, burst: 1e6 } } }),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, TSUNAGI_DATABASE_URL: prepared.databaseUrl };
  if (!prepared.databaseUrl) delete env.TSUNAGI_DATABASE_URL;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(REPO, 'bin', 'tsunagi'),
      'serve',
      '--data',
      prepared.dataDir,
      '--listen',
      '127.0.0.1:0',
      '--config',
      configFile,
    ],
    { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tsunagi serve did not start within 120 s: ${stderr}`));
    }, 120_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
      const up = /tsunagi hub on (http:\/\/[\d.:]+)/.exec(stderr);
      if (up) {
        clearTimeout(timer);
        resolveUrl(up[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tsunagi serve exited ${code}: ${stderr}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise((resolveStop) => {
        if (child.exitCode !== null) return resolveStop();
        child.once('exit', () => resolveStop());
        child.kill('SIGTERM');
      }),
  };
}
