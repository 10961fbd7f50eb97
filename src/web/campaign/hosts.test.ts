/**
 * Kit paths of the campaign hosts, read from the store (SQLite here; PostgreSQL when
 * TSUNAGI_TEST_DATABASE_URL is set): every stored URL of the asked hosts, paged and a few hosts a
 * query, none of other hosts; templates without repeats, capped per host. And the hosts a kit path
 * alone made malicious: read back from the store, tied to the kit the malicious hosts carry.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Dialect } from 'kysely';
import { Registry } from 'prom-client';
import { silentLogger } from '../../core/index.ts';
import { createWeb, normaliseUrl, WebConfig } from '../index.ts';
import { readHostUrls, readKitPathTies } from '../read.ts';
import { migratedWebDb, roomAt, onBothEngines } from '../testing.ts';
import { clusterCampaigns, type CampaignHost } from './cluster.ts';
import { campaignHostOf, carriedTies, kitPathOnlyHosts, withKitPaths } from './hosts.ts';
import { createBrandIndex } from '../score/lexicon.ts';

/** No suffix is riskier than even: no suffix paths (suffix-paths.test.ts and cluster.test.ts have those). */
const NO_RISKY_SUFFIX = () => 0;
const STORED = [
  'https://a-qxvb.top/jkuos/',
  'https://a-qxvb.top/jkuos/?id=1',
  'https://a-qxvb.top/jkuos/?id=2',
  'https://a-qxvb.top/login.php',
  'https://a-qxvb.top/saxaw/',
  'https://b-qxvb.top/jkuos/',
  'https://c-qxvb.top/mgap/?matsui=1',
  'https://not-asked.top/jkuos/',
];

const campaignHost = (name: string): CampaignHost => {
  const n = normaliseUrl(name);
  return {
    host: n.host,
    registrableDomain: n.registrableDomain,
    publicSuffix: n.publicSuffix,
    privateSuffix: n.privateSuffix,
    brand: null,
    firstSeen: '2025-09-01T00:00:00.000Z',
    lastSeen: '2025-09-01T00:00:00.000Z',
  };
};

async function hostUrlsAndKitPaths(dialect: Dialect, schema?: string) {
  const db = await migratedWebDb(dialect, schema);
  try {
    const web = createWeb(WebConfig.parse({}), { logger: silentLogger(), registry: new Registry(), db });
    await web.ingest(
      STORED.map((url) => ({ url, seenAt: '2025-09-01T00:00:00.000Z' })),
      'test',
    );
    const asked = ['c-qxvb.top', 'a-qxvb.top', 'b-qxvb.top', 'a-qxvb.top'];
    const read = [];
    // A page of two rows, two hosts a query: the pages and the host chunks both turn over.
    for await (const row of readHostUrls(db, asked, { pageSize: 2, hostsPerQuery: 2 })) read.push(row.url);
    assert.deepEqual(
      read,
      STORED.filter((url) => !url.includes('not-asked')),
    );
    const all = [];
    for await (const row of web.hostUrls(asked)) all.push(row);
    assert.equal(all.length, 7);

    const hosts = await withKitPaths(
      ['a-qxvb.top', 'b-qxvb.top', 'c-qxvb.top', 'nothing-stored.top'].map(campaignHost),
      (names) => web.hostUrls(names),
      NO_RISKY_SUFFIX,
      2,
    );
    assert.deepEqual(
      hosts.map((h) => [h.host, h.kitPaths]),
      [
        // /jkuos/?id=1 and ?id=2 are one template; /login.php is plain words; the cap of 2 drops /saxaw/.
        ['a-qxvb.top', ['/jkuos/', '/jkuos/?id=*']],
        ['b-qxvb.top', ['/jkuos/']],
        ['c-qxvb.top', ['/mgap/?matsui=*']],
        ['nothing-stored.top', undefined],
      ],
    );
  } finally {
    await db.destroy();
  }
}

onBothEngines(
  'kit paths of the asked hosts come from their stored URLs, paged, without repeats, capped',
  'kit_hosts',
  hostUrlsAndKitPaths,
);

async function kitPathOnlyFromTheStore(dialect: Dialect, schema?: string) {
  const db = await migratedWebDb(dialect, schema);
  try {
    const web = roomAt(db, new Date('2025-09-03T00:00:00.000Z'));
    await web.ingest(
      [
        { url: 'https://vpass-secure.shop/jkuos/', seenAt: '2025-09-01T01:00:00.000Z' },
        { url: 'https://mercari-verify.shop/jkuos/', seenAt: '2025-09-02T01:00:00.000Z' },
      ],
      'jpcert',
    );
    const seenAt = '2025-09-03T00:00:00.000Z';
    const tied = await web.ingest(
      [
        'https://example-bakery.co.uk/jkuos/',
        'https://example-bakery.co.uk/menu/',
        'https://tea-room.example.net/jkuos/',
      ].map((url) => ({ url, seenAt })),
      'proxy-log',
    );
    assert.equal(tied.kitPathTies, 2);
    const ties = [];
    // A page of one row, so the pages turn over. The menu is no tie; the listings, malicious by name, are none.
    for await (const row of readKitPathTies(db, { pageSize: 1 })) {
      assert.equal(row.byDomain, false, 'kit-path ties');
      ties.push(row.url);
    }
    assert.deepEqual(ties, ['https://example-bakery.co.uk/jkuos/', 'https://tea-room.example.net/jkuos/']);

    const malicious = [];
    for await (const summary of web.hosts({ verdicts: ['malicious'] }))
      malicious.push(campaignHostOf(summary, web.normalise(summary.host)));
    assert.deepEqual(
      malicious.map((h) => h.host),
      ['mercari-verify.shop', 'vpass-secure.shop'],
    );
    const named = await withKitPaths(malicious, (names) => web.hostUrls(names), NO_RISKY_SUFFIX);
    const clustered = new Set(named.map((h) => h.host));
    // The reader may not see the tea room's URL: the tea room shows nowhere.
    const asked: (readonly string[])[] = [];
    const only = await kitPathOnlyHosts(web.kitPathTies(), clustered, carriedTies(named), (urls) => {
      asked.push(urls);
      return new Set(urls.filter((url) => url.startsWith('https://example-bakery.co.uk/')));
    });
    assert.deepEqual(
      asked,
      [['https://example-bakery.co.uk/jkuos/', 'https://tea-room.example.net/jkuos/']],
      'every URL that could join, asked about in one call',
    );
    assert.deepEqual(
      only.map((h) => [h.host, h.kitPaths, h.kitPathOnly, h.brand, h.firstSeen]),
      [['example-bakery.co.uk', ['/jkuos/'], true, null, seenAt]],
    );
    const [campaign] = clusterCampaigns([...named, ...only], createBrandIndex());
    assert.deepEqual(campaign?.hosts, ['example-bakery.co.uk', 'mercari-verify.shop', 'vpass-secure.shop']);
    assert.deepEqual(campaign?.kitPathOnly, ['example-bakery.co.uk']);
    // A path no malicious host carries is not even asked about.
    let askedAgain = 0;
    await kitPathOnlyHosts(
      web.kitPathTies(),
      clustered,
      { paths: new Set(['/saxaw/']), suffixPaths: new Set() },
      (urls) => {
        askedAgain++;
        return new Set(urls);
      },
    );
    assert.equal(askedAgain, 0);
  } finally {
    await db.destroy();
  }
}

onBothEngines(
  'hosts a kit path alone made malicious are read from the store and join the kit',
  'kit_only',
  kitPathOnlyFromTheStore,
);

test('a stored domain tie always joins through its registered domain, a kit-path tie only through a carried path', async () => {
  const row = (url: string, byDomain: boolean) => ({
    host: normaliseUrl(url).host,
    url,
    firstSeen: '2025-09-03T00:00:00.000Z',
    lastSeen: '2025-09-03T00:00:00.000Z',
    byDomain,
    suffixPath: null,
  });
  async function* ties() {
    yield row('https://mypage.zqvmk.cn/', true);
    yield row('https://www.zqvmk.cn/qqtiekits/', false);
    yield row('https://account.other-domain.cn/', true);
  }
  const carried = { paths: new Set<string>(), suffixPaths: new Set<string>() };
  const asked: (readonly string[])[] = [];
  const only = await kitPathOnlyHosts(ties(), new Set(), carried, (urls) => {
    asked.push(urls);
    return new Set(urls);
  });
  assert.deepEqual(asked, [['https://mypage.zqvmk.cn/', 'https://account.other-domain.cn/']]);
  assert.deepEqual(
    only.map((h) => [h.host, h.kitPaths, h.kitPathOnly, h.joinsDomain]),
    [
      ['mypage.zqvmk.cn', [], true, true],
      ['account.other-domain.cn', [], true, true],
    ],
  );
});
