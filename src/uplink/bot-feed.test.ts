/**
 * The bot feed against a real hub on 127.0.0.1: bots recorded in intel reach the detector's
 * list through TAXII (full tier, and an ISP's own-network collection), a withdrawal removes one,
 * valid_until expires them, and the watermark and set survive a restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { COLLECTION_IDS, ownNetworkCollectionId } from '../share/index.ts';
import { startHubFixture, type HubFixture } from '../share/testing.ts';
import { botAddressOf, createBotFeed } from './index.ts';

const logger = silentLogger();

describe('bot feed against a real hub', () => {
  let h: HubFixture;
  let dir: string;
  before(async () => {
    h = await startHubFixture();
    dir = mkdtempSync(join(tmpdir(), 'tsunagi-botfeed-'));
    const bot = (value: string) => ({ type: 'bot' as const, value, source: 'darknet', confidence: 70 });
    await h.intel.recordSightings([
      bot('192.0.2.10'),
      bot('192.0.2.11'),
      bot('2001:db8::5'),
      bot('198.18.0.9'),
      // Same pattern shape, other kinds: never bots.
      { type: 'c2', value: '203.0.113.50', source: 'darknet', confidence: 90 },
      { type: 'vulnerable-device', value: '192.0.2.77', source: 'survey', confidence: 60 },
      { type: 'c2', value: '203.0.113.51', port: 443, proto: 'tcp', source: 'darknet', confidence: 90 },
    ]);
    await h.hub.publisher.sync();
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('full tier: the set arrives over pages, a withdrawal removes one, and a quiet poll changes nothing', async () => {
    const told: string[][] = [];
    const registry = new Registry();
    const stateFile = join(dir, 'full.json');
    const config = {
      url: h.url,
      apiRoot: 'full',
      collection: COLLECTION_IDS.full,
      token: h.tokens.analysis,
      pageSize: 2,
      stateFile,
      // Everything here is added within one second; the default overlap would re-read it all.
      overlapMs: 0,
    };
    const feed = createBotFeed(config, { logger, registry, onBots: (a) => told.push(a) });
    const first = await feed.poll();
    assert.equal(first.changed, true);
    assert.ok(first.watermark);
    assert.deepEqual(told, [['192.0.2.10', '192.0.2.11', '198.18.0.9', '2001:db8::5']]);

    await h.intel.withdraw({ kind: 'bot', value: '192.0.2.11' }, 'cleaned', 'test');
    await h.hub.publisher.sync();
    const second = await feed.poll();
    assert.equal(second.changed, true);
    assert.ok(
      second.objects < first.objects,
      `added_after: ${second.objects} objects, first poll ${first.objects}`,
    );
    assert.deepEqual(told.at(-1), ['192.0.2.10', '198.18.0.9', '2001:db8::5']);

    const third = await feed.poll();
    assert.equal(third.changed, false);
    assert.equal(told.length, 2, 'onBots only on a change');
    assert.match(await registry.metrics(), /tsunagi_bot_feed_bots 3/);

    // A restart tells the last set at once and asks only for what was added since.
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as { watermark: string };
    assert.equal(saved.watermark, third.watermark);
    const toldAgain: string[][] = [];
    const restarted = createBotFeed(config, { logger, onBots: (a) => toldAgain.push(a) });
    await restarted.start();
    assert.deepEqual(toldAgain, [['192.0.2.10', '198.18.0.9', '2001:db8::5']]);
    const afterRestart = await restarted.poll();
    assert.ok(afterRestart.objects < first.objects);
    assert.equal(afterRestart.changed, false);
    await restarted.stop();
  });

  test('valid_until: bots leave the set when their validity ends, even with no new objects', async () => {
    let clock = Date.now();
    const told: string[][] = [];
    const feed = createBotFeed(
      { url: h.url, apiRoot: 'full', collection: COLLECTION_IDS.full, token: h.tokens.analysis },
      { logger, onBots: (a) => told.push(a), now: () => clock },
    );
    await feed.poll();
    assert.equal(feed.bots().length, 3);
    clock += 8 * 86_400_000; // intel keeps a bot 7 days after its last sighting
    const later = await feed.poll();
    assert.equal(later.changed, true);
    assert.deepEqual(told.at(-1), []);
  });

  test("an ISP's own-network collection gives it exactly the bots inside its prefixes", async () => {
    const isp = (await h.hub.orgs.get('ISP A'))!;
    const told: string[][] = [];
    const feed = createBotFeed(
      {
        url: `${h.url}/taxii2/`,
        apiRoot: 'network',
        collection: ownNetworkCollectionId(isp.id),
        username: 'isp-a',
        password: h.tokens.ispA,
      },
      { logger, onBots: (a) => told.push(a) },
    );
    await feed.poll();
    assert.deepEqual(told, [['192.0.2.10']]);
  });

  test('a state file from elsewhere or damaged is set aside, not trusted', async () => {
    const stateFile = join(dir, 'damaged.json');
    writeFileSync(stateFile, '{"format":"tsunagi-bot-feed","version":1,"source":"x","indicators":[[1]]}');
    const told: string[][] = [];
    const feed = createBotFeed(
      { url: h.url, apiRoot: 'full', collection: COLLECTION_IDS.full, token: h.tokens.analysis, stateFile },
      { logger, onBots: (a) => told.push(a) },
    );
    await feed.start();
    assert.deepEqual(told, [], 'nothing told from a bad file');
    const deadline = Date.now() + 5000;
    while (told.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await feed.stop();
    assert.deepEqual(told, [['192.0.2.10', '198.18.0.9', '2001:db8::5']]);
  });
});

describe('botAddressOf', () => {
  const base = {
    type: 'indicator',
    id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
    pattern_type: 'stix',
    indicator_types: ['compromised'],
  };
  test('reads single-address bot patterns, canonical, CIDR included', () => {
    assert.equal(botAddressOf({ ...base, pattern: "[ipv4-addr:value = '192.0.2.1']" }), '192.0.2.1');
    assert.equal(botAddressOf({ ...base, pattern: "[ipv6-addr:value = '2001:DB8:0::1']" }), '2001:db8::1');
    assert.equal(botAddressOf({ ...base, pattern: "[ipv4-addr:value = '192.0.2.9/24']" }), '192.0.2.0/24');
  });
  test('refuses what is not a bot or not one address', () => {
    const no = [
      { ...base, indicator_types: ['malicious-activity'], pattern: "[ipv4-addr:value = '192.0.2.1']" },
      { ...base, pattern: "[ipv4-addr:value = '192.0.2.1'] OR [ipv4-addr:value = '192.0.2.2']" },
      { ...base, pattern: "[ipv4-addr:value = '192.0.2.1' OR ipv4-addr:value = '192.0.2.2']" },
      { ...base, pattern: "[ipv4-addr:value = '2001:db8::1']" },
      { ...base, pattern: "[ipv4-addr:value = 'evil']" },
      { ...base, pattern: "[network-traffic:dst_ref.value = '192.0.2.1']" },
      { ...base, pattern_type: 'snort', pattern: "[ipv4-addr:value = '192.0.2.1']" },
    ];
    for (const o of no) assert.equal(botAddressOf(o), undefined, o.pattern);
  });
});
