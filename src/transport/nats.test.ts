/** Integration tests against a real NATS JetStream server (TSUNAGI_TEST_NATS_URL): partitioned delivery exactly once, limits, refusals. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, StorageType, nanos, type JetStreamManager, type NatsConnection } from 'nats';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { FlowBatch, PrefixSet } from '../core/index.ts';
import { encodeFlowBatch } from './codec.ts';
import type { TransportConfigInput } from './config.ts';
import {
  createFlowPublisher,
  createFlowSubscriber,
  parsePartitionList,
  type FlowSubscriber,
} from './index.ts';
import { publisherHealth } from './health.ts';
import { partitionOfRow } from './partition.ts';
import { assertSameRow } from './testing.ts';

const url = process.env.TSUNAGI_TEST_NATS_URL;
const skip = !url && 'TSUNAGI_TEST_NATS_URL unset';
const runId = `${process.pid}_${Date.now().toString(36)}`;
const SUBS = ['10.0.0.0/8', '2001:db8:1::/48'];
let streamCount = 0;

/** A fresh stream name and subject prefix, so runs and tests never see each other's messages. */
function freshStream(partitions = 4): { name: string; subjectPrefix: string; partitions: number } {
  const id = `${runId}_${streamCount++}`;
  return { name: `TSUNAGI_TEST_${id}`, subjectPrefix: `tsunagi.test.${id}`, partitions };
}

/**
 * `count` rows: contacts between subscribers (10/8) and a few hundred servers, both directions
 * alternating, a sprinkle of IPv6. startMs carries a global row id.
 */
function makeBatch(firstId: number, count: number): FlowBatch {
  const batch = new FlowBatch(count);
  batch.exporterIndex('192.0.2.1');
  batch.exporterIndex('2001:db8::9');
  for (let i = 0; i < count; i++) {
    const id = firstId + i;
    const contact = id >> 1;
    const reply = (id & 1) === 1;
    const r = batch.addRow(contact % 2, 10);
    const client = (0x0a000000 | ((contact * 2654435761) & 0xffffff)) >>> 0;
    const server = (0xcb000000 + (contact % 331) * 17) >>> 0;
    const serverPort = 1000 + (contact % 13);
    const clientPort = 30000 + (contact % 20000);
    if (contact % 10 === 0) {
      batch.ipVersion[r] = 6;
      const s = reply ? batch.src6 : batch.dst6;
      s.set([0x20, 0x01, 0x0d, 0xb8, 0xff], r * 16);
      s[r * 16 + 15] = contact % 251;
      const c = reply ? batch.dst6 : batch.src6;
      c.set([0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01], r * 16);
      c[r * 16 + 14] = contact & 255;
    } else {
      batch.src4[r] = reply ? server : client;
      batch.dst4[r] = reply ? client : server;
    }
    batch.srcPort[r] = reply ? serverPort : clientPort;
    batch.dstPort[r] = reply ? clientPort : serverPort;
    batch.proto[r] = 6;
    batch.tcpFlags[r] = 0x18;
    batch.packets[r] = 3 + (id % 5);
    batch.bytes[r] = 200 + id;
    batch.startMs[r] = id;
    batch.endMs[r] = id + 1000;
  }
  return batch;
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let nc: NatsConnection;
let jsm: JetStreamManager;
const created: string[] = [];
const cfg = (
  stream: ReturnType<typeof freshStream>,
  extra: TransportConfigInput = {},
): TransportConfigInput => {
  if (!created.includes(stream.name)) created.push(stream.name);
  return { url: url!, ...extra, stream: { ...stream, ...extra.stream } };
};

before(async () => {
  // Module-level set-up: nothing to start where the suite that needs it is skipped.
  if (skip) return;
  nc = await connect({ servers: url! });
  jsm = await nc.jetstreamManager();
});
after(async () => {
  for (const name of created) await jsm.streams.delete(name).catch(() => false);
  await nc?.close();
});

describe('transport over NATS JetStream', { skip }, () => {
  test('4 partitions, two subscribers owning 2 each: every row arrives exactly once, at its owner', async () => {
    const stream = freshStream(4);
    const registry = new Registry();
    const publisher = createFlowPublisher(cfg(stream, { publish: { subscriberPrefixes: SUBS } }), {
      registry,
    });
    // Row id -> the subscriber and partition it arrived on; ids seen twice are recorded.
    const arrivals = new Map<number, { who: number; partition: number }>();
    const duplicates: number[] = [];
    const received: FlowBatch[] = [];
    const subscribers: FlowSubscriber[] = [0, 1].map((who) =>
      createFlowSubscriber(cfg(stream, { subscribe: { partitions: who === 0 ? [0, 1] : [2, 3] } }), {
        registry: new Registry(),
        sink: (batch, partition) => {
          received.push(batch);
          for (let r = 0; r < batch.length; r++) {
            const id = batch.startMs[r]!;
            if (arrivals.has(id)) duplicates.push(id);
            arrivals.set(id, { who, partition });
          }
        },
      }),
    );
    await publisher.start();
    for (const s of subscribers) await s.start();
    try {
      const batches = 40;
      const perBatch = 1000;
      const originals: FlowBatch[] = [];
      for (let b = 0; b < batches; b++) {
        const batch = makeBatch(b * perBatch, perBatch);
        originals.push(batch);
        assert.equal(publisher.publish(batch), perBatch, 'a 2.5 MB burst fits the default in-flight budget');
      }
      await publisher.flush();
      const total = batches * perBatch;
      await until(() => arrivals.size + duplicates.length >= total, 15_000, `${total} rows`);
      await new Promise((resolve) => setTimeout(resolve, 200)); // room for any stray duplicate
      assert.equal(duplicates.length, 0, 'no row twice');
      assert.equal(arrivals.size, total, 'every row');
      const subs = new PrefixSet(SUBS);
      for (const original of originals) {
        for (let r = 0; r < original.length; r++) {
          const id = original.startMs[r]!;
          const got = arrivals.get(id)!;
          const expected = partitionOfRow(original, r, 4, { subscribers: subs });
          assert.equal(got.partition, expected, `row ${id} partition`);
          assert.equal(got.who, expected < 2 ? 0 : 1, `row ${id} owner`);
          // Both directions of one contact (ids 2k and 2k+1) go to the same place.
          if ((id & 1) === 1) assert.deepEqual(arrivals.get(id - 1), got, `contact ${id >> 1}`);
        }
      }
      // Contents survive the trip: compare every received row with its original.
      for (const batch of received) {
        for (let r = 0; r < batch.length; r++) {
          const id = batch.startMs[r]!;
          assertSameRow(originals[Math.floor(id / perBatch)]!, id % perBatch, batch, r);
        }
      }
      assert.equal(publisher.stats.rows, total);
      assert.equal(subscribers[0]!.stats.rows + subscribers[1]!.stats.rows, total);
      const text = await registry.metrics();
      assert.match(text, new RegExp(`tsunagi_transport_publish_rows_total ${total}\\b`));
      assert.match(text, /tsunagi_transport_publish_dropped_rows_total\{reason="backpressure"\} 0/);
    } finally {
      for (const s of subscribers) await s.stop();
      await publisher.stop();
    }
  });

  test('batches larger than a message are split; the stream is memory-only with the configured max age', async () => {
    const stream = freshStream(2);
    const publisher = createFlowPublisher(
      cfg(stream, { stream: { maxAgeMs: 5000 }, publish: { maxMessageBytes: 8192 } }),
    );
    let rows = 0;
    let messages = 0;
    const subscriber = createFlowSubscriber(cfg(stream, { stream: { maxAgeMs: 5000 } }), {
      sink: (batch) => {
        rows += batch.length;
        messages++;
        assert.ok(batch.length <= Math.floor(8192 / 54));
      },
    });
    await publisher.start();
    await subscriber.start();
    try {
      const info = await jsm.streams.info(stream.name);
      assert.equal(info.config.storage, StorageType.Memory);
      assert.equal(info.config.max_age, nanos(5000));
      assert.deepEqual(info.config.subjects, [`${stream.subjectPrefix}.*`]);
      publisher.publish(makeBatch(0, 3000));
      await publisher.flush();
      await until(() => rows === 3000, 10_000, '3000 rows');
      assert.ok(messages >= 3000 / Math.floor(8192 / 54), `${messages} messages`);
      assert.equal(publisher.stats.messages, messages);
    } finally {
      await subscriber.stop();
      await publisher.stop();
    }
  });

  test('back-pressure: past maxInFlightBytes rows wait in the bounded queue and all land', async () => {
    const stream = freshStream(4);
    const registry = new Registry();
    const publisher = createFlowPublisher(cfg(stream, { publish: { maxInFlightBytes: 64 * 1024 } }), {
      registry,
    });
    await publisher.start();
    try {
      let accepted = 0;
      for (let b = 0; b < 50; b++) accepted += publisher.publish(makeBatch(b * 500, 500));
      assert.ok(publisher.stats.inFlightBytes <= 64 * 1024);
      assert.ok(publisher.stats.queuedRows > 0, 'rows waited for in-flight room');
      assert.equal(accepted, 50 * 500, 'nothing dropped under the queue bound');
      await publisher.flush();
      assert.equal(publisher.stats.rows, 50 * 500, 'every row acknowledged');
      assert.equal(publisher.droppedRows(), 0);
      const info = await jsm.streams.info(stream.name);
      assert.equal(info.state.messages, publisher.stats.messages);
      assert.match(await registry.metrics(), /tsunagi_transport_publish_queued_bytes 0/);
    } finally {
      await publisher.stop();
    }
    assert.equal(publisher.publish(makeBatch(0, 10)), 0, 'after stop nothing is sent');
    assert.equal(publisher.stats.dropped.not_connected, 10);
  });
});

describe('transport over NATS JetStream', { skip }, () => {
  test('back-pressure past the queue bound: rows dropped are counted and logged, never silently', async () => {
    const stream = freshStream(4);
    const registry = new Registry();
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const publisher = createFlowPublisher(
      cfg(stream, { publish: { maxInFlightBytes: 64 * 1024, maxQueuedBytes: 64 * 1024 } }),
      { registry, logger },
    );
    await publisher.start();
    try {
      let accepted = 0;
      for (let b = 0; b < 50; b++) accepted += publisher.publish(makeBatch(b * 500, 500));
      await publisher.flush();
      const { dropped } = publisher.stats;
      assert.ok(dropped.backpressure > 0, 'some rows dropped');
      assert.equal(publisher.stats.rows, accepted, 'everything accepted was acknowledged');
      assert.equal(publisher.stats.rows + dropped.backpressure, 50 * 500, 'every row accounted for');
      assert.ok(
        lines.some((l) => /flow rows dropped before the stream \(backpressure\)/.test(l)),
        'the drop is logged',
      );
      assert.match(
        await registry.metrics(),
        /tsunagi_transport_publish_dropped_rows_total\{reason="backpressure"\} [1-9]/,
      );
      // And the console's alert: the publisher reports a loss, with the rows by reason.
      const health = publisherHealth(publisher);
      assert.equal(health.level, 'loss');
      assert.equal(health.dropped, dropped.backpressure);
      assert.equal(health.counters['dropped.backpressure'], dropped.backpressure);
    } finally {
      await publisher.stop();
    }
  });

  test('corrupt messages and a failing sink are counted; later messages still arrive', async () => {
    const stream = freshStream(1);
    const registry = new Registry();
    let good = 0;
    let calls = 0;
    const subscriber = createFlowSubscriber(cfg(stream), {
      registry,
      sink: (batch) => {
        calls++;
        if (batch.length === 7) throw new Error('sink refuses batches of 7');
        good += batch.length;
      },
    });
    await subscriber.start();
    try {
      const js = nc.jetstream();
      const subject = `${stream.subjectPrefix}.0`;
      const valid = encodeFlowBatch(makeBatch(0, 5));
      await js.publish(subject, valid.subarray(0, valid.length - 3));
      await js.publish(subject, new TextEncoder().encode('hello'));
      const badMagic = valid.slice();
      badMagic[0] = 0;
      await js.publish(subject, badMagic);
      await js.publish(subject, encodeFlowBatch(makeBatch(0, 7)));
      await js.publish(subject, valid);
      await until(() => good === 5, 10_000, 'the valid message');
      assert.equal(subscriber.stats.decodeErrors.truncated, 2);
      assert.equal(subscriber.stats.decodeErrors.bad_magic, 1);
      assert.equal(subscriber.stats.sinkErrors, 1);
      assert.equal(calls, 2);
      const text = await registry.metrics();
      assert.match(text, /tsunagi_transport_consume_decode_errors_total\{kind="truncated"\} 2/);
      assert.match(text, /tsunagi_transport_consume_pending\{partition="0"\} 0/);
    } finally {
      await subscriber.stop();
    }
  });

  test('a durable subscriber resumes after a restart; an ephemeral one leaves no consumer behind', async () => {
    const stream = freshStream(2);
    const publisher = createFlowPublisher(cfg(stream));
    const seen = new Set<number>();
    const sink = (batch: FlowBatch) => {
      for (let r = 0; r < batch.length; r++) seen.add(batch.startMs[r]!);
    };
    const durableConfig = cfg(stream, { subscribe: { durable: 'detector-a' } });
    await publisher.start();
    let subscriber = createFlowSubscriber(durableConfig, { sink });
    await subscriber.start();
    try {
      publisher.publish(makeBatch(0, 200));
      await until(() => seen.size === 200, 10_000, 'first 200 rows');
      await subscriber.stop();
      publisher.publish(makeBatch(200, 300)); // published while the detector is down
      await publisher.flush();
      subscriber = createFlowSubscriber(durableConfig, { sink });
      await subscriber.start();
      await until(() => seen.size === 500, 10_000, 'rows published while stopped');
      await subscriber.stop();
      const names: string[] = [];
      for await (const c of jsm.consumers.list(stream.name)) names.push(c.name);
      assert.deepEqual(names.sort(), ['detector-a-p0', 'detector-a-p1']);

      const ephemeral = createFlowSubscriber(cfg(stream), { sink });
      await ephemeral.start();
      await ephemeral.stop();
      const after: string[] = [];
      for await (const c of jsm.consumers.list(stream.name)) after.push(c.name);
      assert.deepEqual(after.sort(), ['detector-a-p0', 'detector-a-p1']);
    } finally {
      await subscriber.stop();
      await publisher.stop();
    }
  });

  test('a stream that keeps flows on disk is refused; one that keeps them too long is corrected', async () => {
    const disk = freshStream(1);
    created.push(disk.name);
    await jsm.streams.add({
      name: disk.name,
      subjects: [`${disk.subjectPrefix}.*`],
      storage: StorageType.File,
      max_age: nanos(5000),
    });
    const refused = createFlowPublisher(cfg(disk));
    await assert.rejects(refused.start(), /file storage/);

    const long = freshStream(1);
    created.push(long.name);
    await jsm.streams.add({
      name: long.name,
      subjects: [`${long.subjectPrefix}.*`],
      storage: StorageType.Memory,
    });
    const strict = createFlowPublisher(cfg(long, { stream: { ensure: false } }));
    await assert.rejects(strict.start(), /keeps flows forever/);
    const fixing = createFlowPublisher(cfg(long, { stream: { maxAgeMs: 30_000 } }));
    await fixing.start();
    await fixing.stop();
    const info = await jsm.streams.info(long.name);
    assert.equal(info.config.max_age, nanos(30_000));
  });
});

describe('transport over NATS JetStream', { skip }, () => {
  test('start fails with a clear message when the server cannot be reached', async () => {
    const publisher = createFlowPublisher({ url: 'nats://127.0.0.1:1', connectTimeoutMs: 500 });
    await assert.rejects(publisher.start(), /cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
  });
});

describe('transport configuration', () => {
  test('bad settings are usage errors naming the key', () => {
    assert.throws(() => createFlowPublisher({ stream: { maxAgeMs: 3_600_000 } }), /stream\.maxAgeMs/);
    assert.throws(() => createFlowPublisher({ stream: { storage: 'file' as 'memory' } }), /stream\.storage/);
    assert.throws(
      () => createFlowPublisher({ publish: { subscriberPrefixes: ['10.0.0.0/99'] } }),
      /subscriberPrefixes/,
    );
    assert.throws(
      () =>
        createFlowSubscriber(
          { stream: { partitions: 2 }, subscribe: { partitions: [1, 2] } },
          { sink: () => {} },
        ),
      /partitions 2 outside 0\.\.1/,
    );
  });

  test('--partitions lists parse into sorted unique partitions', () => {
    assert.deepEqual(parsePartitionList('3, 0,1-2,1'), [0, 1, 2, 3]);
    assert.deepEqual(parsePartitionList('5-7'), [5, 6, 7]);
    assert.throws(() => parsePartitionList('a'), /not a partition or range: "a"/);
    assert.throws(() => parsePartitionList('4-2'), /empty partition range/);
  });
});
