/**
 * Intel's change feed scaled out over NATS subjects (issue #17): two hubs with stores of their
 * own hear each other's writes through `<prefix>.indicator.*` / `<prefix>.sighting.added`, a
 * process without a store follows the bot list from the subjects alone, two feeds on one store
 * announce a version once however it reaches them (NATS and the catch-up), and a malformed
 * message is counted and dropped; `detect --bots-from-hub`'s follower gets the hub's bots. Real NATS (TSUNAGI_TEST_NATS_URL); skipped without it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'nats';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import {
  createIntel,
  encodeChange,
  followBots,
  followRelayedChanges,
  IntelConfig,
  type IndicatorChange,
  type Intel,
  type IntelChange,
  type SightingInput,
} from '../intel/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { createNatsRelay, type NatsRelay } from '../transport/index.ts';
import { followHubBots } from './hub-bots.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';

const natsUrl = process.env.TSUNAGI_TEST_NATS_URL;
const skip = natsUrl ? false : 'TSUNAGI_TEST_NATS_URL unset: no NATS server to carry the feed';

/** Subjects of their own per test, so parallel runs on one server never hear each other. */
const uniquePrefix = () => `tsunagi.test${randomBytes(6).toString('hex')}.intel`;

const c2 = (value: string, source = 'isp-a'): SightingInput => ({
  type: 'c2',
  value,
  port: 443,
  proto: 'tcp',
  source,
  confidence: 70,
  tier: 'council',
  tlp: 'amber',
});
const bot = (value: string): SightingInput => ({
  type: 'bot',
  value,
  source: 'darknet',
  confidence: 80,
  tier: 'full',
  tlp: 'amber+strict',
});

interface Node {
  intel: Intel;
  relay: NatsRelay;
  registry: Registry;
  heard: IntelChange[];
  stop(): Promise<void>;
}

const opened: (() => Promise<void>)[] = [];
async function cleanUp() {
  for (const close of opened.splice(0).reverse()) await close();
}

async function sqliteStore(dir?: string): Promise<{ store: Store; dir: string }> {
  const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'intel-feed-nats-'));
  const store = await openStore({ dataDir }, { migrations: ROOM_MIGRATIONS });
  opened.push(async () => {
    await store.close();
    if (!dir) rmSync(dataDir, { recursive: true, force: true });
  });
  return { store, dir: dataDir };
}

/** An intel on `store` whose feed goes out and comes in on NATS under `prefix`. */
async function node(store: Store, prefix: string, catchUpMs = 0): Promise<Node> {
  const registry = new Registry();
  const relay = createNatsRelay({ url: natsUrl!, name: 'test-intel-feed' }, { logger: silentLogger() });
  const intel = createIntel(IntelConfig.parse({ feed: { catchUpMs, subjectPrefix: prefix } }), {
    store,
    logger: silentLogger(),
    registry,
    relay,
  });
  await relay.start();
  await intel.start();
  const heard: IntelChange[] = [];
  intel.changes.subscribe((change) => heard.push(change));
  const stop = async () => {
    await intel.stop();
    await relay.stop();
  };
  opened.push(stop);
  return { intel, relay, registry, heard, stop };
}

async function until(what: string, done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function relayCount(registry: Registry, outcome: string): Promise<number> {
  const metric = registry.getSingleMetric('tsunagi_intel_feed_relay_messages_total');
  const values = (await metric!.get()).values;
  return values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

function indicatorChange(change: IntelChange): IndicatorChange {
  assert.notEqual(change.kind, 'sighting.added');
  return change as IndicatorChange;
}

const describe = (c: IntelChange) =>
  c.kind === 'sighting.added'
    ? `${c.kind} ${c.source}${c.local ? '' : ' (other process)'}`
    : `${c.kind} ${c.indicator.value}${c.local ? '' : ' (other process)'}`;

test(
  'two hubs with stores of their own: a write on one is announced on the other through NATS, withdrawn too, as committed',
  { skip },
  async () => {
    try {
      const prefix = uniquePrefix();
      const storeA = (await sqliteStore()).store;
      const a = await node(storeA, prefix);
      const b = await node((await sqliteStore()).store, prefix);
      await a.intel.recordSightings([c2('198.51.100.7')]);
      await until('the addition on b', () => b.heard.length >= 2);
      const committed = await a.intel.get({ kind: 'c2', value: '198.51.100.7', port: 443, proto: 'tcp' });
      const added = indicatorChange(b.heard[0]!);
      assert.equal(added.kind, 'indicator.added');
      assert.equal(added.local, false);
      assert.deepEqual(added.indicator, committed, 'the indicator as committed');
      assert.deepEqual(added.cursor, { modifiedAt: committed!.modifiedAt, id: committed!.id });

      await a.intel.withdraw(committed!.id, 'false positive', 'analyst');
      await until('the withdrawal on b', () => b.heard.length >= 3);
      assert.deepEqual(b.heard.map(describe), [
        'indicator.added 198.51.100.7 (other process)',
        'sighting.added isp-a (other process)',
        'indicator.withdrawn 198.51.100.7 (other process)',
      ]);
      assert.equal(indicatorChange(b.heard[2]!).indicator.withdrawnReason, 'false positive');
      // a's own changes are its own, never heard back from NATS (each goes out once, by its writer).
      assert.deepEqual(a.heard.map(describe), [
        'indicator.added 198.51.100.7',
        'sighting.added isp-a',
        'indicator.withdrawn 198.51.100.7',
      ]);
      // A write inside a caller's transaction (a TAXII POST) goes out once it is found committed.
      await a.intel.changes.catchUp(); // takes the head
      await storeA.transaction((trx) =>
        a.intel.recordSightings([c2('198.51.100.8', 'isp-c')], 'taxii', { trx }),
      );
      assert.equal(await a.intel.changes.catchUp(), 1);
      await until('the write inside a transaction on b', () => b.heard.length >= 5);
      assert.deepEqual(b.heard.slice(3).map(describe), [
        'indicator.added 198.51.100.8 (other process)',
        'sighting.added isp-c (other process)',
      ]);
      assert.deepEqual(a.heard.slice(3).map(describe), [
        'indicator.added 198.51.100.8',
        'sighting.added isp-c',
      ]);
      assert.equal(await relayCount(a.registry, 'sent'), 5);
      assert.equal(await relayCount(b.registry, 'received'), 5);
      // b's store was never written: the change travelled on the subject alone.
      assert.equal((await b.intel.list()).items.length, 0);
    } finally {
      await cleanUp();
    }
  },
);

test(
  'a process without the store follows the bot list from NATS alone; a malformed message is counted and ignored',
  { skip },
  async () => {
    try {
      const prefix = uniquePrefix();
      const hub = await node((await sqliteStore()).store, prefix);
      const relay = createNatsRelay({ url: natsUrl!, name: 'test-worker' }, { logger: silentLogger() });
      const registry = new Registry();
      const follower = followRelayedChanges(relay, { prefix, logger: silentLogger(), registry });
      await relay.start();
      await follower.start();
      opened.push(async () => {
        await follower.stop();
        await relay.stop();
      });
      const lists: (readonly string[])[] = [];
      const bots = followBots(follower, { minConfidence: 50, coalesceMs: 10 }, (list) =>
        lists.push([...list].sort()),
      );
      await bots.start();
      opened.push(async () => bots.stop());
      assert.deepEqual(lists, [[]], 'no history on a subject: the list starts empty');

      // Malformed: not JSON, JSON of no change's shape, and an added body on the withdrawn subject.
      const raw = await connect({ servers: natsUrl! });
      raw.publish(`${prefix}.indicator.added`, new TextEncoder().encode('{not json'));
      raw.publish(
        `${prefix}.indicator.added`,
        new TextEncoder().encode(JSON.stringify({ kind: 'indicator.added' })),
      );
      await hub.intel.recordSightings([bot('192.0.2.44'), bot('192.0.2.45')]);
      await until('both bots on the worker', () => lists.at(-1)?.length === 2);
      assert.deepEqual(lists.at(-1), ['192.0.2.44', '192.0.2.45']);
      const added = await hub.intel.get({ kind: 'bot', value: '192.0.2.44' });
      raw.publish(
        `${prefix}.indicator.withdrawn`,
        new TextEncoder().encode(JSON.stringify({ kind: 'indicator.added', indicator: added })),
      );
      // An indicator body with a field the schema does not name (nothing rides along unnamed).
      raw.publish(
        `${prefix}.indicator.updated`,
        new TextEncoder().encode(
          JSON.stringify({
            kind: 'indicator.updated',
            indicator: { ...added, subscribers: ['203.0.113.9'] },
          }),
        ),
      );
      await raw.drain();
      await until('four malformed messages counted', () => follower.counts.malformed === 4);
      assert.deepEqual(lists.at(-1), ['192.0.2.44', '192.0.2.45'], 'malformed messages changed nothing');

      await hub.intel.withdraw(added!.id, 'cleaned up', 'analyst');
      await until('the withdrawn bot leaves', () => lists.at(-1)?.length === 1);
      assert.deepEqual(lists.at(-1), ['192.0.2.45']);
      assert.equal(await relayCount(registry, 'malformed'), 4);
      assert.equal(follower.counts.received, 2 * 2 + 1, 'two added with their sightings, one withdrawn');
      await assert.rejects(
        follower.changes.subscribe(() => {}, { after: null }).ready,
        /no history/,
        'a replay is refused, not answered with nothing',
      );
    } finally {
      await cleanUp();
    }
  },
);

test(
  'two feeds on one store: a version reaching one by NATS and by its catch-up is announced once',
  { skip },
  async () => {
    try {
      const prefix = uniquePrefix();
      const { store, dir } = await sqliteStore();
      const a = await node(store, prefix);
      // b opens the same SQLite file (another process on the same store) and catches up by itself too.
      const b = await node((await sqliteStore(dir)).store, prefix);
      await b.intel.changes.catchUp(); // takes the head
      await a.intel.recordSightings([c2('198.51.100.20'), c2('198.51.100.21')]);
      await a.intel.recordSighting(c2('198.51.100.20', 'isp-b'));
      await until('every change on b', () => b.heard.length >= 6);
      assert.equal(await b.intel.changes.catchUp(), 0, 'the catch-up finds nothing NATS did not bring');
      // The other way round: a version the catch-up announced first is not announced again by NATS.
      const c = createIntel(IntelConfig.parse({ feed: { catchUpMs: 0 } }), {
        store: (await sqliteStore(dir)).store,
        logger: silentLogger(),
        registry: new Registry(),
      });
      const written: IntelChange[] = [];
      c.changes.subscribe((change) => written.push(change));
      await c.recordSighting(c2('198.51.100.22')); // c has no relay: only the catch-up finds it
      assert.equal(await b.intel.changes.catchUp(), 1);
      const raw = await connect({ servers: natsUrl! });
      for (const change of written) {
        const { subject, body } = encodeChange(prefix, change);
        raw.publish(subject, body);
      }
      await raw.drain();
      // Its sighting is news to b (the catch-up announces versions only); the version is not.
      await until('the late sighting', () => b.heard.length >= 8);
      assert.equal(await relayCount(b.registry, 'duplicate'), 1, 'the indicator version: already announced');
      const versions = b.heard.filter((change) => change.kind !== 'sighting.added').map(indicatorChange);
      const keys = versions.map((change) => `${change.indicator.id}|${change.indicator.modifiedAt}`);
      assert.equal(new Set(keys).size, keys.length, 'no version announced twice');
      assert.deepEqual(versions.map(describe), [
        'indicator.added 198.51.100.20 (other process)',
        'indicator.added 198.51.100.21 (other process)',
        'indicator.updated 198.51.100.20 (other process)',
        'indicator.added 198.51.100.22 (other process)',
      ]);
      assert.equal(await b.intel.changes.catchUp(), 0);
    } finally {
      await cleanUp();
    }
  },
);

test(
  "detect --bots-from-hub's follower: the hub's bots reach a worker without the store",
  { skip },
  async () => {
    try {
      const prefix = uniquePrefix();
      const hub = await node((await sqliteStore()).store, prefix);
      const lists: (readonly string[])[] = [];
      const worker = followHubBots(
        {
          url: natsUrl!,
          name: 'test-worker',
          prefix,
          minConfidence: 50,
          logger: silentLogger(),
          registry: new Registry(),
        },
        (list) => lists.push(list),
      );
      await worker.start();
      opened.push(() => worker.stop());
      const unique = `198.18.${randomBytes(1)[0]}.${1 + (randomBytes(1)[0]! % 250)}`;
      await hub.intel.recordSighting(bot(unique));
      await until('the bot on the worker', () => lists.at(-1)?.includes(unique) === true);
      await hub.intel.withdraw({ kind: 'bot', value: unique }, 'cleaned up', 'analyst');
      await until('the bot gone', () => lists.at(-1)?.includes(unique) === false);
    } finally {
      await cleanUp();
    }
  },
);
