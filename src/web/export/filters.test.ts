import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBrandIndex, normaliseUrl } from '../index.ts';
import { hostRefusal, hostsFile, rpzZone, unboundConfig } from './filters.ts';

const brands = createBrandIndex();
const refusal = (url: string) => hostRefusal(normaliseUrl(url), brands.officialBrand);

test('whole-host blocks: never a suffix, a shared platform (or its parent), an official domain or an IP', () => {
  assert.equal(refusal('https://amazon-xqzv.top/'), null);
  assert.equal(refusal('https://evil.pages.dev/'), null);
  assert.equal(refusal('https://pages.dev/'), 'public-suffix');
  assert.equal(refusal('https://duckdns.org/'), 'public-suffix');
  assert.equal(refusal('https://sites.google.com/view/x'), 'shared-platform');
  assert.equal(refusal('https://google.com/'), 'shared-platform');
  assert.equal(refusal('https://a.bit.ly/'), 'shared-platform');
  assert.equal(refusal('https://www.amazon.co.jp/'), 'official-domain');
  assert.equal(refusal('https://www.vpass.ne.jp/login'), 'official-domain');
  assert.equal(refusal('http://192.0.2.1/'), 'not-a-domain');
});

test('writers: RPZ with SOA/NS and a bounded serial, Unbound local-zones, hosts lines', () => {
  const zone = rpzZone(['a.top'], { origin: 'rpz.example', serial: 7 });
  assert.match(zone, /^\$ORIGIN rpz\.example\.$/m);
  assert.match(zone, /^@ IN SOA localhost\. hostmaster\.localhost\. 7 /m);
  assert.match(zone, /^@ IN NS localhost\.$/m);
  assert.match(zone, /^a\.top CNAME \.$/m);
  assert.throws(() => rpzZone([], { origin: 'x', serial: 2 ** 32 }), RangeError);
  assert.equal(unboundConfig(['a.top']), 'server:\n  local-zone: "a.top." always_nxdomain\n');
  assert.equal(hostsFile(['a.top'], ['made\nhere']), '# made here\n0.0.0.0 a.top\n');
});
