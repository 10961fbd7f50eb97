import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FlowBatch, createRegistry } from '../core/index.ts';
import { FlowConfig } from './config.ts';
import { encodeIpfixFlows, encodeV9Flows, type SimpleFlow } from './encode.ts';
import { createFlowCollector } from './index.ts';
import { formatCsv } from './format.ts';
import { RECEIVE_PATHS } from './testdata/receivers.ts';

function flows(count: number, base = 0): SimpleFlow[] {
  return Array.from({ length: count }, (_, i) => ({
    src: `10.0.${(base + i) >> 8}.${(base + i) & 255}`,
    dst: '198.51.100.9',
    srcPort: 40000 + i,
    dstPort: 443,
    proto: 6,
    tcpFlags: 0x18,
    packets: 10 + i,
    bytes: 1000 + i,
    startMs: 1_700_000_000_000 + i,
    endMs: 1_700_000_001_000 + i,
  }));
}

async function send(port: number, payloads: Buffer[]): Promise<void> {
  const socket = createSocket('udp4');
  for (const payload of payloads) {
    await new Promise<void>((resolve, reject) =>
      socket.send(payload, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
    );
  }
  socket.close();
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the collector');
    await sleep(10);
  }
}

for (const { receiver, skip } of RECEIVE_PATHS) {
  test(
    `${receiver}: the collector receives v9 and IPFIX over UDP on several ports and hands on batches`,
    { skip },
    async () => {
      const registry = createRegistry();
      const received: string[] = [];
      const collector = createFlowCollector(
        FlowConfig.parse({
          receiver,
          listen: ['127.0.0.1:0', '127.0.0.1:0'],
          flushIntervalMs: 20,
          receiveBufferBytes: 1 << 20,
        }),
        { registry, sink: (batch: FlowBatch) => received.push(...formatCsv(batch).trim().split('\n')) },
      );
      await collector.start();
      try {
        const [a, b] = collector.listeners;
        assert.ok(a && b && a.boundPort !== b.boundPort);
        await send(a.boundPort, [encodeV9Flows(flows(20), { unixSecs: 1_700_000_002, sysUptime: 50_000 })]);
        await send(b.boundPort, [encodeIpfixFlows(flows(25, 100), { exportTime: 1_700_000_002 })]);
        await until(() => received.length === 45);
        const v9 = received.filter((line) => line.split(',')[1] === '9');
        const ipfix = received.filter((line) => line.split(',')[1] === '10');
        assert.equal(v9.length, 20);
        assert.equal(ipfix.length, 25);
        assert.equal(
          v9[0],
          '127.0.0.1,9,1700000000000,1700000001000,10.0.0.0,198.51.100.9,40000,443,6,24,10,1000,1',
        );
        const counters = collector.counters();
        assert.equal(counters.payloads, 2);
        assert.equal(counters.records, 45);
        assert.equal(counters.decodeErrors, 0);
        const metrics = await registry.metrics();
        assert.match(metrics, /tsunagi_flow_udp_kernel_drops 0/);
        assert.match(metrics, /tsunagi_flow_batches_total [1-9]/);
      } finally {
        await collector.stop();
      }
    },
  );

  test(
    `${receiver}: templates persist across a restart, so data after the restart decodes without a resend`,
    { skip },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tsunagi-templates-'));
      const templateFile = join(dir, 'templates.json');
      const config = FlowConfig.parse({
        receiver,
        listen: ['127.0.0.1:0'],
        flushIntervalMs: 20,
        templateFile,
        receiveBufferBytes: 1 << 20,
      });
      let rows = 0;
      const first = createFlowCollector(config, { sink: (b) => (rows += b.length) });
      await first.start();
      await send(first.listeners[0]!.boundPort, [
        encodeV9Flows(flows(3), { unixSecs: 1_700_000_002, sysUptime: 50_000 }),
      ]);
      await until(() => rows === 3);
      await first.stop();

      rows = 0;
      const second = createFlowCollector(config, { sink: (b) => (rows += b.length) });
      await second.start();
      try {
        // The same exporter (127.0.0.1) sends data only: the restored template decodes it.
        const dataOnly = encodeV9Flows(flows(4), {
          unixSecs: 1_700_000_003,
          sysUptime: 51_000,
          withTemplate: false,
        });
        await send(second.listeners[0]!.boundPort, [dataOnly]);
        await until(() => rows === 4);
        assert.equal(second.decoder.stats.pending.held, 0);
      } finally {
        await second.stop();
      }
    },
  );

  test(`${receiver}: garbage datagrams are counted, not fatal`, { skip }, async () => {
    let rows = 0;
    const collector = createFlowCollector(
      FlowConfig.parse({
        receiver,
        listen: ['127.0.0.1:0'],
        flushIntervalMs: 20,
        receiveBufferBytes: 1 << 20,
      }),
      { sink: (b) => (rows += b.length) },
    );
    await collector.start();
    try {
      const port = collector.listeners[0]!.boundPort;
      await send(port, [
        Buffer.from('hello'),
        Buffer.alloc(0),
        Buffer.from([0, 9, 0, 1]),
        Buffer.alloc(3000, 0xff),
      ]);
      await send(port, [encodeIpfixFlows(flows(2), { exportTime: 1_700_000_002 })]);
      await until(() => rows === 2);
      assert.ok(collector.counters().decodeErrors >= 3);
    } finally {
      await collector.stop();
    }
  });

  test(
    `${receiver}: reports its path, reads bursts larger than one receive batch, and big datagrams`,
    { skip },
    async () => {
      const registry = createRegistry();
      let rows = 0;
      const collector = createFlowCollector(
        FlowConfig.parse({
          receiver,
          listen: ['127.0.0.1:0'],
          flushIntervalMs: 20,
          receiveBufferBytes: 8 << 20,
        }),
        { registry, sink: (b) => (rows += b.length) },
      );
      await collector.start();
      try {
        assert.equal(collector.receivePath, receiver);
        assert.match(
          await registry.metrics(),
          new RegExp(`tsunagi_flow_udp_receive_path\\{path="${receiver}"\\} 1`),
        );
        const port = collector.listeners[0]!.boundPort;
        // 300 datagrams sent without waiting: several recvmmsg batches of 64 on the native path.
        const payloads = Array.from({ length: 300 }, (_, i) =>
          encodeV9Flows(flows(20, i * 20), { unixSecs: 1_700_000_002, sysUptime: 50_000, sequence: i }),
        );
        const socket = createSocket('udp4');
        await Promise.all(
          payloads.map(
            (p) =>
              new Promise<void>((resolve, reject) =>
                socket.send(p, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
              ),
          ),
        );
        // A datagram near the UDP maximum is read whole (no truncation), then rejected by the decoder.
        const big = Buffer.alloc(65_000, 0);
        big.writeUInt16BE(10, 0);
        big.writeUInt16BE(65_000, 2);
        await new Promise<void>((resolve, reject) =>
          socket.send(big, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
        );
        socket.close();
        await until(() => collector.counters().payloads === 301);
        collector.flush();
        assert.equal(collector.counters().kernelDrops, 0);
        assert.equal(rows, 6000);
        const { payloads: read, receiveCalls } = collector.counters();
        if (receiver === 'dgram') assert.equal(receiveCalls, read);
        else assert.ok(receiveCalls <= read / 2, `${receiveCalls} receive calls for ${read} datagrams`);
        assert.equal(
          collector.decoder.stats.errors.ipfix['set_length'] ?? 0,
          1,
          'the 65,000-byte datagram arrived whole',
        );
        assert.match(await registry.metrics(), /tsunagi_flow_udp_truncated_total 0/);
      } finally {
        await collector.stop();
      }
    },
  );

  test(`${receiver}: IPv6 and dual-stack listeners name exporters as dgram does`, { skip }, async () => {
    const exporters = new Set<string>();
    const collector = createFlowCollector(
      FlowConfig.parse({
        receiver,
        listen: ['[::1]:0', '[::]:0'],
        flushIntervalMs: 20,
        receiveBufferBytes: 1 << 20,
      }),
      {
        sink: (b) => {
          for (let i = 0; i < b.length; i++) exporters.add(b.exporters[b.exporter[i]!]!);
        },
      },
    );
    await collector.start();
    try {
      const [v6, dual] = collector.listeners;
      assert.equal(v6!.family, 6);
      const payload = encodeIpfixFlows(flows(2), { exportTime: 1_700_000_002 });
      const s6 = createSocket('udp6');
      await new Promise<void>((resolve, reject) =>
        s6.send(payload, v6!.boundPort, '::1', (e) => (e ? reject(e) : resolve())),
      );
      s6.close();
      await send(dual!.boundPort, [payload]);
      await until(() => exporters.size === 2);
      assert.deepEqual([...exporters].sort(), ['127.0.0.1', '::1']);
    } finally {
      await collector.stop();
    }
  });

  test(
    `${receiver}: stopping from inside the sink while datagrams are queued is clean`,
    { skip },
    async () => {
      let batches = 0;
      let stopped: Promise<void> | undefined;
      const collector = createFlowCollector(
        FlowConfig.parse({
          receiver,
          listen: ['127.0.0.1:0'],
          batchSize: 16,
          flushIntervalMs: 20,
          receiveBufferBytes: 4 << 20,
        }),
        {
          sink: () => {
            batches++;
            stopped ??= collector.stop();
          },
        },
      );
      await collector.start();
      const port = collector.listeners[0]!.boundPort;
      const socket = createSocket('udp4');
      const payload = encodeV9Flows(flows(20), { unixSecs: 1_700_000_002, sysUptime: 50_000 });
      await Promise.all(
        Array.from(
          { length: 200 },
          () =>
            new Promise<void>((resolve, reject) =>
              socket.send(payload, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
            ),
        ),
      );
      socket.close();
      await until(() => stopped !== undefined);
      await stopped;
      const payloads = collector.counters().payloads;
      await sleep(100);
      assert.equal(collector.counters().payloads, payloads, 'nothing is read after stop');
      assert.ok(payloads < 200, `read ${payloads} datagrams after stopping`);
      assert.ok(batches >= 1);
    },
  );
}

test('with recycleBatches the collector reuses a few batches and every row still arrives intact', async () => {
  const lines: string[] = [];
  const distinct = new Set<FlowBatch>();
  const collector = createFlowCollector(
    FlowConfig.parse({
      receiver: 'dgram',
      listen: ['127.0.0.1:0'],
      batchSize: 16,
      flushIntervalMs: 20,
      receiveBufferBytes: 1 << 20,
    }),
    {
      recycleBatches: true,
      sink: (batch) => {
        distinct.add(batch);
        lines.push(...formatCsv(batch).trim().split('\n'));
      },
    },
  );
  await collector.start();
  try {
    const port = collector.listeners[0]!.boundPort;
    await send(
      port,
      [0, 1, 2, 3, 4].map((i) =>
        encodeV9Flows(flows(20, i * 20), { unixSecs: 1_700_000_002, sysUptime: 50_000, sequence: i }),
      ),
    );
    await until(() => lines.length === 100);
    assert.ok(distinct.size <= 3, `${distinct.size} distinct batches for ${lines.length} rows`);
    const sources = lines.map((line) => line.split(',')[4]);
    assert.equal(new Set(sources).size, 100, 'no row was overwritten by a later one');
    assert.equal(sources[99], '10.0.0.99');
  } finally {
    await collector.stop();
  }
});

test(
  'native receiver without coalescing (receiveCoalesceMs 0) reads at every arrival',
  { skip: RECEIVE_PATHS[0]!.skip },
  async () => {
    let rows = 0;
    const collector = createFlowCollector(
      FlowConfig.parse({
        receiver: 'native',
        receiveCoalesceMs: 0,
        listen: ['127.0.0.1:0'],
        flushIntervalMs: 20,
        receiveBufferBytes: 1 << 20,
      }),
      { sink: (b) => (rows += b.length) },
    );
    await collector.start();
    try {
      const port = collector.listeners[0]!.boundPort;
      for (let i = 0; i < 3; i++) {
        await send(port, [
          encodeV9Flows(flows(10, i * 10), { unixSecs: 1_700_000_002, sysUptime: 50_000, sequence: i }),
        ]);
        await until(() => rows === 10 * (i + 1));
      }
      assert.equal(collector.counters().receiveCalls, 3);
    } finally {
      await collector.stop();
    }
  },
);

test('a receive buffer capped by the kernel is warned about once, naming every capped socket', async () => {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
  const collector = createFlowCollector(
    FlowConfig.parse({
      receiver: 'dgram',
      listen: ['127.0.0.1:0', '127.0.0.1:0', '127.0.0.1:0'],
      // Far above any rmem_max a test machine has (the kernel caps SO_RCVBUF there).
      receiveBufferBytes: 1 << 30,
    }),
    { registry: createRegistry(), logger, sink: () => {} },
  );
  await collector.start();
  try {
    const warnings = lines
      .map((line) => JSON.parse(line) as { msg: string; listen: string[] })
      .filter((entry) => entry.msg.includes('rmem_max'));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.listen.length, 3);
  } finally {
    await collector.stop();
  }
});
