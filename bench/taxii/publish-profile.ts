/**
 * Profiles recording and publishing (not a benchmark row): intel records N C&C indicators (the
 * TAXII bench's mix of tiers) in batches of 10,000, then the publisher turns them into STIX;
 * indicators/s printed for each phase and for both together, and with a directory argument the
 * two windows' CPU profiles (record.cpuprofile, publish.cpuprofile) written there.
 *
 * Run: node --import tsx bench/taxii/publish-profile.ts [INDICATORS=3000] [PROFILE_DIR]
 * Env TAXII_PROFILE_DATABASE_URL=postgres://... runs on PostgreSQL instead, in a schema of its own
 * dropped afterwards (CPU seconds are then this process's only: the server's work is not in them).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { silentLogger } from '../../src/core/index.ts';
import { HubConfig, wireHub } from '../../src/share/index.ts';
import { openStore } from '../../src/store/index.ts';
import { ROOM_MIGRATIONS } from '../../src/cli/testing.ts';
import { sighting } from './data.ts';

const INDICATORS = Number(process.argv[2] ?? 3000);
const PROFILE_DIR = process.argv[3];
/**
 * CPU seconds of each window (this process, SQLite included): on a shared machine they tell code
 * changes apart better than wall time, which other work stretches.
 */
const cpuSeconds: Record<string, number> = {};

const databaseUrl = process.env.TAXII_PROFILE_DATABASE_URL;
const schema = `taxii_profile_${process.pid}`;
const dir = databaseUrl ? undefined : mkdtempSync(join(tmpdir(), 'taxii-publish-'));
const store = await openStore(dir ? { dataDir: dir } : { databaseUrl: databaseUrl!, schema }, {
  migrations: ROOM_MIGRATIONS,
});
const logger = silentLogger();
const registry = new Registry();
const { intel, hub } = wireHub(
  { hub: HubConfig.parse({ listen: '127.0.0.1:0', publishIntervalMs: 0 }) },
  { store, logger, registry },
);
try {
  await hub.start();
  const session = new Session();
  session.connect();
  const recordSeconds = await profiled(session, 'record', async () => {
    for (let b = 0; b < INDICATORS; b += 10_000)
      await intel.recordSightings(
        Array.from({ length: Math.min(10_000, INDICATORS - b) }, (_, i) => sighting(b + i)),
      );
  });
  const seconds = await profiled(session, 'publish', () => hub.publisher.sync());
  session.disconnect();
  const rows = await store.db
    .selectFrom('stix_objects')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const rate = (s: number) => (INDICATORS / s).toFixed(0);
  console.log(
    `recorded ${INDICATORS} indicators in ${recordSeconds.toFixed(2)} s (${rate(recordSeconds)}/s), ` +
      `published in ${seconds.toFixed(2)} s (${rate(seconds)}/s): ${rate(recordSeconds + seconds)} indicators/s ` +
      `recorded+published, ${rows.n} STIX rows, CPU record ${cpuSeconds.record?.toFixed(2)} s publish ${cpuSeconds.publish?.toFixed(2)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  );
} finally {
  await hub.stop();
  if (!dir) await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(store.db);
  await store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** Seconds `work` took; its CPU profile written as NAME.cpuprofile when a directory was given. */
async function profiled(session: Session, name: string, work: () => Promise<unknown>): Promise<number> {
  if (PROFILE_DIR) {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  await work();
  const seconds = (performance.now() - began) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  cpuSeconds[name] = (cpu.user + cpu.system) / 1e6;
  if (PROFILE_DIR) {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(PROFILE_DIR, { recursive: true });
    writeFileSync(join(PROFILE_DIR, `${name}.cpuprofile`), JSON.stringify(profile));
  }
  return seconds;
}
