/**
 * The URL part's hand-written scan (urlFeatures, urlPart) against the code it replaced
 * (urlFeaturesReference): the same values to the bit, the same best token, brand and shape, on
 * random paths made of the model's own tokens, brands, keywords, digits, upper case,
 * percent-encoding, extensions, empty segments and parameters, more than 40 tokens, and
 * non-ASCII (which the scan leaves to the reference).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NormalisedUrl } from '../types.ts';
import { LEXICON } from './lexicon.ts';
import { FITTED_MODEL } from './model.ts';
import { URL_FEATURES, urlFeatures, urlFeaturesReference, urlPart, type UrlTables } from './url-features.ts';

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    return state / 0x80000000;
  };
}

const tables: UrlTables = FITTED_MODEL.url?.tables ?? {
  token: { login: 2, account: 1.5, index: -1, php: 0.5, a0b: 1 },
  shape: { '/a:8': 0.3, '/.php': 1 },
};

function randomPath(next: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const words = [
    ...Object.keys(tables.token).slice(0, 400),
    ...LEXICON.brands.flatMap((b) => b.tokens).slice(0, 200),
    ...LEXICON.keywords.en,
    'Login',
    'ACCOUNT',
    'a1b22c',
    '12',
    '%E3%81%82',
    '%41B',
    'x',
    '',
    'file.PHP',
    'a.b.c',
    'name.abcdef',
    '..',
    'ログイン',
    'é',
    'K',
  ];
  const depth = Math.floor(next() * (next() < 0.1 ? 50 : 6));
  let path = '';
  for (let i = 0; i < depth; i++) {
    let segment = pick(words);
    if (next() < 0.3) segment += pick(['-', '_', '.', '~', '+']) + pick(words);
    if (next() < 0.2) segment = segment.replace(/[a-z]/, (ch) => ch.toUpperCase());
    if (next() < 0.2) segment += String(Math.floor(next() * 100000));
    path += '/' + segment;
  }
  if (path === '' || next() < 0.2) path += '/';
  if (next() < 0.4)
    path +=
      '?' +
      Array.from({ length: Math.floor(next() * 5) }, () => `${pick(words)}=${pick(words)}`).join(
        pick(['&', '&&']),
      );
  return path;
}

function urlOf(path: string, host: string): NormalisedUrl {
  return {
    url: `https://${host}${path}`,
    host,
    unicodeHost: host,
    hostKind: host === '192.0.2.1' ? 'ipv4' : 'domain',
    registrableDomain: null,
    publicSuffix: '',
    privateSuffix: false,
    subdomain: '',
    path,
  } as NormalisedUrl;
}

test('urlFeatures gives what the reference gives on random paths, to the bit', () => {
  const next = random(18);
  const hosts = ['example.com', 'xn--eckwd4c7c.jp', 'a.xn--p1ai', '192.0.2.1'];
  let nonAscii = 0;
  for (let n = 0; n < 5000; n++) {
    const path = randomPath(next);
    // eslint-disable-next-line no-control-regex
    if (/[^\x00-\x7f]/.test(path)) nonAscii++;
    const url = urlOf(path, hosts[n % hosts.length]!);
    const fast = urlFeatures(url, tables);
    const reference = urlFeaturesReference(url, tables);
    for (const feature of URL_FEATURES)
      assert.ok(Object.is(fast.values[feature], reference.values[feature]), `${feature} of ${path}`);
    assert.equal(fast.token, reference.token, path);
    assert.equal(fast.brand, reference.brand, path);
    assert.equal(fast.shape, reference.shape, path);
  }
  assert.ok(nonAscii > 100, 'non-ASCII paths were tried');
});

test('urlPart lists a reason for every non-zero contribution, url_bias last', () => {
  const model = FITTED_MODEL.url;
  if (!model) return;
  const next = random(7);
  for (let n = 0; n < 500; n++) {
    const url = urlOf(randomPath(next), 'example.com');
    const f = urlFeaturesReference(url, model.tables);
    const part = urlPart(url, model, 0.5);
    const expected: string[] = URL_FEATURES.filter(
      (feature) => f.values[feature] * model.weights[feature] !== 0,
    );
    assert.equal(part.reasons.length, expected.length + 1, url.path);
    assert.equal(part.reasons.at(-1)!.feature, 'url_bias');
    let logOdds: number = model.bias;
    for (const feature of URL_FEATURES) logOdds += f.values[feature] * model.weights[feature];
    assert.equal(part.logOdds, logOdds, url.path);
  }
});
