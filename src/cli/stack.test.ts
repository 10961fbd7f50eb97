import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRegistry, ipv4FromString, ipv4ToString, Lifecycle, silentLogger } from '../core/index.ts';
import { buildTcpFrame, TcpFlag } from '../packet/index.ts';
import { createStack, StackConfig } from './stack.ts';

interface CapLike {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  send(buffer: Buffer, length?: number): void;
  close(): void;
}

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
    const config = StackConfig.parse({
      data,
      metrics: { listen: '' },
      flow: { listen: ['127.0.0.1:0'] },
      hub: { listen: '127.0.0.1:0' },
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
      injectorBuffer.fill(0); // referenced past close, on purpose
      await lifecycle.stop();
      await stack.close();
    }
  },
);
