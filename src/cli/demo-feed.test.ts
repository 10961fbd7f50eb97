/**
 * The demo's advisories are read the way `tsunagi start` reads any feed: fetched over loopback,
 * extracted, kept with provenance and recorded in intel. What they name of the scenario's C&C
 * servers arrives with its port; what they name that is not an indicator (a documentation
 * address, reference links, a version number) does not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OsintConfig } from '../osint/index.ts';
import { generateScenario } from '../scenario/index.ts';
import { startDemoFeed } from './demo-feed.ts';
import { demoPhishingUrls } from './demo-sources.ts';
import { createOsintIntake } from './osint-intake.ts';
import { withRoomsInMemory } from './testing.ts';

test('demo feed: its advisories go through the OSINT intake into intel, C&C servers with their ports', async () => {
  const scenario = generateScenario({ seed: 1, hours: 3, subscribers: 300, startMs: Date.now() });
  const planned = scenario.plannedC2();
  assert.ok(planned.length >= 2, 'the scenario plans C&C servers before its flows are generated');
  const feed = await startDemoFeed({
    c2: planned,
    phishingUrls: demoPhishingUrls(1),
    published: new Date(),
  });
  try {
    await withRoomsInMemory(async ({ store, intel, logger, registry }) => {
      const run = createOsintIntake(
        OsintConfig.parse({ feeds: [{ name: 'demo-advisories', url: feed.url }], intervalMs: 0 }),
        { store, intel, logger, registry },
      );
      const round = await run.osint.fetch();
      assert.equal(round.errors, 0, JSON.stringify(round));
      const documents = await run.osint.documents(10);
      assert.equal(documents.length, 2);
      assert.ok(
        documents.every((d) => d.source === 'demo-advisories' && d.url.startsWith('http://127.0.0.1:')),
      );

      const found = (await Promise.all(documents.map((d) => run.osint.indicatorsOf(d.id)))).flat();
      const addresses = found.filter((i) => i.type === 'ipv4').map((i) => `${i.value}:${i.port}`);
      const earliest = [...planned].sort((a, b) => a.fromMs - b.fromMs)[0]!;
      assert.ok(addresses.includes(`${earliest.ip}:${earliest.port}`), addresses.join(' '));
      for (const address of addresses)
        assert.ok(
          planned.some((c) => `${c.ip}:${c.port}` === address),
          `${address} is not a C&C server of the scenario`,
        );
      const values = new Set(found.map((i) => i.value));
      for (const notIndicator of ['192.0.2.10', '5.4.0', 'https://www.jpcert.or.jp/'])
        assert.ok(!values.has(notIndicator), `${notIndicator} is not an indicator`);
      assert.ok(values.has('CVE-2017-7921') && values.has('T1566.002'));
      assert.ok(
        found.filter((i) => i.type === 'url').length >= 3,
        'the defanged phishing URLs are read as URLs',
      );
      assert.ok(run.sightings() >= 5, `${run.sightings()} intel sightings`);
    });
  } finally {
    await feed.close();
  }
});
