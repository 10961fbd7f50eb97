/** Tests of the darknet room's edges: damaged captures (fuzz), the hash table against a model, statistics and surges, the CLI and live capture. */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  buildTcpFrame,
  buildUdpFrame,
  forEachPacketInBuffer,
  LinkType,
  PcapWriter,
} from '../packet/index.ts';
import { DarknetAnalyzer } from './analyzer.ts';
import { DarknetConfig } from './config.ts';
import { mix32 } from '../core/index.ts';
import { analyzeFiles } from './input-file.ts';
import { loadCapBinding, openLiveCapture } from './live.ts';
import { SourceTable } from './sources.ts';
import { BUCKET_MS, PortStats, type StatsRow } from './stats.ts';
import { SyntheticDarknet } from './synth.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-darknet-robust-'));
const small = () =>
  new DarknetAnalyzer(DarknetConfig.parse({ prefixes: ['198.18.0.0/16'], sources: { capacity: 4096 } }));

describe('damaged input', () => {
  const base = new SyntheticDarknet({
    seed: 3,
    mirai: 3,
    masscan: 2,
    zmapBenign: 1,
    zmapUnknown: 1,
    backscatter: 2,
    noise: 30,
    packetsPerSource: 8,
  }).toPcap();

  test('fuzz: mutated captures never throw and every frame is accounted for', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { minLength: 1, maxLength: 40 }),
        fc.nat(base.length),
        (mutations, cut) => {
          const bytes = Buffer.from(base.subarray(0, Math.max(24, cut)));
          for (const [at, value] of mutations) if (at < bytes.length) bytes[at] = value;
          const a = small();
          let frames = 0;
          try {
            forEachPacketInBuffer(bytes, (p) => {
              frames++;
              a.observeFrame(p.linkType, p.data, p.timestampMs);
            });
          } catch (error) {
            // Only a destroyed global header may be refused, and then as an input error.
            assert.match((error as Error).message, /not a pcap|too short/);
          }
          const c = a.counters;
          assert.equal(c.frames, frames);
          assert.equal(
            c.darknet +
              c.notDarknet +
              c.notIp +
              c.unsupportedLink +
              c.badHeader +
              (c.truncated - countTruncatedWithAddress(a)),
            frames,
          );
          a.finish();
          a.sources();
        },
      ),
      { numRuns: 150, seed: 42 },
    );
  });

  test('snaplen-cut packets, unknown link types and fragments are counted and skipped', () => {
    const writer = new PcapWriter(LinkType.ETHERNET, 40); // cuts inside the TCP header
    writer.add(
      buildTcpFrame({ srcIp: '203.0.113.1', dstIp: '198.18.0.1', srcPort: 1, dstPort: 23, seq: 1 }),
      1000,
    );
    const a = small();
    forEachPacketInBuffer(writer.toBuffer(), (p) => a.observeFrame(p.linkType, p.data, p.timestampMs));
    a.observeFrame(999, Buffer.alloc(60), 2000);
    const fragment = buildUdpFrame({ srcIp: '203.0.113.2', dstIp: '198.18.0.1', srcPort: 1, dstPort: 2 });
    fragment.writeUInt16BE(0x0010, 14 + 6); // fragment offset 128 bytes: a non-first fragment
    a.observeFrame(LinkType.ETHERNET, fragment, 3000);
    assert.equal(a.counters.truncated, 1);
    assert.equal(a.counters.unsupportedLink, 1);
    assert.equal(a.counters.fragments, 1);
    const sources = new Map(a.sources().map((r) => [r.ip, r]));
    // The cut packet still counts for its source, without transport fingerprints.
    assert.equal(sources.get('203.0.113.1')!.packets, 1);
    assert.deepEqual(sources.get('203.0.113.1')!.ports, []);
    assert.deepEqual(sources.get('203.0.113.2')!.ports, []);
  });

  test('a truncated file is read up to the damage', async () => {
    const file = join(dir, 'cut.pcap');
    writeFileSync(file, base.subarray(0, base.length - 7));
    const a = small();
    const result = await analyzeFiles([file], a);
    assert.equal(result.files[0]!.stats.errors.truncated, 1);
    assert.ok(a.counters.frames > 0);
  });
});

/** Truncated frames whose addresses were read are also counted as darknet/notDarknet. */
function countTruncatedWithAddress(a: DarknetAnalyzer): number {
  return (
    a.counters.truncated -
    (a.counters.frames -
      a.counters.darknet -
      a.counters.notDarknet -
      a.counters.notIp -
      a.counters.unsupportedLink -
      a.counters.badHeader)
  );
}

describe('source table', () => {
  test('insert, find and remove agree with a Map model', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(300)), { maxLength: 400 }), (ops) => {
        const table = new SourceTable(256, 0);
        const model = new Set<number>();
        for (const [insert, key] of ops) {
          const address = (key * 2654435761) >>> 0;
          if (insert) {
            const slot = table.find4(address, true);
            if (slot >= 0) model.add(address);
            else assert.ok(table.size >= table.limit);
          } else {
            const slot = table.find4(address, false);
            assert.equal(slot >= 0, model.has(address));
            if (slot >= 0) {
              table.remove(slot);
              model.delete(address);
            }
          }
          assert.equal(table.size, model.size);
        }
        for (const address of model) assert.ok(table.find4(address, false) >= 0);
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});

describe('statistics', () => {
  test('5-minute, hour and day rows with unique sources; surges after warm-up', () => {
    const rows: StatsRow[] = [];
    const stats = new PortStats({
      surgeFactor: 5,
      surgeMinSources: 10,
      surgeWarmupBuckets: 3,
      baselineAlpha: 0.5,
      onRow: (r) => rows.push(r),
    });
    const t0 = Date.UTC(2025, 0, 15);
    // Four quiet buckets: port 23 from 2 sources; then port 5555 jumps to 50 sources.
    for (let b = 0; b < 4; b++)
      for (let s = 0; s < 2; s++) stats.add(0, 23, mix32(1000 + s), t0 + b * BUCKET_MS + s);
    for (let s = 0; s < 50; s++)
      for (let k = 0; k < 3; k++) stats.add(0, 5555, mix32(s + 1), t0 + 4 * BUCKET_MS + s);
    stats.add(1, 53, 7, t0 + 13 * BUCKET_MS);
    stats.finish();
    const fiveMinute = rows.filter((r) => r.granularity === '5m' && r.protocol === 'tcp' && r.port === 23);
    assert.equal(fiveMinute.length, 4);
    assert.ok(fiveMinute.every((r) => r.packets === 2 && r.sources === 2));
    const hour = rows.find((r) => r.granularity === '1h' && r.port === 5555)!;
    assert.equal(hour.packets, 150);
    assert.ok(Math.abs(hour.sources - 50) <= 10, `about 50 sources, got ${hour.sources}`);
    assert.equal(rows.filter((r) => r.granularity === '1h').length > 0, true);
    assert.ok(rows.some((r) => r.granularity === '1d' && r.protocol === 'udp' && r.port === 53));
    assert.deepEqual(
      stats.surges.map((s) => [s.protocol, s.port]),
      [['tcp', 5555]],
    );
    assert.equal(stats.topPorts(1)[0]!.port, 5555);
  });
});

let binding = true;
try {
  loadCapBinding();
} catch {
  binding = false;
}
const root = process.getuid?.() === 0;

describe('live capture', () => {
  test(
    'captures loopback traffic to a darknet prefix',
    { skip: !(binding && root) && 'needs the cap binding and root' },
    async () => {
      const a = new DarknetAnalyzer(
        DarknetConfig.parse({ prefixes: ['127.0.0.0/8'], sources: { capacity: 256 } }),
      );
      const port = 40000 + (process.pid % 20000);
      const capture = openLiveCapture(
        { interface: 'lo', filter: `udp and dst port ${port}` },
        (linkType, data, ts) => a.observeFrame(linkType, data, ts),
      );
      const socket = createSocket('udp4');
      try {
        for (let i = 0; i < 5; i++) {
          await new Promise<void>((resolve) => socket.send('x', port, '127.0.0.1', () => resolve()));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      } finally {
        socket.close();
        capture.close();
      }
      assert.ok(a.counters.darknet >= 5, `captured ${a.counters.darknet}`);
      assert.deepEqual(a.sources()[0]!.ports, [port]);
    },
  );
});
