/**
 * Screenshots of every console page (1280x800, Japanese and English) into docs/screenshots/console/,
 * from a hub on loopback filled with the demo-like dataset, in Debian's Chromium.
 *
 *   node --import tsx scripts/screenshots.ts [outDir]
 *
 * Exit codes: 0 written, 1 failed (no Chromium, build or page error; one line on stderr).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  DIST,
  ensureConsoleBuilt,
  fillDemo,
  launchChromium,
  newConsolePage,
  openFirstDetail,
  openPage,
  PAGES,
  ROOT,
  signIn,
} from '../src/console/testing.ts';
import { startTestHub } from '../src/console/testing.ts';

const outDir = process.argv[2] ?? join(ROOT, 'docs/screenshots/console');

/** name, language, how to get there (after signing in as the full tier). */
const SHOTS: [string, 'ja' | 'en', (page: Page) => Promise<void>][] = [
  ['01-overview-ja', 'ja', (p) => go(p, 'overview')],
  ['02-c2-detail-ja', 'ja', (p) => c2Detail(p)],
  ['03-hosts-ja', 'ja', (p) => go(p, 'hosts')],
  ['04-graph-ja', 'ja', (p) => go(p, 'graph')],
  ['05-darknet-ja', 'ja', (p) => go(p, 'darknet')],
  ['06-survey-ja', 'ja', (p) => go(p, 'survey')],
  ['07-overview-en', 'en', (p) => go(p, 'overview')],
  ['08-c2-detail-en', 'en', (p) => c2Detail(p)],
  ['09-graph-en', 'en', (p) => go(p, 'graph')],
  ['10-sharing-en', 'en', (p) => go(p, 'sharing')],
  ['11-audit-en', 'en', (p) => go(p, 'audit')],
];

async function c2Detail(page: Page): Promise<void> {
  await go(page, 'c2');
  await openFirstDetail(page);
  await page.waitForSelector('[data-testid=evidence] tbody tr'); // its chunk loads with the first detail
}

function go(page: Page, name: string): Promise<void> {
  const target = PAGES.find((p) => p.name === name)!;
  return openPage(page, target.hash, target.ready);
}

async function main(): Promise<void> {
  ensureConsoleBuilt();
  mkdirSync(outDir, { recursive: true });
  const hub = await startTestHub({ console: { distDir: DIST } });
  const browser = await launchChromium();
  try {
    await fillDemo(hub);
    for (const [name, lang, reach] of SHOTS) {
      const page = await newConsolePage(browser, lang);
      await signIn(page, hub.url, hub.tokens.full);
      await reach(page);
      await page.waitForTimeout(300); // the lazily loaded map and fonts settle
      await page.screenshot({ path: join(outDir, `${name}.png`) });
      await page.context().close();
      process.stderr.write(`${name}.png\n`);
    }
    // The public self-check, from a listed address (the browser's own, 127.0.0.1).
    const page = await newConsolePage(browser, 'ja');
    await page.goto(`${hub.url}/check`);
    await page.click('[data-testid=self-check-button]');
    await page.waitForSelector('[data-testid=self-check-result]');
    await page.screenshot({ path: join(outDir, '12-self-check-ja.png') });
    process.stderr.write('12-self-check-ja.png\n');
  } finally {
    await browser.close();
    await hub.close();
  }
}

/**
 * The rooms the demo fills beside the flows (phishing, OSINT, the runbook of its configuration),
 * from `tsunagi demo` itself: its console once the replay has ended, signed in as the full tier.
 */
const DEMO_SHOTS: [string, 'ja' | 'en', string][] = [
  ['13-web-ja', 'ja', 'web'],
  ['14-osint-ja', 'ja', 'osint'],
  ['15-runbook-ja', 'ja', 'runbook'],
  ['16-web-en', 'en', 'web'],
  ['17-osint-en', 'en', 'osint'],
];

async function demoScreenshots(): Promise<void> {
  const data = mkdtempSync(join(tmpdir(), 'tsunagi-shots-'));
  const demo = spawn(
    join(ROOT, 'bin/tsunagi'),
    [
      'demo',
      '--data',
      data,
      '--hub',
      '127.0.0.1:0',
      '--hours',
      '3',
      '--subscribers',
      '300',
      '--rate',
      '60000',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const ready = new Promise<{ url: string; token: string }>((resolve, reject) => {
    demo.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const token = /full +Demo Analysis Center +(tsg_\S+)/.exec(stderr)?.[1];
      const url = /open (http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr)?.[1];
      if (token && url && /^OSINT: /m.test(stderr)) resolve({ url, token });
    });
    demo.once('exit', (code) =>
      reject(new Error(`demo ended (${code}) before its replay: ${stderr.slice(-300)}`)),
    );
  });
  const browser = await launchChromium();
  try {
    const { url, token } = await ready;
    for (const [name, lang, pageName] of DEMO_SHOTS) {
      const page = await newConsolePage(browser, lang, { width: 1280, height: 1000 });
      await signIn(page, url, token);
      if (pageName === 'runbook') await openPage(page, '#/runbook', 'section[data-page=runbook] h2');
      else await go(page, pageName);
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(outDir, `${name}.png`) });
      await page.context().close();
      process.stderr.write(`${name}.png\n`);
    }
  } finally {
    await browser.close();
    demo.kill('SIGINT');
    await new Promise((resolve) => demo.once('exit', resolve));
    rmSync(data, { recursive: true, force: true });
  }
}

main()
  .then(demoScreenshots)
  .catch((error: unknown) => {
    process.stderr.write(`screenshots: ${(error as Error).message.split('\n')[0]}\n`);
    process.exit(1);
  });
