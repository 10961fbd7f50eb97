/**
 * The multi-machine shape end to end on real NATS JetStream: the `start --nats --no-local-detect`
 * stack collects a capture over loopback UDP and publishes it to a 2-partition flow stream; two
 * `detect --nats` worker processes own one partition each and announce candidates to the hub
 * stream; the hub writes them to intel. One worker is SIGKILLed mid-stream and restarted: it
 * resumes from its checkpoint, no flow row is lost, and `export c2` equals offline `detect`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import { createRegistry, type FlowBatch, Lifecycle, silentLogger } from '../core/index.ts';
import { REANNOUNCE_MIN_CHANGE } from '../detect/index.ts';
import { detectOffline } from './offline-detect.ts';
import { generateScenario, sendExportUdp, writeExportPcap } from '../scenario/index.ts';
import { exportedC2 } from './test-cli.ts';
import { createStack } from './stack.ts';
import { loopbackStackConfig } from './testing.ts';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));
const NATS = process.env.TSUNAGI_TEST_NATS_URL;
const day = () => generateScenario({ seed: 12, hours: 1, subscribers: 300 });
const { truth } = day();

function* take(source: Iterator<FlowBatch>, count: number): Generator<FlowBatch> {
  for (let i = 0; i < count; i++) {
    const next = source.next();
    if (next.done) return;
    yield next.value;
  }
}

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 60_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The hub's C&C list equals an offline detect run over the same day, and worker 0's list survived its restart. */
async function assertHubMatchesOffline(dir: string, data: string, logs: string[]): Promise<void> {
  const pcap = join(dir, 'capture.pcap');
  await writeExportPcap(day().batches(), pcap, { format: 'ipfix' });
  const offline = await detectOffline([pcap], truth.botList, {
    subscriberPrefixes: truth.subscriberPrefixes,
  });
  const expected = new Map(offline.rows.map((r) => [`${r.ip},${r.port},${r.proto}`, r.confidence]));
  const exported = await exportedC2(data);
  assert.ok(expected.size >= 2, `C&C servers to find (${expected.size})`);
  assert.deepEqual([...exported.keys()].sort(), [...expected.keys()].sort(), `${logs.join('\n')}`);
  for (const [key, confidence] of expected) {
    assert.ok(
      Math.abs(exported.get(key)! - confidence) < REANNOUNCE_MIN_CHANGE + 1,
      `${key}: hub ${exported.get(key)} offline ${confidence}`,
    );
  }
  // The restarted worker did not clobber its list with an empty one.
  assert.match(readFileSync(join(dir, 'c2-0.csv'), 'utf8'), /^ip,port,proto,confidence,family\n/);
}

test(
  'detect --nats workers: durable resume after SIGKILL loses no row, and their candidates reach the hub',
  { skip: !NATS && 'TSUNAGI_TEST_NATS_URL unset: NATS JetStream test skipped' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsunagi-workers-'));
    const id = `${process.pid}_${Date.now().toString(36)}`;
    const flows = `TSUNAGI_TEST_W_${id}`;
    const candidates = `TSUNAGI_TEST_C_${id}`;
    const durable = `w-${id}`;
    const nc = await connect({ servers: NATS! });
    const jsm = await nc.jetstreamManager();
    const bots = join(dir, 'bots.txt');
    writeFileSync(bots, `${truth.botList.join('\n')}\n`);
    const workers: ChildProcess[] = [];
    const logs = ['', ''];
    const spawnWorker = (p: number, extra: string[] = []) => {
      const child = spawn(
        BIN,
        [
          'detect',
          '--nats',
          NATS!,
          '--stream',
          flows,
          '--partition-count',
          '2',
          '--partitions',
          String(p),
          '--durable',
          durable,
          '--candidates',
          candidates,
          '--state',
          join(dir, `state-${p}`),
          '--checkpoint',
          '1',
          '--out',
          join(dir, `c2-${p}.csv`),
          '--bots',
          bots,
          '--subscribers',
          ...truth.subscriberPrefixes,
          ...extra,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      logs[p] += '\n--- (re)started ---\n';
      const from = logs[p]!.length;
      child.stderr!.on('data', (d) => (logs[p] += d));
      child.stdout!.on('data', (d) => (logs[p] += d));
      workers[p] = child;
      return until(`worker ${p}`, () => /consuming partitions/.test(logs[p]!.slice(from)));
    };
    const data = join(dir, 'hub');
    const stack = await createStack(
      loopbackStackConfig(data, {
        detect: { subscriberPrefixes: truth.subscriberPrefixes },
        botsFromIntel: { enabled: false },
        nats: {
          enabled: true,
          url: NATS,
          localDetect: false,
          stream: { name: flows, subjectPrefix: `tsunagi.${flows.toLowerCase()}`, partitions: 2 },
          candidates: {
            name: candidates,
            subjectPrefix: `tsunagi.${candidates.toLowerCase()}`,
            durable: `hub-${id}`,
          },
        },
      }),
      { env: {}, logger: silentLogger(), registry: createRegistry() },
    );
    const lifecycle = new Lifecycle(silentLogger());
    // The NATS connection and streams are released however the test ends: an open connection
    // would keep the file's process alive after a failure.
    try {
      try {
        await lifecycle.start(stack.components);
        await Promise.all([spawnWorker(0), spawnWorker(1)]);
        const port = stack.collector.listeners[0]!.boundPort;
        const source = day().batches();
        let sent = (
          await sendExportUdp(take(source, 4), { host: '127.0.0.1', port, format: 'ipfix', rate: 0 })
        ).flows;
        await until('first part published', async () => {
          stack.collector.flush();
          await stack.flowPublisher!.flush();
          return stack.flowPublisher!.stats.rows === sent;
        });
        // A checkpoint taken after worker 0 consumed part of its partition (positions and aggregates
        // are saved at one instant), not merely the first one: under load that one may hold nothing.
        await until('a checkpoint of worker 0 with a position', () => {
          const file = join(dir, 'state-0', 'positions.json');
          if (!existsSync(file)) return false;
          const saved = JSON.parse(readFileSync(file, 'utf8')) as { positions?: Record<string, unknown> };
          return Object.keys(saved.positions ?? {}).length > 0;
        });
        workers[0]!.kill('SIGKILL');
        await new Promise((resolve) => workers[0]!.once('exit', resolve));
        sent += (
          await sendExportUdp(
            { [Symbol.iterator]: () => source },
            { host: '127.0.0.1', port, format: 'ipfix', rate: 0 },
          )
        ).flows;
        await until('everything published', async () => {
          stack.collector.flush();
          await stack.flowPublisher!.flush();
          return stack.flowPublisher!.stats.rows === sent;
        });
        assert.equal(stack.collector.counters().records, sent, 'every flow sent over UDP arrived');
        assert.equal(stack.flowPublisher!.droppedRows(), 0, 'no row dropped before the stream');
        const metricsPort = await freeTcpPort();
        await spawnWorker(0, ['--metrics', `127.0.0.1:${metricsPort}`]);
        // The checkpoint's aggregates came back (expired on the stream's clock, not today's).
        const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        const restored = Number(/tsunagi_detect_keys_total\{event="restored"\} (\d+)/.exec(metrics)?.[1]);
        assert.ok(restored > 0, `the restarted worker restored its aggregates (${restored})`);
        // Every message of both partitions acknowledged by its worker's durable consumer.
        const last = async () => (await jsm.streams.info(flows)).state;
        await until('both workers caught up', async () => {
          for (const p of [0, 1]) {
            const info = await jsm.consumers.info(flows, `${durable}-p${p}`);
            if (info.num_pending > 0 || info.num_ack_pending > 0) return false;
          }
          return true;
        });
        const state = await last();
        assert.equal(state.first_seq, 1, 'the stream discarded nothing');
        assert.equal(state.messages, stack.flowPublisher!.stats.messages, 'each message stored once');
        for (const p of [0, 1]) workers[p]!.kill('SIGINT');
        for (const p of [0, 1])
          if (workers[p]!.exitCode === null)
            await new Promise((resolve) => workers[p]!.once('exit', resolve));
        assert.equal(workers[0]!.exitCode, 0, logs[0]);
        assert.equal(workers[1]!.exitCode, 0, logs[1]);
        await until('the hub applied every announcement', async () => {
          const info = await jsm.consumers.info(candidates, `hub-${id}`);
          return info.num_pending === 0 && info.num_ack_pending === 0;
        });
      } finally {
        for (const w of workers) w?.kill('SIGKILL');
        await lifecycle.stop();
        await stack.close();
      }
      await assertHubMatchesOffline(dir, data, logs);
    } finally {
      await jsm.streams.delete(flows).catch(() => undefined);
      await jsm.streams.delete(candidates).catch(() => undefined);
      await nc.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
