/// <reference lib="dom" />
/**
 * The malicious-sites page in Debian's Chromium, in Japanese and English: cards, bar charts by
 * brand and TLD, the campaign table with each tie in words, the takedown chart and table. The
 * overview is a fixed body here (the route's release cut and the web room's wiring are tested in
 * src/cli/web-console.test.ts); this test is about what the analyst sees.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { WebBody } from './api/types.ts';
import { CHROMIUM, chromiumSuite, DIST, newConsolePage, openPage, signIn } from './e2e-support.ts';
import { startTestHub, type TestHub } from './testing.ts';

const BODY: WebBody = {
  hosts: 3,
  campaigns: [
    {
      id: '890a6095dc63',
      hosts: ['amazon-kjhd.top', 'amazon-xqzv.top', 'example-bakery.co.uk', 'login.amazon-kjhd.top'],
      brands: ['amazon'],
      tlds: ['top'],
      platforms: [],
      countries: [],
      firstSeen: '2026-11-01T00:00:00.000Z',
      lastSeen: '2026-12-01T00:00:00.000Z',
      ties: [
        {
          kind: 'template',
          value: 'amazon {brand}-[a-z]{4}.top',
          hosts: ['amazon-kjhd.top', 'amazon-xqzv.top'],
        },
        {
          kind: 'registrable-domain',
          value: 'amazon-kjhd.top',
          hosts: ['amazon-kjhd.top', 'login.amazon-kjhd.top'],
        },
        {
          kind: 'kit-path',
          value: '/jkuos/',
          hosts: ['amazon-kjhd.top', 'amazon-xqzv.top', 'example-bakery.co.uk'],
        },
      ],
      // On the kit's path, its name not malicious: the page marks it.
      kitPathOnly: ['example-bakery.co.uk'],
    },
  ],
  byBrand: [
    { key: 'amazon', hosts: 2 },
    { key: 'unknown', hosts: 1 },
  ],
  byTld: [{ key: 'top', hosts: 3 }],
  byPlatform: [],
  takedowns: [
    {
      host: 'amazon-xqzv.top',
      brand: 'amazon',
      status: 'sent',
      abuseEmail: 'abuse@r.example',
      updatedAt: '2026-12-01T00:00:00.000Z',
    },
  ],
  brandNames: { amazon: { ja: 'アマゾン', en: 'Amazon.com' } },
};

// The page's drawing is under test here; reports are tested against the real room in src/cli/web-console.test.ts.
const reportNotUsed = async (): Promise<never> => {
  throw new Error('this test posts no report');
};

describe(
  'malicious-sites page in Chromium',
  { skip: !existsSync(CHROMIUM) && 'needs Debian chromium' },
  () => {
    let hub: TestHub;
    const browser = chromiumSuite();
    before(async () => {
      hub = await startTestHub({
        console: { distDir: DIST },
        web: { overview: async () => BODY, report: reportNotUsed },
      });
    });
    after(() => hub?.close());

    for (const lang of ['ja', 'en'] as const)
      test(`draws campaigns, charts and takedowns (${lang})`, async () => {
        const page = await newConsolePage(browser(), lang);
        await signIn(page, hub.url, hub.tokens.council);
        await openPage(page, '#/web', 'section[data-page=web] svg.bars');
        assert.equal(await page.locator('[data-testid=web-hosts]').innerText(), '3');
        assert.equal(await page.locator('section[data-page=web] svg.bars').count(), 3);
        // Hosts with no brand are tallied under the room's key 'unknown': the page says it in words.
        const brands = await page.locator('section[data-page=web] svg.bars').first().textContent();
        if (lang === 'ja') assert.ok(brands?.includes('不明') && !brands.includes('unknown'), brands ?? '');
        // Brands by the lexicon's name in the page's language, not the room's key.
        assert.ok(brands?.includes(lang === 'ja' ? 'アマゾン' : 'Amazon.com'), brands ?? '');
        const campaign = await page.locator('[data-testid=web-campaign-table] tbody tr').innerText();
        assert.match(campaign, lang === 'ja' ? /同じ名前のパターン/ : /same naming pattern/);
        assert.match(
          campaign,
          lang === 'ja' ? /同じフィッシングキットのパス: \/jkuos\// : /same phishing-kit path: \/jkuos\//,
        );
        assert.match(campaign, lang === 'ja' ? /アマゾン/ : /Amazon\.com/);
        assert.match(
          campaign,
          lang === 'ja'
            ? /example-bakery\.co\.uk \(URL の根拠のみ\)/
            : /example-bakery\.co\.uk \(by its URLs only\)/,
        );
        assert.equal(await page.locator('[data-testid=web-kit-path-only]').count(), 1);
        assert.match(
          (await page.locator('[data-testid=web-kit-path-only]').getAttribute('title')) ?? '',
          lang === 'ja' ? /ホスト名は不正と判定されていません/ : /host name is not judged malicious/,
        );
        assert.doesNotMatch(campaign, /tie_|T00:00/);
        const takedown = await page.locator('[data-testid=web-takedown-table] tbody tr').innerText();
        assert.match(takedown, lang === 'ja' ? /送付済み/ : /sent/);
        assert.doesNotMatch(takedown, /takedown_|T00:00/);
        await page.context().close();
      });

    test('a month of campaigns stays a page: the largest 50, each with its first hosts and ties, the rest folded', async () => {
      const hosts = (n: number, c: number) => Array.from({ length: n }, (_, i) => `h${i}.c${c}.example.top`);
      const campaigns = Array.from({ length: 120 }, (_, c) => ({
        ...BODY.campaigns[0]!,
        id: `c${String(c).padStart(11, '0')}`,
        hosts: hosts(c === 0 ? 700 : 3, c),
        ties: Array.from({ length: c === 0 ? 40 : 1 }, (_, i) => ({
          kind: 'registrable-domain' as const,
          value: `d${i}.c${c}.example.top`,
          hosts: hosts(2, c),
        })),
      }));
      const big = await startTestHub({
        console: { distDir: DIST },
        web: { overview: async () => ({ ...BODY, hosts: 1057, campaigns }), report: reportNotUsed },
      });
      try {
        for (const lang of ['ja', 'en'] as const) {
          const page = await newConsolePage(browser(), lang);
          await signIn(page, big.url, big.tokens.council);
          await openPage(page, '#/web', '[data-testid=web-campaign-table]');
          const rows = page.locator('[data-testid=web-campaign-table] tbody tr');
          assert.equal(await rows.count(), 50);
          const first = rows.first();
          assert.equal(await first.locator('.host-name:visible').count(), 5);
          assert.match(
            await first.locator('summary').first().innerText(),
            lang === 'ja' ? /ほか 695 ホスト/ : /695 more hosts/,
          );
          assert.match(
            await first.locator('summary').nth(1).innerText(),
            lang === 'ja' ? /ほか 36 件/ : /36 more ties/,
          );
          assert.match(
            await page.locator('[data-testid=web-campaigns-shown]').innerText(),
            lang === 'ja' ? /50 件を表示.*全 120 件/ : /50 largest campaigns are shown \(of 120\)/,
          );
          const height = await page.evaluate(() => document.body.scrollHeight);
          assert.ok(height < 20_000, `page height ${height}`);
          // Unfolded, every host is there.
          await first.locator('summary').first().click();
          assert.equal(await first.locator('.host-name:visible').count(), 700);
          await page.context().close();
        }
      } finally {
        await big.close();
      }
    });

    test('says why there is no campaign instead of an empty table', async () => {
      const empty = await startTestHub({
        console: { distDir: DIST },
        web: { overview: async () => ({ ...BODY, campaigns: [] }), report: reportNotUsed },
      });
      try {
        for (const lang of ['ja', 'en'] as const) {
          const page = await newConsolePage(browser(), lang);
          await signIn(page, empty.url, empty.tokens.council);
          await openPage(page, '#/web', 'section[data-page=web] svg.bars');
          assert.equal(await page.locator('[data-testid=web-campaign-table]').count(), 0);
          const why = await page.locator('[data-testid=web-no-campaigns]').innerText();
          assert.match(
            why,
            lang === 'ja' ? /キャンペーンはまだありません.*2 つ以上/ : /No campaign yet.*Two or more/,
          );
          await page.context().close();
        }
      } finally {
        await empty.close();
      }
    });
  },
);
