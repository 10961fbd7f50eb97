/**
 * The URL template's hot path (addTemplate, on the URL part's path shape) against its readable
 * form (templatePart) under the shipped model: the same log-odds to the bit and the same reason,
 * for every pinned URL and for hosts the pins lack (a skeleton the table lacks or holds at or
 * below 0 gives nothing on both); and the skeleton's key on a few URLs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createBrandIndex, normaliseUrl } from '../index.ts';
import { hostFeatures, newHostNameScan, scanHostName } from './features.ts';
import { createScorer, FITTED_MODEL } from './model.ts';
import { addTemplate, templatePart, urlTemplate } from './url-template.ts';
import { pathShape } from './url-features.ts';
import type { Reason } from '../types.ts';

const model = FITTED_MODEL;
const template = model.url?.template;
const brands = createBrandIndex();

function urls(): string[] {
  const out: string[] = [];
  for (const file of ['pinned-urls.ndjson', 'pinned-url-paths.ndjson', 'pinned-url-context.ndjson']) {
    const text = readFileSync(new URL(`./testdata/${file}`, import.meta.url), 'utf8');
    for (const line of text.split('\n').filter(Boolean)) out.push((JSON.parse(line) as [string])[0]);
  }
  out.push(
    'https://oftenmoreresilient.u6ims.com/',
    'https://xffaufz.koanwx.net/?01fftH0d5A',
    'https://59637.oywltj.sbs/50794480',
    'https://ee0gs.com/organworkereous-login',
    'https://psulzk.ozmakhq.net/szdzcobzvq',
    'https://www.a.b.c.d.example.com/x/y/z/',
    'https://abc_def.example.com/',
    'https://tenant-1.pages.dev/',
    'https://averyveryverylonglabelname.net/',
    'https://8.8.8.8/login',
  );
  return out;
}

test('the shipped model has a template table and weights it', () => {
  assert.ok(template && Object.keys(template.tables.template).length > 100);
  assert.notEqual(template.weights.url_template, 0);
});

test('the skeleton reads subdomain, label, risk band and path shape', () => {
  const key = (text: string) => {
    const url = normaliseUrl(text);
    return urlTemplate(url, hostFeatures(url, brands, model.risk));
  };
  assert.match(key('https://oftenmoreresilient.u6ims.com/'), /^1:a:32\|5:a0:tld[-+]+\|\/$/);
  assert.match(key('https://www.psulzk.ozmakhq.net/szdzcobzvq'), /^1:a:8\|7:a:tld[-+]+\|\/a:16$/);
  assert.match(key('https://ee0gs.com/organworkereous-login'), /^0\|5:a0:tld[-+]+\|\/a-:99$/);
  assert.equal(key('https://tenant-1.pages.dev/'), '0|8:a0-:plat|/');
  assert.equal(key('https://8.8.8.8/login'), '');
});

test('addTemplate gives the log-odds of templatePart to the bit and its reason', () => {
  assert.ok(template);
  let weighed = 0;
  for (const text of urls()) {
    const url = normaliseUrl(text);
    const reference = templatePart(url, hostFeatures(url, brands, model.risk), template);
    const scan = scanHostName(url, brands, model.risk, newHostNameScan());
    const reasons: Reason[] = [];
    const logOdds = addTemplate(url, scan, template, pathShape(url.path), reasons);
    assert.equal(logOdds, reference.logOdds, text);
    assert.deepEqual(reasons, reference.reasons, text);
    if (reasons.length > 0) weighed++;
  }
  assert.ok(weighed > 50, `url_template weighs in many of them (${weighed})`);
});

test('the scorer lists url_template among the reasons, and the reasons sum to the log-odds', () => {
  const scorer = createScorer(model, brands);
  const row = scorer.score(normaliseUrl('https://oftenmoreresilient.u6ims.com/'));
  assert.ok(
    row.reasons.some((r) => r.feature.startsWith('url_template(')),
    JSON.stringify(row.reasons),
  );
  const sum = row.reasons.reduce((s, r) => s + r.contribution, model.bias);
  const logOdds = Math.log(row.score / (1 - row.score));
  assert.ok(Math.abs(sum - logOdds) < 0.05, `${sum} vs ${logOdds}`);
});

test('a skeleton the table holds at or below 0 gives nothing, on both paths', () => {
  const url = normaliseUrl('https://psulzk.ozmakhq.net/szdzcobzvq');
  const host = hostFeatures(url, brands, model.risk);
  const scan = scanHostName(url, brands, model.risk, newHostNameScan());
  const key = urlTemplate(url, host);
  for (const [value, expected] of [
    [-1.5, 0],
    [0, 0],
    [1.5, 0.75],
  ] as const) {
    const part = { weights: { url_template: 0.5 }, tables: { template: { [key]: value } } };
    const reasons: Reason[] = [];
    assert.equal(addTemplate(url, scan, part, pathShape(url.path), reasons), expected, `${value}`);
    assert.equal(templatePart(url, host, part).logOdds, expected, `${value}`);
    assert.deepEqual(
      reasons,
      expected === 0 ? [] : [{ feature: `url_template(${key})`, value, contribution: expected }],
    );
  }
});
