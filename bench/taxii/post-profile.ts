/**
 * Profiles the TAXII POST path alone (not a benchmark row): a fresh hub on SQLite, N envelopes of
 * 1000 new indicators posted to the full collection, objects/s and p50/p99 printed; with a
 * directory argument the POST window's CPU profile is written there (open in Chrome DevTools).
 *
 * Run: node --import tsx bench/taxii/post-profile.ts [ENVELOPES=30] [PROFILE_DIR]
 * Env SQLITE_WAL_AUTOCHECKPOINT=PAGES sets SQLite's checkpoint threshold, to see its share,
 * SQLITE_MMAP_SIZE=BYTES maps the database file, TAXII_POST_WARMUP=N posts N untimed envelopes first;
 * TAXII_POST_DATA_DIR=DIR posts into an existing store instead (e.g. one kept by
 * `TAXII_BENCH_KEEP=1 npm run bench:taxii`), which is left in place.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { COLLECTION_IDS } from '../../src/share/index.ts';
import { wireLocalHub } from '../../src/share/testing.ts';
import { openStore } from '../../src/store/index.ts';
import { ROOM_MIGRATIONS } from '../../src/cli/testing.ts';
import { makeEnvelopes } from './data.ts';

const TAXII = 'application/taxii+json;version=2.1';
const ENVELOPES = Number(process.argv[2] ?? 30);
const PROFILE_DIR = process.argv[3];
/** Untimed envelopes first: a kept store opens with SQLite's page cache empty. */
const WARMUP = Number(process.env.TAXII_POST_WARMUP ?? 0);
const envelopes = makeEnvelopes(WARMUP + ENVELOPES);

const existing = process.env.TAXII_POST_DATA_DIR;
const dir = existing ?? mkdtempSync(join(tmpdir(), 'taxii-post-'));
const store = await openStore({ dataDir: dir }, { migrations: ROOM_MIGRATIONS });
if (process.env.SQLITE_MMAP_SIZE)
  await sql.raw(`PRAGMA mmap_size = ${Number(process.env.SQLITE_MMAP_SIZE)}`).execute(store.db);
if (process.env.SQLITE_WAL_AUTOCHECKPOINT)
  await sql
    .raw(`PRAGMA wal_autocheckpoint = ${Number(process.env.SQLITE_WAL_AUTOCHECKPOINT)}`)
    .execute(store.db);
const { hub } = wireLocalHub(store, { perSecond: 1e6, burst: 1e6 });
try {
  await hub.start();
  // A name of its own per run: a kept store may already hold earlier runs' organisations.
  const org = `profile-analysis-${process.pid}-${Date.now()}`;
  await hub.orgs.add({ name: org, role: 'analysis' }, 'bench');
  const { token } = await hub.orgs.createToken(org, {}, 'bench');
  const url = `${hub.url()}/full/collections/${COLLECTION_IDS.full}/objects/`;
  const post = async (body: string) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { accept: TAXII, 'content-type': TAXII, authorization: `Bearer ${token}` },
      body,
    });
    const status = (await res.json()) as { success_count?: number };
    if (res.status !== 202 || status.success_count !== 1000)
      throw new Error(`POST ${res.status}: ${JSON.stringify(status).slice(0, 300)}`);
  };
  for (const body of envelopes.slice(0, WARMUP)) await post(body);
  const session = new Session();
  session.connect();
  if (PROFILE_DIR) {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const latencies: number[] = [];
  // CPU time (this process: client and hub) tells code changes apart on a loaded machine better
  // than wall time, which other work stretches.
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  for (const body of envelopes.slice(WARMUP)) {
    const start = performance.now();
    await post(body);
    latencies.push(performance.now() - start);
  }
  const seconds = (performance.now() - began) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  if (PROFILE_DIR) {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(PROFILE_DIR, { recursive: true });
    writeFileSync(join(PROFILE_DIR, 'post.cpuprofile'), JSON.stringify(profile));
  }
  session.disconnect();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!;
  console.log(
    `${ENVELOPES} POSTs of 1000: ${((ENVELOPES * 1000) / seconds).toFixed(0)} objects/s, p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, CPU ${((cpu.user + cpu.system) / 1000 / ENVELOPES).toFixed(1)} ms a POST (user ${(cpu.user / 1000 / ENVELOPES).toFixed(1)})`,
  );
} finally {
  await hub.stop();
  await store.close();
  if (!existing) rmSync(dir, { recursive: true, force: true });
}
