/** Intel's change feed: exactly once per subscriber in process, catch-up from a cursor, foreign writes. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { testEngines } from '../store/testing.ts';
import { IntelConfig } from './config.ts';
import { intelMigrations, createIntel, type IntelChange, type SightingInput } from './index.ts';

const c2 = (value: string, source = 'isp-a'): SightingInput => ({
  type: 'c2',
  value,
  port: 443,
  proto: 'tcp',
  source,
  confidence: 60,
  tier: 'council',
  tlp: 'amber',
});

for (const engine of testEngines([intelMigrations])) {
  const open = async () => {
    const store = await engine.open();
    const make = () =>
      createIntel(IntelConfig.parse({ feed: { catchUpMs: 0 } }), {
        store,
        logger: silentLogger(),
        registry: new Registry(),
      });
    return { store, make };
  };

  describe(`intel change feed on ${engine.name}`, { skip: engine.skip }, () => {
    test('every change reaches each subscriber exactly once, typed, in commit order', async () => {
      const { store, make } = await open();
      try {
        const intel = make();
        await intel.changes.catchUp(); // the catch-up runs too: it must not repeat local changes
        const a: IntelChange[] = [];
        const b: IntelChange[] = [];
        const subA = intel.changes.subscribe((c) => a.push(c));
        intel.changes.subscribe((c) => b.push(c), { kinds: ['indicator.added', 'indicator.withdrawn'] });
        await intel.recordSightings([c2('198.51.100.1'), c2('198.51.100.2')]);
        await intel.recordSighting(c2('198.51.100.1', 'isp-b'));
        await intel.withdraw(
          { kind: 'c2', value: '198.51.100.2', port: 443, proto: 'tcp' },
          'false positive',
          'analyst',
        );
        assert.equal(await intel.changes.catchUp(), 0, 'nothing this process wrote comes again');
        const summary = (list: IntelChange[]) =>
          list.map((c) =>
            c.kind === 'sighting.added'
              ? `${c.kind} ${c.source}${c.newSource ? ' new' : ''}`
              : `${c.kind} ${c.indicator.value}`,
          );
        assert.deepEqual(summary(a), [
          'indicator.added 198.51.100.1',
          'sighting.added isp-a new',
          'indicator.added 198.51.100.2',
          'sighting.added isp-a new',
          'indicator.updated 198.51.100.1',
          'sighting.added isp-b new',
          'indicator.withdrawn 198.51.100.2',
        ]);
        assert.deepEqual(summary(b), [
          'indicator.added 198.51.100.1',
          'indicator.added 198.51.100.2',
          'indicator.withdrawn 198.51.100.2',
        ]);
        const updated = a[4]!;
        assert.ok(updated.kind === 'indicator.updated');
        assert.equal(updated.indicator.confidence, 84, 'the committed state: two sources combined');
        assert.deepEqual(updated.indicator, await intel.get(updated.indicator.id));
        subA.unsubscribe();
        await intel.recordSighting(c2('198.51.100.3'));
        assert.equal(a.length, 7, 'no change after unsubscribing');
        assert.equal(b.length, 4);
      } finally {
        await store.close();
      }
    });

    test('a subscriber added late catches up from a cursor, then follows, without repeats', async () => {
      const { store, make } = await open();
      try {
        const intel = make();
        const first: IntelChange[] = [];
        intel.changes.subscribe((c) => first.push(c));
        for (let i = 1; i <= 5; i++) await intel.recordSighting(c2(`198.51.100.${i}`));
        const third = first.filter((c) => c.kind === 'indicator.added')[2]!;
        assert.ok(third.kind !== 'sighting.added');
        const late: string[] = [];
        const subscription = intel.changes.subscribe(
          (c) => {
            if (c.kind !== 'sighting.added') late.push(`${c.kind} ${c.indicator.value}`);
          },
          { after: third.cursor },
        );
        // A write while the replay runs: delivered once, after the replay.
        const during = intel.recordSighting(c2('198.51.100.6'));
        await subscription.ready;
        await during;
        await intel.recordSighting(c2('198.51.100.4', 'isp-b'));
        assert.deepEqual(late, [
          'indicator.added 198.51.100.4',
          'indicator.added 198.51.100.5',
          'indicator.added 198.51.100.6',
          'indicator.updated 198.51.100.4',
        ]);
        const everything: string[] = [];
        await intel.changes.subscribe(
          (c) => {
            if (c.kind !== 'sighting.added') everything.push(c.indicator.value);
          },
          { after: null },
        ).ready;
        assert.deepEqual(
          everything,
          ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.5', '198.51.100.6', '198.51.100.4'],
          'from the start: each indicator at its latest version, in commit order',
        );
      } finally {
        await store.close();
      }
    });

    test('another writer on the same store is announced once by the catch-up', async () => {
      const { store, make } = await open();
      try {
        const here = make();
        const elsewhere = make(); // another process on the same store, as far as `here` knows
        await here.changes.catchUp();
        const seen: string[] = [];
        here.changes.subscribe((c) => {
          if (c.kind !== 'sighting.added')
            seen.push(`${c.kind} ${c.indicator.value}${c.local ? '' : ' (caught up)'}`);
        });
        await elsewhere.recordSighting(c2('203.0.113.1', 'isp-x'));
        await here.recordSighting(c2('203.0.113.2'));
        await elsewhere.withdraw(
          { kind: 'c2', value: '203.0.113.1', port: 443, proto: 'tcp' },
          'cleaned',
          'analyst',
        );
        assert.equal(await here.changes.catchUp(), 1, 'only the other writer’s latest version');
        assert.equal(await here.changes.catchUp(), 0);
        assert.deepEqual(seen, [
          'indicator.added 203.0.113.2',
          'indicator.withdrawn 203.0.113.1 (caught up)',
        ]);
      } finally {
        await store.close();
      }
    });

    test('a failing subscriber does not keep a change from the others', async () => {
      const { store, make } = await open();
      try {
        const intel = make();
        let got = 0;
        intel.changes.subscribe(() => {
          throw new Error('subscriber bug');
        });
        intel.changes.subscribe(() => got++);
        await intel.recordSighting(c2('198.51.100.9'));
        assert.equal(got, 2, 'indicator and sighting');
      } finally {
        await store.close();
      }
    });
  });
}

test(
  'two processes on one PostgreSQL: a write on one is announced on the other as it commits (LISTEN/NOTIFY, no timer)',
  { skip: !process.env.TSUNAGI_TEST_DATABASE_URL && 'TSUNAGI_TEST_DATABASE_URL unset' },
  async () => {
    const { openStore } = await import('../store/index.ts');
    const { sql } = await import('kysely');
    const { randomBytes } = await import('node:crypto');
    const schema = `tsunagi_test_feed_${process.pid}_${randomBytes(4).toString('hex')}`;
    const url = process.env.TSUNAGI_TEST_DATABASE_URL!;
    const storeA = await openStore(
      { databaseUrl: url, schema, poolSize: 2 },
      { migrations: [intelMigrations] },
    );
    const storeB = await openStore(
      { databaseUrl: url, schema, poolSize: 2 },
      { migrations: [intelMigrations] },
    );
    // No catch-up timer: only the notification can bring B's write to A.
    const config = IntelConfig.parse({ feed: { catchUpMs: 0 } });
    const a = createIntel(config, { store: storeA, logger: silentLogger(), registry: new Registry() });
    const b = createIntel(config, { store: storeB, logger: silentLogger(), registry: new Registry() });
    await a.start();
    await b.start();
    try {
      const heard: string[] = [];
      a.changes.subscribe((c) => {
        if (c.kind !== 'sighting.added')
          heard.push(`${c.kind} ${c.indicator.value} ${c.local ? 'here' : 'there'}`);
      });
      await b.recordSighting(c2('203.0.113.7', 'isp-b'));
      await a.recordSighting(c2('203.0.113.8'));
      for (let i = 0; i < 100 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100)); // a's own notification must not repeat its write
      assert.deepEqual(heard.sort(), [
        'indicator.added 203.0.113.7 there',
        'indicator.added 203.0.113.8 here',
      ]);
    } finally {
      await a.stop();
      await b.stop();
      await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(storeA.db);
      await storeB.close();
      await storeA.close();
    }
  },
);

test("a catch-up that reads this process's own write before its announcement waits, and it is announced once, as local", async () => {
  const { createChangeFeed, cursorOf } = await import('./feed.ts');
  const store = await testEngines([intelMigrations])[0]!.open();
  try {
    // A real committed version, as the catch-up's query returns it.
    const intel = createIntel(IntelConfig.parse({ feed: { catchUpMs: 0 } }), {
      store,
      logger: silentLogger(),
      registry: new Registry(),
    });
    const { indicatorId } = await intel.recordSighting(c2('203.0.113.9'));
    const indicator = (await intel.get(indicatorId))!;
    let committed: (typeof indicator)[] = [];
    const feed = createChangeFeed(
      { changedSince: async () => committed.splice(0), newest: async () => undefined },
      silentLogger(),
    );
    const heard: string[] = [];
    feed.subscribe((c) => {
      if (c.kind !== 'sighting.added') heard.push(`${c.kind} ${c.local ? 'here' : 'there'}`);
    });
    await feed.catchUp(); // takes the head
    const done = feed.writing();
    committed = [indicator]; // the write has committed; its announcement is a few promise hops away
    const catchingUp = feed.catchUp();
    await new Promise((resolve) => setImmediate(resolve)); // the catch-up has read its page
    feed.publish([{ kind: 'indicator.added', indicator, cursor: cursorOf(indicator), local: true }]);
    done();
    assert.equal(await catchingUp, 0, 'the catch-up found nothing this process had not announced');
    assert.deepEqual(heard, ['indicator.added here']);
  } finally {
    await store.close();
  }
});
