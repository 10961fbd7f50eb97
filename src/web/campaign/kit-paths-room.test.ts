/**
 * Kit paths through the room's front door: a confirmed source's listings (`web ingest --source
 * jpcert`) make a URL on a third domain under the same kit path malicious, with the reason that
 * says so; a new process reads the window's listings back from the store (SQLite here; PostgreSQL
 * when TSUNAGI_TEST_DATABASE_URL is set); other sources teach nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { SqliteDialect, type Dialect } from 'kysely';
import { Registry } from 'prom-client';
import { roomAt, withWebDb, onBothEngines } from '../testing.ts';
import { logistic } from '../index.ts';

const LISTED = [
  { url: 'https://qwhrtd.example.com/xqvjkuos/', seenAt: '2025-09-01T02:00:00.000Z' },
  { url: 'https://mbnzcv.example.net/xqvjkuos/', seenAt: '2025-09-02T02:00:00.000Z' },
];
const CANDIDATE = 'https://example-bakery.co.uk/xqvjkuos/';
const DAY3 = new Date('2025-09-03T00:00:00.000Z');

async function kitPathsEndToEnd(dialect: Dialect, schema?: string) {
  await withWebDb(
    dialect,
    async (db) => {
      const registry = new Registry();
      const web = roomAt(db, DAY3, {}, registry);
      const plain = web.score(CANDIDATE);
      assert.notEqual(plain.verdict, 'malicious', 'the candidate alone is not malicious');

      await web.ingest(LISTED, 'jpcert');
      const [report] = (await web.report({ url: CANDIDATE }, 'isp-a')).reports;
      assert.ok(report?.ok);
      const scored = report.scored;
      assert.equal(scored.verdict, 'malicious');
      assert.equal(scored.reasons[0]?.feature, 'kit_path(/xqvjkuos/)');
      assert.equal(scored.reasons[0]?.value, 2);
      assert.equal(scored.hostVerdict, plain.hostVerdict, 'a kit path says nothing of the whole host');
      const logOdds = web.model.bias + scored.reasons.reduce((sum, r) => sum + r.contribution, 0);
      assert.ok(Math.abs(logistic(logOdds) - scored.score) < 0.01, 'the reasons still add up to the score');
      assert.match(await registry.metrics(), /tsunagi_web_kit_path_ties_total\{basis="confirmed"\} 1\b/);
      const proxied = await web.ingest(
        [{ url: 'https://another-shop.example.org/xqvjkuos/', seenAt: DAY3.toISOString() }],
        'proxy-log',
      );
      assert.deepEqual([proxied.verdicts.malicious, proxied.kitPathTies], [1, 1], 'the ingest says how many');

      // A new process: the store's listings of the window are read back at start.
      const later = roomAt(db, DAY3);
      await later.start();
      assert.equal(later.kitPaths, 1);
      assert.equal(later.score(CANDIDATE).verdict, 'malicious');
      // Forty days on, the listings are read (the window before the newest listing) but have
      // left the window of a URL judged now; a URL of their own time is still tied (a replay).
      const muchLater = roomAt(db, new Date('2025-10-12T00:00:00.000Z'));
      await muchLater.start();
      assert.equal(muchLater.kitPaths, 1);
      assert.notEqual(muchLater.score(CANDIDATE).verdict, 'malicious');
      assert.equal(muchLater.score(CANDIDATE, null, DAY3).verdict, 'malicious');
      // A listing more than the window before the newest one is not read back at all.
      await web.ingest(
        [{ url: 'https://oldkit.example.org/zzqoldkit/', seenAt: '2025-07-01T00:00:00.000Z' }],
        'jpcert',
      );
      const fresh = roomAt(db, DAY3);
      await fresh.start();
      assert.equal(fresh.kitPaths, 1, 'only /xqvjkuos/');
    },
    schema,
  );
}

onBothEngines(
  'a kit path two confirmed domains used makes a third domain malicious, and a new process remembers',
  'kit',
  kitPathsEndToEnd,
);

test('listings of a source that is not a confirmed one teach nothing; no sources turns it off', async () => {
  await withWebDb(new SqliteDialect({ database: new SqliteDatabase(':memory:') }), async (db) => {
    const web = roomAt(db, DAY3);
    await web.ingest(LISTED, 'report:someone');
    assert.equal(web.kitPaths, 0);
    assert.notEqual(web.score(CANDIDATE).verdict, 'malicious');
    const off = roomAt(db, DAY3, { kitPaths: { sources: [] } });
    await off.ingest(LISTED, 'jpcert');
    assert.equal(off.kitPaths, 0);
  });
});

test('without a store, learnKitPath teaches the memory (web score --known)', () => {
  const web = roomAt(undefined, DAY3);
  for (const listed of LISTED) web.learnKitPath(listed.url, new Date(listed.seenAt));
  assert.equal(web.score(CANDIDATE).verdict, 'malicious');
  assert.equal(
    web.score(CANDIDATE, null, new Date('2025-08-01T00:00:00.000Z')).verdict === 'malicious',
    false,
  );
});

test("a kit that copies a brand's own path never makes the brand's own site malicious", () => {
  const web = roomAt(undefined, DAY3);
  web.learnKitPath('https://qwhrtd.example.com/vpass/zqkitlogin', new Date('2025-09-01T00:00:00Z'));
  web.learnKitPath('https://mbnzcv.example.net/vpass/zqkitlogin', new Date('2025-09-02T00:00:00Z'));
  assert.equal(web.score('https://third.example.org/vpass/zqkitlogin').verdict, 'malicious');
  const own = web.score('https://www.smbc-card.com/vpass/zqkitlogin');
  assert.equal(own.verdict, 'benign');
  assert.deepEqual(
    own.reasons.map((r) => r.feature),
    ['official_domain'],
  );
});
