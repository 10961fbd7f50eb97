/**
 * Two hubs on one PostgreSQL schema (issue #23): concurrent writes split across both replicas
 * while both publishers and a change-feed subscriber on each hub (the console's live stream
 * works this way) run. Every committed indicator must reach the full collection and each
 * subscriber exactly once per version: its own hub's writes as they commit, the other hub's
 * through the feed's catch-up. Versions are stamped in commit order (intel's commit clock under
 * the writers' advisory lock), so the catch-up never passes a change committed later.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { createIntel, IntelConfig, type Intel } from '../intel/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { HUB_MIGRATIONS } from './testing.ts';
import { createAuditLog } from './audit.ts';
import { COLLECTION_IDS } from './collections.ts';
import { createPublisher } from './publisher.ts';
import { hubIdentity } from './stix.ts';

const url = process.env.TSUNAGI_TEST_DATABASE_URL;
const OBJECTS = 400;

function replica(store: Store) {
  const registry = new Registry();
  const audit = createAuditLog({ store });
  const intel = createIntel(IntelConfig.parse({}), { store, logger: silentLogger(), registry, audit });
  const publisher = createPublisher(
    { intervalMs: 0, pageSize: 50 },
    { store, intel, hub: hubIdentity(), logger: silentLogger(), registry },
  );
  return { intel, publisher };
}

/** Subscribes to a hub's change feed, counting each indicator version it hears of. */
function follower(intel: Intel) {
  const seen = new Set<string>();
  const versions = new Map<string, number>();
  intel.changes.subscribe(
    (change) => {
      if (change.kind === 'sighting.added') return;
      const key = `${change.indicator.id}@${change.indicator.modifiedAt}`;
      seen.add(change.indicator.id);
      versions.set(key, (versions.get(key) ?? 0) + 1);
    },
    { kinds: ['indicator.added', 'indicator.updated', 'indicator.withdrawn'] },
  );
  return {
    seen,
    versions,
    /** What the feed's timer does: announce the other hub's writes. */
    poll: () => intel.changes.catchUp(),
  };
}

test(
  'two hubs on one PostgreSQL: every write split across them reaches the full collection and every follower',
  { skip: !url && 'TSUNAGI_TEST_DATABASE_URL unset: PostgreSQL replica test skipped' },
  async () => {
    const schema = `tsunagi_test_replicas_${process.pid}_${randomBytes(4).toString('hex')}`;
    const storeA = await openStore(
      { databaseUrl: url!, schema, poolSize: 4 },
      { migrations: HUB_MIGRATIONS },
    );
    const storeB = await openStore(
      { databaseUrl: url!, schema, poolSize: 4 },
      { migrations: HUB_MIGRATIONS },
    );
    try {
      const a = replica(storeA);
      const b = replica(storeB);
      await a.publisher.sync();
      await b.publisher.sync();
      const followers = [follower(a.intel), follower(b.intel)];
      for (const f of followers) await f.poll(); // the first catch-up takes the head
      let writing = true;
      const background = [a.publisher, b.publisher].map(async (p) => {
        while (writing) {
          await p.sync();
          await sleep(2);
        }
      });
      const watching = followers.map(async (f) => {
        while (writing) {
          await f.poll();
          await sleep(1);
        }
      });
      // Eight concurrent writers per hub, each object written on one of the two.
      const writers = Array.from({ length: 16 }, async (_, w) => {
        const intel = w % 2 === 0 ? a.intel : b.intel;
        for (let i = w; i < OBJECTS; i += 16) {
          await intel.recordSighting({
            type: 'c2',
            value: `198.51.${100 + (i >> 8)}.${i & 255}`,
            port: 443,
            proto: 'tcp',
            source: `isp-${w % 3}`,
            confidence: 70,
            tier: 'council',
            tlp: 'amber+strict',
          });
        }
      });
      await Promise.all(writers);
      writing = false;
      await Promise.all([...background, ...watching]);
      await a.publisher.sync();
      await b.publisher.sync();
      for (const f of followers) await f.poll();

      const indicators = await storeA.db.selectFrom('indicators').select('id').execute();
      assert.equal(indicators.length, OBJECTS);
      for (const [n, f] of followers.entries()) {
        const hub = n === 0 ? 'A' : 'B';
        assert.equal(f.seen.size, OBJECTS, `subscriber on hub ${hub} heard of every indicator`);
        const repeated = [...f.versions].filter(([, count]) => count > 1);
        assert.deepEqual(repeated, [], `subscriber on hub ${hub}: each version once`);
      }
      const published = await storeA.db
        .selectFrom('stix_objects')
        .select((eb) => eb.fn.count<string>(sql`distinct object_id`).as('n'))
        .where('collection_id', '=', COLLECTION_IDS.full)
        .where('object_type', '=', 'indicator')
        .executeTakeFirstOrThrow();
      assert.equal(Number(published.n), OBJECTS, 'every indicator in the full collection');
    } finally {
      await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(storeA.db);
      await storeB.close();
      await storeA.close();
    }
  },
);
