import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateScenario } from '../scenario/index.ts';
import { createFlowPublisher } from '../transport/index.ts';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));
const NATS = process.env.TSUNAGI_TEST_NATS_URL;

test(
  'a detector consumes the NATS flow stream live and keeps the shareable list current',
  { skip: !NATS && 'TSUNAGI_TEST_NATS_URL unset: NATS JetStream test skipped' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsunagi-detect-live-'));
    const stream = `TSUNAGI_TEST_${process.pid}_${Date.now()}`;
    // Live: the flows are as recent as the wall clock the detector ticks with.
    const scenario = generateScenario({ seed: 5, hours: 3, subscribers: 300, startMs: Date.now() });
    const bots = join(dir, 'bots.txt');
    writeFileSync(bots, `${scenario.truth.botList.join('\n')}\n`);
    const out = join(dir, 'c2.csv');
    const subscribers = scenario.truth.subscriberPrefixes;
    const child = spawn(
      BIN,
      // One partition: the test replays hours of traffic in seconds, and partitions consumed at
      // different speeds would skew the stream clock by hours (live traffic skews by seconds).
      [
        'detect',
        '--nats',
        NATS!,
        '--stream',
        stream,
        '--partitions',
        '0',
        '--bots',
        bots,
        '--subscribers',
        ...subscribers,
        '--out',
        out,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`detector not ready: ${stderr}`)), 60_000);
        const check = setInterval(() => {
          if (/consuming partitions/.test(stderr)) {
            clearInterval(check);
            clearTimeout(timer);
            resolve();
          }
        }, 50);
      });
      const publisher = createFlowPublisher({
        url: NATS,
        stream: { name: stream, subjectPrefix: `tsunagi.${stream.toLowerCase()}`, partitions: 1 },
        publish: { subscriberPrefixes: subscribers },
      });
      await publisher.start();
      for (const batch of scenario.batches()) {
        publisher.publish(batch);
        await publisher.flush();
      }
      await publisher.stop();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no publication: ${stdout} ${stderr}`)), 60_000);
        const check = setInterval(() => {
          if (/^\+/m.test(stdout)) {
            clearInterval(check);
            clearTimeout(timer);
            resolve();
          }
        }, 100);
      });
      child.kill('SIGINT');
      assert.equal(await exited, 0, stderr);
      const rows = readFileSync(out, 'utf8').trim().split('\n');
      assert.equal(rows[0], 'ip,port,proto,confidence,family');
      const servers = new Set(scenario.truth.c2.map((c) => `${c.ip}:${c.port}`));
      const published = stdout.split('\n').filter((line) => line.startsWith('+'));
      assert.ok(published.length >= 1);
      for (const line of published) {
        const [ip, port] = line.slice(1).split(',');
        assert.ok(servers.has(`${ip}:${port}`), `${line} is not a C&C server of the scenario`);
      }
    } finally {
      child.kill('SIGKILL');
      // The stream was made for this test only.
      const { connect } = await import('nats');
      const nc = await connect({ servers: NATS! });
      await (await nc.jetstreamManager()).streams.delete(stream).catch(() => undefined);
      await nc.close();
    }
  },
);
