/**
 * Pins the URL verdict's host-context part (host-context.ts) on 600 seeded, real-looking URLs
 * whose hosts have subdomains (the model's subdomain tokens with fresh digits, common words,
 * brands and their look-alikes, random letters and digits, hyphens and underscores, `www`
 * prefixes, depths up to four, platform tenants, official domains, IP hosts) and paths: URL and
 * host-name scores to the bit, both verdicts, brands and every reason, as the code before the
 * host-context part was hand-tuned gave them under the model copied (with its `url.context`) to
 * testdata/model-context-pinned.json. A speed change that alters any of it fails here; a refit
 * of model.json does not, as the pinned model is a copy.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createBrandIndex, normaliseUrl } from '../index.ts';
import { createScorer, type FittedModel } from './model.ts';

type Pinned = [string, number, string, number, string, string | null, { feature: string }[]];

const here = new URL('./testdata/', import.meta.url);
const model = JSON.parse(readFileSync(new URL('model-context-pinned.json', here), 'utf8')) as FittedModel;
const pinned = readFileSync(new URL('pinned-url-context.ndjson', here), 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => JSON.parse(line) as Pinned);

test('600 pinned URLs with subdomains score as before the host context was hand-tuned, to the bit', () => {
  assert.equal(pinned.length, 600);
  assert.ok(model.url?.context, 'the pinned model has a host-context part');
  const scorer = createScorer(model, createBrandIndex());
  const verdicts = new Set<string>();
  const seen = { sub_token_max: 0, host_shape: 0, brand_place: 0, sub_style: 0 };
  for (const [url, score, verdict, hostScore, hostVerdict, brand, reasons] of pinned) {
    const row = scorer.score(normaliseUrl(url));
    assert.equal(row.score, score, url);
    assert.equal(row.verdict, verdict, url);
    assert.equal(row.hostScore, hostScore, url);
    assert.equal(row.hostVerdict, hostVerdict, url);
    assert.equal(row.brand, brand, url);
    assert.deepEqual(row.reasons, reasons, url);
    verdicts.add(verdict);
    for (const key of Object.keys(seen) as (keyof typeof seen)[])
      if (reasons.some((r) => r.feature.startsWith(key))) seen[key]++;
  }
  assert.deepEqual([...verdicts].sort(), ['benign', 'malicious', 'suspicious'], 'every verdict is pinned');
  for (const [key, count] of Object.entries(seen)) assert.ok(count > 200, `${key} weighs in many pinned URLs (${count})`);
});

test('the pinned URLs scored twice in a row give the same rows (no state kept between URLs)', () => {
  const scorer = createScorer(model, createBrandIndex());
  for (const [url] of pinned.slice(0, 100)) {
    const first = scorer.score(normaliseUrl(url));
    const second = scorer.score(normaliseUrl(url));
    assert.deepEqual(second, first, url);
  }
});
