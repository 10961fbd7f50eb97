/**
 * Pins the URL verdict's path and query part (url-features.ts) on 600 seeded, real-looking URLs
 * with paths (the model's path tokens with digits, common path words, percent-encoded Japanese,
 * file extensions, queries with empty parameters, fragments, deep and very long paths, and the
 * hosts of pinned.test.ts: brand look-alikes, platform tenants, official domains, IP hosts,
 * confusables): URL and host-name scores to the bit, both verdicts, brands and every reason, as
 * the code before the URL part's hand-tuned path gave them under the model copied to
 * testdata/model-url-pinned.json. A speed change that alters any of it fails here; a refit of
 * model.json does not, as the pinned model is a copy.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBrandIndex } from '../index.ts';
import { createScorer } from './model.ts';
import { assertAsPinned, assertStateless, loadPinned } from './testdata/pinned.ts';

const { model, pinned } = loadPinned('model-url-pinned.json', 'pinned-url-paths.ndjson');

test('600 pinned URLs with paths score as before the URL part was hand-tuned, to the bit', () => {
  assert.equal(pinned.length, 600);
  assert.ok(model.url, 'the pinned model has a URL part');
  const scorer = createScorer(model, createBrandIndex());
  const verdicts = assertAsPinned(scorer, pinned);
  const withPathReasons = pinned.filter(([, , , , , , reasons]) =>
    reasons.some((r) => r.feature.startsWith('path_token_max(')),
  ).length;
  assert.deepEqual([...verdicts].sort(), ['benign', 'malicious', 'suspicious'], 'every verdict is pinned');
  assert.ok(withPathReasons > 300, `path tokens weigh in most pinned URLs (${withPathReasons})`);
});

test('the same URLs scored twice in a row give the same rows (no state kept between URLs)', () => {
  assertStateless(createScorer(model, createBrandIndex()), pinned);
});
