/**
 * The room's own verdicts as kit-path evidence (`web.kitPaths.ownVerdicts`): URLs the scorer
 * itself judged suspicious or malicious on two domains make a suspicious URL on a third domain
 * under the same kit path malicious, marked `kit_path_judged` (not a confirmed source's word), and
 * so a URL scored near suspicious (the model's judgedLift floor); a plainly benign-looking URL is
 * never lifted by them; a tie never teaches; a path seen on many benign-looking sites is a
 * vendor's; a new process reads the window's verdicts back from the store, the benign ones that
 * count against a path too (SQLite here; PostgreSQL when TSUNAGI_TEST_DATABASE_URL is set); off,
 * nothing is learnt.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { SqliteDialect, type Dialect, type Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { explainReason, type WebTables } from '../index.ts';
import { UNJUDGED_PER_JUDGED } from './kit-paths.ts';
import { inPostgresSchema, POSTGRES_SKIP, roomAt, withWebDb, onBothEngines } from '../testing.ts';

/** Brand-impersonating names the scorer finds malicious and suspicious on their own, under one kit's path. */
const JUDGED = [
  { url: 'https://www.amazon.co.jp.zqvmk.cn/zqvmkits/', seenAt: '2025-09-01T02:00:00.000Z' },
  { url: 'https://smbc-card-verify.top/zqvmkits/', seenAt: '2025-09-02T02:00:00.000Z' },
];
/** A suspicious name under the same path. */
const CANDIDATE = 'https://amazon-co-jp-login.xyz/zqvmkits/';
/** A name scored benign but near suspicious (above the model's judgedLift floor), under the same path. */
const NEAR = 'https://mlbnxq.shop/zqvmkits/';
/** A name that says nothing, under the same path: the room's own guesses never lift it. */
const PLAIN = 'https://example-bakery.co.uk/zqvmkits/';
const DAY3 = new Date('2025-09-03T00:00:00.000Z');

async function ownVerdictsEndToEnd(dialect: Dialect, schema?: string) {
  await withWebDb(
    dialect,
    async (db) => {
      const registry = new Registry();
      const web = roomAt(db, DAY3, {}, registry);
      assert.equal(web.score(CANDIDATE).verdict, 'suspicious', 'the candidate alone is suspicious');
      const near = web.score(NEAR);
      assert.equal(near.verdict, 'benign');
      assert.ok(near.score >= web.urlThresholds.judgedLift!, 'near suspicious: at the floor');

      // A source that confirms nothing: only the scorer's own verdicts teach.
      const ingested = await web.ingest(JUDGED, 'proxy-log');
      assert.deepEqual([ingested.verdicts.malicious, ingested.verdicts.suspicious], [1, 1]);
      const tied = web.score(CANDIDATE);
      assert.equal(tied.verdict, 'malicious');
      assert.equal(tied.reasons[0]?.feature, 'kit_path_judged(/zqvmkits/)');
      assert.equal(tied.reasons[0]?.value, 2);
      assert.match(
        explainReason(tied.reasons[0]!.feature, 'en'),
        /this system scored near suspicious or worse/,
      );
      assert.equal(
        web.score(PLAIN).verdict,
        'benign',
        "a benign-looking URL is not lifted by the room's guesses",
      );
      assert.match(await registry.metrics(), /tsunagi_web_kit_path_ties_total\{basis="judged"\} 1\b/);
      assert.equal(web.score(NEAR).verdict, 'malicious', 'a URL at the judgedLift floor is lifted too');

      // A tied URL teaches by its own score: the suspicious one of another domain names the path too.
      const other = roomAt(db, DAY3, { kitPaths: { ownVerdicts: true, sources: [] } });
      const more = await other.ingest(
        [
          { url: 'https://mercari-account.icu/zqvmkits/', seenAt: DAY3.toISOString() },
          { url: CANDIDATE, seenAt: DAY3.toISOString() },
        ],
        'proxy-log',
      );
      assert.equal(more.kitPathTies, 2, 'both suspicious URLs were lifted by the kit path');
      const fresh = roomAt(db, DAY3);
      await fresh.start();
      assert.equal(fresh.kitPaths, 1, 'the judged URLs, read back as one path');
      const again = fresh.score(CANDIDATE);
      assert.equal(again.reasons[0]?.feature, 'kit_path_judged(/zqvmkits/)');
      assert.equal(
        again.reasons[0]?.value,
        3,
        'the tied mercari-account.icu, suspicious on its own, read back too',
      );
      assert.equal(fresh.score(PLAIN).verdict, 'benign');

      // But a tie's raise never teaches: a plainly benign-looking URL a confirmed kit tied names nothing.
      const confirmedRoom = roomAt(db, DAY3, { kitPaths: { sources: ['jpcert'] } });
      await confirmedRoom.ingest(
        [
          { url: 'https://qwhrtd.example.com/qqtiekits/', seenAt: '2025-09-01T02:00:00.000Z' },
          { url: 'https://mbnzcv.example.net/qqtiekits/', seenAt: '2025-09-01T03:00:00.000Z' },
        ],
        'jpcert',
      );
      const tiedPlain = await confirmedRoom.ingest(
        [{ url: 'https://example-bakery.co.uk/qqtiekits/', seenAt: '2025-09-02T02:00:00.000Z' }],
        'proxy-log',
      );
      assert.equal(tiedPlain.kitPathTies, 1, 'the confirmed kit lifts the plain URL');
      const live = roomAt(db, DAY3, { kitPaths: { sources: [] } });
      await live.start();
      assert.equal(
        live.kitPaths,
        1,
        'only /zqvmkits/: the plain tied URL and the low-scored listings teach no path',
      );
      const nearOnTiedPath = live.score('https://mlbnxq.shop/qqtiekits/');
      assert.ok(nearOnTiedPath.score >= live.urlThresholds.judgedLift!, 'at the floor');
      assert.equal(nearOnTiedPath.verdict, 'benign');

      // Off: neither the running room nor a new process learns from verdicts.
      const off = roomAt(db, DAY3, { kitPaths: { ownVerdicts: false, sources: [] } });
      await off.start();
      assert.equal(off.kitPaths, 0);
      await off.ingest(JUDGED, 'proxy-log');
      assert.notEqual(off.score(CANDIDATE).verdict, 'malicious');
    },
    schema,
  );
}

onBothEngines(
  "the room's own malicious verdicts tie a third domain under their kit path, marked judged",
  'kitjudged',
  ownVerdictsEndToEnd,
);

test('a confirmed tie stays confirmed when verdicts also know the path', async () => {
  await withWebDb(new SqliteDialect({ database: new SqliteDatabase(':memory:') }), async (db) => {
    const web = roomAt(db, DAY3);
    await web.ingest(JUDGED, 'proxy-log');
    await web.ingest(
      [
        { url: 'https://qwhrtd.example.com/zqvmkits/', seenAt: '2025-09-01T02:00:00.000Z' },
        { url: 'https://mbnzcv.example.net/zqvmkits/', seenAt: '2025-09-02T02:00:00.000Z' },
      ],
      'jpcert',
    );
    assert.equal(
      web.score(PLAIN).reasons[0]?.feature,
      'kit_path(/zqvmkits/)',
      'a confirmed kit lifts any URL',
    );
    const tied = web.score(CANDIDATE);
    assert.equal(tied.reasons[0]?.feature, 'kit_path(/zqvmkits/)', 'two confirmed domains suffice');
    assert.equal(tied.reasons[0]?.value, 2, "the confirmed memories' count");
  });
});

test("a path the room then sees on many benign-looking sites is a vendor's, and its own verdicts stop lifting on it", async () => {
  await withWebDb(new SqliteDialect({ database: new SqliteDatabase(':memory:') }), async (db) => {
    const web = roomAt(db, DAY3);
    await web.ingest(JUDGED, 'proxy-log');
    assert.equal(web.score(NEAR).verdict, 'malicious', 'two judged domains, none seen benign');
    const plainSites = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => ({
        url: `https://bakery-number${from + i}.co.uk/zqvmkits/`,
        seenAt: '2025-09-02T03:00:00.000Z',
      }));
    // Fewer than UNJUDGED_PER_JUDGED benign-looking sites per judged domain: still a kit.
    const below = await web.ingest(plainSites(0, 2 * UNJUDGED_PER_JUDGED - 1), 'proxy-log');
    assert.equal(below.verdicts.benign, 2 * UNJUDGED_PER_JUDGED - 1);
    assert.equal(web.score(NEAR).verdict, 'malicious');
    // One more: a vendor's path, not a kit by the room's own word.
    await web.ingest(plainSites(2 * UNJUDGED_PER_JUDGED - 1, 2 * UNJUDGED_PER_JUDGED), 'proxy-log');
    assert.equal(web.score(NEAR).verdict, 'benign');
    assert.equal(web.score(CANDIDATE).verdict, 'suspicious');
    // A confirmed source's word stands whatever the room saw.
    await web.ingest(
      [
        { url: 'https://qwhrtd.example.com/zqvmkits/', seenAt: '2025-09-02T05:00:00.000Z' },
        { url: 'https://mbnzcv.example.net/zqvmkits/', seenAt: '2025-09-02T06:00:00.000Z' },
      ],
      'jpcert',
    );
    assert.equal(web.score(NEAR).reasons[0]?.feature, 'kit_path(/zqvmkits/)');
  });
});

test('URLs the scorer finds near suspicious teach too, so two of them under a rare path lift a third, now and after a restart', async () => {
  // Each scored benign but at the judgedLift floor: neither suspicious on its own.
  const near = ['https://mlbnxq.shop/xqpwkits/', 'https://plzqvw.shop/xqpwkits/'];
  const third = 'https://trbnkq.shop/xqpwkits/';
  await withWebDb(new SqliteDialect({ database: new SqliteDatabase(':memory:') }), async (db) => {
    const web = roomAt(db, DAY3);
    for (const url of [...near, third]) {
      const scored = web.score(url);
      assert.equal(scored.verdict, 'benign', url);
      assert.ok(scored.score >= web.urlThresholds.judgedLift!, `${url} at the floor`);
    }
    const ingested = await web.ingest(
      near.map((url, i) => ({ url, seenAt: `2025-09-0${i + 1}T02:00:00.000Z` })),
      'proxy-log',
    );
    assert.equal(ingested.verdicts.benign, 2, 'both stay benign themselves');
    const tied = web.score(third);
    assert.equal(tied.verdict, 'malicious');
    assert.equal(tied.reasons[0]?.feature, 'kit_path_judged(/xqpwkits/)');
    assert.equal(
      web.score(PLAIN.replace('zqvmkits', 'xqpwkits')).verdict,
      'benign',
      'a plain site is not lifted',
    );

    const fresh = roomAt(db, DAY3);
    await fresh.start();
    assert.equal(fresh.kitPaths, 1, 'read back from their stored scores');
    assert.equal(fresh.score(third).reasons[0]?.feature, 'kit_path_judged(/xqpwkits/)');
  });
});

/** Benign-looking sites under the judged path, `count` of them from `from`, all seen at `seenAt`. */
const plainSitesAt = (from: number, count: number, seenAt: string) =>
  Array.from({ length: count }, (_, i) => ({
    url: `https://bakery-number${from + i}.co.uk/zqvmkits/`,
    seenAt,
  }));

/** NEAR as a new room over the same store scores it once it has read the store back. */
async function afterRestart(db: Kysely<WebTables>) {
  const fresh = roomAt(db, DAY3);
  await fresh.start();
  return fresh.score(NEAR);
}

/**
 * The vendor-path guard over a restart, each on a store of its own: a new room reads the
 * benign-looking URLs back and refuses the judged tie the room that stopped refused; with one
 * fewer, or with half of them seen before the path was named, it ties as the live room did.
 */
const GUARD_AFTER_RESTART: Record<string, (db: Kysely<WebTables>) => Promise<void>> = {
  async refused(db) {
    const web = roomAt(db, DAY3);
    await web.ingest(JUDGED, 'proxy-log');
    await web.ingest(plainSitesAt(0, 2 * UNJUDGED_PER_JUDGED, '2025-09-02T03:00:00.000Z'), 'proxy-log');
    assert.equal(web.score(NEAR).verdict, 'benign', 'the live room refuses the tie');
    const again = await afterRestart(db);
    assert.equal(again.verdict, 'benign', 'a restarted room refuses it too');
    assert.equal(again.score, web.score(NEAR).score);
    assert.equal((await afterRestart(db)).verdict, 'benign', 'and so does the next one');
  },
  async oneFewer(db) {
    const web = roomAt(db, DAY3);
    await web.ingest(JUDGED, 'proxy-log');
    await web.ingest(plainSitesAt(0, 2 * UNJUDGED_PER_JUDGED - 1, '2025-09-02T03:00:00.000Z'), 'proxy-log');
    assert.equal(web.score(NEAR).verdict, 'malicious');
    const again = await afterRestart(db);
    assert.equal(again.reasons[0]?.feature, 'kit_path_judged(/zqvmkits/)', 'fewer than the guard asks');
  },
  async seenBeforeNamed(db) {
    const web = roomAt(db, DAY3);
    await web.ingest(plainSitesAt(0, UNJUDGED_PER_JUDGED, '2025-08-31T03:00:00.000Z'), 'proxy-log');
    await web.ingest(JUDGED, 'proxy-log');
    const after = plainSitesAt(UNJUDGED_PER_JUDGED, UNJUDGED_PER_JUDGED, '2025-09-02T03:00:00.000Z');
    await web.ingest(after, 'proxy-log');
    assert.equal(web.score(NEAR).verdict, 'malicious', 'seen before the path was named: not counted live');
    const again = await afterRestart(db);
    assert.equal(again.reasons[0]?.feature, 'kit_path_judged(/zqvmkits/)', 'nor read back');
  },
};

test("a restarted room reads the vendor-path guard's benign-looking URLs back and refuses the tie the stopped one refused (SQLite)", async () => {
  for (const scenario of Object.values(GUARD_AFTER_RESTART))
    await withWebDb(new SqliteDialect({ database: new SqliteDatabase(':memory:') }), scenario);
});

test('the same on PostgreSQL (its rows read through a cursor)', { skip: POSTGRES_SKIP }, async () => {
  for (const scenario of Object.values(GUARD_AFTER_RESTART))
    await inPostgresSchema('kitguard', (dialect, schema) => withWebDb(dialect, scenario, schema));
});
