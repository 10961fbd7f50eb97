/// <reference lib="dom" />
/**
 * The OSINT page (issue #20) over the osint room's tables and intel, wired as `serve` and `start`
 * wire it: documents of three feeds marked CLEAR, GREEN and RED, their indicators extracted by
 * the room and recorded in intel through its OSINT intake. The API gives each tier only the
 * documents the release decision lets it read (and an intel link only for indicators it may
 * read), filters by words, type and language; in Chromium the page draws the cards, the per-day
 * chart and both tables in Japanese and English, and the search narrows them.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { OsintBody } from '../console/index.ts';
import {
  CHROMIUM,
  chromiumSuite,
  newConsolePage,
  openPage,
  signIn,
  type TestHub,
} from '../console/testing.ts';
import { recordOsintDocument, type Intel, type Tlp } from '../intel/index.ts';
import { documentLanguage, extractIndicators, type OsintTables } from '../osint/index.ts';
import { storeDocument } from '../osint/testing.ts';
import type { Kysely } from 'kysely';
import { consoleOsintOf } from './hub-stack.ts';
import { startRoomsHub } from './e2e-support.ts';

const DAY = 86_400_000;
const DOCUMENTS: { feed: string; tlp: Tlp; title: string; text: string; daysAgo: number }[] = [
  {
    feed: 'jpcert',
    tlp: 'clear',
    title: 'フィッシング注意喚起',
    text: '攻撃者は hxxps://update-check[.]net/gate.php を通信先として使用し、C2 サーバ 91.234.99[.]12:8443 に接続しました。CVE-2024-3400 と T1190 を悪用。',
    daysAgo: 3,
  },
  {
    feed: 'vendor',
    tlp: 'green',
    title: 'Loader analysis',
    text:
      'The loader beacons to cdn-updates[.]org and 45.77.3.3. SHA-256 ' +
      'ab12'.repeat(16) +
      ' (CVE-2023-4966).',
    daysAgo: 1,
  },
  {
    feed: 'partner',
    tlp: 'red',
    title: 'Partner only',
    text: 'Operator panel at panel-secret[.]com, CVE-2022-1388.',
    daysAgo: 0,
  },
];

async function seed(db: Kysely<OsintTables>, intel: Intel): Promise<void> {
  for (const [i, d] of DOCUMENTS.entries()) {
    const fetchedAt = new Date(Date.now() - d.daysAgo * DAY).toISOString();
    const indicators = extractIndicators(d.text);
    const document = {
      id: String(i + 1).repeat(64),
      source: d.feed,
      url: `https://${d.feed}.example.org/${i}`,
      title: d.title,
      contentType: 'text/html',
      bytes: d.text.length,
      fetchedAt,
      tlp: d.tlp,
      language: documentLanguage(d.text),
    };
    await storeDocument(db, document, indicators);
    await recordOsintDocument(intel, { ...document, feed: d.feed }, indicators, { tlp: d.tlp });
  }
}

async function osintOf(hub: TestHub, token: string, query = ''): Promise<OsintBody> {
  const response = await fetch(`${hub.url}/console/api/osint${query}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
  });
  assert.equal(response.status, 200);
  return (await response.json()) as OsintBody;
}

describe('OSINT console page', () => {
  let hub: TestHub;
  before(async () => {
    const rooms = await startRoomsHub((db) => ({ osint: consoleOsintOf(db) }));
    hub = rooms.hub;
    await seed(rooms.store.db as unknown as Kysely<OsintTables>, hub.ctx.intel as Intel);
  });
  after(() => hub?.close());

  test('each tier reads the documents its clearance allows, intel links included', async () => {
    const titles = async (token: string) => (await osintOf(hub, token)).documents.map((d) => d.title).sort();
    assert.deepEqual(await titles(hub.tokens.public), ['フィッシング注意喚起']);
    assert.deepEqual(await titles(hub.tokens.council), ['Loader analysis', 'フィッシング注意喚起']);
    assert.deepEqual(await titles(hub.tokens.full), [
      'Loader analysis',
      'Partner only',
      'フィッシング注意喚起',
    ]);
    const publicBody = JSON.stringify(await osintOf(hub, hub.tokens.public));
    assert.doesNotMatch(publicBody, /cdn-updates|45\.77\.3\.3|panel-secret|vendor|partner/);
    const council = await osintOf(hub, hub.tokens.council);
    assert.doesNotMatch(JSON.stringify(council), /panel-secret|partner/);
    const linked = council.indicators.filter((i) => i.intel).map((i) => `${i.type} ${i.value} ${i.port}`);
    assert.deepEqual(linked.sort(), [
      'domain cdn-updates.org 0',
      'ipv4 45.77.3.3 0',
      'ipv4 91.234.99.12 8443',
      'url https://update-check.net/gate.php 0',
    ]);
    assert.equal(council.inIntel, 4);
    // Hashes, CVE and ATT&CK ids stay in the osint room: never an intel link.
    assert.ok(council.indicators.some((i) => i.type === 'cve' && i.intel === null));
    const full = await osintOf(hub, hub.tokens.full);
    assert.equal(full.documentCount, 3);
    assert.deepEqual(
      full.documents.map((d) => `${d.title} ${d.language} ${d.tier} ${d.tlp}`),
      [
        'Partner only en full red',
        'Loader analysis en council green',
        'フィッシング注意喚起 ja public clear',
      ],
    );
    // Indicators per day by type: three days with documents.
    assert.deepEqual([...new Set(full.daily.map((d) => d.day))].length, 3);
    assert.ok(full.labels.length === 30 && full.daily.every((d) => full.labels.includes(d.day)));
  });

  test('filters: words in a value or context, a type, a language, a feed; a bad filter is a 400', async () => {
    const words = await osintOf(hub, hub.tokens.full, '?q=CDN-updates');
    assert.deepEqual(
      words.documents.map((d) => d.title),
      ['Loader analysis'],
    );
    // The value itself, and its neighbours whose sentence names it.
    assert.ok(words.indicators.some((i) => i.value === 'cdn-updates.org'));
    assert.ok(words.indicators.every((i) => `${i.value} ${i.context}`.toLowerCase().includes('cdn-updates')));
    assert.equal(words.indicators.length, 3);
    const cves = await osintOf(hub, hub.tokens.full, '?type=cve');
    assert.deepEqual(cves.indicators.map((i) => i.value).sort(), [
      'CVE-2022-1388',
      'CVE-2023-4966',
      'CVE-2024-3400',
    ]);
    assert.deepEqual(cves.byType, [{ type: 'cve', count: 3 }]);
    const japanese = await osintOf(hub, hub.tokens.full, '?lang=ja');
    assert.deepEqual(
      japanese.documents.map((d) => d.source),
      ['jpcert'],
    );
    const feed = await osintOf(hub, hub.tokens.full, '?source=partner');
    assert.deepEqual(feed.indicators.map((i) => i.type).sort(), ['cve', 'domain']);
    // A pattern's own wildcards are words, not wildcards.
    assert.equal((await osintOf(hub, hub.tokens.full, '?q=%25')).documentCount, 0);
    const bad = await fetch(`${hub.url}/console/api/osint?type=bogus`, {
      headers: { authorization: `Bearer ${hub.tokens.full}`, accept: 'application/json' },
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { description: string }).description, /Invalid option|expected/);
  });

  describe('in Chromium', { skip: !existsSync(CHROMIUM) && 'needs Debian chromium' }, () => {
    const browser = chromiumSuite();

    for (const lang of ['ja', 'en'] as const)
      test(`documents, chart, indicators and search (${lang})`, async () => {
        const page = await newConsolePage(browser(), lang);
        try {
          await walkPage(page, hub, lang);
        } finally {
          await page.context().close();
        }
      });
  });
});

async function walkPage(page: Page, hub: TestHub, lang: 'ja' | 'en'): Promise<void> {
  await signIn(page, hub.url, hub.tokens.council);
  await openPage(page, '#/osint', 'section[data-page=osint] [data-testid=osint-per-day]');
  assert.equal(await page.locator('[data-testid=osint-document-count]').innerText(), '2');
  assert.equal(await page.locator('[data-testid=osint-in-intel]').innerText(), '4');
  const documents = await page.locator('[data-testid=osint-documents] tbody').innerText();
  assert.match(documents, lang === 'ja' ? /日本語/ : /Japanese/);
  assert.match(documents, /TLP:GREEN/);
  assert.doesNotMatch(documents, /Partner only/);
  const section = await page.locator('section[data-page=osint]').innerText();
  // Every label is translated: no dictionary key shows through.
  assert.doesNotMatch(section, /\b(otype|lang|tier|osint)[A-Z_]/);
  assert.match(section, lang === 'ja' ? /種類別・日別の指標数/ : /Indicators per day by type/);
  assert.ok((await page.locator('[data-testid=osint-intel-link]').count()) >= 4);
  // Every hit is marked in its sentence as written, defanged ones too (the value is refanged), and
  // no marked hit (a 64-character hash) runs past the edge of its cell into the next column.
  const cells = await page.locator('[data-testid=osint-indicators] tbody td.context').evaluateAll((tds) =>
    tds.map((td) => {
      const mark = td.querySelector('mark');
      const inside = !mark || mark.getBoundingClientRect().right <= td.getBoundingClientRect().right + 0.5;
      return { mark: mark?.textContent ?? null, inside };
    }),
  );
  assert.ok(
    cells.every((c) => c.mark !== null),
    JSON.stringify(cells),
  );
  assert.ok(
    cells.some((c) => c.mark === 'hxxps://update-check[.]net/gate.php'),
    JSON.stringify(cells),
  );
  assert.ok(
    cells.some((c) => c.mark === 'cdn-updates[.]org'),
    JSON.stringify(cells),
  );
  assert.ok(
    cells.every((c) => c.inside),
    JSON.stringify(cells),
  );
  // A type (ドメイン, SHA-256) stays on one line in its column.
  const typeLines = await page
    .locator('[data-testid=osint-indicators] tbody td:first-child')
    .evaluateAll((tds) =>
      tds.map((td) => {
        const range = document.createRange();
        range.selectNodeContents(td);
        return `${td.textContent}:${range.getClientRects().length}`;
      }),
    );
  assert.ok(
    typeLines.every((line) => line.endsWith(':1')),
    typeLines.join(' '),
  );

  await page.fill('[data-testid=osint-search]', 'cdn-updates');
  await page.press('[data-testid=osint-search]', 'Enter');
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid=osint-indicators] tbody tr').length === 3,
  );
  const rows = await page.locator('[data-testid=osint-indicators] tbody').innerText();
  assert.match(rows, /cdn-updates\.org/);
  assert.match(rows, /Loader analysis/);
  assert.doesNotMatch(rows, /update-check/);

  await page.fill('[data-testid=osint-search]', '');
  await page.press('[data-testid=osint-search]', 'Enter');
  await page.selectOption('[data-testid=osint-type]', 'cve');
  await page.waitForFunction(
    () =>
      Array.from(document.querySelectorAll('[data-testid=osint-indicators] tbody tr td:first-child')).every(
        (td) => td.textContent === 'CVE',
      ) && document.querySelectorAll('[data-testid=osint-indicators] tbody tr').length === 2,
  );
}
