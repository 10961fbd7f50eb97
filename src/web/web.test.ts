/**
 * The room through its front door: verdicts that explain themselves, the brands' own domains
 * never flagged, and ingest into the room's tables (SQLite here; PostgreSQL when
 * TSUNAGI_TEST_DATABASE_URL is set) read back through `verdicts()` and `hosts()`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Dialect } from 'kysely';
import { Registry } from 'prom-client';
import { migratedWebDb, onBothEngines } from './testing.ts';
import { silentLogger } from '../core/index.ts';
import {
  blocksWholeHost,
  withWholeHost,
  createBrandIndex,
  createScorer,
  createWeb,
  FEATURES,
  FITTED_MODEL,
  GATED_FEATURES,
  HOST_CONTEXT_FEATURES,
  hostShape,
  LEXICON,
  siteSubdomain,
  subdomainTokens,
  logistic,
  URL_FEATURES,
  WebConfig,
  webMigrations,
  webTakedownMigrations,
  type FittedModel,
  type UrlModel,
  type WebTables,
} from './index.ts';

const web = createWeb(WebConfig.parse({}), { logger: silentLogger(), registry: new Registry() });

test('every verdict lists its reasons, and they add up to its score', () => {
  for (const url of [
    'https://smbc-card.com.verify-login.xyz/vpass/',
    'https://mercari-jp.duckdns.org/login',
    'http://47.238.159.31/',
    'https://www.wikipedia.org/',
    'https://xn--80ak6aa92e.com/',
  ]) {
    const row = web.score(url);
    const logOdds = web.model.bias + row.reasons.reduce((sum, r) => sum + r.contribution, 0);
    assert.ok(Math.abs(logistic(logOdds) - row.score) < 0.01, `${url}: reasons explain the score`);
    assert.ok(row.reasons.length > 0);
    for (const reason of row.reasons)
      assert.ok(
        [...FEATURES, ...URL_FEATURES, ...HOST_CONTEXT_FEATURES, ...GATED_FEATURES, 'url_bias'].some((f) =>
          reason.feature.startsWith(f),
        ),
        reason.feature,
      );
  }
});

test('the host-name verdict reads the name alone; the URL verdict reads the path too', () => {
  assert.ok(web.model.url, 'the shipped model has a URL part');
  const nameOnly = createScorer({ ...web.model, url: undefined }, createBrandIndex());
  const urls = [
    'https://example-bakery.jp/',
    'https://example-bakery.jp/menu/cakes.html',
    'https://example-bakery.jp/jabank/Phone/Verifyident',
    'https://example-bakery.jp/ITS-login/?origin=5',
  ];
  const rows = urls.map((url) => web.score(url));
  for (const row of rows) {
    const alone = nameOnly.score(web.normalise(row.url));
    assert.equal(row.hostScore, alone.score, row.url);
    assert.equal(row.hostVerdict, alone.verdict, row.url);
  }
  assert.equal(new Set(rows.map((r) => r.hostScore)).size, 1, 'the path never moves the host-name score');
  assert.equal(new Set(rows.map((r) => r.score)).size, urls.length, 'the path moves the URL score');
  assert.ok(rows[2]!.reasons.some((r) => r.feature.startsWith('path_')));
});

test('the host context: www is the site itself, subdomain tokens and the whole host shape count in the URL verdict', () => {
  const url = web.normalise('https://www.eki.co.jp-login.example.top/');
  assert.equal(siteSubdomain(url), 'eki.co.jp-login');
  assert.deepEqual(subdomainTokens(siteSubdomain(url)), ['eki', 'co', 'jp', 'login']);
  assert.equal(siteSubdomain(web.normalise('https://www.example.com/')), '');
  assert.equal(hostShape('eki.co.jp-login', 'tld++'), '3:a-:16,tld++');
  assert.equal(hostShape('', 'tld-'), '0,tld-');
  // A model whose context part weighs one subdomain token: it moves the URL verdict only.
  const context = {
    weights: Object.fromEntries(
      HOST_CONTEXT_FEATURES.map((f) => [f, f === 'sub_token_max' ? 1 : 0]),
    ) as Record<(typeof HOST_CONTEXT_FEATURES)[number], number>,
    tables: { subToken: { zzqlogin: 40 }, shape: {}, brand: {} },
  };
  const model: FittedModel = { ...FITTED_MODEL, url: { ...FITTED_MODEL.url!, context } };
  const scorer = createScorer(model, createBrandIndex());
  const flagged = scorer.score(web.normalise('https://zzqlogin.example-bakery.jp/'));
  assert.equal(flagged.verdict, 'malicious');
  assert.ok(flagged.reasons.some((r) => r.feature === 'sub_token_max(zzqlogin)' && r.contribution === 40));
  const plain = scorer.score(web.normalise('https://shop.example-bakery.jp/'));
  assert.equal(plain.hostScore, flagged.hostScore, 'the host-name verdict does not read the context');
  assert.ok(!plain.reasons.some((r) => r.feature.startsWith('sub_token_max')));
});

/** The shipped model with a URL part that flags one path token outright, whatever the host. */
function modelFlagging(token: string): FittedModel {
  const url: UrlModel = {
    hostWeight: 1,
    bias: 0,
    weights: Object.fromEntries(
      URL_FEATURES.map((f) => [f, f === 'path_token_max' ? 1 : 0]),
    ) as UrlModel['weights'],
    tables: { token: { [token]: 40 }, shape: {} },
    thresholds: { suspicious: 0.5, malicious: 0.9 },
  };
  return { ...FITTED_MODEL, url };
}

test('brands are found through confusable spellings', () => {
  assert.equal(web.score('https://arnaz0n-co-jp.example.top/').brand, 'amazon');
  assert.equal(web.score('https://smbc-card.com.verify.example.cn/').brand, 'smbc-card');
  assert.equal(web.score('https://mеrcari.example.com/').brand, 'mercari', 'Cyrillic е');
  assert.equal(web.score('https://ekinett-jp.example.com/').brand, 'eki-net');
  assert.equal(web.score('https://onlineshop.example.com/').brand, null, '"line" inside "online" is no LINE');
  // A keyword is a common word, not a misspelt brand: `account` is one edit from docomo's
  // `daccount`, and the MUFG name in the subdomain is the brand here.
  assert.equal(web.score('https://mufg-bk.account-verify.icu/').brand, 'mufg');
  assert.equal(web.score('https://account.example.cn/index.html').brand, null);
  assert.equal(web.score('https://dacount.example.cn/').brand, 'docomo', 'a misspelt brand is still found');
  // A brand token less its first letter is an ordinary word (`cloud` of `icloud`, `mobile` of
  // `ymobile`); dropping a later letter is still a look-alike.
  assert.equal(web.score('https://cloud.example.com/').brand, null);
  assert.equal(web.score('https://mobile.example-shop.cn/').brand, null);
  assert.equal(web.score('https://icloudd.example.cn/').brand, 'apple');
  assert.equal(web.score('https://amazo-jp.example.cn/').brand, 'amazon');
  // In punycode the missing first letter is the look-alike itself (а-mazon, Cyrillic а).
  assert.equal(web.score('https://аmazon-login.example.cn/').brand, 'amazon');
});

test('a short brand with digits appended is the brand; digits elsewhere leave a name unbranded', () => {
  // `smbc` and `aeon` are short tokens, found only as a whole part of the name; as a part's
  // leading letters before a digit they name the row's brand, but are no brand feature.
  const row = web.score('http://smbc102-card-update.xyz/confirm');
  assert.equal(row.brand, 'smbc-card');
  assert.deepEqual(
    row.reasons.filter((r) => r.feature.startsWith('brand')),
    [],
  );
  assert.equal(web.score('http://aeon102-card-update.xyz/confirm').brand, 'aeon-card');
  assert.equal(web.score('https://jcb01-card.top/login').brand, 'jcb');
  assert.equal(web.score('https://secure-au1.example.cn/').brand, 'au', 'in any part of the label');
  assert.equal(web.score('https://smbc2.card-help.workers.dev/').brand, 'smbc-card', 'in the subdomain');
  // A token holding a digit itself (TS CUBIC's `ts3`) is still a whole part only.
  assert.equal(web.score('https://ts3-card.example.cn/').brand, 'ts-cubic');
  assert.equal(web.score('https://ts31.example.cn/').brand, null);
  // Tokens after digits or among them are other names' letters: benign sites, random names.
  for (const url of ['https://360.cn/', 'https://www.w3line.fr/', 'https://www.6line.ca/']) {
    const row = web.score(url);
    assert.equal(row.brand, null, url);
    assert.equal(row.verdict, 'benign', url);
  }
  assert.equal(web.score('https://c0y7au.duckdns.org/').brand, null);
  assert.equal(web.score('https://224u.example.cn/').brand, null, '224u folds to 22au: not `au`');
  assert.equal(web.score('https://ajcbx.example.cn/').brand, null, 'inside letters, as before');
});

test("no brand's own domain is ever flagged", () => {
  for (const brand of LEXICON.brands)
    for (const domain of brand.official) {
      for (const host of [domain, `www.${domain}`, `login.${domain}`]) {
        const row = web.score(`https://${host}/login/verify`);
        assert.equal(row.verdict, 'benign', host);
        assert.equal(row.brand, brand.key, host);
        assert.equal(row.reasons[0]!.feature, 'official_domain');
      }
    }
});

async function ingestAndRead(dialect: Dialect, schema?: string) {
  const db = await migratedWebDb(dialect, schema);
  try {
    const room = createWeb(WebConfig.parse({ batchSize: 2 }), {
      logger: silentLogger(),
      registry: new Registry(),
      db,
    });
    const first = await room.ingest(
      [
        {
          url: 'https://mercari-jp.duckdns.org/login',
          seenAt: '2025-07-02T00:00:00.000Z',
          description: 'メルカリ',
        },
        { url: 'HTTPS://MERCARI-JP.DUCKDNS.ORG/login#x', seenAt: '2025-07-01T00:00:00.000Z' },
        { url: 'not a url ::' },
        { url: 'https://www.amazon.co.jp/', seenAt: '2025-07-03T00:00:00.000Z' },
      ],
      'jpcert',
    );
    assert.deepEqual([first.urls, first.bad, first.newUrls, first.newSightings], [3, 1, 2, 2]);
    const again = await room.ingest(
      [{ url: 'https://mercari-jp.duckdns.org/login', seenAt: '2025-06-30T00:00:00.000Z' }],
      'user-report',
    );
    assert.deepEqual([again.newUrls, again.newSightings], [0, 1]);

    const all = [];
    for await (const v of room.verdicts({ pageSize: 1 })) all.push(v);
    assert.deepEqual(
      all.map((v) => v.url),
      ['https://mercari-jp.duckdns.org/login', 'https://www.amazon.co.jp/'],
    );
    const phish = all[0]!;
    assert.equal(phish.firstSeen, '2025-06-30T00:00:00.000Z', 'earliest over every source');
    assert.deepEqual(phish.sources, [
      { source: 'user-report', firstSeen: '2025-06-30T00:00:00.000Z', description: null },
      { source: 'jpcert', firstSeen: '2025-07-01T00:00:00.000Z', description: 'メルカリ' },
    ]);
    assert.equal(phish.brand, 'mercari');
    assert.deepEqual(phish.reasons, web.score(phish.url).reasons);
    const fromReports = [];
    for await (const v of room.verdicts({ source: 'user-report' })) fromReports.push(v.url);
    assert.deepEqual(fromReports, ['https://mercari-jp.duckdns.org/login']);

    const hosts = [];
    for await (const h of room.hosts()) hosts.push(h);
    assert.deepEqual(
      hosts.map((h) => [
        h.host,
        h.registrableDomain,
        h.urls,
        h.brands,
        h.verdict === web.score(`https://${h.host}/`).hostVerdict,
      ]),
      [
        ['mercari-jp.duckdns.org', 'mercari-jp.duckdns.org', 1, ['mercari'], true],
        ['www.amazon.co.jp', 'amazon.co.jp', 1, ['amazon'], true],
      ],
    );
    const benignHosts = [];
    for await (const h of room.hosts({ verdicts: ['benign'] })) benignHosts.push(h.host);
    assert.ok(benignHosts.includes('www.amazon.co.jp'));
  } finally {
    await db.destroy();
  }
}

test('hosts(): a whole host is malicious only when its name AND a URL of it are; never for a phishing path on a compromised site', async () => {
  const db = new Kysely<WebTables>({
    dialect: new SqliteDialect({ database: new SqliteDatabase(':memory:') }),
  });
  try {
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => ({ ...webMigrations, ...webTakedownMigrations }) },
    });
    // A row stored before the host-name verdict was kept: the migration copies its verdict over.
    assert.equal((await migrator.migrateTo('0011_web_001_urls_and_sightings')).error, undefined);
    await db
      .insertInto('web_urls')
      .values({
        url: 'https://old.example.net/',
        host: 'old.example.net',
        registrable_domain: 'example.net',
        score: 0.99,
        verdict: 'malicious',
        brand: null,
        reasons: '[]',
        model: 'old',
        first_seen: '2025-01-01T00:00:00.000Z',
        last_seen: '2025-01-01T00:00:00.000Z',
      } as WebTables['web_urls'])
      .execute();
    assert.equal((await migrator.migrateToLatest()).error, undefined);
    // Names the name model alone calls malicious, where the URL verdict disagrees: no whole-host block.
    for (const [host, verdict] of [
      ['name-only.example.top', 'benign'],
      ['half-sure.example.top', 'suspicious'],
    ] as const)
      await db
        .insertInto('web_urls')
        .values({
          url: `https://${host}/`,
          host,
          registrable_domain: 'example.top',
          score: 0.5,
          verdict,
          host_score: 0.99,
          host_verdict: 'malicious',
          brand: null,
          reasons: '[]',
          model: 'test',
          first_seen: '2025-01-01T00:00:00.000Z',
          last_seen: '2025-01-01T00:00:00.000Z',
        } as WebTables['web_urls'])
        .execute();
    const room = createWeb(WebConfig.parse({}), {
      logger: silentLogger(),
      registry: new Registry(),
      db,
      model: modelFlagging('phishkit'),
    });
    const url = 'https://example-bakery.jp/wp-content/phishkit/login';
    const scored = room.score(url);
    assert.equal(scored.verdict, 'malicious', 'the URL verdict reads the path');
    assert.equal(scored.hostVerdict, 'benign', 'the name alone is benign');
    await room.ingest([{ url, seenAt: '2025-07-01T00:00:00.000Z' }], 'jpcert');
    const stored = [];
    for await (const v of room.verdicts({ verdicts: ['malicious'] })) stored.push(v);
    assert.deepEqual(
      stored.map((v) => [v.url, v.verdict, v.hostVerdict]),
      [
        ['https://example-bakery.jp/wp-content/phishkit/login', 'malicious', 'benign'],
        ['https://old.example.net/', 'malicious', 'malicious'],
      ],
    );
    const hosts = [];
    for await (const h of room.hosts()) hosts.push([h.host, h.verdict, h.malicious]);
    assert.deepEqual(hosts, [
      ['example-bakery.jp', 'benign', 0],
      ['half-sure.example.top', 'suspicious', 0],
      ['name-only.example.top', 'benign', 0],
      ['old.example.net', 'malicious', 1],
    ]);
    const malicious = [];
    for await (const h of room.hosts({ verdicts: ['malicious'] })) malicious.push(h.host);
    assert.deepEqual(malicious, ['old.example.net'], 'host-level exports never get the compromised site');
  } finally {
    await db.destroy();
  }
});

onBothEngines(
  'ingest keeps first and last seen per source; the read API pages through it',
  'web',
  ingestAndRead,
);

test('blocksWholeHost: both verdicts malicious, and a name', () => {
  const row = { verdict: 'malicious', hostVerdict: 'malicious', hostKind: 'domain' } as const;
  assert.equal(blocksWholeHost(row), true);
  assert.equal(blocksWholeHost({ ...row, verdict: 'suspicious' }), false);
  assert.equal(blocksWholeHost({ ...row, hostVerdict: 'benign' }), false);
  assert.equal(blocksWholeHost({ ...row, hostKind: 'ipv4' }), false);
  // What intel's intake is handed: the same rule's answer beside each row.
  assert.deepEqual(
    withWholeHost([row, { ...row, hostVerdict: 'benign' }]).map((r) => r.wholeHost),
    [true, false],
  );
});
