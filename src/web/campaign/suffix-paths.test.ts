/**
 * Suffix-path ties (suffix-paths.ts): the key (a risky suffix and a path, never the top page, an
 * address or a suffix not riskier than even), the rule (SUFFIX_PATH_MIN_DOMAINS other registered
 * domains, while they outnumber the benign ones), and the room: its own suspicious verdicts on
 * three `.co` sites' `/jp/` make a fourth malicious, explained in both languages, counted, and
 * read back by a new process (SQLite here; PostgreSQL when TSUNAGI_TEST_DATABASE_URL is set).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { SqliteDialect, type Dialect } from 'kysely';
import { Registry } from 'prom-client';
import { explainReason } from '../index.ts';
import { normaliseUrl } from '../normalise.ts';
import { readKitPathTies } from '../read.ts';
import { roomAt, withWebDb, onBothEngines } from '../testing.ts';
import type { ScoredUrl } from '../types.ts';
import { suffixPathOfTie, UNJUDGED_PER_JUDGED, withSuffixPathTie } from './kit-paths.ts';
import {
  createSuffixPathMemory,
  SUFFIX_PATH_MIN_DOMAINS,
  suffixPathKey,
  suffixPathTieOf,
  suffixRiskOf,
} from './suffix-paths.ts';

const RISK = suffixRiskOf({
  tld: { tokyo: 2.4, com: -0.7 },
  platform: { 'duckdns.org': 2.2 },
  unseenTld: 0,
  unseenPlatform: 0,
});
const day = (n: number) => new Date(Date.UTC(2025, 8, n));
const url = (text: string) => normaliseUrl(text);

test('a suffix path is a risky suffix and a path: never the top page, an address or a suffix not riskier than even', () => {
  assert.equal(suffixPathKey(url('https://qwzx.duckdns.org/select'), RISK), 'duckdns.org /select');
  assert.equal(suffixPathKey(url('https://bwowbyg.tokyo/JP/'), RISK), 'tokyo /jp/', 'the path template');
  assert.equal(suffixPathKey(url('https://bwowbyg.tokyo/'), RISK), null);
  assert.equal(
    suffixPathKey(url('https://example-shop.com/jp/'), RISK),
    null,
    '.com is not riskier than even',
  );
  assert.equal(
    suffixPathKey(url('https://example.unseen-tld-x/jp/'), RISK),
    null,
    'nor is a suffix never seen',
  );
  assert.equal(suffixPathKey(url('https://203.0.113.7/jp/'), RISK), null);
});

test(`a suffix path ties after ${SUFFIX_PATH_MIN_DOMAINS} other registered domains, while they outnumber the benign ones`, () => {
  const judged = createSuffixPathMemory({ windowDays: 30, maxPaths: 100 }, RISK);
  const benign = createSuffixPathMemory({ windowDays: 30, maxPaths: 100 }, RISK);
  const candidate = url('https://newname.duckdns.org/select');
  const tie = (at: Date) => suffixPathTieOf(judged, benign, candidate, at);
  judged.learn(url('https://aaaa.duckdns.org/select'), day(1));
  judged.learn(url('https://www.aaaa.duckdns.org/select'), day(1));
  judged.learn(url('https://bbbb.duckdns.org/select'), day(2));
  judged.learn(url('https://newname.duckdns.org/select'), day(2));
  assert.equal(tie(day(3)), null, 'two other domains (and its own) are not enough');
  judged.learn(url('https://cccc.duckdns.org/select'), day(3));
  assert.deepEqual(tie(day(4)), { key: 'duckdns.org /select', domains: 3 });
  assert.equal(tie(day(2)), null, 'a verdict from the future says nothing yet');
  assert.equal(tie(new Date(day(1).getTime() + 31 * 86_400_000)), null, 'past the window');
  for (let i = 0; i < UNJUDGED_PER_JUDGED * 3; i++)
    benign.learn(url(`https://home${i}.duckdns.org/select`), day(3));
  assert.equal(tie(day(4)), null, 'a path the room mostly saw on benign sites is no campaign’s');
});

/** Three throw-away `.co` names the scorer finds suspicious on their own, each with `/jp/`. */
const JUDGED = ['https://qwhrtd-shop.co/jp/', 'https://bakery-london.co/jp/', 'https://garden-tools.co/jp/'];
const CANDIDATE = 'https://orchard-farm.co/jp/';
const DAY3 = new Date('2025-09-03T00:00:00.000Z');

async function suffixPathsEndToEnd(dialect: Dialect, schema?: string) {
  await withWebDb(
    dialect,
    async (db) => {
      const registry = new Registry();
      const web = roomAt(db, DAY3, {}, registry);
      const plain = web.score(CANDIDATE);
      assert.equal(plain.verdict, 'suspicious', 'the candidate alone is near suspicious, not malicious');

      const seen = (list: string[], hour: number) =>
        list.map((u, i) => ({ url: u, seenAt: new Date(Date.UTC(2025, 8, 2, hour, i)).toISOString() }));
      await web.ingest(seen(JUDGED.slice(0, 2), 1), 'proxy-log');
      assert.equal(web.score(CANDIDATE).verdict, 'suspicious', 'two other domains are not enough');
      await web.ingest(seen(JUDGED.slice(2), 2), 'proxy-log');
      const tied = web.score(CANDIDATE);
      assert.equal(tied.verdict, 'malicious');
      assert.equal(tied.reasons[0]?.feature, 'suffix_path_judged(co /jp/)');
      assert.equal(tied.reasons[0]?.value, 3);
      assert.match(explainReason(tied.reasons[0]!.feature, 'en'), /risky suffix and path "co \/jp\/"/);
      assert.match(explainReason(tied.reasons[0]!.feature, 'ja'), /サフィックスとパスの組「co \/jp\/」/);
      assert.notEqual(
        web.score('https://mbnzcv-shop.com/jp/').verdict,
        'malicious',
        '.com is no risky suffix',
      );
      assert.match(await registry.metrics(), /tsunagi_web_suffix_path_ties_total 1\b/);

      const ingested = await web.ingest([{ url: CANDIDATE, seenAt: DAY3.toISOString() }], 'proxy-log');
      assert.deepEqual([ingested.suffixPathTies, ingested.domainTies, ingested.kitPathTies], [1, 0, 0]);
      const stored = [];
      for await (const row of readKitPathTies(db)) stored.push([row.url, row.byDomain, row.suffixPath]);
      assert.deepEqual(
        stored,
        [[CANDIDATE, false, 'co /jp/']],
        'read as a suffix-path tie, its key from the reason',
      );

      // A new process reads the verdicts back, the tied URL's too: it teaches by its own score,
      // suspicious (a tie's raise never teaches: scoreBeforeTie), so four domains now.
      const fresh = roomAt(db, DAY3);
      await fresh.start();
      const again = fresh.score('https://hillside-books.co/jp/');
      assert.equal(again.reasons[0]?.feature, 'suffix_path_judged(co /jp/)', 'read back from the store');
      assert.equal(again.reasons[0]?.value, 4);

      const off = roomAt(db, DAY3, { kitPaths: { ownVerdicts: false } });
      await off.start();
      assert.equal(off.score('https://hillside-books.co/jp/').verdict, 'suspicious');
    },
    schema,
  );
}

onBothEngines(
  "the room's own suspicious verdicts on three domains' risky suffix and path lift a fourth",
  'suffixpaths',
  suffixPathsEndToEnd,
);

test('honest sites that merely score near suspicious name no suffix path: .org language pages do not lift each other', async () => {
  await withWebDb(new SqliteDialect({ database: new SqliteDatabase(':memory:') }), async (db) => {
    const web = roomAt(db, DAY3);
    const near = ['https://hillside.org/jp/', 'https://riverside.org/jp/', 'https://oakwood.org/jp/'];
    for (const u of near) {
      const scored = web.score(u);
      assert.equal(scored.verdict, 'benign');
      assert.ok(scored.score >= web.urlThresholds.judgedLift!, `${u} is at the floor`);
    }
    const fourth = 'https://maple-club.org/jp/';
    const alone = web.score(fourth);
    assert.ok(alone.score >= web.urlThresholds.judgedLift!, 'near suspicious itself');
    await web.ingest(
      near.map((u) => ({ url: u, seenAt: '2025-09-02T01:00:00.000Z' })),
      'proxy-log',
    );
    assert.deepEqual(web.score(fourth), alone, 'not lifted');
  });
});

test('the suffix path a tie stood on is read back from its reason, escaped characters and all', () => {
  const scored = {
    url: 'https://x.tokyo/a?b=1',
    score: 0.9,
    verdict: 'suspicious' as const,
    reasons: [{ feature: 'url_bias', value: 1, contribution: 1 }],
  };
  const tied = withSuffixPathTie(scored as ScoredUrl, { key: 'tokyo /a?b=*', domains: 3 }, 0.99);
  assert.equal(tied.reasons[0]?.feature, 'suffix_path_judged(tokyo /a?b%3D*)');
  assert.equal(suffixPathOfTie(tied), 'tokyo /a?b=*');
  assert.equal(suffixPathOfTie(scored as ScoredUrl), null);
});
