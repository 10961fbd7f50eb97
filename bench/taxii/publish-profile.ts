/**
 * Profiles publishing alone (not a benchmark row): intel records N C&C indicators (the TAXII
 * bench's mix of tiers), then the publisher turns them into STIX; indicators/s printed, and with a
 * directory argument the publish window's CPU profile written there.
 *
 * Run: node --import tsx bench/taxii/publish-profile.ts [INDICATORS=3000] [PROFILE_DIR]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { silentLogger } from '../../src/core/index.ts';
import { HubConfig, wireHub } from '../../src/share/index.ts';
import { openStore } from '../../src/store/index.ts';
import { ROOM_MIGRATIONS } from '../../src/cli/testing.ts';
import { sighting } from './data.ts';

const INDICATORS = Number(process.argv[2] ?? 3000);
const PROFILE_DIR = process.argv[3];

const dir = mkdtempSync(join(tmpdir(), 'taxii-publish-'));
const store = await openStore({ dataDir: dir }, { migrations: ROOM_MIGRATIONS });
const logger = silentLogger();
const registry = new Registry();
const { intel, hub } = wireHub(
  { hub: HubConfig.parse({ listen: '127.0.0.1:0', publishIntervalMs: 0 }) },
  { store, logger, registry },
);
try {
  await hub.start();
  for (let b = 0; b < INDICATORS; b += 5000)
    await intel.recordSightings(
      Array.from({ length: Math.min(5000, INDICATORS - b) }, (_, i) => sighting(b + i)),
    );
  const session = new Session();
  session.connect();
  if (PROFILE_DIR) {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const began = performance.now();
  await hub.publisher.sync();
  const seconds = (performance.now() - began) / 1000;
  if (PROFILE_DIR) {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(PROFILE_DIR, { recursive: true });
    writeFileSync(join(PROFILE_DIR, 'publish.cpuprofile'), JSON.stringify(profile));
  }
  session.disconnect();
  const rows = await store.db
    .selectFrom('stix_objects')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  console.log(
    `published ${INDICATORS} indicators in ${seconds.toFixed(2)} s: ${(INDICATORS / seconds).toFixed(0)} indicators/s, ${rows.n} STIX rows`,
  );
} finally {
  await hub.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
