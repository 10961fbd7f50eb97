import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { explainReason, EXPLAINED_FEATURES, groundsOf } from './explain.ts';
import { FEATURES } from './features.ts';
import { GATED_FEATURES } from './gated.ts';
import { HOST_CONTEXT_FEATURES } from './host-context.ts';
import { URL_FEATURES } from './url-features.ts';
import type { Reason } from '../types.ts';

test('every feature the scorer can name a reason after has words', () => {
  const named = [
    ...FEATURES,
    ...URL_FEATURES,
    ...HOST_CONTEXT_FEATURES,
    ...GATED_FEATURES,
    'url_bias',
    'official_domain',
  ];
  assert.deepEqual(
    named.filter((f) => !EXPLAINED_FEATURES.includes(f)),
    [],
  );
});

test('every reason of the pinned rows reads as words in both languages, with no key left in it', () => {
  const keys = new Set<string>();
  for (const file of ['pinned-urls.ndjson', 'pinned-url-paths.ndjson', 'pinned-url-context.ndjson']) {
    const text = readFileSync(new URL(`./testdata/${file}`, import.meta.url), 'utf8');
    for (const line of text.split('\n').filter(Boolean))
      for (const reason of (JSON.parse(line) as unknown[]).at(-1) as Reason[]) keys.add(reason.feature);
  }
  assert.ok(keys.size > 50, `${keys.size} distinct reasons pinned`);
  for (const key of keys)
    for (const language of ['ja', 'en'] as const) {
      const words = explainReason(key, language);
      assert.doesNotMatch(words, /\b[a-z]+_[a-z_]+\b/, `${key} (${language}): ${words}`);
      assert.doesNotMatch(words, /tld[+-]|plat\b|label[=~]|:exact|:fuzzy/, `${key} (${language}): ${words}`);
      if (language === 'ja') assert.match(words, /[\u3040-\u30ff\u4e00-\u9fff]/, `${key}: ${words}`);
    }
});

test('the argument of a key is carried into the words', () => {
  assert.equal(
    explainReason('tld_risk(cn)', 'en'),
    'the top-level domain .cn (its rate in phishing learned from data)',
  );
  assert.equal(
    explainReason('brand_exact(apple@domain)', 'en'),
    'the brand name "apple" in the registered domain name',
  );
  assert.equal(
    explainReason('brand_fuzzy(mercari@subdomain)', 'ja'),
    'サブドメインにブランド名「mercari」に似せた綴り',
  );
  assert.equal(
    explainReason('host_shape(1:a0:4,tld-)', 'en'),
    'subdomain shape: 1 level, letters and digits, up to 4 characters (a top-level domain rare in phishing)',
  );
  assert.equal(explainReason('host_shape(0,plat)', 'ja'), 'サブドメインなし（共用サービス上）');
  assert.equal(
    explainReason('brand_place(label~:fuzzy,tld++)', 'en'),
    'where the brand name stands: part of the domain label (a look-alike), a top-level domain frequent in phishing',
  );
  assert.equal(explainReason('path_token_max(login)', 'ja'), 'パス中の語「login」');
  assert.equal(
    explainReason('sub_token_gated(card)', 'en'),
    'the word "card" in the subdomain, weighed by how much the domain name reads as phishing',
  );
  assert.match(explainReason('path_token_gated(signin)', 'ja'), /^パス中の語「signin」（/);
  assert.match(explainReason('path_token_gated', 'ja'), /^パス中の語（/);
  assert.equal(
    explainReason('label_shape(7:a:com)', 'en'),
    "the domain name's shape: 7 characters, letters (.com)",
  );
  assert.equal(
    explainReason('label_shape(16:a0-:pages.dev)', 'ja'),
    'ドメイン名の形: 16文字以上、英字・数字・ハイフン（.pages.dev）',
  );
});

test('a key this version does not know is given as it is', () => {
  assert.equal(explainReason('some_future_feature(x)', 'ja'), 'some_future_feature(x)');
  assert.equal(explainReason('', 'en'), '');
});

test('the grounds are the reasons that pointed to phishing, in their order, without the baseline', () => {
  const reasons = [
    { feature: 'brand_exact(amazon@domain)', contribution: 3.7 },
    { feature: 'url_bias', contribution: 1.8 },
    { feature: 'root_path', contribution: -0.9 },
    { feature: 'tld_risk(top)', contribution: 2.9 },
    { feature: 'hyphens', contribution: 0 },
  ];
  assert.deepEqual(
    groundsOf(reasons).map((r) => r.feature),
    ['brand_exact(amazon@domain)', 'tld_risk(top)'],
  );
});
