/// <reference lib="dom" />
/**
 * Every page of the console, in Japanese and in English, in Debian's Chromium, against a hub with
 * the demo-like dataset and against an empty one. Each page fails the test if it shows a
 * dictionary key instead of its text, English words in Japanese mode (or Japanese in English
 * mode) outside data marked translate="no", raw JSON, an ISO timestamp, or "undefined"/"NaN".
 * It also checks what an analyst relies on: families, AS names, map markers, the graph's three
 * kinds of node, the evidence table beside (not over) the list, empty states, a zero axis, and the
 * way back from the self-check. The console is rebuilt first when its build is older than its
 * sources, so the test always runs what is in the tree.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { dictionaries, type Lang } from '../../console/src/i18n.ts';
import {
  CHROMIUM,
  chromiumSuite,
  DIST,
  demoHygiene,
  newConsolePage,
  openFirstDetail,
  openPage,
  PAGES,
  signIn,
} from './e2e-support.ts';
import { fillDemo, startTestHub, type TestHub } from './testing.ts';
import type { Kysely } from 'kysely';
import { createSensorReader, type SensorTables } from '../sensor/index.ts';
import { openSensorTestDb, seedSensorCentre } from '../sensor/testing.ts';

/** Latin words allowed in Japanese mode: names, acronyms, commands and the data credit. */
const ALLOWED_IN_JA = new Set([
  'tsunagi',
  'English',
  'TLP',
  'CLEAR',
  'GREEN',
  'AMBER',
  'STRICT',
  'RED',
  'API',
  'ISP',
  'IPA',
  'NICT',
  'NOTICE',
  'TAXII',
  'IoT',
  'URL',
  'CVE',
  'ISO',
  'JST',
  'UTC',
  'DB-IP',
  'IP',
  'Geolocation',
  'by',
  'Route',
  'Views',
  'CC',
  'BY',
  'ip-location-db/asn',
  'C&C',
  // The OSINT page: open-source intelligence is called OSINT in Japanese too (公開情報（OSINT）).
  'OSINT',
  'NATS',
  'UDP',
  // The hygiene page's checks are named as the protocols are (IPv6 reads as "IPv" here).
  'DNSSEC',
  'SPF',
  'DMARC',
  'DKIM',
  'MTA-STS',
  'TLS-RPT',
  'DANE',
  'IPv',
  'HTTPS',
  'HSTS',
  // The endpoint sensors page: indicators of compromise are called IoCs in Japanese too.
  'IoC',
]);
/** `tsunagi start`, `tsunagi survey`...: commands are typed as they are. */
const COMMAND = /\btsunagi (start|detect|darknet|survey|sensor invite|sensor serve)\b/g;
const JAPANESE = /[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]/;
const ALLOWED_JAPANESE_IN_EN = new Set(['日本語']);

interface Shown {
  text: string;
  /** Inside an element marked translate="no" (data: addresses, names, families). */
  data: boolean;
}

/** Every piece of text the page shows (text nodes, SVG titles, placeholders). */
function shownText(page: Page): Promise<Shown[]> {
  return page.evaluate(() => {
    const out: { text: string; data: boolean }[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      const text = node.textContent?.trim() ?? '';
      if (!parent || !text || parent.closest('script, style, noscript')) continue;
      out.push({ text, data: Boolean(parent.closest('[translate=no], [data-translate=no]')) });
    }
    for (const el of Array.from(document.querySelectorAll('[placeholder]')))
      out.push({ text: el.getAttribute('placeholder') ?? '', data: true });
    return out;
  });
}

function problems(shown: Shown[], lang: Lang): string[] {
  const dict = dictionaries[lang];
  const keys = new Set(Object.keys(dict));
  const values = new Set(Object.values(dict).flatMap((v) => [v, ...v.split(/\s+/)]));
  const found: string[] = [];
  for (const { text, data } of shown) {
    if (/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) found.push(`ISO timestamp: ${text}`);
    if (/[{[]\s*"[^"]*"\s*:|"\s*:\s*[{["\d]/.test(text)) found.push(`raw JSON: ${text}`);
    if (/\b(undefined|NaN|null)\b|\[object Object\]/.test(text)) found.push(`broken value: ${text}`);
    if (data) continue;
    // A key shows as the whole text, or as a key-shaped word (kind_bot, emptyDarknet) inside it.
    const keyShaped = text
      .replace(COMMAND, ' ')
      .split(/[\s:：（）()、,/]+/)
      .filter((w) => /_|[a-z][A-Z]/.test(w));
    for (const token of [text, ...keyShaped])
      if (token && keys.has(token) && !values.has(token)) found.push(`raw i18n key: ${token} (in "${text}")`);
    if (lang === 'ja') {
      const words = text.replace(COMMAND, ' ').match(/[A-Za-z][A-Za-z&./-]*[A-Za-z]|[A-Za-z]{1}/g) ?? [];
      for (const word of words)
        if (word.length >= 3 && !ALLOWED_IN_JA.has(word))
          found.push(`English in ja mode: "${word}" in "${text}"`);
    } else if (JAPANESE.test(text) && !ALLOWED_JAPANESE_IN_EN.has(text)) {
      found.push(`Japanese in en mode: ${text}`);
    }
  }
  return [...new Set(found)];
}

async function assertReadable(page: Page, lang: Lang, where: string): Promise<void> {
  const shown = await shownText(page);
  assert.ok(shown.length > 5, `${where}: the page shows something`);
  assert.deepEqual(problems(shown, lang), [], `${where} (${lang})`);
}

const textOf = async (page: Page, selector: string) => (await page.textContent(selector)) ?? '';

/** A compact table as view.tsx's Table makes it: class `table small`, one header row of `headers` cells, body rows. */
async function assertSmallTable(page: Page, testId: string, headers: number, minRows = 1): Promise<void> {
  const table = page.locator(`table[data-testid=${testId}]`);
  assert.equal(await table.getAttribute('class'), 'table small', testId);
  assert.equal(await table.locator('thead tr').count(), 1, `${testId}: one header row`);
  assert.equal(await table.locator('thead th').count(), headers, `${testId}: header cells`);
  const rows = await table.locator('tbody tr').count();
  assert.ok(rows >= minRows, `${testId}: ${rows} rows`);
  assert.equal(await table.locator('tbody tr:first-child td').count(), headers, `${testId}: cells a row`);
}

/** The C&C list, its family column, and a detail beside the table with readable evidence. */
async function checkC2Detail(page: Page, lang: Lang): Promise<void> {
  await openPage(page, '#/c2', '[data-testid=indicator-table]');
  await openFirstDetail(page);
  await page.waitForSelector('[data-testid=evidence] tbody tr');
  await assertReadable(page, lang, 'c2 detail');
  const table = (await page.locator('[data-testid=indicator-table]').boundingBox())!;
  const detail = (await page.locator('[data-testid=detail]').boundingBox())!;
  assert.ok(table.x + table.width <= detail.x, 'the detail does not cover the table');
  const evidenceKeys = await page
    .locator('[data-testid=evidence] tbody tr')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
  for (const key of ['bots', 'returningBots', 'z', 'enrichment', 'samplingRate', 'sub.exclusivity'])
    assert.ok(evidenceKeys.includes(key), `evidence explains ${key}`);
  assert.match(await textOf(page, '[data-testid=detail] dl'), /family-[a-z]/);
  assert.match(await textOf(page, '[data-testid=detail] dl'), /AS\d+|AS 不明|AS unknown/);
  assert.match(await textOf(page, '[data-testid=detail]'), /\d{4}-\d{2}-\d{2} \d{2}:\d{2} JST/);
}

/** Hosts' map, the graph, hygiene per sector with a drill-down, and the endpoint sensors. */
async function checkChartPages(page: Page, lang: Lang): Promise<void> {
  // Hosts: markers with counts, AS names from the bundled database.
  await openPage(page, '#/hosts', '[data-testid=map] .marker');
  const markers = await page.locator('[data-testid=map] .marker-label').allTextContents();
  assert.ok(markers.length >= 3 && markers.every((m) => /^\d[\d,]*$/.test(m)), `markers: ${markers}`);
  const asBars = await textOf(page, 'section[data-page=hosts]');
  assert.match(asBars, /AS4713 \S+/, 'an AS with its name');
  assert.doesNotMatch(asBars, /AS\?/);

  // The graph: bot groups, families and C&C servers, joined.
  await openPage(page, '#/graph', '[data-testid=graph]');
  for (const kind of ['bots', 'family', 'c2'])
    assert.ok((await page.locator(`[data-node=${kind}]`).count()) > 0, `graph has ${kind} nodes`);
  assert.ok((await page.locator('[data-testid=graph] .edge').count()) > 0, 'graph has edges');

  // Hygiene: a line per sector, the organisations' table, and a drill-down with fixes.
  await openPage(page, '#/hygiene', 'section[data-page=hygiene] svg.series');
  assert.equal(await page.locator('section[data-page=hygiene] svg.series polyline').count(), 3);
  // Sector, score, domains and the ten checks; one row per sector.
  await assertSmallTable(page, 'hygiene-sectors', 13, 3);
  await page.selectOption('[data-testid=hygiene-check]', 'dmarc_policy');
  await assertReadable(page, lang, 'hygiene dmarc');
  await page.click('[data-testid=hygiene-organisations] a >> text=Example Shinkin');
  await page.waitForSelector('[data-testid=hygiene-detail] [data-testid=hygiene-fixes] li');
  await assertReadable(page, lang, 'hygiene detail');
  await assertSmallTable(page, 'hygiene-domains', 12);
  assert.match(
    await textOf(page, '[data-testid=hygiene-fixes]'),
    lang === 'ja' ? /DMARC レコードがありません/ : /There is no DMARC record/,
  );

  // Endpoint sensors: a line per ministry, the per-ministry table, the most matched IoCs.
  await openPage(page, '#/sensors', 'section[data-page=sensors] svg.series');
  assert.equal(await page.locator('section[data-page=sensors] svg.series polyline').count(), 2);
  assert.equal(await page.locator('[data-testid=sensor-organisations] tbody tr').count(), 2);
  await page.selectOption('[data-testid=sensor-measure]', 'matches');
  await assertReadable(page, lang, 'sensors matches');
  assert.match(await textOf(page, 'section[data-page=sensors] svg.bars'), /192\.0\.2\.10:443/);
  await assertSmallTable(page, 'sensor-iocs', 4);
  assert.match(await textOf(page, '[data-testid=sensor-iocs] tbody'), /192\.0\.2\.10:443/);

  // The audit log: the records under their header row.
  await openPage(page, '#/audit', '[data-testid=audit-verification]');
  await assertSmallTable(page, 'audit-records', 6);
}

describe(
  'every console page in both languages',
  { skip: !existsSync(CHROMIUM) && `${CHROMIUM} missing (scripts/install-test-tools.sh installs it)` },
  () => {
    let demo: TestHub;
    let empty: TestHub;
    const browser = chromiumSuite();
    let hygiene: Awaited<ReturnType<typeof demoHygiene>>;
    let sensors: Kysely<SensorTables>;

    before(async () => {
      hygiene = await demoHygiene();
      sensors = await openSensorTestDb();
      await seedSensorCentre(sensors);
      [demo, empty] = await Promise.all([
        startTestHub({
          console: { distDir: DIST },
          hygiene: hygiene.reader,
          sensor: createSensorReader(sensors),
        }),
        startTestHub({ console: { distDir: DIST } }),
      ]);
      await fillDemo(demo);
    });
    after(async () => {
      await demo?.close();
      await empty?.close();
      await hygiene?.close();
      await sensors?.destroy();
    });

    test('the checker itself flags each kind of mistake', () => {
      const mistakes: [Shown, Lang][] = [
        [{ text: 'emptyDarknet', data: false }, 'en'],
        [{ text: 'kind_bot', data: false }, 'ja'],
        [{ text: '感染端末 Infected', data: false }, 'ja'],
        [{ text: 'ダークネット', data: false }, 'en'],
        [{ text: '2026-12-05T09:03:00.000Z', data: true }, 'en'],
        [{ text: '{"bots":4}', data: true }, 'en'],
        [{ text: 'AS undefined', data: true }, 'en'],
      ];
      for (const [shown, lang] of mistakes) assert.ok(problems([shown], lang).length > 0, shown.text);
      const fine: Shown[] = [
        { text: 'family-a', data: true },
        { text: 'TLP:AMBER', data: false },
        { text: 'tsunagi survey で調べてください', data: false },
        { text: '2026-12-05 18:03 JST', data: false },
      ];
      assert.deepEqual(problems(fine, 'ja'), []);
    });

    for (const lang of ['ja', 'en'] as const) {
      test(`${lang}: sign-in, every page and every detail with the demo dataset (full tier)`, async () => {
        const page = await newConsolePage(browser(), lang);
        await page.goto(`${demo.url}/`);
        await page.waitForSelector('input[name=token]');
        await assertReadable(page, lang, 'sign-in');
        await signIn(page, demo.url, demo.tokens.full);
        for (const { name, hash, ready } of PAGES) {
          await openPage(page, hash, ready);
          await assertReadable(page, lang, name);
        }

        await openPage(page, '#/overview', '[data-testid=newest-c2]');
        const families = await page
          .locator('[data-testid=newest-c2] tbody td:nth-child(3)')
          .allTextContents();
        assert.ok(
          families.length > 0 && families.every((f) => /^family-[a-z]$/.test(f)),
          `families: ${families}`,
        );

        await checkC2Detail(page, lang);

        for (const kind of ['bot', 'vulnerable-device']) {
          await openPage(page, `#/list/${kind}`, '[data-testid=indicator-table]');
          await openFirstDetail(page);
          await assertReadable(page, lang, `${kind} detail`);
        }

        await checkChartPages(page, lang);
        await page.context().close();
      });

      test(`${lang}: a public-tier reader's pages`, async () => {
        const page = await newConsolePage(browser(), lang);
        await signIn(page, demo.url, demo.tokens.public);
        for (const { name, hash, ready } of PAGES.filter((p) =>
          ['overview', 'c2', 'graph', 'sharing', 'hygiene'].includes(p.name),
        )) {
          await openPage(page, hash, ready);
          await assertReadable(page, lang, `public ${name}`);
        }
        // Sector aggregates only: the organisations are withheld by the release rule.
        await openPage(page, '#/hygiene', '[data-testid=hygiene-withheld]');
        assert.equal(await page.locator('[data-testid=hygiene-organisations]').count(), 0);
        await page.context().close();
      });

      test(`${lang}: empty states on an empty hub`, async () => {
        const page = await newConsolePage(browser(), lang);
        await signIn(page, empty.url, empty.tokens.full);
        const dict = dictionaries[lang];
        for (const { name, hash, ready } of PAGES) {
          await openPage(page, hash, ready);
          await assertReadable(page, lang, `empty ${name}`);
        }
        for (const [hash, key] of [
          ['#/c2', 'emptyList_c2'],
          ['#/list/bot', 'emptyList_bot'],
          ['#/list/vulnerable-device', 'emptyList_vulnerable-device'],
          ['#/list/url', 'emptyList_url'],
          ['#/list/domain', 'emptyList_domain'],
          ['#/hosts', 'emptyHosts'],
          ['#/darknet', 'emptyDarknet'],
          ['#/survey', 'emptySurvey'],
          ['#/graph', 'emptyGraph'],
          ['#/overview', 'emptyNewestC2'],
          ['#/hygiene', 'emptyHygiene'],
          ['#/sensors', 'emptySensors'],
        ] as const) {
          await openPage(page, hash, '[data-testid=empty]');
          assert.equal(await textOf(page, '[data-testid=empty]'), dict[key], hash);
        }
        // An all-zero trend: a zero axis and a sentence, never a made-up top of 1.
        await openPage(page, '#/overview', 'svg.series');
        const ticks = await page.locator('svg.series text.tick[text-anchor=end]').allTextContents();
        assert.deepEqual(ticks, ['0']);
        assert.match(await textOf(page, 'svg.series'), new RegExp(dict.allZero));
        await page.context().close();
      });

      test(`${lang}: the public self-check and the way back`, async () => {
        const page = await newConsolePage(browser(), lang);
        await page.goto(`${demo.url}/check`);
        await page.waitForSelector('[data-testid=self-check-button]');
        await assertReadable(page, lang, 'self-check');
        await page.click('[data-testid=self-check-button]');
        await page.waitForSelector('[data-testid=self-check-result]');
        await assertReadable(page, lang, 'self-check result');
        await page.click('[data-testid=back-to-console]');
        await page.waitForSelector('input[name=token]');
        await page.context().close();
      });
    }
  },
);
