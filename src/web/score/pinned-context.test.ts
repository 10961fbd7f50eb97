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
import { test } from 'node:test';
import { createBrandIndex } from '../index.ts';
import { createScorer } from './model.ts';
import { assertAsPinned, assertStateless, loadPinned } from './testdata/pinned.ts';

const { model, pinned } = loadPinned('model-context-pinned.json', 'pinned-url-context.ndjson');

test('600 pinned URLs with subdomains score as before the host context was hand-tuned, to the bit', () => {
  assert.equal(pinned.length, 600);
  assert.ok(model.url?.context, 'the pinned model has a host-context part');
  const scorer = createScorer(model, createBrandIndex());
  const verdicts = assertAsPinned(scorer, pinned);
  const seen = { sub_token_max: 0, host_shape: 0, brand_place: 0, sub_style: 0 };
  for (const [, , , , , , reasons] of pinned)
    for (const key of Object.keys(seen) as (keyof typeof seen)[])
      if (reasons.some((r) => r.feature.startsWith(key))) seen[key]++;
  assert.deepEqual([...verdicts].sort(), ['benign', 'malicious', 'suspicious'], 'every verdict is pinned');
  for (const [key, count] of Object.entries(seen))
    assert.ok(count > 200, `${key} weighs in many pinned URLs (${count})`);
});

test('the pinned URLs scored twice in a row give the same rows (no state kept between URLs)', () => {
  assertStateless(createScorer(model, createBrandIndex()), pinned);
});
