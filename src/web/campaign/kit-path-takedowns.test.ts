/**
 * The room's own confirmations teach the kit-path memory: a host whose takedown request an
 * analyst sent teaches its stored URLs' paths as of the time it was sent; a draft or a refused
 * request teaches nothing; a new process over the same store (SQLite here; PostgreSQL when
 * TSUNAGI_TEST_DATABASE_URL is set) reads them back, and a running one picks up requests another
 * process moved on at its next ingest.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { SqliteDialect, type Dialect, type Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { inPostgresSchema, POSTGRES_SKIP, roomAt, withWebDb } from '../testing.ts';
import { draftTakedown, takedownConfirmedAt, type TakedownTables, type WebTables } from '../index.ts';

/** Two throw-away hosts of one kit (`/xqvjkuos/`), stored from an unconfirmed feed. */
const KIT_HOSTS = ['qwhrtd.example.com', 'mbnzcv.example.net'];
const KIT_URLS = KIT_HOSTS.map((host) => `https://${host}/xqvjkuos/`);
const CANDIDATE = 'https://example-bakery.co.uk/xqvjkuos/';
const DAY3 = new Date('2025-09-03T00:00:00.000Z');
const SQLITE = () => new SqliteDialect({ database: new SqliteDatabase(':memory:') });

/** Stores the URLs (an unconfirmed source) and drafts a request for each of their hosts. */
async function storeAndDraft(db: Kysely<WebTables>, urls: readonly string[], at: Date) {
  const web = roomAt(db, at);
  await web.ingest(
    urls.map((url) => ({ url, seenAt: at.toISOString() })),
    'report:soc',
  );
  for (const url of urls) {
    const host = new URL(url).host;
    await draftTakedown(
      db as unknown as Kysely<TakedownTables>,
      { host, brand: null, abuse: { email: 'abuse@r.example', name: 'R', rdapObject: host }, letters: [] },
      at,
    );
  }
}

async function takedownsTeach(dialect: Dialect, schema?: string) {
  await withWebDb(
    dialect,
    async (db) => {
      await storeAndDraft(db, KIT_URLS, DAY3);
      const web = roomAt(db, DAY3);
      await web.start();
      assert.equal(web.kitPaths, 0, 'drafts teach nothing');
      assert.notEqual(web.score(CANDIDATE).verdict, 'malicious');

      await web.takedownStatus(KIT_HOSTS[0]!, 'sent');
      assert.notEqual(web.score(CANDIDATE).verdict, 'malicious', 'one sent host is one domain');
      await web.takedownStatus(KIT_HOSTS[1]!, 'sent');
      const tied = web.score(CANDIDATE);
      assert.equal(tied.verdict, 'malicious', 'two sent hosts tie a third domain at once');
      assert.equal(tied.reasons[0]?.feature, 'kit_path(/xqvjkuos/)');
      assert.equal(tied.reasons[0]?.value, 2);
      assert.notEqual(
        web.score(KIT_URLS[0]!).reasons[0]?.feature,
        'kit_path(/xqvjkuos/)',
        'a host is no evidence about itself',
      );
      // Before it was sent, the request confirmed nothing: a replay of the day before is not tied.
      assert.notEqual(web.score(CANDIDATE, null, new Date('2025-09-02T00:00:00.000Z')).verdict, 'malicious');
      // The host moves on; acknowledged and taken-down keep teaching, as of the time it was sent.
      await web.takedownStatus(KIT_HOSTS[0]!, 'acknowledged');
      await web.takedownStatus(KIT_HOSTS[1]!, 'taken-down');

      // A new process reads the confirmations back from the store.
      const registry = new Registry();
      const later = roomAt(db, new Date('2025-09-20T00:00:00.000Z'), {}, registry);
      await later.start();
      assert.match(await registry.metrics(), /tsunagi_web_kit_path_takedown_hosts 2\b/);
      const again = later.score(CANDIDATE);
      assert.equal(again.verdict, 'malicious');
      assert.equal(again.reasons[0]?.feature, 'kit_path(/xqvjkuos/)');
      // Past the window (30 days after they were sent) they tie nothing now.
      const muchLater = roomAt(db, new Date('2025-10-12T00:00:00.000Z'));
      await muchLater.start();
      assert.notEqual(muchLater.score(CANDIDATE).verdict, 'malicious');

      // A URL of a sent host stored after it was sent teaches as well, here and after a restart.
      await web.ingest(
        KIT_HOSTS.map((host) => ({ url: `https://${host}/wvbnzqkit/`, seenAt: DAY3.toISOString() })),
        'proxy-log',
      );
      assert.equal(web.score('https://third.example.org/wvbnzqkit/').verdict, 'malicious');
      const restarted = roomAt(db, DAY3);
      await restarted.start();
      assert.equal(restarted.score('https://third.example.org/wvbnzqkit/').verdict, 'malicious');
    },
    schema,
  );
}

test('two hosts whose takedown requests were sent tie a third on their kit path, and a new process remembers (SQLite)', async () => {
  await takedownsTeach(SQLITE());
});

test('the same on PostgreSQL', { skip: POSTGRES_SKIP }, async () => {
  await inPostgresSchema('kittd', (dialect, schema) => takedownsTeach(dialect, schema));
});

test('a refused request teaches nothing, and one refused after it was sent is forgotten', async () => {
  await withWebDb(SQLITE(), async (db) => {
    const third = 'https://zzqtd.example.org/';
    await storeAndDraft(db, [...KIT_URLS, third + 'xqvjkuos/'], DAY3);
    const web = roomAt(db, DAY3);
    for (const host of KIT_HOSTS) await web.takedownStatus(host, 'sent');
    assert.equal(web.score(CANDIDATE).verdict, 'malicious');
    // Refused after it was sent: one sent domain is left, no tie, here or in a new process.
    await web.takedownStatus(KIT_HOSTS[0]!, 'refused');
    assert.notEqual(web.score(CANDIDATE).verdict, 'malicious');
    const fresh = roomAt(db, DAY3);
    await fresh.start();
    assert.notEqual(fresh.score(CANDIDATE).verdict, 'malicious');
    assert.equal(
      takedownConfirmedAt({ status: 'refused', history: [{ status: 'sent', at: DAY3.toISOString() }] }),
      null,
    );
    // Another sent host makes two again.
    await web.takedownStatus('zzqtd.example.org', 'sent');
    assert.equal(web.score(CANDIDATE).verdict, 'malicious');
  });
});

test('withdrawn, then tied again: the room asks the relearnt takedowns at once, only the hosts still sent', async () => {
  await withWebDb(SQLITE(), async (db) => {
    const [first, second] = KIT_URLS as [string, string];
    // The first host also carries a kit path of its own, which only its request teaches.
    const ownPath = `https://${KIT_HOSTS[0]}/qzonlyfirst/`;
    const fourth = 'https://vbqzmd.example.org/xqvjkuos/';
    await storeAndDraft(db, [first, ownPath, second, fourth], DAY3);
    const web = roomAt(db, DAY3);
    for (const host of KIT_HOSTS) await web.takedownStatus(host, 'sent');
    assert.equal(web.kitPaths, 2);
    assert.equal(web.score(CANDIDATE).verdict, 'malicious');
    await web.takedownStatus(KIT_HOSTS[0]!, 'refused');
    assert.equal(web.kitPaths, 1, "the refused host's own path is forgotten, the second host's kept");
    assert.notEqual(web.score(CANDIDATE).verdict, 'malicious');
    // A URL stored now for the host still sent goes into the same memory the room asks.
    await web.ingest(
      [{ url: `https://${KIT_HOSTS[1]}/wvbnzqkit/`, seenAt: DAY3.toISOString() }],
      'proxy-log',
    );
    assert.equal(web.kitPaths, 2);
    await web.takedownStatus('vbqzmd.example.org', 'sent');
    const tied = web.score(CANDIDATE);
    assert.equal(tied.verdict, 'malicious', 'the second and the fourth host tie it again');
    assert.equal(tied.reasons[0]?.value, 2);
    // Withdrawn again, twice over: nothing is left of the two, and the room says so at once.
    await web.takedownStatus(KIT_HOSTS[1]!, 'refused');
    await web.takedownStatus('vbqzmd.example.org', 'refused');
    assert.equal(web.kitPaths, 0);
    assert.notEqual(web.score(CANDIDATE).verdict, 'malicious');
  });
});

test('a running room learns requests another process sent at its next ingest', async () => {
  await withWebDb(SQLITE(), async (db) => {
    await storeAndDraft(db, KIT_URLS, DAY3);
    const hub = roomAt(db, DAY3);
    await hub.start();
    const cli = roomAt(db, DAY3);
    for (const host of KIT_HOSTS) await cli.takedownStatus(host, 'sent');
    assert.notEqual(hub.score(CANDIDATE).verdict, 'malicious', 'not read yet');
    const result = await hub.ingest([{ url: CANDIDATE, seenAt: DAY3.toISOString() }], 'proxy-log');
    assert.deepEqual([result.verdicts.malicious, result.kitPathTies], [1, 1]);
    // And a refusal there is forgotten here at the next ingest.
    await cli.takedownStatus(KIT_HOSTS[1]!, 'refused');
    const after = await hub.ingest([{ url: CANDIDATE, seenAt: DAY3.toISOString() }], 'proxy-log');
    assert.equal(after.kitPathTies, 0);
  });
});

test("the memory's rules hold for sent hosts: plain-word paths and a brand's own domain are never tied", async () => {
  await withWebDb(SQLITE(), async (db) => {
    await storeAndDraft(
      db,
      KIT_HOSTS.flatMap((host) => [`https://${host}/secure/login/`, `https://${host}/vpass/zqkitlogin`]),
      DAY3,
    );
    const web = roomAt(db, DAY3);
    for (const host of KIT_HOSTS) await web.takedownStatus(host, 'sent');
    assert.notEqual(
      web.score('https://third.example.org/secure/login/').reasons[0]?.feature,
      'kit_path(/secure/login/)',
    );
    assert.equal(web.score('https://third.example.org/vpass/zqkitlogin').verdict, 'malicious');
    const own = web.score('https://www.smbc-card.com/vpass/zqkitlogin');
    assert.equal(own.verdict, 'benign');
    assert.deepEqual(
      own.reasons.map((r) => r.feature),
      ['official_domain'],
    );
  });
});

test('kitPaths.takedowns: false turns the takedowns off, in the running room and at start', async () => {
  await withWebDb(SQLITE(), async (db) => {
    await storeAndDraft(db, KIT_URLS, DAY3);
    const off = { kitPaths: { takedowns: false } };
    const web = roomAt(db, DAY3, off);
    for (const host of KIT_HOSTS) await web.takedownStatus(host, 'sent');
    assert.notEqual(web.score(CANDIDATE).verdict, 'malicious');
    const fresh = roomAt(db, DAY3, off);
    await fresh.start();
    assert.equal(fresh.kitPaths, 0);
    // The same store with the default (on) ties: the requests were sent.
    const on = roomAt(db, DAY3);
    await on.start();
    assert.equal(on.score(CANDIDATE).verdict, 'malicious');
  });
});
