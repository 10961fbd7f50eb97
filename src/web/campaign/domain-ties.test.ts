/**
 * Registered-domain ties (domain-ties.ts): the room's own verdicts on two hosts of a registered
 * domain lift a near-suspicious URL on another host of it, marked `domain_judged`; never a plainly
 * benign-looking one, never the domain's own site, never the judged host's own `www` alias, never
 * past the window, and no longer once the room saw the domain's hosts mostly benign-looking (a
 * hosting company's own domain). A new process reads the verdicts and the guard's count back (SQLite here; PostgreSQL
 * when TSUNAGI_TEST_DATABASE_URL is set).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { SqliteDialect, type Dialect } from 'kysely';
import { Registry } from 'prom-client';
import { explainReason } from '../index.ts';
import { normaliseUrl } from '../normalise.ts';
import { readKitPathTies } from '../read.ts';
import { createDomainMemory, domainTieOf, siteOf } from './domain-ties.ts';
import { UNJUDGED_PER_JUDGED } from './kit-paths.ts';
import { roomAt, withWebDb, onBothEngines } from '../testing.ts';

const day = (n: number) => new Date(Date.UTC(2025, 8, n));

test("two other hosts judged tie a registered domain's host; its own site (apex, www) never", () => {
  const judged = createDomainMemory({ windowDays: 30, maxDomains: 10 });
  const seenBenign = createDomainMemory({ windowDays: 30, maxDomains: 10 });
  judged.learn(normaliseUrl('https://english.news.cn/'), day(2));
  const tie = (u: string) => domainTieOf(judged, seenBenign, normaliseUrl(u), day(3));
  assert.equal(tie('https://culture.news.cn/'), null, 'one other host judged is not enough');
  judged.learn(normaliseUrl('https://m.news.cn/'), day(2));
  assert.equal(tie('https://www.news.cn/'), null);
  assert.equal(tie('https://news.cn/'), null);
  assert.deepEqual(tie('https://culture.news.cn/'), { domain: 'news.cn', hosts: 2 });
});

test('the memory names the other hosts of a registered domain learnt within the window before the time asked', () => {
  const memory = createDomainMemory({ windowDays: 30, maxDomains: 10 });
  memory.learn(normaliseUrl('https://amazon-co-jp.hostingco.co.uk/'), day(2));
  memory.learn(normaliseUrl('https://www.hostingco.co.uk/'), day(3));
  memory.learn(normaliseUrl('https://203.0.113.7/'), day(3));
  const asked = (url: string, at: Date) => memory.listedOn(normaliseUrl(url), at)?.members ?? null;
  assert.deepEqual(asked('https://jp-account.hostingco.co.uk/', day(4)), [
    'amazon-co-jp.hostingco.co.uk',
    'hostingco.co.uk',
  ]);
  assert.deepEqual(
    asked('https://hostingco.co.uk/', day(4)),
    ['amazon-co-jp.hostingco.co.uk'],
    'www is the site itself',
  );
  assert.deepEqual(
    asked('https://jp-account.hostingco.co.uk/', day(2)),
    ['amazon-co-jp.hostingco.co.uk'],
    'not yet the later one',
  );
  assert.deepEqual(asked('https://jp-account.hostingco.co.uk/', day(1)), [], 'nothing from the future');
  assert.deepEqual(
    asked('https://jp-account.hostingco.co.uk/', new Date(day(3).getTime() + 31 * 86_400_000)),
    [],
  );
  assert.equal(asked('https://other.example.org/', day(4)), null);
  assert.equal(memory.size, 1, 'an address has no registered domain');
  assert.equal(siteOf('www.example.cn'), 'example.cn');
});

test('the oldest domains go first once the memory is full', () => {
  const memory = createDomainMemory({ windowDays: 30, maxDomains: 2 });
  for (const [i, name] of ['a-one.com', 'b-two.com', 'c-three.com'].entries())
    memory.learn(normaliseUrl(`https://x.${name}/`), day(1 + i));
  assert.equal(memory.size, 2);
  assert.equal(memory.listedOn(normaliseUrl('https://y.a-one.com/'), day(5)), null);
  assert.deepEqual(memory.listedOn(normaliseUrl('https://y.c-three.com/'), day(5))?.members, [
    'x.c-three.com',
  ]);
});

/** Two brand-impersonating hosts of one registered domain the scorer finds malicious on their own (DOMAIN_MIN_HOSTS). */
const JUDGED = [
  { url: 'https://amazon-co-jp.hostingco.co.uk/', seenAt: '2025-09-01T02:00:00.000Z' },
  { url: 'https://smbc-card-jp.hostingco.co.uk/', seenAt: '2025-09-01T02:10:00.000Z' },
];
/** Another host of the domain, scored benign but near suspicious (at the judgedLift floor). */
const NEAR = 'https://jp-support.hostingco.co.uk/';
/** A plainly benign-looking host of the same domain. */
const PLAIN = 'https://bakery1.hostingco.co.uk/';
const DAY3 = new Date('2025-09-03T00:00:00.000Z');

async function domainTiesEndToEnd(dialect: Dialect, schema?: string) {
  await withWebDb(
    dialect,
    async (db) => {
      const registry = new Registry();
      const web = roomAt(db, DAY3, {}, registry);
      const near = web.score(NEAR);
      assert.equal(near.verdict, 'benign');
      assert.ok(near.score >= web.urlThresholds.judgedLift!, 'near suspicious: at the floor');

      const once = roomAt(db, DAY3);
      await once.ingest(JUDGED.slice(0, 1), 'proxy-log');
      assert.equal(once.score(NEAR).verdict, 'benign', 'one other host judged is not enough');
      const ingested = await web.ingest(JUDGED, 'proxy-log');
      assert.equal(ingested.verdicts.malicious, 2);
      const tied = web.score(NEAR);
      assert.equal(tied.verdict, 'malicious');
      assert.equal(tied.reasons[0]?.feature, 'domain_judged(hostingco.co.uk)');
      assert.equal(tied.reasons[0]?.value, 2);
      assert.match(explainReason(tied.reasons[0]!.feature, 'en'), /registered domain "hostingco.co.uk"/);
      assert.match(explainReason(tied.reasons[0]!.feature, 'ja'), /登録ドメイン「hostingco.co.uk」/);
      assert.equal(web.score(PLAIN).verdict, 'benign', 'a plainly benign-looking host is not lifted');
      assert.match(await registry.metrics(), /tsunagi_web_domain_ties_total 1\b/);

      // Ingested, the tie is counted apart from kit paths and stored as a judged tie, which never teaches.
      const second = await web.ingest([{ url: NEAR, seenAt: DAY3.toISOString() }], 'proxy-log');
      assert.deepEqual([second.domainTies, second.kitPathTies], [1, 0]);
      const stored = [];
      for await (const row of readKitPathTies(db)) stored.push([row.url, row.byDomain]);
      assert.deepEqual(
        stored,
        [[NEAR, true]],
        'read as a tie, and as a domain tie (campaigns join it by its domain)',
      );
      const fresh = roomAt(db, DAY3);
      await fresh.start();
      const again = fresh.score('https://myinfo-jp.hostingco.co.uk/');
      assert.equal(again.reasons[0]?.feature, 'domain_judged(hostingco.co.uk)', 'read back from the store');
      assert.equal(again.reasons[0]?.value, 2, 'the tied host taught nothing');

      // Off: neither the running room nor a new process learns from verdicts.
      const off = roomAt(db, DAY3, { kitPaths: { ownVerdicts: false } });
      await off.start();
      assert.equal(off.score(NEAR).verdict, 'benign');
    },
    schema,
  );
}

onBothEngines(
  "the room's own verdicts on two hosts of a registered domain lift a near-suspicious other host, one does not",
  'domainties',
  domainTiesEndToEnd,
);

test('a domain the room then sees mostly on benign-looking hosts is no attacker’s, and the tie stops', async () => {
  await withWebDb(new SqliteDialect({ database: new SqliteDatabase(':memory:') }), async (db) => {
    const web = roomAt(db, DAY3);
    await web.ingest(JUDGED, 'proxy-log');
    const customers = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => ({
        url: `https://bakery${from + i}.hostingco.co.uk/`,
        seenAt: '2025-09-02T03:00:00.000Z',
      }));
    // Two judged hosts: the tie holds below twice UNJUDGED_PER_JUDGED benign-looking ones.
    const limit = UNJUDGED_PER_JUDGED * JUDGED.length;
    const below = await web.ingest(customers(0, limit - 1), 'proxy-log');
    assert.equal(below.verdicts.benign, limit - 1);
    assert.equal(web.score(NEAR).verdict, 'malicious', 'fewer than UNJUDGED_PER_JUDGED per judged host');
    const restarted = async () => {
      const fresh = roomAt(db, DAY3);
      await fresh.start();
      return fresh.score(NEAR).verdict;
    };
    assert.equal(await restarted(), 'malicious', 'a restarted room counts the same');
    await web.ingest(customers(limit - 1, limit), 'proxy-log');
    assert.equal(web.score(NEAR).verdict, 'benign', "a hosting company's domain, by the room's own count");
    assert.equal(await restarted(), 'benign', 'and reads the count back from the store');
  });
});

test('hosts of one domain that only score near suspicious do not lift another: a domain is named by a suspicious verdict or worse', async () => {
  await withWebDb(new SqliteDialect({ database: new SqliteDatabase(':memory:') }), async (db) => {
    const web = roomAt(db, DAY3);
    const others = ['https://jp-mypage.hostingco.co.uk/', 'https://myaccount-jp.hostingco.co.uk/'];
    const first = await web.ingest(
      others.map((url) => ({ url, seenAt: JUDGED[0]!.seenAt })),
      'proxy-log',
    );
    assert.equal(first.verdicts.benign, 2);
    for (const other of others)
      assert.ok(web.score(other).score >= web.urlThresholds.judgedLift!, 'itself near suspicious');
    assert.equal(web.score(NEAR).verdict, 'benign');
    const fresh = roomAt(db, DAY3);
    await fresh.start();
    assert.equal(fresh.score(NEAR).verdict, 'benign', 'nor once read back');
  });
});
