/**
 * The host context's hot path (addHostContext) against its readable form (hostContextPart) under
 * the shipped model, whose context has every table (label shapes and consonant/vowel trigrams
 * too): the same log-odds to the bit and the same reasons, for the hosts of every pinned URL and
 * for labels the pins lack (digits only, hyphens, one letter, underscores, platform tenants).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createBrandIndex, normaliseUrl } from '../index.ts';
import { hostFeatures, newHostNameScan, scanHostName } from './features.ts';
import { addHostContext, hostContextPart, hostShape, labelCvTrigrams, labelShape } from './host-context.ts';
import { ReasonList } from './reason-list.ts';
import { FITTED_MODEL } from './model.ts';
import type { Reason } from '../types.ts';

const model = FITTED_MODEL;
const context = model.url?.context;
const brands = createBrandIndex();

function urls(): string[] {
  const out: string[] = [];
  for (const file of ['pinned-urls.ndjson', 'pinned-url-paths.ndjson', 'pinned-url-context.ndjson']) {
    const text = readFileSync(new URL(`./testdata/${file}`, import.meta.url), 'utf8');
    for (const line of text.split('\n').filter(Boolean)) out.push((JSON.parse(line) as [string])[0]);
  }
  out.push(
    'https://12345.com/',
    'https://a.cn/',
    'https://x-y-z9.top/login',
    'https://www.uwkxplw.com/',
    'https://aeiou.co.jp/',
    'https://abc_def.example.com/',
    'https://tenant-1.pages.dev/',
    'https://averyveryverylonglabelname.net/',
    'https://8.8.8.8/',
    'https://english.news.cn/',
    'https://www.mirror.albony.xyz/',
    'https://apple.example.xyz/',
    'https://360.yandex.com/',
    'https://news.yahoo.co.jp/',
    'https://www.mail.yahoo.com/inbox',
  );
  return out;
}

/** A stable sort by |contribution|, largest first: where ReasonList.add places each. */
function sorted(reasons: Reason[]): Reason[] {
  return reasons
    .map((r, i) => ({ r, i }))
    .sort((a, b) => Math.abs(b.r.contribution) - Math.abs(a.r.contribution) || a.i - b.i)
    .map(({ r }) => r);
}

test('the shipped model has the label tables and weights them', () => {
  assert.ok(context?.tables.labelShape && Object.keys(context.tables.labelShape).length > 100);
  assert.ok(context?.tables.labelCv && Object.keys(context.tables.labelCv).length > 50);
  assert.notEqual(context?.weights.label_shape ?? 0, 0);
  assert.notEqual(context?.weights.label_cv ?? 0, 0);
});

test('addHostContext gives the log-odds of hostContextPart to the bit and its reasons', () => {
  assert.ok(context);
  let withShape = 0;
  for (const text of urls()) {
    const url = normaliseUrl(text);
    const reference = hostContextPart(url, hostFeatures(url, brands, model.risk), context, model.risk.bigram);
    const list = new ReasonList();
    const scan = scanHostName(url, brands, model.risk, newHostNameScan());
    const logOdds = addHostContext(url, scan, context, model.risk.bigram, list, {
      subTokenMax: 0,
      subTokenGatedLabel: '',
    });
    const reasons = list.toArray();
    assert.equal(logOdds, reference.logOdds, text);
    assert.deepEqual(reasons, sorted(reference.reasons), text);
    if (reasons.some((r) => r.feature.startsWith('label_shape('))) withShape++;
  }
  assert.ok(withShape > 500, `label_shape weighs in many of them (${withShape})`);
});

test('labelShape and labelCvTrigrams read the registrant label', () => {
  const host = (text: string) => {
    const url = normaliseUrl(text);
    return { url, features: hostFeatures(url, brands, model.risk) };
  };
  const a = host('https://www.ab1-cd.co.jp/x');
  assert.equal(labelShape(a.url, a.features), '6:a0-:co.jp');
  assert.deepEqual(labelCvTrigrams(a.url), ['^VC', 'VCD', 'CD-', 'D-C', '-CC', 'CC$']);
  const b = host('https://tenant.pages.dev/');
  assert.equal(labelShape(b.url, b.features), '6:w:pages.dev');
  const c = host('https://averyveryverylonglabelname.net/');
  assert.equal(labelShape(c.url, c.features), '16:a:net');
  // One English word reads apart from random letters; a brand's name as the label does not.
  const word = host('https://english.news.cn/');
  assert.equal(labelShape(word.url, word.features), '4:w:cn');
  const brand = host('https://amazon.xyz/');
  assert.equal(labelShape(brand.url, brand.features), '6:a:xyz');
  assert.equal(labelShape(host('https://xkqz.cn/').url, host('https://xkqz.cn/').features), '4:a:cn');
});

test('hostShape writes a subdomain of English words as w', () => {
  assert.equal(hostShape('english', 'tld++'), '1:w:8,tld++');
  assert.equal(hostShape('mirror.eu', 'tld-'), '2:a:16,tld-');
  assert.equal(hostShape('news.archive', 'tld-'), '2:w:16,tld-');
  assert.equal(hostShape('xkqzvb', 'tld+'), '1:a:8,tld+');
  assert.equal(hostShape('web-1', 'tld+'), '1:a0-:8,tld+');
});
