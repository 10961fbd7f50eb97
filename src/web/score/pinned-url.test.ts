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
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createBrandIndex, normaliseUrl } from '../index.ts';
import { createScorer, type FittedModel } from './model.ts';

type Pinned = [string, number, string, number, string, string | null, unknown[]];

const here = new URL('./testdata/', import.meta.url);
const model = JSON.parse(readFileSync(new URL('model-url-pinned.json', here), 'utf8')) as FittedModel;
const pinned = readFileSync(new URL('pinned-url-paths.ndjson', here), 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => JSON.parse(line) as Pinned);

test('600 pinned URLs with paths score as before the URL part was hand-tuned, to the bit', () => {
  assert.equal(pinned.length, 600);
  assert.ok(model.url, 'the pinned model has a URL part');
  const scorer = createScorer(model, createBrandIndex());
  const verdicts = new Set<string>();
  let withPathReasons = 0;
  for (const [url, score, verdict, hostScore, hostVerdict, brand, reasons] of pinned) {
    const row = scorer.score(normaliseUrl(url));
    assert.equal(row.score, score, url);
    assert.equal(row.verdict, verdict, url);
    assert.equal(row.hostScore, hostScore, url);
    assert.equal(row.hostVerdict, hostVerdict, url);
    assert.equal(row.brand, brand, url);
    assert.deepEqual(row.reasons, reasons, url);
    verdicts.add(verdict);
    if (row.reasons.some((r) => r.feature.startsWith('path_token_max('))) withPathReasons++;
  }
  assert.deepEqual([...verdicts].sort(), ['benign', 'malicious', 'suspicious'], 'every verdict is pinned');
  assert.ok(withPathReasons > 300, `path tokens weigh in most pinned URLs (${withPathReasons})`);
});

test('the same URLs scored twice in a row give the same rows (no state kept between URLs)', () => {
  const scorer = createScorer(model, createBrandIndex());
  for (const [url] of pinned.slice(0, 100)) {
    const first = scorer.score(normaliseUrl(url));
    const second = scorer.score(normaliseUrl(url));
    assert.deepEqual(second, first, url);
  }
});
