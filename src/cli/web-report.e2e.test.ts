/**
 * The report form of the malicious-sites page in Chromium, against the hub as `tsunagi serve`
 * wires it (the web room over the same store): a council member reports a URL, sees the
 * verdict, and the report is kept under report:<organisation>.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import {
  CHROMIUM,
  chromiumSuite,
  newConsolePage,
  openPage,
  signIn,
  type TestHub,
} from '../console/testing.ts';
import { silentLogger } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import type { WebTables } from '../web/index.ts';
import { consoleWebOf } from './hub-stack.ts';
import { startRoomsHub } from './e2e-support.ts';

describe(
  'report a URL from the malicious-sites page',
  { skip: !existsSync(CHROMIUM) && 'needs Debian chromium' },
  () => {
    let store: Store;
    let hub: TestHub;
    const browser = chromiumSuite();
    before(async () => {
      ({ hub, store } = await startRoomsHub((db) => ({
        web: consoleWebOf(db, { logger: silentLogger(), registry: new Registry() }),
      })));
    });
    after(() => hub?.close());

    for (const lang of ['ja', 'en'] as const)
      test(`the form reports and shows the verdict (${lang})`, async () => {
        const page = await newConsolePage(browser(), lang);
        await signIn(page, hub.url, hub.tokens.council);
        await openPage(page, '#/web', '[data-testid=web-report-form]');
        await page.fill(
          '[data-testid=web-report-form] input[name=url]',
          `https://smbc-card-verify-${lang}.xyz/login`,
        );
        await page.fill('[data-testid=web-report-form] input[name=brand]', 'smbc-card');
        await page.fill('[data-testid=web-report-form] input[name=description]', 'SMS');
        await page.click('[data-testid=web-report-form] button[type=submit]');
        const result = await page.locator('[data-testid=web-report-result]').innerText();
        assert.match(result, lang === 'ja' ? /判定: (不正|疑わしい)/ : /Verdict: (malicious|suspicious)/);
        assert.match(result, new RegExp(`smbc-card-verify-${lang}\\.xyz`));
        // The score says what it is, and the reporter learns where the report went.
        assert.match(result, lang === 'ja' ? /スコア（0〜1） [01]\.\d{3}/ : /score 0–1 [01]\.\d{3}/);
        assert.match(result, /report:ISP-Sakura/);
        // The reasons are words in the page's language, not the scorer's feature keys.
        assert.doesNotMatch(result, /\b[a-z]+_[a-z_]+\b/);
        // A brand ground among the three shown, in words: the name itself or where it stands
        // (which of the two the refit ranks higher varies).
        assert.match(result, lang === 'ja' ? /ブランド名(「smbc|の位置)/ : /the brand name( "smbc| stands)/);
        const kept = await (store.db as unknown as Kysely<WebTables>)
          .selectFrom('web_sightings')
          .select(['source', 'description'])
          .where('url', '=', `https://smbc-card-verify-${lang}.xyz/login`)
          .execute();
        assert.deepEqual(kept, [{ source: 'report:ISP-Sakura', description: 'brand: smbc-card; SMS' }]);
        // A URL the room cannot read: said in the page's language, the URL quoted back.
        await page.fill('[data-testid=web-report-form] input[name=url]', 'not a url');
        await page.click('[data-testid=web-report-form] button[type=submit]');
        await page.waitForFunction(() =>
          document.querySelector('[data-testid=web-report-result]')?.textContent?.includes('not a url'),
        );
        const bad = await page.locator('[data-testid=web-report-result]').innerText();
        if (lang === 'ja') assert.equal(bad, 'http(s) の URL として読めません: not a url');
        else assert.match(bad, /^Not an http\(s\) URL we can read: not a url \(not a URL: .+\)$/);
        await page.close();
      });
  },
);
