/// <reference lib="dom" />
/**
 * End to end: Debian's Chromium (headless, driven by playwright-core) against a hub on loopback
 * filled from a generated scenario. Signs in, watches a new C&C server arrive live, filters,
 * switches language, runs the public self-check for a listed and an unlisted address, and checks
 * that a lower-tier organisation cannot see higher-tier objects. Screenshots of every page go to
 * test-results/console/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium, ROOT, scenarioSightings, startTestHub, type TestHub } from './testing.ts';

// The console under test is built from this checkout's sources for every run, into a fresh
// directory: a console/dist left from an older build would test stale code.
const DIST = mkdtempSync(join(tmpdir(), 'tsunagi-console-e2e-'));
const SHOTS = join(ROOT, 'test-results/console');

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

/** Builds the console under test from this checkout's sources into DIST. */
function buildConsole(): void {
  const built = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      'console',
      '--outDir',
      DIST,
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
  assert.equal(built.status, 0, 'vite build of the console');
  mkdirSync(SHOTS, { recursive: true });
}

/** The generated scenario in the hub, and 127.0.0.1 listed for public notice; gives one full-only and one public C&C. */
async function fillFromScenario(hub: TestHub): Promise<{ fullOnlyC2: string; publicC2: string }> {
  const sightings = scenarioSightings();
  for (let i = 0; i < sightings.length; i += 500)
    await hub.ctx.intel.recordSightings(sightings.slice(i, i + 500), 'scenario');
  const c2 = sightings.filter((s) => s.type === 'c2');
  const fullOnlyC2 = c2.find((s) => s.tier === 'full')!.value;
  const publicC2 = c2.find((s) => s.tier === 'public')!.value;
  // The browser connects from 127.0.0.1: list that address as an infected host, released by
  // the analysis centre for notice to its holder (the self-check tells only public notice).
  await hub.ctx.intel.recordSighting({
    type: 'bot',
    value: '127.0.0.1',
    source: 'darknet-nicter',
    confidence: 90,
    family: 'mirai',
    tier: 'public',
    tlp: 'clear',
    attributes: { country: 'JP' },
  });
  return { fullOnlyC2, publicC2 };
}

/** Signed in at the full tier: the overview's live C&C, the C&C table's filter and detail, the language switch, every page. */
async function analystWalk(page: Page, hub: TestHub): Promise<void> {
  await page.waitForSelector('[data-testid=newest-c2]');
  await page.waitForSelector('[data-testid=live-state].on');
  assert.match((await page.textContent('[data-testid=page-title]')) ?? '', /概要/);
  await shot(page, '01-overview-ja');

  // A new C&C server appears without a reload.
  await hub.ctx.intel.recordSighting({
    type: 'c2',
    value: '203.0.113.200',
    port: 7547,
    proto: 'tcp',
    family: 'mozi',
    source: 'isp-sakura-detector',
    confidence: 88,
    tier: 'council',
    tlp: 'amber',
  });
  await page.waitForFunction(
    () => document.querySelector('[data-testid=newest-c2]')?.textContent?.includes('203.0.113.200'),
    undefined,
    { timeout: 5000 },
  );
  await page.waitForSelector('[data-testid=live-flash]');
  await shot(page, '02-overview-live-c2');

  // C&C table: filter by family, open a detail.
  await page.click('[data-nav=c2]');
  await page.waitForSelector('[data-testid=indicator-table] tbody tr');
  await page.fill('input[name=family]', 'mozi');
  await page.waitForFunction(() => {
    const rows = Array.from(document.querySelectorAll('[data-testid=indicator-table] tbody tr'));
    return rows.length === 1 && rows[0]!.textContent!.includes('203.0.113.200');
  });
  await page.fill('input[name=family]', '');
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid=indicator-table] tbody tr').length > 1,
  );
  await shot(page, '03-c2-table');
  await page.click('[data-testid=indicator-table] tbody tr:first-child a');
  await page.waitForSelector('[data-testid=detail] table');
  assert.match((await page.textContent('[data-testid=detail]')) ?? '', /isp-sakura-detector/);
  await shot(page, '04-c2-detail');

  // Language switch.
  await page.click('[data-testid=lang-switch]');
  await page.click('[data-nav=overview]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid=page-title]')?.textContent === 'Overview',
  );
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  // The live banner follows the language too.
  assert.match(
    (await page.textContent('[data-testid=live-flash]')) ?? '',
    /^\+ C&C servers 203\.0\.113\.200$/,
  );
  await shot(page, '05-overview-en');
  await page.click('[data-testid=lang-switch]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid=page-title]')?.textContent === '概要',
  );

  for (const [nav, name, ready] of [
    ['hosts', '06-hosts', 'svg.map path.country'],
    ['darknet', '07-darknet', 'svg.series polyline'],
    ['survey', '08-survey', 'svg.bars rect'],
    ['graph', '09-graph', 'svg.graph circle'],
    ['sharing', '10-sharing', 'section[data-page=sharing] table'],
    ['audit', '11-audit', '[data-testid=audit-verification]'],
  ] as const) {
    await page.click(`[data-nav=${nav}]`);
    await page.waitForSelector(ready);
    await shot(page, name);
  }
  assert.match((await page.textContent('[data-testid=audit-verification]')) ?? '', /正常/);
}

describe(
  'console in Chromium',
  { skip: !existsSync(CHROMIUM) && `${CHROMIUM} missing (apt-get install -y chromium)` },
  () => {
    let hub: TestHub;
    let browser: Browser;
    const cspViolations: string[] = [];
    let fullOnlyC2: string;
    let publicC2: string;

    before(async () => {
      buildConsole();
      hub = await startTestHub({
        console: { distDir: DIST, live: { batchMs: 200, heartbeatMs: 10_000, maxClients: 20 } },
      });
      ({ fullOnlyC2, publicC2 } = await fillFromScenario(hub));
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await hub?.close();
      rmSync(DIST, { recursive: true, force: true });
    });

    async function newPage(lang: 'ja' | 'en' = 'ja'): Promise<Page> {
      const context = await browser.newContext({
        viewport: { width: 1280, height: 860 },
        locale: lang === 'ja' ? 'ja-JP' : 'en-US',
      });
      const page = await context.newPage();
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
      });
      return page;
    }
    async function signIn(page: Page, token: string) {
      await page.goto(`${hub.url}/`);
      await page.fill('input[name=token]', token);
      await page.click('button[type=submit]');
      await page.waitForSelector('[data-testid=tier]');
      assert.ok(!page.url().includes(token), 'the token never goes into the URL');
    }

    test('full-tier analyst: live C&C, filters, language, every page', async () => {
      const page = await newPage();
      await signIn(page, hub.tokens.full);
      await analystWalk(page, hub);
      await page.context().close();
    });

    test('a public-tier vendor cannot see higher-tier objects through the UI', async () => {
      const page = await newPage();
      await signIn(page, hub.tokens.public);
      await page.click('[data-nav=c2]');
      await page.waitForSelector('[data-testid=indicator-table] tbody tr');
      const text = (await page.textContent('body')) ?? '';
      assert.ok(text.includes(publicC2), 'the public C&C server is listed');
      assert.ok(!text.includes(fullOnlyC2), 'the full-tier C&C server is not');
      assert.ok(!text.includes('203.0.113.200'), 'nor the council one');
      assert.equal(await page.locator('[data-nav=hosts]').count(), 0, 'no host pages in the menu');
      await shot(page, '12-public-tier-c2');
      // Typing the address of a full-tier page gives a refusal, not data.
      await page.goto(`${hub.url}/#/hosts`);
      await page.waitForSelector('p.error');
      assert.match((await page.textContent('p.error')) ?? '', /表示できません/);
      await page.goto(`${hub.url}/#/graph`);
      await page.waitForSelector('svg.graph circle');
      assert.ok(!((await page.textContent('svg.graph')) ?? '').includes(fullOnlyC2));
      await page.context().close();
    });

    test('public self-check: listed, then unlisted after withdrawal', async () => {
      const page = await newPage();
      await page.goto(`${hub.url}/check`);
      await page.click('[data-testid=self-check-button]');
      await page.waitForSelector('[data-testid=self-check-result]');
      assert.equal(await page.getAttribute('[data-testid=self-check-result]', 'data-listed'), 'true');
      const listedText = (await page.textContent('[data-testid=self-check-result]')) ?? '';
      assert.match(listedText, /127\.0\.0\.1/);
      assert.match(listedText, /感染/);
      assert.ok(!listedText.includes('198.'), 'nothing about any other address');
      await shot(page, '13-self-check-listed-ja');
      await hub.ctx.intel.withdraw({ kind: 'bot', value: '127.0.0.1' }, 'cleaned up by the user', 'e2e');
      await page.click('[data-testid=lang-switch]');
      await page.click('[data-testid=self-check-button]');
      await page.waitForSelector('[data-testid=self-check-result][data-listed=false]');
      assert.match((await page.textContent('[data-testid=self-check-result]')) ?? '', /not listed/);
      await shot(page, '14-self-check-unlisted-en');
      await page.context().close();
    });

    test('the C&C table pages forward and back by cursor, keeping the first page’s total', async () => {
      const extra = Array.from({ length: 30 }, (_, i) => ({
        type: 'c2' as const,
        value: `192.0.2.${i + 1}`,
        port: 8000 + i,
        proto: 'tcp',
        family: 'paging',
        source: 'e2e',
        confidence: 50,
        tier: 'full' as const,
        tlp: 'amber' as const,
      }));
      await hub.ctx.intel.recordSightings(extra);
      const page = await newPage();
      await signIn(page, hub.tokens.full);
      await page.click('[data-nav=c2]');
      await page.fill('input[name=family]', 'paging');
      const pager = () => page.textContent('.pager span');
      // The unfiltered first page may still arrive first: wait for the filtered one.
      await page.waitForFunction(() => document.querySelector('.pager span')?.textContent === '1–25 / 30');
      const addresses = () =>
        page.locator('[data-testid=indicator-table] tbody tr td:first-child').allTextContents();
      const firstPage = await addresses();
      await page.click('.pager button:last-child');
      await page.waitForFunction(() =>
        document.querySelector('.pager span')?.textContent?.startsWith('26–30 '),
      );
      assert.match(
        (await pager()) ?? '',
        /^26–30 \/ 30$/,
        'the total is kept on a page asked without a count',
      );
      assert.equal(
        await page.locator('.pager button:last-child').isDisabled(),
        true,
        'no page after the last',
      );
      const secondPage = await addresses();
      assert.equal(secondPage.length, 5);
      assert.deepEqual(
        [...firstPage, ...secondPage].sort(),
        extra.map((e) => e.value).sort(),
        'the two pages hold every row once',
      );
      await page.click('.pager button:first-child');
      await page.waitForFunction(() =>
        document.querySelector('.pager span')?.textContent?.startsWith('1–25 '),
      );
      assert.deepEqual(await addresses(), firstPage);
      await page.context().close();
    });

    test('no Content-Security-Policy violations on any page', () => {
      assert.deepEqual(cspViolations, []);
    });
  },
);
