/**
 * Two hubs on one PostgreSQL schema (issue #23): concurrent writes split across both replicas
 * while both publishers and two change followers (the console's live feed works this way) run.
 * Every committed indicator must reach the full collection and every follower: versions are
 * stamped in commit order (intel's commit clock under the writers' advisory lock).
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

/** Follows intel's change feed with its own watermark, as the console's live feed does. */
function follower(intel: Intel) {
  const seen = new Set<string>();
  let watermark: { modifiedAt: string; id: string } | undefined;
  return {
    seen,
    async poll() {
      for (;;) {
        const page = await intel.changedSince(watermark, 100);
        if (page.length === 0) return;
        for (const i of page) seen.add(i.id);
        const last = page[page.length - 1]!;
        watermark = { modifiedAt: last.modifiedAt, id: last.id };
      }
    },
  };
}

test(
  'two hubs on one PostgreSQL: every write split across them reaches the full collection and every follower',
  { skip: !url && 'TSUNAGI_TEST_DATABASE_URL unset: PostgreSQL replica test skipped' },
  async () => {
    const schema = `tsunagi_test_replicas_${process.pid}_${randomBytes(4).toString('hex')}`;
    const storeA = await openStore({ databaseUrl: url!, schema, poolSize: 4 });
    const storeB = await openStore({ databaseUrl: url!, schema, poolSize: 4 });
    try {
      const a = replica(storeA);
      const b = replica(storeB);
      await a.publisher.sync();
      await b.publisher.sync();
      const followers = [follower(a.intel), follower(b.intel)];
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
      for (const [n, f] of followers.entries())
        assert.equal(f.seen.size, OBJECTS, `follower on hub ${n === 0 ? 'A' : 'B'} saw every indicator`);
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
