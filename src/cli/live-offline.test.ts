/**
 * Live equals offline (issue #14 item 9): a capture replayed over real UDP (loopback) into the
 * `start` stack, at full speed and paced, leaves `export c2` with the same C&C list as offline
 * `detect` on the same capture, and nothing is withdrawn by the wall clock. The capture is from
 * 2024, so a detector that expired on wall time would withdraw every server a second after
 * publishing it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, createRegistry, Lifecycle } from '../core/index.ts';
import { detectOffline } from './offline-detect.ts';
import { REANNOUNCE_MIN_CHANGE } from '../detect/index.ts';
import { generateScenario, sendExportUdp, writeExportPcap } from '../scenario/index.ts';
import { exportedC2 } from './test-cli.ts';
import { createStack, type StackConfig } from './stack.ts';
import { loopbackStackConfig } from './testing.ts';

// One hour of traffic: no key can expire inside the capture (expiry is 1 h of stream time), so
// offline's "every server seen" and live's "every server standing" must be the same list.
// A scenario generates its traffic once: each use takes a fresh one of the same seed.
const day = () => generateScenario({ seed: 11, hours: 1, subscribers: 300 });
const { truth } = day();
const subscribers = truth.subscriberPrefixes;

async function runLive(dir: string, bots: string, rate: number) {
  const data = join(dir, `data-${rate}`);
  const logLines: string[] = [];
  const logStream = new PassThrough();
  logStream.on('data', (d: Buffer) => logLines.push(...d.toString().trim().split('\n')));
  const logger = createLogger({ level: 'info' }, logStream);
  const config = loopbackStackConfig(data, {
    detect: { subscriberPrefixes: subscribers, botsFile: bots },
    botsFromIntel: { enabled: false },
    tickMs: 100,
  });
  const stack = await createStack(config, { env: {}, logger, registry: createRegistry() });
  const lifecycle = new Lifecycle(logger);
  await lifecycle.start(stack.components);
  let sent = 0;
  try {
    const port = stack.collector.listeners[0]!.boundPort;
    sent = (await sendExportUdp(day().batches(), { host: '127.0.0.1', port, format: 'ipfix', rate })).flows;
    for (let i = 0; i < 200 && stack.collector.counters().records < sent; i++) {
      stack.collector.flush();
      await sleep(50);
    }
    stack.collector.flush();
    // Wall-time ticks keep running: a wall-clock expiry would withdraw everything here.
    await sleep(500);
  } finally {
    await lifecycle.stop();
    await stack.close();
  }
  return {
    data,
    config,
    sent,
    received: stack.collector.counters().records,
    withdrawn: stack.withdrawn(),
    logLines,
  };
}

/** Starts and stops a stack on the data directory again; returns the aggregates it restored. */
async function restart(config: StackConfig): Promise<number> {
  const stack = await createStack(config, {
    env: {},
    logger: createLogger({ level: 'warn' }, new PassThrough()),
    registry: createRegistry(),
  });
  const lifecycle = new Lifecycle(createLogger({ level: 'warn' }, new PassThrough()));
  await lifecycle.start(stack.components);
  const restored = stack.detector.stats.restored;
  await lifecycle.stop();
  await stack.close();
  return restored;
}

test('start fed a capture over UDP exports the same C&C list as offline detect, at any speed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-live-offline-'));
  try {
    const pcap = join(dir, 'capture.pcap');
    await writeExportPcap(day().batches(), pcap, { format: 'ipfix' });
    const bots = join(dir, 'bots.txt');
    writeFileSync(bots, `${truth.botList.join('\n')}\n`);
    const offline = await detectOffline([pcap], truth.botList, { subscriberPrefixes: subscribers });
    const expected = new Map(offline.rows.map((r) => [`${r.ip},${r.port},${r.proto}`, r.confidence]));
    assert.ok(expected.size >= 2, `the capture has C&C servers to find (${expected.size})`);

    for (const rate of [0, 40_000]) {
      const live = await runLive(dir, bots, rate);
      assert.equal(live.received, live.sent, `rate ${rate}: every flow sent over UDP arrived`);
      assert.equal(live.withdrawn, 0, `rate ${rate}: nothing withdrawn:\n${live.logLines.join('\n')}`);
      const exported = await exportedC2(live.data);
      if (rate === 0) {
        // A restart restores the aggregates on the capture's own clock, not today's date.
        assert.ok((await restart(live.config)) > 0, 'a restarted stack restored its aggregates');
      }
      assert.deepEqual([...exported.keys()].sort(), [...expected.keys()].sort(), `rate ${rate}`);
      for (const [key, confidence] of expected) {
        const diff = Math.abs(exported.get(key)! - confidence);
        assert.ok(
          diff < REANNOUNCE_MIN_CHANGE,
          `rate ${rate}: ${key} live ${exported.get(key)} offline ${confidence}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
