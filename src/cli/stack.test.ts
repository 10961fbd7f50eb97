import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRegistry, ipv4FromString, ipv4ToString, Lifecycle, silentLogger } from '../core/index.ts';
import { buildTcpFrame, TcpFlag } from '../packet/index.ts';
import { createStack } from './stack.ts';
import { loopbackStackConfig } from './testing.ts';

interface CapLike {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  send(buffer: Buffer, length?: number): void;
  close(): void;
}

/** Closed injectors stay referenced: see `closedCaptures` in src/darknet/live.ts. */
const closedInjectors: unknown[] = [];

function capBinding(): { Cap: new () => CapLike } | undefined {
  try {
    return createRequire(import.meta.url)('cap') as { Cap: new () => CapLike };
  } catch {
    return undefined;
  }
}
const cap = capBinding();
const root = process.getuid?.() === 0;

test(
  'start with a darknet interface: a Mirai-like scanner seen live becomes a bot in intel',
  { skip: !(cap && root) && 'needs the cap libpcap binding and root to capture and inject on lo' },
  async () => {
    const data = mkdtempSync(join(tmpdir(), 'tsunagi-stack-'));
    const logger = silentLogger();
    const config = loopbackStackConfig(data, {
      darknet: { interface: 'lo', prefixes: ['127.99.0.0/16'], pushIntervalMs: 1000 },
    });
    const stack = await createStack(config, { env: {}, logger, registry: createRegistry() });
    const lifecycle = new Lifecycle(logger);
    await lifecycle.start(stack.components);
    const injector = new cap!.Cap();
    // The binding writes captured frames into this buffer from native code: it must stay
    // referenced until close (a buffer the garbage collector frees under it crashes the
    // process). The filter matches no frame: the injector only sends.
    const injectorBuffer = Buffer.alloc(65535);
    try {
      injector.open('lo', 'ether proto 0x88b5', 1 << 20, injectorBuffer);
      // A bot at 127.5.5.5 scans the darknet as Mirai does (sequence number = target); a
      // packet to an address outside the darknet is ignored.
      for (let i = 0; i < 12; i++) {
        const target = ipv4ToString((ipv4FromString('127.99.0.1') + i * 7) >>> 0);
        const frame = buildTcpFrame({
          srcIp: '127.5.5.5',
          dstIp: target,
          srcPort: 40000 + i,
          dstPort: 23,
          flags: TcpFlag.SYN,
          seq: ipv4FromString(target),
        });
        injector.send(frame, frame.length);
      }
      const outside = buildTcpFrame({
        srcIp: '127.6.6.6',
        dstIp: '127.98.0.1',
        srcPort: 1,
        dstPort: 23,
        flags: TcpFlag.SYN,
        seq: 1,
      });
      injector.send(outside, outside.length);
      let bots: string[] = [];
      for (let attempt = 0; attempt < 50 && bots.length === 0; attempt++) {
        await sleep(100);
        await stack.pushDarknet();
        bots = (await stack.intel.list({ kinds: ['bot'] })).items.map((i) => i.value);
      }
      assert.deepEqual(bots, ['127.5.5.5']);
      assert.equal(
        (await stack.intel.list({ kinds: ['bot'] })).items[0]!.family,
        'mirai',
        'the family its fingerprint names',
      );
      const sightings = await stack.intel.sightings(
        (await stack.intel.list({ kinds: ['bot'] })).items[0]!.id,
      );
      assert.equal(sightings[0]!.source, 'darknet');
    } finally {
      injector.close();
      closedInjectors.push(injector, injectorBuffer);
      await lifecycle.stop();
      await stack.close();
    }
  },
);

test('the detector’s bot list follows intel’s bot indicators on the change feed (no polling)', async () => {
  const data = mkdtempSync(join(tmpdir(), 'tsunagi-stack-bots-'));
  const logger = silentLogger();
  const registry = createRegistry();
  const config = loopbackStackConfig(data, {
    botsFromIntel: { minConfidence: 50 },
  });
  const stack = await createStack(config, { env: {}, logger, registry });
  const lifecycle = new Lifecycle(logger);
  await lifecycle.start(stack.components);
  const botEntries = async () =>
    (await registry.getSingleMetric('tsunagi_detect_bot_list_entries')!.get()).values[0]?.value;
  const waitFor = async (want: number) => {
    for (let i = 0; i < 50 && (await botEntries()) !== want; i++) await sleep(50);
    return botEntries();
  };
  try {
    assert.equal(await waitFor(0), 0);
    const bot = (value: string, confidence: number) => ({
      type: 'bot' as const,
      value,
      source: 'darknet',
      confidence,
      tier: 'full' as const,
    });
    await stack.intel.recordSightings([bot('192.0.2.10', 80), bot('192.0.2.11', 80), bot('192.0.2.12', 20)]);
    assert.equal(await waitFor(2), 2, 'the two bots at or above the confidence');
    await stack.intel.withdraw({ kind: 'bot', value: '192.0.2.10' }, 'cleaned up', 'analyst');
    assert.equal(await waitFor(1), 1, 'a withdrawn bot leaves the list');
  } finally {
    await lifecycle.stop();
    await stack.close();
  }
});

test('the runbook of a running stack names the ports it bound, not a configured port 0', async () => {
  const data = mkdtempSync(join(tmpdir(), 'tsunagi-stack-'));
  const logger = silentLogger();
  const config = loopbackStackConfig(data);
  const stack = await createStack(config, { env: {}, logger, registry: createRegistry() });
  const lifecycle = new Lifecycle(logger);
  await lifecycle.start(stack.components);
  try {
    await stack.hub.orgs.add({ name: 'Centre', role: 'analysis' }, 'test');
    const { token } = await stack.hub.orgs.createToken('Centre', { scopes: ['read'] }, 'test');
    const res = await fetch(`${stack.hub.url()}/console/api/runbook?lang=en`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
    const text = JSON.stringify(await res.json());
    const flowPort = stack.collector.listeners[0]!.boundPort;
    assert.ok(flowPort > 0);
    assert.ok(text.includes(`udp port ${flowPort}`), 'the capture command names the bound flow port');
    assert.ok(text.includes(stack.hub.url()), 'the hub is named by its bound address');
    assert.ok(!/udp port 0\b|127\.0\.0\.1:0\b/.test(text), 'no step names port 0');
  } finally {
    await lifecycle.stop();
    await stack.close();
  }
});
