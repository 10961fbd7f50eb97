/**
 * Every attribute an intel intake writes has a name and an explanation in the console's evidence
 * vocabulary, in both languages, so an analyst never meets a bare key and "no explanation" in a
 * detail panel. The intakes are run on inputs that fill every optional attribute they know.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVIDENCE } from '../../console/src/evidence-vocabulary.ts';
import {
  sightingsFromInfectedHosts,
  sightingsFromOsint,
  sightingsFromSurveyFindings,
  sightingsFromWebVerdicts,
} from '../intel/index.ts';
import { evidenceOf } from './api/evidence.ts';

test('the evidence vocabulary names and explains every attribute the intakes write', () => {
  const sightings = [
    ...sightingsFromOsint(
      {
        id: 'a'.repeat(64),
        feed: 'vendor',
        url: 'https://vendor.example/post',
        title: 'Advisory',
        fetchedAt: '2026-12-01T00:00:00Z',
      },
      [{ type: 'ipv4', value: '198.51.100.1', port: 443, context: 'C2 at 198.51.100.1:443' }],
      { tlp: 'clear' },
    ),
    ...sightingsFromSurveyFindings(
      [
        {
          ip: '198.51.100.2',
          port: 23,
          status: 'weak-credential',
          vendor: 'Vendor',
          model: 'Model',
          firmware: '1.0',
          service: 'telnet',
          cves: [{ cve: 'CVE-2017-7921' }],
          weakCredential: { rule: 'mirai-default-credentials' },
        },
      ],
      'survey',
    ),
    ...sightingsFromInfectedHosts(
      [{ ip: '198.51.100.3', fingerprint: 'mirai', ports: [23, 2323] }],
      'darknet',
    ),
    ...sightingsFromWebVerdicts(
      [
        {
          url: 'https://phish.example.top/login',
          host: 'phish.example.top',
          registrableDomain: 'example.top',
          score: 0.999,
          verdict: 'malicious',
          wholeHost: true,
          brand: 'amazon',
          reasons: [{ feature: 'brand_exact', value: 'amazon', contribution: 3.2 }],
        },
      ],
      'feed',
    ),
  ];
  const keys = new Set(sightings.flatMap((s) => Object.keys(evidenceOf(s.attributes ?? {}))));
  assert.ok(keys.size >= 10, [...keys].join(' '));
  for (const key of keys) {
    const how = EVIDENCE[key];
    assert.ok(how, `attribute "${key}" has no entry in console/src/evidence.tsx`);
    for (const lang of ['ja', 'en'] as const)
      assert.ok(how.label[lang] && how.help[lang], `${key} (${lang})`);
  }
});
