/**
 * The demo's phishing and survey inputs go through the rooms that own those paths: the web
 * room's model decides which lookalikes are malicious (the brands' own sites stay out of intel),
 * intel records them with the brand as family, and the survey findings become vulnerable devices
 * with product and CVE attributes, the data the daily report's sections read.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoPhishingUrls, recordDemoSources } from './demo-sources.ts';
import { withRoomsInMemory } from './testing.ts';

test('demo sources: phishing through the web model, survey findings through intel', async () => {
  await withRoomsInMemory(async ({ store, intel, logger, registry }) => {
    const result = await recordDemoSources({ store, intel }, { logger, registry, seed: 1 });
    assert.equal(result.phishingUrls, demoPhishingUrls(1).length);
    const urls = (await intel.list({ kinds: ['url'], limit: 1000 })).items;
    assert.ok(urls.length >= 10, `${urls.length} phishing URLs recorded`);
    // The model names the brand where the lexicon matches (the report's phishing section reads it).
    const branded = urls.filter((u) => u.family !== '');
    assert.ok(branded.length >= 10, `${branded.length} name the brand they imitate`);
    assert.ok(new Set(branded.map((u) => u.family)).size >= 5);
    for (const official of [
      'https://www.smbc-card.com/',
      'https://www.amazon.co.jp/',
      'https://www.rakuten.co.jp/',
    ])
      assert.ok(!urls.some((u) => u.value === official), `${official} is not phishing`);
    const devices = (await intel.list({ kinds: ['vulnerable-device'], limit: 1000 })).items;
    assert.equal(devices.length, result.surveyFindings);
    assert.ok(devices.every((d) => d.attributes.product && d.tier === 'full'));
    assert.deepEqual([...new Set(devices.map((d) => d.attributes.cve).filter(Boolean))].sort(), [
      'CVE-2017-7921',
      'CVE-2018-14847',
      'CVE-2021-33044',
      'CVE-2023-33538',
    ]);
  });
});
