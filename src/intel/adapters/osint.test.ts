/** The OSINT intake: addresses, names and URLs of a document become low-confidence sightings of its feed. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../core/index.ts';
import { testEngines } from '../../store/testing.ts';
import { createIntel, IntelConfig, intelMigrations } from '../index.ts';
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

for (const engine of testEngines([intelMigrations])) {
  describe(`every document naming an indicator is kept, on ${engine.name}`, { skip: engine.skip }, () => {
    test('its sighting keeps each document once, the first reading of each; the tier rule holds', async () => {
      const store = await engine.open();
      try {
        const intel = createIntel(IntelConfig.parse({}), {
          store,
          logger: silentLogger(),
          registry: new Registry(),
        });
        {
          const second = {
            ...document,
            id: 'b'.repeat(64),
            url: 'https://blog.vendor-feeds.org/follow-up',
            title: 'Follow-up',
            fetchedAt: '2024-05-08T00:00:00.000Z',
          };
          const named = [{ type: 'domain', value: 'update-check.net', context: 'first mention' }];
          await recordOsintDocument(intel, document, named, { tlp: 'clear' });
          await recordOsintDocument(intel, second, [{ ...named[0]!, context: 'second mention' }], {
            tlp: 'clear',
          });
          // The first document again (another round, a mirror): no second row.
          await recordOsintDocument(intel, document, [{ ...named[0]!, context: 'again' }], { tlp: 'clear' });
          // The same document through another feed is that feed's sighting's provenance too.
          await recordOsintDocument(intel, { ...second, feed: 'other-feed' }, named, { tlp: 'green' });
          const domain = await intel.get({ kind: 'domain', value: 'update-check.net', port: 0, proto: '' });
          assert.ok(domain);
          const { total, items } = await intel.sightingDocuments(domain.id);
          assert.equal(total, 3);
          assert.deepEqual(
            items.map((d) => [d.source, d.document[0], d.url, d.title, d.context, d.firstSeen]),
            [
              ['osint:vendor-blog', 'a', document.url, 'Campaign', 'first mention', document.fetchedAt],
              ['osint:other-feed', 'b', second.url, 'Follow-up', 'first mention', second.fetchedAt],
              ['osint:vendor-blog', 'b', second.url, 'Follow-up', 'second mention', second.fetchedAt],
            ],
          );
          assert.equal((await intel.sightingDocuments(domain.id, 1)).items.length, 1);
          // Several documents are no more than one: OSINT alone stays at most council.
          assert.equal(domain.tier, 'council');
          assert.ok(domain.confidence < 50);
        }
      } finally {
        await store.close();
      }
    });
  });
}
