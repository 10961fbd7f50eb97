/** The stack wired to another hub: bots in from its TAXII collection, C&C out to it. */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRegistry, Lifecycle, silentLogger } from '../core/index.ts';
import { streamIngest } from '../detect/index.ts';
import { generateScenario } from '../scenario/index.ts';
import { COLLECTION_IDS } from '../share/index.ts';
import { startHubFixture } from '../share/testing.ts';
import { createTaxiiClient } from '../uplink/index.ts';
import { createStack } from './stack.ts';
import { loopbackStackConfig } from './testing.ts';

test('start shares its C&C list to a remote hub and takes its bot list from a remote TAXII collection', async () => {
  const remote = await startHubFixture();
  const scenario = generateScenario({ seed: 3, hours: 4, subscribers: 400, startMs: Date.UTC(2025, 5, 1) });
  // The analysis center holds the ISP's infected subscribers (from its darknet).
  await remote.intel.recordSightings(
    scenario.truth.botList.map((ip) => ({
      type: 'bot' as const,
      value: ip,
      source: 'nicter',
      confidence: 90,
      tier: 'full' as const,
    })),
  );
  await remote.hub.publisher.sync();
  const data = mkdtempSync(join(tmpdir(), 'tsunagi-stack-remote-'));
  const logger = silentLogger();
  const config = loopbackStackConfig(data, {
    botsFromIntel: { enabled: false },
    detect: { subscriberPrefixes: scenario.truth.subscriberPrefixes },
    botsTaxii: {
      url: remote.url,
      apiRoot: 'full',
      collection: COLLECTION_IDS.full,
      token: remote.tokens.analysis,
    },
    shareTo: {
      url: remote.url,
      apiRoot: 'council',
      collection: COLLECTION_IDS.submissions,
      token: remote.tokens.ispB,
      batchMs: 50,
    },
  });
  const stack = await createStack(config, { env: {}, logger, registry: createRegistry() });
  const lifecycle = new Lifecycle(logger);
  await lifecycle.start(stack.components);
  try {
    // The bot feed's first poll gives the detector the remote bot list; the flows then show
    // which servers those bots talk to.
    const ingest = streamIngest(stack.detector);
    await sleep(1500);
    // Batches arrive over time, as from the collector: the sharer posts between them.
    for (const batch of scenario.batches()) {
      ingest(batch);
      await sleep(5);
    }
    stack.detector.tick();
    assert.ok(stack.published() >= 1, 'the detector published C&C servers');
    const servers = new Set(scenario.truth.c2.map((c) => `${c.ip}:${c.port}`));
    let shared: string[] = [];
    for (let attempt = 0; attempt < 100 && shared.length === 0; attempt++) {
      await sleep(100);
      await remote.hub.publisher.sync();
      const council = createTaxiiClient({
        url: remote.url,
        apiRoot: 'council',
        collection: COLLECTION_IDS.council,
        token: remote.tokens.council,
      });
      const { objects } = await council.getObjects({ types: ['indicator'] });
      shared = objects
        .map((o) => /value = '([^']+)' AND network-traffic:dst_port = (\d+)/.exec(String(o.pattern)))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => `${m[1]}:${m[2]}`);
    }
    assert.ok(shared.length >= 1, 'the council reads the shared C&C list on the remote hub');
    for (const server of shared) assert.ok(servers.has(server), `${server} is a C&C server of the scenario`);
  } finally {
    await lifecycle.stop();
    await stack.close();
    await remote.close();
  }
});
