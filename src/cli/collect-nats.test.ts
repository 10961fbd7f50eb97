/**
 * `tsunagi collect --nats`: the collector alone of the multi-machine shape. Flows sent over
 * loopback UDP land in the partitioned flow stream, row for row, and the final line accounts
 * for them (published, unpublished).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import { freeUdpPort as freePort } from '../flow/testing.ts';
import { generateScenario, sendExportUdp } from '../scenario/index.ts';
import { createFlowSubscriber } from '../transport/index.ts';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));
const NATS = process.env.TSUNAGI_TEST_NATS_URL;

test(
  'collect --nats publishes every flow it receives to the partitioned stream',
  { skip: !NATS && 'TSUNAGI_TEST_NATS_URL unset: NATS JetStream test skipped' },
  async () => {
    const scenario = generateScenario({ seed: 13, hours: 0.5, subscribers: 100 });
    const prefixes = scenario.truth.subscriberPrefixes;
    const port = await freePort();
    const id = `${process.pid}_${Date.now().toString(36)}`;
    const stream = { name: `TSUNAGI_TEST_COLLECT_${id}`, subjectPrefix: `tsunagi.test.collect.${id}` };
    const child = spawn(
      BIN,
      [
        'collect',
        '--nats',
        NATS!,
        '-l',
        `127.0.0.1:${port}`,
        '--interval',
        '1',
        '--subscribers',
        ...prefixes,
      ],
      // A stream of this test's own, named through the environment (TSUNAGI_SECTION__KEY).
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          TSUNAGI_NATS__STREAM__NAME: stream.name,
          TSUNAGI_NATS__STREAM__SUBJECT_PREFIX: stream.subjectPrefix,
        },
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let received = 0;
    const subscriber = createFlowSubscriber(
      { url: NATS, stream, subscribe: { deliver: 'all' } },
      {
        sink: (batch) => {
          received += batch.length;
        },
      },
    );
    try {
      await subscriber.start();
      for (let i = 0; i < 300 && !/listening on/.test(stderr); i++) await sleep(100);
      assert.match(stderr, /listening on/);
      const sent = await sendExportUdp(scenario.batches(), {
        host: '127.0.0.1',
        port,
        format: 'ipfix',
        rate: 0,
      });
      // The collector flushes its batches every flushIntervalMs; the rate line shows progress.
      for (let i = 0; i < 300 && received < sent.flows; i++) await sleep(100);
      child.kill('SIGINT');
      assert.equal(await exited, 0, stderr);
      assert.equal(received, sent.flows, 'every flow reached the stream');
      assert.match(
        stderr,
        new RegExp(`${sent.flows} flows from \\d+ packets, 0 errors, ${sent.flows} published, 0 unpublished`),
      );
    } finally {
      child.kill('SIGKILL');
      await subscriber.stop();
      const nc = await connect({ servers: NATS! });
      await (await nc.jetstreamManager()).streams.delete(stream.name).catch(() => undefined);
      await nc.close();
    }
  },
);
