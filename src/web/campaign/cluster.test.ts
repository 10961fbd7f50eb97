import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBrandIndex, normaliseUrl } from '../index.ts';
import { kitPathTemplate } from './kit-paths.ts';
import {
  clusterCampaigns,
  namingTemplate,
  subdomainPattern,
  webStatistics,
  type CampaignHost,
} from './cluster.ts';

const brands = createBrandIndex();
const host = (name: string, brand: string | null, extra: Partial<CampaignHost> = {}): CampaignHost => {
  const n = normaliseUrl(name);
  return {
    host: n.host,
    registrableDomain: n.registrableDomain,
    publicSuffix: n.publicSuffix,
    privateSuffix: n.privateSuffix,
    brand,
    firstSeen: '2026-11-01T00:00:00Z',
    lastSeen: '2026-11-02T00:00:00Z',
    ...extra,
  };
};

test('naming templates keep the brand, the keywords and the suffix, and shape the rest', () => {
  assert.equal(namingTemplate(host('amazon-xqzv.top', 'amazon'), brands), '{brand}-[a-z]{4}.top');
  assert.equal(namingTemplate(host('amazon-kjhd.top', 'amazon'), brands), '{brand}-[a-z]{4}.top');
  assert.equal(namingTemplate(host('amazon-k2h9.top', 'amazon'), brands), '{brand}-[a-z0-9]{4}.top');
  assert.equal(namingTemplate(host('x.example.com', null), brands), null);
});

test('campaigns join hosts by template, IP, registrable domain and kit, and say why', () => {
  const hosts = [
    host('amazon-xqzv.top', 'amazon'),
    host('amazon-kjhd.top', 'amazon'),
    host('login.amazon-kjhd.top', 'amazon'),
    host('smbc-card-verify.xyz', 'smbc-card', { ip: '203.0.113.5', country: 'US' }),
    host('vpass-secure.shop', 'smbc-card', { ip: '203.0.113.5', country: 'US', kitMarkers: ['kit:16shop'] }),
    host('aeon-check.icu', 'aeon-card', { kitMarkers: ['kit:16shop'] }),
    host('mercari-jp.duckdns.org', 'mercari'),
    host('lonely-apple.cn', 'apple'),
  ];
  const campaigns = clusterCampaigns(hosts, brands);
  assert.equal(campaigns.length, 2);
  const [a, b] = campaigns;
  assert.deepEqual(a!.hosts.length, 3);
  const amazon = campaigns.find((c) => c.brands.includes('amazon'))!;
  assert.deepEqual(amazon.hosts, ['amazon-kjhd.top', 'amazon-xqzv.top', 'login.amazon-kjhd.top']);
  assert.ok(amazon.ties.some((t) => t.kind === 'template' && t.value === 'amazon {brand}-[a-z]{4}.top'));
  assert.ok(amazon.ties.some((t) => t.kind === 'registrable-domain' && t.value === 'amazon-kjhd.top'));
  const smbc = campaigns.find((c) => c.brands.includes('smbc-card'))!;
  assert.deepEqual(smbc.hosts, ['aeon-check.icu', 'smbc-card-verify.xyz', 'vpass-secure.shop']);
  assert.deepEqual(smbc.ties.map((t) => t.kind).sort(), ['ip', 'kit']);
  assert.deepEqual(smbc.countries, ['US']);
  assert.ok(a !== b && a!.id !== b!.id && /^[0-9a-f]{12}$/.test(a!.id));
  // Stable ids: the same members, the same id, whatever the input order.
  assert.deepEqual(
    clusterCampaigns([...hosts].reverse(), brands)
      .map((c) => c.id)
      .sort(),
    campaigns.map((c) => c.id).sort(),
  );
  const stats = webStatistics(hosts, campaigns);
  assert.deepEqual(stats.byBrand[0], { key: 'amazon', hosts: 3 });
  assert.deepEqual(stats.byPlatform, [{ key: 'duckdns.org', hosts: 1 }]);
  assert.equal(stats.byTld.find((t) => t.key === 'top')?.hosts, 3);
  assert.deepEqual(stats.byCountry[0], { key: 'unknown', hosts: 6 });
});

test('an AS shared by different brands is no tie; with the same brand it is', () => {
  const campaigns = clusterCampaigns(
    [
      host('amazon-a1.top', 'amazon', { asn: 13335 }),
      host('rakuten-b.xyz', 'rakuten', { asn: 13335 }),
      host('amazon-login-b.cn', 'amazon', { asn: 13335 }),
    ],
    brands,
  );
  assert.equal(campaigns.length, 1);
  assert.deepEqual(campaigns[0]!.hosts, ['amazon-a1.top', 'amazon-login-b.cn']);
  assert.deepEqual(campaigns[0]!.ties[0], {
    kind: 'asn-brand',
    value: 'AS13335 amazon',
    hosts: ['amazon-a1.top', 'amazon-login-b.cn'],
  });
});

test('a brand-bearing subdomain reused on fresh registered names ties them; www does not', () => {
  assert.equal(subdomainPattern(host('monex-co-jp.sdkeman.cn', 'monex'), brands), 'monex-co-jp.*.cn');
  assert.equal(subdomainPattern(host('www.sdkeman.cn', 'monex'), brands), null);
  assert.equal(subdomainPattern(host('monex-co-jp.cn', 'monex'), brands), null);
  assert.equal(subdomainPattern(host('monex-co-jp.sdkeman.cn', null), brands), null);
  const campaigns = clusterCampaigns(
    [
      host('monex-co-jp.sdkeman.cn', 'monex'),
      host('monex-co-jp.mpntoc.cn', 'monex'),
      host('open-monex.mpntoc.cn', 'monex'),
      host('open-monex.shanmao97.cn', 'monex'),
      // The same subdomain under another suffix, or www under the same one, is no tie.
      host('monex-co-jp.kqzv.top', 'monex'),
      host('www.abcdefg.cn', 'monex'),
      host('www.hijk.cn', 'monex'),
    ],
    brands,
  );
  assert.equal(campaigns.length, 1);
  assert.deepEqual(campaigns[0]!.hosts, [
    'monex-co-jp.mpntoc.cn',
    'monex-co-jp.sdkeman.cn',
    'open-monex.mpntoc.cn',
    'open-monex.shanmao97.cn',
  ]);
  assert.deepEqual(
    campaigns[0]!.ties.filter((t) => t.kind === 'subdomain').map((t) => t.value),
    ['monex monex-co-jp.*.cn', 'monex open-monex.*.cn'],
  );
});

test('a kit path shared by hosts on two registered domains ties them; plain words and one domain do not', () => {
  const kitPathsOf = (...urls: string[]) =>
    urls.map((u) => kitPathTemplate(normaliseUrl(u))).filter((t): t is string => t !== null);
  const campaigns = clusterCampaigns(
    [
      // A kit redeployed on fresh names of different brands and suffixes: only its path is shared.
      host('gtdos.cn', null, {
        kitPaths: kitPathsOf('https://gtdos.cn/jkuos/', 'https://gtdos.cn/login.php'),
      }),
      host('rcmama.top', 'amazon', { kitPaths: kitPathsOf('https://rcmama.top/jkuos/') }),
      // `/login.php` is plain words: no template, so no tie with gtdos.cn.
      host('qxvbn.xyz', null, { kitPaths: kitPathsOf('https://qxvbn.xyz/login.php') }),
      // One registered domain under one kit path is no kit-path tie (the domain ties them).
      host('a.zzqwe.shop', null, { kitPaths: kitPathsOf('https://a.zzqwe.shop/mgap/?matsui=1') }),
      host('b.zzqwe.shop', null, { kitPaths: kitPathsOf('https://b.zzqwe.shop/mgap/?matsui=2') }),
      // Nor is one host alone.
      host('lonely.icu', null, { kitPaths: kitPathsOf('https://lonely.icu/saxaw') }),
    ],
    brands,
  );
  assert.deepEqual(kitPathsOf('https://qxvbn.xyz/login.php'), []);
  assert.equal(campaigns.length, 2);
  const kit = campaigns.find((c) => c.hosts.includes('gtdos.cn'))!;
  assert.deepEqual(kit.hosts, ['gtdos.cn', 'rcmama.top']);
  assert.deepEqual(kit.ties, [{ kind: 'kit-path', value: '/jkuos/', hosts: ['gtdos.cn', 'rcmama.top'] }]);
  const domain = campaigns.find((c) => c.hosts.includes('a.zzqwe.shop'))!;
  assert.deepEqual(
    domain.ties.map((t) => t.kind),
    ['registrable-domain'],
  );
});

test('a host tied by a kit path alone joins the campaigns of the kits it carries, and nothing else', () => {
  const named = [
    host('gtdos.cn', null, { kitPaths: ['/jkuos/'] }),
    host('rcmama.top', 'amazon', { kitPaths: ['/jkuos/'] }),
    host('amazon-xqzv.top', 'amazon', { kitPaths: ['/mgap/?matsui=*'] }),
    host('amazon-kjhd.top', 'amazon'),
    // One host of its own: a kit path it shares with a host on another domain makes a campaign.
    host('lonely.icu', null, { kitPaths: ['/saxaw'] }),
    host('untouched-1.example', null, { ip: '203.0.113.9' }),
    host('untouched-2.example', null, { ip: '203.0.113.9' }),
  ];
  const before = clusterCampaigns(named, brands);
  const pathOnly = (name: string, kitPaths: string[]) =>
    host(name, null, {
      kitPaths,
      kitPathOnly: true,
      firstSeen: '2026-12-01T00:00:00Z',
      lastSeen: '2026-12-01T00:00:00Z',
    });
  const after = clusterCampaigns(
    [
      ...named,
      pathOnly('bakery-shop.co.uk', ['/jkuos/']),
      // Two kits on one (compromised) site: listed in both campaigns, which stay apart.
      pathOnly('old-blog.example.org', ['/jkuos/', '/mgap/?matsui=*']),
      pathOnly('tea-room.example.net', ['/saxaw']),
      // A path no host malicious by name carries joins nothing, even shared by two such hosts.
      pathOnly('quiet-1.example.com', ['/zzqwx/']),
      pathOnly('quiet-2.example.jp', ['/zzqwx/']),
      // Its name brings no tie: on the registered domain of untouched-1.example, with no kit of theirs.
      pathOnly('www.untouched-1.example', ['/zzqwx/']),
    ],
    brands,
  );
  const kit = after.find((c) => c.hosts.includes('gtdos.cn'))!;
  assert.deepEqual(kit.hosts, ['bakery-shop.co.uk', 'gtdos.cn', 'old-blog.example.org', 'rcmama.top']);
  assert.deepEqual(kit.kitPathOnly, ['bakery-shop.co.uk', 'old-blog.example.org']);
  assert.deepEqual(kit.ties, [
    {
      kind: 'kit-path',
      value: '/jkuos/',
      hosts: ['bakery-shop.co.uk', 'gtdos.cn', 'old-blog.example.org', 'rcmama.top'],
    },
  ]);
  assert.equal(kit.lastSeen, '2026-12-01T00:00:00Z');
  assert.deepEqual(kit.brands, ['amazon']);
  const amazon = after.find((c) => c.hosts.includes('amazon-xqzv.top'))!;
  assert.deepEqual(amazon.hosts, ['amazon-kjhd.top', 'amazon-xqzv.top', 'old-blog.example.org']);
  assert.deepEqual(amazon.kitPathOnly, ['old-blog.example.org']);
  assert.ok(amazon.ties.some((t) => t.kind === 'kit-path' && t.value === '/mgap/?matsui=*'));
  const lonely = after.find((c) => c.hosts.includes('lonely.icu'))!;
  assert.deepEqual(lonely.hosts, ['lonely.icu', 'tea-room.example.net']);
  assert.ok(
    !after.some((c) => c.hosts.some((h) => h.startsWith('quiet-') || h === 'www.untouched-1.example')),
  );
  // A campaign that gains no member is as it was, id and all.
  const untouched = (cs: typeof before) => cs.find((c) => c.hosts.includes('untouched-1.example'));
  assert.deepEqual(untouched(after), untouched(before));
  assert.equal(untouched(after)!.kitPathOnly, undefined);
  assert.notEqual(kit.id, before.find((c) => c.hosts.includes('gtdos.cn'))!.id);
});

test('a host a registered-domain tie alone made malicious joins the campaign of its registered domain, and only that', () => {
  const named = [host('amazon-co-jp.zqvmk.cn', 'amazon'), host('smbc-card.zqvmk.cn', 'smbc-card')];
  const tiedAlone = (name: string, extra: Partial<CampaignHost>) =>
    host(name, null, { kitPaths: [], kitPathOnly: true, ...extra });
  const [campaign, ...rest] = clusterCampaigns(
    [
      ...named,
      tiedAlone('mypage.zqvmk.cn', { joinsDomain: true }),
      // Tied by a kit path, not by its domain: its domain brings no tie.
      tiedAlone('www.zqvmk.cn', {}),
      // A domain no host malicious by name is on.
      tiedAlone('account.other-domain.cn', { joinsDomain: true }),
    ],
    brands,
  );
  assert.equal(rest.length, 0);
  assert.deepEqual(campaign!.hosts, ['amazon-co-jp.zqvmk.cn', 'mypage.zqvmk.cn', 'smbc-card.zqvmk.cn']);
  assert.deepEqual(campaign!.kitPathOnly, ['mypage.zqvmk.cn']);
  assert.deepEqual(campaign!.ties.find((t) => t.kind === 'registrable-domain')?.hosts, [
    'amazon-co-jp.zqvmk.cn',
    'mypage.zqvmk.cn',
    'smbc-card.zqvmk.cn',
  ]);
});

test("hosts a registered-domain tie alone made malicious, on a domain no campaign holds, are that domain's campaign", () => {
  const tiedAlone = (name: string, extra: Partial<CampaignHost> = {}) =>
    host(name, null, { kitPaths: [], kitPathOnly: true, joinsDomain: true, ...extra });
  const kit = [
    host('gtdos.cn', null, { kitPaths: ['/jkuos'] }),
    host('rcmama.cn', null, { kitPaths: ['/jkuos'] }),
  ];
  const campaigns = clusterCampaigns(
    [
      ...kit,
      tiedAlone('bujsga.hvsf6.com'),
      tiedAlone('cdozkim.hvsf6.com'),
      tiedAlone('dgvcvdrc.hvsf6.com'),
      // Alone on its domain: no campaign.
      tiedAlone('account.other-domain.cn'),
      // It joined a kit's campaign: it stays there and brings its domain no campaign.
      tiedAlone('x.lone-kit.net', { kitPaths: ['/jkuos'] }),
      tiedAlone('y.lone-kit.net'),
    ],
    brands,
  );
  assert.deepEqual(
    campaigns.map((c) => c.hosts),
    [
      ['bujsga.hvsf6.com', 'cdozkim.hvsf6.com', 'dgvcvdrc.hvsf6.com'],
      ['gtdos.cn', 'rcmama.cn', 'x.lone-kit.net'],
    ],
  );
  const domain = campaigns[0]!;
  assert.deepEqual(domain.kitPathOnly, domain.hosts);
  assert.deepEqual(
    domain.ties.map((t) => [t.kind, t.value, t.hosts.length]),
    [['registrable-domain', 'hvsf6.com', 3]],
  );
});

test("a platform customer's own name is a registered domain to join as well, never the platform's suffix", () => {
  const named = [
    host('amazon-co-jp.zqvmk-shop.pages.dev', 'amazon'),
    host('smbc-card.zqvmk-shop.pages.dev', 'smbc-card'),
  ];
  assert.equal(named[0]!.registrableDomain, 'zqvmk-shop.pages.dev', 'tldts with private suffixes');
  const tiedAlone = (name: string) =>
    host(name, null, { kitPaths: [], kitPathOnly: true, joinsDomain: true });
  const campaigns = clusterCampaigns(
    [...named, tiedAlone('mypage.zqvmk-shop.pages.dev'), tiedAlone('mypage.another-shop.pages.dev')],
    brands,
  );
  assert.deepEqual(
    campaigns.map((c) => c.hosts),
    [['amazon-co-jp.zqvmk-shop.pages.dev', 'mypage.zqvmk-shop.pages.dev', 'smbc-card.zqvmk-shop.pages.dev']],
  );
});

test('a suffix path holds a campaign on four registered domains, and a host its tie alone made malicious joins it', () => {
  const key = 'duckdns.org /select';
  const named = ['qwzxa', 'rtyui', 'pasdf', 'ghjkl'].map((label) =>
    host(`${label}.duckdns.org`, null, { suffixPaths: [key] }),
  );
  const tiedAlone = host('zxcvb.duckdns.org', null, { kitPaths: [], kitPathOnly: true, suffixPaths: [key] });
  const [campaign, ...rest] = clusterCampaigns([...named, tiedAlone], brands);
  assert.equal(rest.length, 0);
  assert.deepEqual(campaign!.hosts, [...named.map((h) => h.host), tiedAlone.host].sort());
  assert.deepEqual(campaign!.kitPathOnly, ['zxcvb.duckdns.org']);
  assert.deepEqual(
    campaign!.ties.map((t) => [t.kind, t.value]),
    [['suffix-path', key]],
  );
  // Three domains hold no campaign: a plain-word path needs as many as its tie does (three others).
  assert.deepEqual(clusterCampaigns(named.slice(1), brands), []);
});
