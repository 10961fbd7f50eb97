/** The web intake: malicious verdicts only, the URL and its host once, IP hosts as URLs only. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withIntel } from '../testing.ts';
import { recordWebVerdicts, sightingsFromWebVerdicts, type WebVerdictLike } from './index.ts';

// wholeHost is the web room's decision (blocksWholeHost); here as the room would set it when both
// of a name's verdicts are malicious.
const verdict = (
  url: string,
  host: string,
  hostKind: string,
  verdict: string,
  brand: string | null,
): WebVerdictLike => ({
  url,
  host,
  registrableDomain: hostKind === 'domain' ? host : null,
  score: 0.9991,
  verdict,
  wholeHost: verdict === 'malicious' && hostKind === 'domain',
  brand,
  reasons: [{ feature: 'brand_exact(smbc@domain)', value: 1, contribution: 3.2 }],
});

test('malicious verdicts become url and domain sightings, public tier, TLP:GREEN unless told', async () => {
  const verdicts = [
    verdict('https://smbc-login.example.cn/a', 'smbc-login.example.cn', 'domain', 'malicious', 'smbc-card'),
    verdict('https://smbc-login.example.cn/b', 'smbc-login.example.cn', 'domain', 'malicious', 'smbc-card'),
    verdict('http://203.0.113.9/', '203.0.113.9', 'ipv4', 'malicious', null),
    verdict('https://plala_login.example.com/', 'plala_login.example.com', 'domain', 'malicious', 'plala'),
    verdict('https://www.example.org/', 'www.example.org', 'domain', 'suspicious', null),
  ];
  const sightings = sightingsFromWebVerdicts(verdicts, 'jpcert');
  assert.deepEqual(
    sightings.map((s) => [s.type, s.value, s.family, s.source, s.tier, s.tlp, s.confidence]),
    [
      ['url', 'https://smbc-login.example.cn/a', 'smbc-card', 'web:jpcert', 'public', 'green', 100],
      ['domain', 'smbc-login.example.cn', 'smbc-card', 'web:jpcert', 'public', 'green', 100],
      ['url', 'https://smbc-login.example.cn/b', 'smbc-card', 'web:jpcert', 'public', 'green', 100],
      ['url', 'http://203.0.113.9/', undefined, 'web:jpcert', 'public', 'green', 100],
      ['url', 'https://plala_login.example.com/', 'plala', 'web:jpcert', 'public', 'green', 100],
    ],
  );
  assert.match(sightings[0]!.attributes!.evidence!, /^brand_exact\(smbc@domain\)=3\.2$/);

  // A phishing path on a host whose NAME is benign (a compromised site): the URL, not the host.
  const compromised = {
    ...verdict(
      'https://bakery.example.jp/wp/jabank/login',
      'bakery.example.jp',
      'domain',
      'malicious',
      'ja-bank',
    ),
    wholeHost: false,
  };
  assert.deepEqual(
    sightingsFromWebVerdicts([compromised], 'jpcert').map((s) => [s.type, s.value]),
    [['url', 'https://bakery.example.jp/wp/jabank/login']],
  );
  assert.deepEqual(
    sightingsFromWebVerdicts([{ ...compromised, wholeHost: true }], 'jpcert').map((s) => s.type),
    ['url', 'domain'],
  );

  await withIntel(async (intel) => {
    const result = await recordWebVerdicts(intel, verdicts, 'jpcert', { tlp: 'clear' });
    assert.deepEqual(result, { sightings: 5, created: 5 });
    const again = await recordWebVerdicts(intel, verdicts, 'jpcert', { tlp: 'clear' });
    assert.equal(again.created, 0, 'the same verdicts again add sightings, not indicators');
    const domains = (await intel.list({ kinds: ['domain'] })).items;
    assert.deepEqual(
      domains.map((d) => [d.value, d.family, d.tier, d.tlp]),
      [['smbc-login.example.cn', 'smbc-card', 'public', 'clear']],
    );
  });
});
