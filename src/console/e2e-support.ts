/**
 * Shared by the browser tests and scripts/screenshots.ts (never by the hub): a console build that
 * matches its sources, demo-like hygiene surveys, Debian's Chromium, and the list of every page
 * with what shows it is ready. The test hub and its demo dataset (fillDemo) are testing.ts's,
 * which re-exports this module; nothing here imports it back.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Registry } from 'prom-client';
import { DEFAULT_CHROMIUM, silentLogger } from '../core/index.ts';
import {
  createHygiene,
  createHygieneReader,
  HygieneConfig,
  hygieneMigrations,
  type HygieneReader,
  type HygieneTables,
} from '../hygiene/index.ts';
import { surveyRow as surveyed } from '../hygiene/testing.ts';

export const CHROMIUM = DEFAULT_CHROMIUM;
export const ROOT = resolve(import.meta.dirname, '../..');
export const DIST = join(ROOT, 'console/dist');

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Runs `vite build console` when the build is missing or older than any of its sources. */
export function ensureConsoleBuilt(): void {
  const built = join(DIST, 'index.html');
  const sources = ['src', 'public', 'index.html', 'vite.config.ts'].map((p) => join(ROOT, 'console', p));
  const newest = Math.max(...sources.filter(existsSync).map(newestMtime));
  if (existsSync(built) && statSync(built).mtimeMs >= newest) return;
  const result = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', 'console', '--logLevel', 'warn'],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (result.status !== 0) throw new Error(`vite build of the console failed (${result.status})`);
}

/**
 * Two monthly hygiene surveys of a few organisations in three sectors, recorded through the
 * hygiene room into its own tables (its migrations on an in-memory SQLite), and its reader.
 */
export async function demoHygiene(): Promise<{ reader: HygieneReader; close(): Promise<void> }> {
  const db = new Kysely<HygieneTables>({
    dialect: new SqliteDialect({ database: new SqliteDatabase(':memory:') }),
  });
  const migrated = await new Migrator({
    db,
    provider: { getMigrations: async () => hygieneMigrations },
  }).migrateToLatest();
  if (migrated.error) throw migrated.error;
  const hygiene = createHygiene(HygieneConfig.parse({}), {
    logger: silentLogger(),
    registry: new Registry(),
    db,
  });
  const good = { spf: 'strict', dmarc_policy: 'reject', hsts: 'yes', ipv6: 'web+mail' } as const;
  await hygiene.record('2026-11', new Date('2026-11-02T01:00:00Z'), [
    surveyed('bank.example.jp', 'Example Bank', 'finance', { spf: 'softfail', dmarc_policy: 'none' }),
    surveyed('shinkin.example.jp', 'Example Shinkin', 'finance', {}),
    surveyed('power.example.jp', 'Example Power', 'energy', { dnssec: 'bogus', spf: 'permissive' }),
    surveyed('gas.example.jp', 'Example Gas', 'energy', { spf: 'strict' }),
    surveyed('city.example.lg.jp', 'Example City', 'government', { dmarc_policy: 'quarantine' }),
  ]);
  await hygiene.record('2026-12', new Date('2026-12-01T01:00:00Z'), [
    surveyed('bank.example.jp', 'Example Bank', 'finance', { ...good, dnssec: 'secure' }),
    surveyed('shinkin.example.jp', 'Example Shinkin', 'finance', { spf: 'softfail' }),
    surveyed('power.example.jp', 'Example Power', 'energy', { spf: 'strict', dmarc_policy: 'none' }),
    surveyed('gas.example.jp', 'Example Gas', 'energy', { spf: 'strict', dmarc_policy: 'reject' }),
    surveyed('city.example.lg.jp', 'Example City', 'government', { ...good, mta_sts: 'enforce' }),
  ]);
  return { reader: createHygieneReader(db), close: () => db.destroy() };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Chromium for the tests of the `describe` block this is called in: the console built (when its
 * build is stale) and the browser launched before them, the browser closed after them. Hooks the
 * block adds later run after these. The browser, once the block's tests run: `browser()`.
 */
export function chromiumSuite(): () => Browser {
  let browser: Browser | undefined;
  before(async () => {
    ensureConsoleBuilt();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  return () => browser!;
}

export async function newConsolePage(
  browser: Browser,
  lang: 'ja' | 'en',
  viewport = { width: 1280, height: 800 },
): Promise<Page> {
  const context = await browser.newContext({ viewport, locale: lang === 'ja' ? 'ja-JP' : 'en-US' });
  // The language is the console's own choice (kept in localStorage), set before any script runs.
  await context.addInitScript((l) => localStorage.setItem('tsunagi.lang', l), lang);
  return context.newPage();
}

export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=tier]');
}

/** Every route of the console, with a selector that says its data has been drawn. */
export const PAGES: { name: string; hash: string; ready: string }[] = [
  {
    name: 'overview',
    hash: '#/overview',
    ready: '[data-testid=newest-c2], section[data-page=overview] .empty',
  },
  { name: 'c2', hash: '#/c2', ready: '[data-testid=indicator-table], [data-testid=empty]' },
  { name: 'bots', hash: '#/list/bot', ready: '[data-testid=indicator-table], [data-testid=empty]' },
  {
    name: 'devices',
    hash: '#/list/vulnerable-device',
    ready: '[data-testid=indicator-table], [data-testid=empty]',
  },
  { name: 'urls', hash: '#/list/url', ready: '[data-testid=indicator-table], [data-testid=empty]' },
  { name: 'domains', hash: '#/list/domain', ready: '[data-testid=indicator-table], [data-testid=empty]' },
  { name: 'hosts', hash: '#/hosts', ready: '[data-testid=map] .marker, section[data-page=hosts] .empty' },
  { name: 'darknet', hash: '#/darknet', ready: 'svg.series, section[data-page=darknet] .empty' },
  { name: 'survey', hash: '#/survey', ready: 'svg.bars, section[data-page=survey] .empty' },
  { name: 'graph', hash: '#/graph', ready: '[data-testid=graph], section[data-page=graph] .empty' },
  { name: 'sharing', hash: '#/sharing', ready: 'section[data-page=sharing] table' },
  { name: 'audit', hash: '#/audit', ready: '[data-testid=audit-verification]' },
  { name: 'pipeline', hash: '#/pipeline', ready: 'section[data-page=pipeline]' },
  {
    name: 'hygiene',
    hash: '#/hygiene',
    ready: 'section[data-page=hygiene] svg.series, section[data-page=hygiene] .empty',
  },
  {
    name: 'sensors',
    hash: '#/sensors',
    ready: 'section[data-page=sensors] svg.series, section[data-page=sensors] .empty',
  },
  { name: 'web', hash: '#/web', ready: 'section[data-page=web] svg.bars, section[data-page=web] .empty' },
  {
    name: 'osint',
    hash: '#/osint',
    ready: 'section[data-page=osint] [data-testid=osint-per-day], section[data-page=osint] .empty',
  },
];

/** Opens a page by its route and waits until it has drawn its data. */
export async function openPage(page: Page, hash: string, ready: string): Promise<void> {
  await page.evaluate((h) => (location.hash = h), hash);
  await page.waitForSelector(ready, { timeout: 15_000 });
}

/** Opens the first row's detail of a list and waits for it. */
export async function openFirstDetail(page: Page): Promise<void> {
  await page.click('[data-testid=indicator-table] tbody tr:first-child a');
  await page.waitForSelector('[data-testid=detail] h2');
  await page.waitForSelector('[data-testid=detail] table, [data-testid=detail] dl');
}
