/**
 * The gated part (gated.ts) in the scorer: with it the URL's log-odds is the same model's without
 * it plus exactly the two gated contributions, each listed as a reason; and addGated's hot path
 * gives what gatedValues, the fit's form, gives.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseUrl } from '../normalise.ts';
import { addGated, gatedValues, GATED_FEATURES } from './gated.ts';
import { createBrandIndex } from './lexicon.ts';
import { ReasonList } from './reason-list.ts';
import { createScorer, FITTED_MODEL } from './model.ts';

const logit = (p: number) => Math.log(p / (1 - p));

test('the shipped model has a gated part, and it adds exactly its contributions to the URL verdict', () => {
  const gated = FITTED_MODEL.url?.gated;
  assert.ok(gated, 'model.json has url.gated');
  const brands = createBrandIndex();
  const withGate = createScorer(FITTED_MODEL, brands);
  const withoutGate = createScorer(
    { ...FITTED_MODEL, url: { ...FITTED_MODEL.url!, gated: undefined } },
    brands,
  );
  let seen = 0;
  let gatedReasons = 0;
  for (const text of [
    'https://my.joinmodernhealth.com/login',
    'https://www.jckhc.cn/login',
    'https://secure-login.amazon-verify.top/signin/account',
    'https://mercari-jp.duckdns.org/login',
    'https://smbc-card.vpass-jp.top/',
    'https://www.example.co.jp/about/company.html',
  ]) {
    const url = normaliseUrl(text);
    const a = withGate.score(url);
    const b = withoutGate.score(url);
    assert.equal(a.hostScore, b.hostScore, 'the host-name verdict does not read the gated part');
    const added = a.reasons.filter((r) => GATED_FEATURES.some((f) => r.feature.startsWith(f)));
    assert.equal(b.reasons.length + added.length, a.reasons.length);
    gatedReasons += added.length;
    // A gated reason names the word its ungated twin names (the riskiest path or subdomain word).
    for (const [gatedName, twin] of [
      ['path_token_gated', 'path_token_max'],
      ['sub_token_gated', 'sub_token_max'],
    ]) {
      const word = (name: string) =>
        a.reasons.find((r) => r.feature.startsWith(`${name}(`))?.feature.slice(name.length + 1, -1);
      const gatedWord = word(gatedName!);
      if (gatedWord !== undefined && word(twin!) !== undefined) assert.equal(gatedWord, word(twin!), text);
      if (added.some((r) => r.feature.startsWith(gatedName!)))
        assert.ok(gatedWord, `${text}: ${gatedName} names its word`);
    }
    const sum = added.reduce((s, r) => s + r.contribution, 0);
    if (a.score > 1e-9 && a.score < 1 - 1e-9) {
      assert.ok(Math.abs(logit(a.score) - logit(b.score) - sum) < 0.01, `${text}: ${sum}`);
      seen++;
    }
  }
  assert.ok(seen >= 3);
  assert.ok(gatedReasons >= 4, `${gatedReasons} gated reasons`);
  // Kept non-negative by the fit: a word's own sign (its table's log-odds) gives the direction.
  for (const feature of GATED_FEATURES) assert.ok(gated.weights[feature] >= 0, feature);
});

test('addGated gives the contributions gatedValues (the fit) gives, and nothing for zero words', () => {
  const model = { weights: { path_token_gated: 4.5, sub_token_gated: 16.6 } };
  for (const [host, path, sub] of [
    [-8, 1.2, 0.4],
    [-4, 2, 0],
    [3, 0, 1.5],
    [0, 0, 0],
  ] as const) {
    const list = new ReasonList();
    const logOdds = addGated(host, path, sub, model, list);
    const reasons = list.toArray();
    const [p, s] = gatedValues(host, path, sub);
    assert.equal(logOdds, p! * 4.5 + s! * 16.6);
    assert.equal(reasons.length, (p ? 1 : 0) + (s ? 1 : 0));
  }
});
