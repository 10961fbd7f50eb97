/** The OSINT intake: addresses, names and URLs of a document become low-confidence sightings of its feed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withIntel } from '../testing.ts';
import {
  OSINT_CONFIDENCE,
  osintSightingTier,
  recordOsintDocument,
  sightingsFromOsint,
  tierOfTlp,
} from './index.ts';

const document = {
  id: 'a'.repeat(64),
  feed: 'vendor-blog',
  url: 'https://blog.vendor-feeds.org/post',
  title: 'Campaign',
  fetchedAt: '2024-05-07T00:00:00.000Z',
};
const indicators = [
  { type: 'ipv4', value: '45.77.12.3', port: 8443, context: 'C2 at 45.77.12.3:8443' },
  { type: 'ipv6', value: '2606:4700::6810:84e5', context: 'v6' },
  { type: 'domain', value: 'update-check.net', context: 'beacons to update-check[.]net' },
  { type: 'url', value: 'http://update-check.net/gate.php', context: 'hxxp://update-check[.]net/gate.php' },
  { type: 'sha256', value: 'e'.repeat(64), context: 'hash' },
  { type: 'cve', value: 'CVE-2024-3400', context: 'cve' },
];

test('the tier follows the TLP but is never public notice on its own, and a feed may only narrow it', () => {
  assert.equal(tierOfTlp('clear'), 'public');
  assert.equal(tierOfTlp('green'), 'council');
  assert.equal(tierOfTlp('amber+strict'), 'council');
  assert.equal(tierOfTlp('red'), 'full');
  assert.equal(osintSightingTier('clear'), 'council');
  assert.equal(osintSightingTier('clear', 'public'), 'council');
  assert.equal(osintSightingTier('green'), 'council');
  assert.equal(osintSightingTier('red', 'public'), 'full');
  const clear = sightingsFromOsint(document, indicators, { tlp: 'clear' });
  assert.ok(clear.every((s) => s.tier === 'council' && s.tlp === 'clear'));
  const narrowed = sightingsFromOsint(document, indicators, { tlp: 'clear', tier: 'full' });
  assert.ok(narrowed.every((s) => s.tier === 'full'));
  const notWidened = sightingsFromOsint(document, indicators, { tlp: 'red', tier: 'public' });
  assert.ok(notWidened.every((s) => s.tier === 'full' && s.tlp === 'red'));
});

test('addresses as C&C with the written port, names and URLs as themselves; hashes and ids stay out', () => {
  const sightings = sightingsFromOsint(document, indicators, { tlp: 'clear' });
  assert.deepEqual(
    sightings.map((s) => [s.type, s.value, s.port]),
    [
      ['c2', '45.77.12.3', 8443],
      ['c2', '2606:4700::6810:84e5', undefined],
      ['domain', 'update-check.net', undefined],
      ['url', 'http://update-check.net/gate.php', undefined],
    ],
  );
  for (const s of sightings) {
    assert.equal(s.source, 'osint:vendor-blog');
    assert.equal(s.confidence, OSINT_CONFIDENCE);
    assert.equal(s.tlp, 'clear');
    assert.equal(s.tier, 'council');
    assert.equal(s.attributes?.document, document.id);
    assert.equal(s.attributes?.documentUrl, document.url);
  }
});

test('recorded into intel: the document is the evidence of each sighting', async () => {
  await withIntel(async (intel) => {
    const results = await recordOsintDocument(intel, document, indicators, { tlp: 'clear' });
    assert.equal(results.length, 4);
    assert.ok(results.every((r) => r.created));
    const again = await recordOsintDocument(
      intel,
      { ...document, feed: 'other-feed' },
      indicators.slice(2, 3),
      {
        tlp: 'green',
      },
    );
    assert.equal(again[0]?.created, false);
    const sightings = await intel.sightings(again[0]!.indicatorId);
    assert.deepEqual(sightings.map((s) => s.source).sort(), ['osint:other-feed', 'osint:vendor-blog']);
    const address = await intel.get({ kind: 'c2', value: '45.77.12.3', port: 8443, proto: '' });
    assert.equal(address?.tlp, 'clear');
    assert.equal(address?.tier, 'council');
    assert.ok(address!.confidence <= OSINT_CONFIDENCE);
  });
});
