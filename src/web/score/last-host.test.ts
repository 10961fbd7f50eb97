/**
 * The scorer keeps the last host's part and the normaliser the last host's split (feeds list a
 * host's URLs together): a URL on the host just scored must give the row a scorer that never saw
 * the host gives, also when two scorers with different models take turns on the same hosts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseUrl } from '../normalise.ts';
import { createBrandIndex } from './lexicon.ts';
import { createScorer, FITTED_MODEL } from './model.ts';
import { loadPinned } from './testdata/pinned.ts';

const { model: contextModel, pinned: contextPinned } = loadPinned(
  'model-context-pinned.json',
  'pinned-url-context.ndjson',
);
const { pinned: pathPinned } = loadPinned('model-url-pinned.json', 'pinned-url-paths.ndjson');

/** Each pinned URL, then its host with the next URL's path and query, then with none. */
function runsOnOneHost(urls: readonly string[]): string[] {
  const out: string[] = [];
  urls.forEach((url, i) => {
    const here = new URL(url);
    const next = new URL(urls[(i + 1) % urls.length]!);
    out.push(url, `${here.origin}${next.pathname}${next.search}`, `${here.origin}/`);
  });
  return out;
}

const urls = runsOnOneHost([...contextPinned, ...pathPinned].map(([url]) => url).slice(0, 400));
const brands = createBrandIndex();

test('a URL on the host just scored gives the row of a scorer new to the host', () => {
  const scorer = createScorer(FITTED_MODEL, brands);
  let replayed = 0;
  urls.forEach((url, i) => {
    const row = scorer.score(normaliseUrl(url));
    const fresh = createScorer(FITTED_MODEL, brands).score(normaliseUrl(url));
    assert.deepEqual(row, fresh, url);
    if (i > 0 && new URL(urls[i - 1]!).host === new URL(url).host) replayed++;
  });
  assert.ok(replayed > 600, `most URLs follow one on their host (${replayed})`);
});

test('two scorers taking turns on the same hosts keep their own last host', () => {
  const shipped = createScorer(FITTED_MODEL, brands);
  const pinned = createScorer(contextModel, brands);
  for (const url of urls) {
    const a = shipped.score(normaliseUrl(url));
    const b = pinned.score(normaliseUrl(url));
    assert.deepEqual(a, createScorer(FITTED_MODEL, brands).score(normaliseUrl(url)), url);
    assert.deepEqual(b, createScorer(contextModel, brands).score(normaliseUrl(url)), url);
  }
});

test('a replayed row owns its reasons: changing one row changes no later row', () => {
  const scorer = createScorer(FITTED_MODEL, brands);
  const url = contextPinned[0]![0];
  const first = scorer.score(normaliseUrl(url));
  const expected = structuredClone(first.reasons);
  for (const reason of first.reasons) reason.contribution = 99;
  assert.deepEqual(scorer.score(normaliseUrl(url)).reasons, expected);
});
