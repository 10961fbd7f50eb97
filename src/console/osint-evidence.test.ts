/**
 * An indicator that several published documents name: its detail (full tier) lists every one of
 * them, once per feed and document, and no reader below the full tier gets the list.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { recordOsintDocument } from '../intel/index.ts';
import type { IndicatorDetailBody, IndicatorPageBody } from './api/types.ts';
import { startTestHub, type TestHub } from './testing.ts';

let hub: TestHub;
const NOW = Date.now();
const get = async <T>(path: string, token: string): Promise<{ status: number; body: T }> => {
  const response = await fetch(`${hub.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as T };
};

const advisory = (n: number) => ({
  id: String(n).repeat(64),
  feed: 'vendor',
  url: `https://blog.vendor-feeds.org/${n}`,
  title: `Advisory ${n}`,
  // Hours ago, in order: the indicator is live and the documents come oldest first.
  fetchedAt: new Date(NOW - (4 - n) * 3_600_000).toISOString(),
});

before(async () => {
  hub = await startTestHub();
  const named = (context: string) => [{ type: 'domain', value: 'update-check.net', context }];
  for (const n of [1, 2, 3])
    await recordOsintDocument(hub.ctx.intel, advisory(n), named(`mention ${n}`), { tlp: 'clear' });
  // The first advisory read again: still one row.
  await recordOsintDocument(hub.ctx.intel, advisory(1), named('again'), { tlp: 'clear' });
});
after(() => hub.close());

test('the detail of an indicator lists every document that names it, once each, at the full tier only', async () => {
  const page = await get<IndicatorPageBody>('/console/api/indicators?kind=domain', hub.tokens.full);
  const ref = page.body.items.find((i) => i.value === 'update-check.net')!.ref;
  const full = await get<IndicatorDetailBody>(`/console/api/indicators/${ref}`, hub.tokens.full);
  assert.equal(full.status, 200);
  assert.equal(full.body.documentsTotal, 3);
  assert.deepEqual(
    full.body.documents?.map((d) => [d.source, d.url, d.title, d.context]),
    [1, 2, 3].map((n) => ['osint:vendor', advisory(n).url, `Advisory ${n}`, `mention ${n}`]),
  );
  assert.deepEqual(
    full.body.sightings?.map((s) => [s.source, s.count]),
    [['osint:vendor', 4]],
  );
  // OSINT alone is a council indicator: the council reads it, without its sources or documents.
  const council = await get<IndicatorDetailBody>(`/console/api/indicators/${ref}`, hub.tokens.council);
  assert.equal(council.status, 200);
  assert.equal(council.body.documents, undefined);
  assert.equal((await get(`/console/api/indicators/${ref}`, hub.tokens.public)).status, 404);
});
