/**
 * The hub under load (run by run.ts in its own process, so the load's own CPU is not the
 * server's): a SQLite store in the given directory, indicators published as STIX, an analysis
 * centre token. Prints one JSON line {url, token} when listening; stops on SIGTERM.
 */
import type { SightingInput } from '../../src/intel/index.ts';
import { wireLocalHub } from '../../src/share/testing.ts';
import { openStore } from '../../src/store/index.ts';
import { ROOM_MIGRATIONS } from '../../src/cli/testing.ts';

const dir = process.argv[2];
const indicators = Number(process.argv[3] ?? 2000);
if (!dir) {
  process.stderr.write('usage: server.ts DATA_DIR [INDICATORS]\n');
  process.exit(2);
}

const store = await openStore({ dataDir: dir }, { migrations: ROOM_MIGRATIONS });
// The readers share one organisation; the flood comes from the same address. Rate limits would
// hide what an unauthenticated body costs, so they are out of the way here.
const { intel, hub } = wireLocalHub(store, { perSecond: 1_000_000, burst: 1_000_000 });
await hub.start();
const sightings: SightingInput[] = [];
for (let i = 0; i < indicators; i++)
  sightings.push({
    type: 'c2',
    value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: 443,
    proto: 'tcp',
    family: 'mirai',
    source: 'bench',
    confidence: 70,
    tier: 'council',
    tlp: 'green',
  });
for (let i = 0; i < sightings.length; i += 1000) await intel.recordSightings(sightings.slice(i, i + 1000));
await hub.publisher.sync();
await hub.orgs.add({ name: 'NISC', role: 'analysis' }, 'bench');
const { token } = await hub.orgs.createToken('NISC', { scopes: ['read'] }, 'bench');
process.stdout.write(`${JSON.stringify({ url: hub.url(), token })}\n`);

process.on('SIGTERM', () => {
  void (async () => {
    await hub.stop();
    await store.close();
    process.exit(0);
  })();
});
