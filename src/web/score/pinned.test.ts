/**
 * Pins the scorer's output on 400 seeded, real-looking URLs (brand look-alikes, platform tenants,
 * random names, official domains, IP hosts, confusables): scores to the bit, verdicts, brands
 * and reasons, as the code before the hand-written hot path gave them under the model in
 * testdata/model-pinned.json. A speed change that alters any verdict fails here; a refit of
 * model.json does not, as the pinned model is a copy.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createBrandIndex, normaliseUrl } from '../index.ts';
import { createScorer, type FittedModel } from './model.ts';

const here = new URL('./testdata/', import.meta.url);
const model = JSON.parse(readFileSync(new URL('model-pinned.json', here), 'utf8')) as FittedModel;
const pinned = readFileSync(new URL('pinned-urls.ndjson', here), 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => JSON.parse(line) as [string, number, string, string | null, unknown[]]);

test('400 pinned URLs score as they did before the fast path, to the bit', () => {
  assert.equal(pinned.length, 400);
  const scorer = createScorer(model, createBrandIndex());
  const verdicts = new Set<string>();
  for (const [url, score, verdict, brand, reasons] of pinned) {
    const row = scorer.score(normaliseUrl(url));
    assert.equal(row.score, score, url);
    assert.equal(row.verdict, verdict, url);
    assert.equal(row.brand, brand, url);
    assert.deepEqual(row.reasons, reasons, url);
    verdicts.add(verdict);
  }
  assert.deepEqual([...verdicts].sort(), ['benign', 'malicious', 'suspicious'], 'every verdict is pinned');
});
