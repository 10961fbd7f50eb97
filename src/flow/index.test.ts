import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FlowBatch } from '../core/flowbatch.ts';
import { createRegistry } from '../core/metrics.ts';
import { FlowConfig } from './config.ts';
import { encodeIpfixFlows, encodeV9Flows, type SimpleFlow } from './encode.ts';
import { createFlowCollector } from './index.ts';
import { formatCsv } from './format.ts';

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

test('the collector receives v9 and IPFIX over UDP on several ports and hands on batches', async () => {
  const registry = createRegistry();
  const received: string[] = [];
  const collector = createFlowCollector(
    FlowConfig.parse({ listen: ['127.0.0.1:0', '127.0.0.1:0'], flushIntervalMs: 20, receiveBufferBytes: 1 << 20 }),
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
    assert.equal(v9[0], '127.0.0.1,9,1700000000000,1700000001000,10.0.0.0,198.51.100.9,40000,443,6,24,10,1000,1');
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
});

test('templates persist across a restart, so data after the restart decodes without a resend', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-templates-'));
  const templateFile = join(dir, 'templates.json');
  const config = FlowConfig.parse({ listen: ['127.0.0.1:0'], flushIntervalMs: 20, templateFile, receiveBufferBytes: 1 << 20 });
  let rows = 0;
  const first = createFlowCollector(config, { sink: (b) => (rows += b.length) });
  await first.start();
  await send(first.listeners[0]!.boundPort, [encodeV9Flows(flows(3), { unixSecs: 1_700_000_002, sysUptime: 50_000 })]);
  await until(() => rows === 3);
  await first.stop();

  rows = 0;
  const second = createFlowCollector(config, { sink: (b) => (rows += b.length) });
  await second.start();
  try {
    // The same exporter (127.0.0.1) sends data only: the restored template decodes it.
    const dataOnly = encodeV9Flows(flows(4), { unixSecs: 1_700_000_003, sysUptime: 51_000, withTemplate: false });
    await send(second.listeners[0]!.boundPort, [dataOnly]);
    await until(() => rows === 4);
    assert.equal(second.decoder.stats.pending.held, 0);
  } finally {
    await second.stop();
  }
});

test('garbage datagrams are counted, not fatal', async () => {
  let rows = 0;
  const collector = createFlowCollector(
    FlowConfig.parse({ listen: ['127.0.0.1:0'], flushIntervalMs: 20, receiveBufferBytes: 1 << 20 }),
    { sink: (b) => (rows += b.length) },
  );
  await collector.start();
  try {
    const port = collector.listeners[0]!.boundPort;
    await send(port, [Buffer.from('hello'), Buffer.alloc(0), Buffer.from([0, 9, 0, 1]), Buffer.alloc(3000, 0xff)]);
    await send(port, [encodeIpfixFlows(flows(2), { exportTime: 1_700_000_002 })]);
    await until(() => rows === 2);
    assert.ok(collector.counters().decodeErrors >= 3);
  } finally {
    await collector.stop();
  }
});
