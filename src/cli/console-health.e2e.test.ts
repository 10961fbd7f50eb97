/// <reference lib="dom" />
/**
 * The loss alert end to end, with real drops: a collector with the smallest receive buffer is
 * flooded over loopback UDP while its event loop is busy sending, so the kernel drops datagrams
 * (counted in /proc/net/udp). The console API then reports a loss, and in Chromium the red banner
 * shows on every page, in Japanese and in English, with the Pipeline page naming the drops.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { HealthBoard } from '../core/index.ts';
import { collectorHealth, createFlowCollector, FlowConfig, type FlowCollector } from '../flow/index.ts';
import type { HealthBody } from '../console/index.ts';
import {
  CHROMIUM,
  chromiumSuite,
  newConsolePage,
  signIn,
  startTestHub,
  type TestHub,
} from '../console/testing.ts';

async function healthOf(hub: TestHub, token: string): Promise<HealthBody> {
  const response = await fetch(`${hub.url}/console/api/health`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
  });
  assert.equal(response.status, 200);
  return (await response.json()) as HealthBody;
}

/** Sends `count` datagrams without yielding: the collector cannot read until the loop is done. */
function flood(port: number, count: number): Promise<void> {
  const socket = createSocket('udp4');
  const payload = Buffer.alloc(1400, 0xab);
  let sent = 0;
  return new Promise((resolve, reject) => {
    socket.on('error', reject);
    for (let i = 0; i < count; i++)
      socket.send(payload, port, '127.0.0.1', () => {
        if (++sent === count) socket.close(() => resolve());
      });
  });
}

describe('pipeline loss alert', () => {
  let collector: FlowCollector;
  let hub: TestHub;
  const board = new HealthBoard();

  before(async () => {
    collector = createFlowCollector(
      FlowConfig.parse({
        listen: ['127.0.0.1:0'],
        receiveBufferBytes: 65536,
        receiver: 'dgram',
        templateFile: '',
      }),
      { sink: () => {} },
    );
    await collector.start();
    board.addLocal('start', 'test-process', 1000, [() => collectorHealth(collector)]);
    hub = await startTestHub({ health: () => board.read() });
  });
  after(async () => {
    await hub?.close();
    await collector?.stop();
  });

  /** Floods the collector until the kernel has dropped datagrams; returns how many. */
  async function makeDrops(): Promise<number> {
    board.sample();
    // 4 MB at once into a 128 KiB buffer (the kernel doubles 64 KiB): most of it cannot fit.
    await flood(collector.listeners[0]!.boundPort, 3000);
    for (let i = 0; i < 50 && collector.counters().kernelDrops === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    const drops = collector.counters().kernelDrops;
    assert.ok(drops > 0, 'the kernel dropped datagrams');
    board.sample(Date.now() + 1000);
    return drops;
  }

  test('the API reports no loss before drops, a loss after the kernel drops datagrams', async () => {
    const before = await healthOf(hub, hub.tokens.full);
    assert.equal(before.watched, true);
    assert.equal(before.loss, false);
    assert.equal(before.processes[0]?.components[0]?.component, 'collector');

    const drops = await makeDrops();

    const after = await healthOf(hub, hub.tokens.full);
    assert.equal(after.loss, true);
    const component = after.processes[0]!.components[0]!;
    assert.equal(component.level, 'loss');
    assert.ok(component.counters.kernelDrops! >= drops);
    assert.ok(component.dropped >= drops);
    // The payloads were not flows: the decoder's errors are counted by kind.
    assert.ok(component.counters.decodeErrors! > 0);
    assert.ok(
      after.history.some((s) => s.droppedPerSecond > 0),
      'the chart has the drops',
    );
    assert.equal(after.processes[0]!.stale, false);

    // Lower tiers do not see the operator's pipeline.
    const council = await healthOf(hub, hub.tokens.council);
    assert.deepEqual(council, { watched: false, loss: false, processes: [], history: [] });
  });

  describe(
    'in Chromium',
    { skip: !existsSync(CHROMIUM) && `${CHROMIUM} missing (scripts/install-test-tools.sh installs it)` },
    () => {
      const browser = chromiumSuite();
      before(async () => {
        if (collector.counters().kernelDrops === 0) await makeDrops();
      });

      // The words an analyst reads (console/src/i18n.ts), per language.
      const WORDS = {
        ja: {
          banner: 'データの欠損',
          loss: '欠損あり',
          drops: 'カーネル受信破棄',
          collector: 'UDP 受信・デコード',
        },
        en: {
          banner: 'Data loss',
          loss: 'Loss',
          drops: 'Kernel receive drops',
          collector: 'UDP input and decoding',
        },
      };
      for (const lang of ['ja', 'en'] as const) {
        test(`the red banner shows on every page and the Pipeline page names the drops (${lang})`, async () => {
          assert.equal((await healthOf(hub, hub.tokens.full)).loss, true);
          const page = await newConsolePage(browser(), lang);
          await signIn(page, hub.url, hub.tokens.full);
          const words = WORDS[lang];
          for (const hash of ['#/overview', '#/c2', '#/sharing']) {
            await page.goto(`${hub.url}/${hash}`);
            const banner = await page.waitForSelector('[data-testid=loss-banner]', { timeout: 10_000 });
            assert.match((await banner.textContent()) ?? '', new RegExp(words.banner));
            assert.equal(
              await banner.evaluate((e) => getComputedStyle(e).backgroundColor),
              'rgb(92, 26, 27)',
              'the banner is red',
            );
          }
          await page.click('[data-testid=loss-banner] a');
          await page.waitForSelector('[data-testid=pipeline-table]');
          const table = (await page.textContent('[data-testid=pipeline-table]')) ?? '';
          assert.ok(table.includes(words.loss), table);
          assert.ok(table.includes(words.drops), table);
          assert.ok(table.includes(words.collector), table);
          const text = (await page.textContent('section[data-page=pipeline]')) ?? '';
          assert.doesNotMatch(text, /[{}"]|undefined|NaN/, 'no raw JSON');
          assert.ok(await page.$('section[data-page=pipeline] svg.series'), 'the rate chart is drawn');
          await page.context().close();
        });
      }
    },
  );
});
