/**
 * The C hot loop must give exactly what the TypeScript path gives: the same captures through
 * both, compared record by record, row by row, counter by counter.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { buildTcpFrame, buildUdpFrame, LinkType, PcapWriter, TcpFlag } from '../../packet/index.ts';
import { DarknetAnalyzer, type DarknetDeps } from '../analyzer.ts';
import { DarknetConfig } from '../config.ts';
import { analyzeFiles } from '../input-file.ts';
import { RangeTable } from '../ranges.ts';
import type { StatsRow } from '../stats.ts';
import { buildIcmp4Frame, createRandom, SyntheticDarknet } from '../synth.ts';
import { loadNativeDarknet } from './index.ts';

const native = loadNativeDarknet();
const skip = native.binding
  ? false
  : `darknet native loop not built (${native.error}); run npm run build:native`;
if (skip) console.log(`# skipped: ${skip}`);

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-darknet-native-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Synthetic darknet traffic over `hours`, with frames the loop must hand back interleaved:
 * IPv6, VLAN tags, fragments, snaplen cuts, GRE, bad headers, packets out of time order.
 */
function capture(
  name: string,
  seed: number,
  hours: number,
  options: { snaplen?: number; linkType?: number; bigEndian?: boolean; nanosecond?: boolean } = {},
) {
  const synthetic = new SyntheticDarknet({
    seed,
    noise: Math.round(2000 * hours),
    mirai: Math.round(40 * hours),
    masscan: 10,
    backscatter: 20,
    packetsPerSource: 60,
    durationMs: hours * 3600_000,
  });
  const random = createRandom(seed + 1);
  const ethernet = (options.linkType ?? LinkType.ETHERNET) === LinkType.ETHERNET;
  const writer = new PcapWriter(options.linkType ?? LinkType.ETHERNET, options.snaplen ?? 262144, {
    bigEndian: options.bigEndian ?? false,
    nanosecond: options.nanosecond ?? false,
  });
  const dst = () => `198.18.${random() & 255}.${random() & 255}`;
  let n = 0;
  for (const packet of synthetic.packets()) {
    const data = ethernet ? packet.data : packet.data.subarray(14);
    writer.add(data, packet.timestampMs);
    if (++n % 7 !== 0) continue;
    const t = packet.timestampMs;
    const src = `203.0.113.${n % 50}`;
    const kind = n % 49;
    if (kind === 0)
      writer.add(
        buildTcpFrame({ srcIp: '2001:db8::1', dstIp: '2001:db8::2', srcPort: 1, dstPort: 23, ethernet }),
        t,
      );
    else if (kind === 7 && ethernet)
      writer.add(buildTcpFrame({ srcIp: src, dstIp: dst(), srcPort: 5, dstPort: 23, vlans: [10] }), t);
    else if (kind === 14) {
      const frame = buildUdpFrame({ srcIp: src, dstIp: dst(), srcPort: 5, dstPort: 53, ethernet });
      frame.writeUInt16BE(0x0010, (ethernet ? 14 : 0) + 6); // a non-first fragment
      writer.add(frame, t);
    } else if (kind === 21) {
      const frame = buildTcpFrame({ srcIp: src, dstIp: dst(), srcPort: 5, dstPort: 80, ethernet });
      writer.add(frame.subarray(0, frame.length - 8), t); // cut inside the TCP header
    } else if (kind === 28) {
      const frame = buildUdpFrame({ srcIp: src, dstIp: dst(), srcPort: 5, dstPort: 53, ethernet });
      frame[(ethernet ? 14 : 0) + 9] = 47; // GRE
      writer.add(frame, t);
    } else if (kind === 35) {
      const frame = buildTcpFrame({
        srcIp: src,
        dstIp: dst(),
        srcPort: 5,
        dstPort: 22,
        ethernet,
        flags: TcpFlag.SYN,
      });
      frame[(ethernet ? 14 : 0) + 0] = 0x44; // IHL 4: a bad header
      writer.add(frame, t);
    } else if (kind === 42)
      writer.add(
        buildTcpFrame({ srcIp: src, dstIp: dst(), srcPort: 5, dstPort: 8080, ethernet }),
        t - 400_000,
      );
    else if (ethernet) writer.add(buildIcmp4Frame(src, dst(), 8, 0), t);
  }
  const file = join(dir, `${name}.pcap`);
  writeFileSync(file, writer.toBuffer());
  return file;
}

async function run(file: string, overrides: Record<string, unknown>, deps: DarknetDeps, prefault = false) {
  const rows: StatsRow[] = [];
  const a = new DarknetAnalyzer(DarknetConfig.parse({ prefixes: ['198.18.0.0/16'], ...overrides }), {
    ...deps,
    onStatsRow: (row) => rows.push(row),
  });
  if (prefault) a.prefault();
  const result = await analyzeFiles([file], a);
  a.finish();
  return {
    usesNative: a.usesNative,
    nativeFrames: a.nativeFrames,
    outcome: {
      sources: a.sources(),
      infected: a.infectedHosts(),
      indicators: a.indicators(),
      rows,
      surges: a.stats.surges,
      topPorts: a.stats.topPorts(20),
      counters: { ...a.counters },
      capture: result.files.map((f) => f.stats),
      asn: [...a.asnPackets, ...a.asnSources],
    },
  };
}

async function same(file: string, overrides: Record<string, unknown> = {}, deps: DarknetDeps = {}) {
  const fast = await run(file, overrides, { ...deps, native: true });
  const typescript = await run(file, overrides, { ...deps, native: false });
  assert.equal(fast.usesNative, true);
  assert.equal(typescript.usesNative, false);
  assert.equal(typescript.nativeFrames, 0);
  assert.deepEqual(fast.outcome, typescript.outcome);
  return fast;
}

describe('darknet C hot loop', { skip }, () => {
  test('six hours of mixed traffic: identical sources, statistics, surges and counters', async () => {
    const file = capture('mixed', 11, 6);
    // Large enough to be read through the addon's mmap (files from 1 MiB), the other path reads it.
    assert.ok(statSync(file).size > 1 << 20);
    const fast = await same(file);
    assert.ok(fast.outcome.counters.frames > 10_000);
    // Most frames are plain IPv4 and go through the loop; the odd ones took the TypeScript path.
    assert.ok(fast.nativeFrames > fast.outcome.counters.frames * 0.8, `${fast.nativeFrames} native frames`);
    assert.ok(fast.nativeFrames < fast.outcome.counters.frames);
    assert.ok(fast.outcome.counters.fragments > 0 && fast.outcome.counters.truncated > 0);
    assert.ok(fast.outcome.rows.some((r) => r.granularity === '1h'));
    // Mapped in windows of a few pages, released as the reader passes them: records cut by every
    // window's end, and the same results.
    const windowed = await run(file, {}, { native: true, mapWindowBytes: 3 * 4096 });
    assert.deepEqual(windowed.outcome, fast.outcome);
    // Tables faulted in up front and records in huge pages where the kernel allows (as for inputs
    // of 64 MiB and more): the same results.
    const prefaulted = await run(file, {}, { native: true }, true);
    assert.deepEqual(prefaulted.outcome, fast.outcome);
  });

  test('populate and adviseHugePages keep what a table holds and refuse anything but a typed array', () => {
    const binding = native.binding!;
    // Big enough to hold whole huge pages, whatever its alignment.
    const table = new Uint32Array(new SharedArrayBuffer(8 << 20));
    for (let i = 0; i < table.length; i += 4099) table[i] = i;
    binding.adviseHugePages(table);
    binding.populate(table);
    binding.populate(table.subarray(3, 1000));
    let changed = 0;
    for (let i = 0; i < table.length; i++) if (table[i] !== (i % 4099 === 0 ? i : 0)) changed++;
    assert.equal(changed, 0);
    for (const bad of [undefined, 42, [1, 2], new ArrayBuffer(8)])
      for (const call of [binding.adviseHugePages, binding.populate])
        assert.throws(() => call(bad as unknown as Uint32Array), TypeError);
  });

  test('a full table, sweeps that expire sources, and ASN rows', async () => {
    const file = capture('full', 12, 2);
    const asn = RangeTable.from([
      { start: '0.0.0.0', end: '127.255.255.255', value: '64500', name: 'LOW' },
      { start: '128.0.0.0', end: '255.255.255.255', value: '64501', name: 'HIGH' },
    ]);
    const fast = await same(file, { sources: { capacity: 1024, idleTimeoutMs: 600_000 } }, { asn });
    assert.ok(fast.outcome.counters.untracked > 0, 'the table filled');
    assert.ok(fast.outcome.counters.expired > 0, 'sweeps expired sources');
    assert.ok(fast.outcome.asn.some((v) => v > 0));
  });

  test('fuzz: mutated and cut captures give the same results on both paths and never throw', async () => {
    const base = readFileSync(capture('fuzz-base', 14, 0.2));
    const file = join(dir, 'fuzz.pcap');
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { minLength: 1, maxLength: 60 }),
        fc.nat(base.length),
        async (mutations, cut) => {
          const bytes = Buffer.from(base.subarray(0, Math.max(24, cut)));
          // Keep the global header: a destroyed one is refused before either path runs.
          for (const [at, value] of mutations) if (at >= 24 && at < bytes.length) bytes[at] = value;
          writeFileSync(file, bytes);
          await same(file);
          runs++;
        },
      ),
      { numRuns: 60, seed: 7 },
    );
    assert.equal(runs, 60);
  });

  test('repeat senders that outgrow the hot index mid-run', async () => {
    const file = join(dir, 'repeat.pcap');
    await new SyntheticDarknet({
      seed: 16,
      darknet: '198.18.0.0/16',
      mirai: 600,
      masscan: 20,
      zmapUnknown: 20,
      backscatter: 20,
      noise: 200,
      packetsPerSource: 6,
      durationMs: 120_000,
    }).writePcap(file);
    // 2048 slots: a 512-slot hot index, grown past 384 repeat senders.
    const fast = await same(file, { sources: { capacity: 2048 } });
    assert.ok(fast.outcome.sources.filter((r) => r.packets > 1).length > 512);
    assert.ok(fast.nativeFrames > fast.outcome.counters.frames * 0.9);
    assert.equal(fast.outcome.infected.length, 620);
    // Other fingerprint classes and one-packet sources counted: the same infected hosts.
    const other = await same(file, {
      sources: { capacity: 2048 },
      classify: { minPackets: 1, fingerprintClass: { mirai: 'benign', zmap: 'infected' } },
    });
    assert.ok(other.outcome.infected.length >= 40, `${other.outcome.infected.length} infected`);
  });

  test('sources sending TCP and UDP to the same ports: the same port sketches', async () => {
    const writer = new PcapWriter(LinkType.ETHERNET, 262144);
    const t0 = Date.UTC(2025, 0, 15, 10, 0, 0);
    let t = t0;
    for (let i = 0; i < 200; i++) {
      const src = `203.0.${i >> 4}.${(i & 15) + 1}`;
      const dst = `198.18.${i & 255}.${(i * 7) & 255}`;
      // TCP first, then UDP, to ports the exact list already holds; some only ever TCP.
      for (const port of [53, 123, 53, 443]) {
        writer.add(
          buildTcpFrame({ srcIp: src, dstIp: dst, srcPort: 1000, dstPort: port, flags: TcpFlag.SYN }),
          (t += 10),
        );
        if (i % 3 !== 0)
          writer.add(buildUdpFrame({ srcIp: src, dstIp: dst, srcPort: 1000, dstPort: port }), (t += 10));
      }
    }
    const file = join(dir, 'tcp-udp.pcap');
    writeFileSync(file, writer.toBuffer());
    const fast = await same(file);
    assert.ok(
      fast.outcome.sources.some((r) => r.distinctPorts > r.ports.length),
      'the sketch counts TCP and UDP apart',
    );
  });

  test('more than four darknet ranges (searched, not compared in turn)', async () => {
    const prefixes = [
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '198.18.0.0/18',
      '198.18.128.0/18',
      '203.0.113.0/24',
    ];
    const fast = await same(capture('ranges', 17, 0.3), { prefixes });
    const c = fast.outcome.counters;
    assert.ok(c.darknet > 0 && c.notDarknet > 0, 'some packets inside the ranges, some outside');
    assert.ok(fast.nativeFrames > c.frames * 0.8);
  });

  test('big-endian nanosecond files', async () => {
    const fast = await same(capture('big', 15, 1, { bigEndian: true, nanosecond: true }));
    assert.ok(fast.nativeFrames > fast.outcome.counters.frames * 0.8);
  });

  test('raw IPv4 link type and a snaplen that cuts payloads', async () => {
    const fast = await same(capture('raw', 13, 1, { linkType: LinkType.RAW, snaplen: 48 }));
    assert.ok(fast.nativeFrames > 0);
  });
});
