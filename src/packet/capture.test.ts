/** Tests for the pcap/pcapng readers: formats, byte orders, resolutions, streaming, damage, and editcap conversions. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { InputError } from '../core/index.ts';
import {
  createCaptureStats,
  forEachPacket,
  forEachPacketInBuffer,
  openCapture,
  readCapture,
  type CapturePacket,
  type CaptureStats,
} from './capture.ts';
import { buildTcpFrame, buildUdpFrame, LinkType, PcapngWriter, PcapWriter } from './writer.ts';

const hasEditcap = spawnSync('editcap', ['-h'], { stdio: 'ignore' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'tsunagi-capture-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Seen {
  linkType: number;
  timestampMs: number;
  capturedLength: number;
  originalLength: number;
  interfaceId: number;
  hex: string;
}

function snapshot(p: CapturePacket): Seen {
  const { linkType, timestampMs, capturedLength, originalLength, interfaceId } = p;
  return {
    linkType,
    timestampMs,
    capturedLength,
    originalLength,
    interfaceId,
    hex: Buffer.from(p.data).toString('hex'),
  };
}

function collect(buffer: Uint8Array, stats = createCaptureStats()): Seen[] {
  const seen: Seen[] = [];
  for (const p of readCapture(buffer, stats)) seen.push(snapshot(p));
  return seen;
}

async function collectFile(path: string, chunkSize?: number): Promise<{ seen: Seen[]; stats: CaptureStats }> {
  const seen: Seen[] = [];
  const stats = await forEachPacket(path, (p) => seen.push(snapshot(p)), chunkSize ? { chunkSize } : {});
  return { seen, stats };
}

function samplePackets(count: number): { data: Buffer; timestampMs: number }[] {
  const packets = [];
  for (let i = 0; i < count; i++) {
    const payload = Buffer.alloc(i % 7 === 0 ? 1500 : (i * 37) % 200, i & 255);
    const data =
      i % 2 === 0
        ? buildUdpFrame({
            srcIp: `10.0.${i >> 8}.${i & 255}`,
            dstIp: '192.0.2.1',
            srcPort: 1000 + i,
            dstPort: 53,
            payload,
          })
        : buildTcpFrame({
            srcIp: '2001:db8::1',
            dstIp: `2001:db8::${(i + 2).toString(16)}`,
            srcPort: 40000,
            dstPort: 80 + i,
            payload,
          });
    packets.push({ data, timestampMs: 1700000000000 + i * 1.25 + 0.001 });
  }
  return packets;
}

describe('classic pcap', () => {
  const packets = samplePackets(50);
  for (const [label, options] of [
    ['little-endian microseconds', {}],
    ['big-endian microseconds', { bigEndian: true }],
    ['little-endian nanoseconds', { nanosecond: true }],
    ['big-endian nanoseconds', { nanosecond: true, bigEndian: true }],
  ] as const) {
    test(label, () => {
      const w = new PcapWriter(LinkType.ETHERNET, 1000, options);
      for (const p of packets) w.add(p.data, p.timestampMs);
      const stats = createCaptureStats();
      const seen = collect(w.toBuffer(), stats);
      assert.equal(seen.length, packets.length);
      assert.equal(stats.format, 'pcap');
      assert.deepEqual(stats.errors, { truncated: 0, badLength: 0, badBlock: 0, unknownInterface: 0 });
      for (let i = 0; i < packets.length; i++) {
        const want = packets[i]!;
        const got = seen[i]!;
        assert.equal(got.linkType, 1);
        assert.ok(
          Math.abs(got.timestampMs - want.timestampMs) < 1e-3,
          `timestamp ${got.timestampMs} vs ${want.timestampMs}`,
        );
        assert.equal(got.originalLength, want.data.length);
        assert.equal(got.capturedLength, Math.min(1000, want.data.length));
        assert.equal(got.hex, want.data.subarray(0, 1000).toString('hex'));
      }
    });
  }

  test('bad magic is an InputError with a one-line message', () => {
    assert.throws(
      () => [...readCapture(Buffer.from('GET / HTTP/1.1\r\n\r\n'))],
      (e: unknown) =>
        e instanceof InputError &&
        /not a pcap or pcapng file \(magic 0x47455420\)/.test(e.message) &&
        !e.message.includes('\n'),
    );
    assert.throws(() => [...readCapture(Buffer.alloc(2))], InputError);
  });

  test('a file cut inside a record keeps earlier packets and counts truncated', () => {
    const w = new PcapWriter();
    for (const p of packets.slice(0, 5)) w.add(p.data, p.timestampMs);
    const full = w.toBuffer();
    const stats = createCaptureStats();
    const seen = collect(full.subarray(0, full.length - 3), stats);
    assert.equal(seen.length, 4);
    assert.equal(stats.errors.truncated, 1);
  });

  test('an absurd captured length stops the read as badLength', () => {
    const w = new PcapWriter();
    for (const p of packets.slice(0, 3)) w.add(p.data, p.timestampMs);
    const buf = w.toBuffer();
    const third = 24 + 2 * 16 + packets[0]!.data.length + packets[1]!.data.length;
    buf.writeUInt32LE(0x7fffffff, third + 8);
    const stats = createCaptureStats();
    assert.equal(collect(buf, stats).length, 2);
    assert.equal(stats.errors.badLength, 1);
  });
});

/** A pcapng with two sections, several interfaces and every packet block type. */
function buildPcapng(bigEndian: boolean): { buffer: Buffer; expected: Omit<Seen, 'capturedLength'>[] } {
  const a = buildUdpFrame({
    srcIp: '10.0.0.1',
    dstIp: '10.0.0.2',
    srcPort: 1,
    dstPort: 2,
    payload: Buffer.from('abc'),
  });
  const b = buildTcpFrame({ srcIp: '::1', dstIp: '::2', srcPort: 3, dstPort: 4, ethernet: false });
  const c = buildUdpFrame({
    srcIp: '192.0.2.7',
    dstIp: '198.51.100.1',
    srcPort: 5,
    dstPort: 6,
    ethernet: false,
  });
  const w = new PcapngWriter(bigEndian)
    .addInterface(LinkType.ETHERNET) // default microseconds
    .addInterface(LinkType.RAW, { tsresol: 9 }) // nanoseconds
    .addInterface(LinkType.IPV4, { tsresol: 0x80 | 20, tsoffset: 1000 }) // 2^-20 s, +1000 s
    .addBlock(5, Buffer.alloc(12)) // interface statistics: skipped
    .addPacket(0, a, 1700000000123.456)
    .addPacket(1, b, 1700000000123.457)
    .addPacket(2, c, 500.5)
    .addObsoletePacket(0, a, 1600000000000)
    .addBlock(0x40000bad, Buffer.from('custom')) // unknown: skipped by length
    .addSimplePacket(a)
    .newSection()
    .addInterface(LinkType.LINUX_SLL2, { tsresol: 3 })
    .addPacket(0, c, 42);
  const expected = [
    {
      linkType: 1,
      timestampMs: 1700000000123.456,
      originalLength: a.length,
      interfaceId: 0,
      hex: a.toString('hex'),
    },
    {
      linkType: 101,
      timestampMs: 1700000000123.457,
      originalLength: b.length,
      interfaceId: 1,
      hex: b.toString('hex'),
    },
    {
      linkType: 228,
      timestampMs: 1000500.5,
      originalLength: c.length,
      interfaceId: 2,
      hex: c.toString('hex'),
    },
    {
      linkType: 1,
      timestampMs: 1600000000000,
      originalLength: a.length,
      interfaceId: 0,
      hex: a.toString('hex'),
    },
    { linkType: 1, timestampMs: 0, originalLength: a.length, interfaceId: 0, hex: a.toString('hex') },
    { linkType: 276, timestampMs: 42, originalLength: c.length, interfaceId: 0, hex: c.toString('hex') },
  ];
  return { buffer: w.toBuffer(), expected };
}

describe('pcapng', () => {
  for (const bigEndian of [false, true]) {
    test(`${bigEndian ? 'big' : 'little'}-endian sections, interfaces, resolutions and block types`, async () => {
      const { buffer, expected } = buildPcapng(bigEndian);
      const stats = createCaptureStats();
      const seen = collect(buffer, stats);
      assert.equal(stats.format, 'pcapng');
      assert.equal(stats.sections, 2);
      assert.equal(stats.skippedBlocks, 2);
      assert.deepEqual(stats.errors, { truncated: 0, badLength: 0, badBlock: 0, unknownInterface: 0 });
      assert.equal(seen.length, expected.length);
      for (let i = 0; i < expected.length; i++) {
        const { timestampMs, ...rest } = expected[i]!;
        const { timestampMs: gotMs, capturedLength, ...gotRest } = seen[i]!;
        assert.deepEqual(gotRest, rest, `packet ${i}`);
        assert.equal(capturedLength, rest.hex.length / 2);
        assert.ok(Math.abs(gotMs - timestampMs) < 1e-3, `packet ${i} time ${gotMs} vs ${timestampMs}`);
      }
      // The streaming reader gives the same answer, with chunk borders cutting every block.
      const path = join(dir, `ng-${bigEndian}.pcapng`);
      writeFileSync(path, buffer);
      for (const chunkSize of [64, 100, 1 << 20]) {
        const file = await collectFile(path, chunkSize);
        assert.deepEqual(file.seen, seen, `chunk ${chunkSize}`);
        assert.deepEqual(file.stats, stats);
      }
    });
  }

  test('a packet naming an undeclared interface is skipped and counted', () => {
    const a = buildUdpFrame({ srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 1, dstPort: 2 });
    const buf = new PcapngWriter().addInterface(1).addPacket(3, a, 0).addPacket(0, a, 0).toBuffer();
    const stats = createCaptureStats();
    assert.equal(collect(buf, stats).length, 1);
    assert.equal(stats.errors.unknownInterface, 1);
  });

  test('a zero or unaligned block length stops without looping', () => {
    const a = buildUdpFrame({ srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 1, dstPort: 2 });
    for (const badLength of [0, 8, 13, 0xfffffff0]) {
      const good = new PcapngWriter().addInterface(1).addPacket(0, a, 0).toBuffer();
      const bad = Buffer.alloc(16);
      bad.writeUInt32LE(6, 0);
      bad.writeUInt32LE(badLength, 4);
      const stats = createCaptureStats();
      assert.equal(collect(Buffer.concat([good, bad, good.subarray(28)]), stats).length, 1);
      assert.equal(stats.errors.badLength, 1, `length ${badLength}`);
    }
  });

  test('a trailing length that disagrees with the leading one is badLength', () => {
    const a = buildUdpFrame({ srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 1, dstPort: 2 });
    const buf = new PcapngWriter().addInterface(1).addPacket(0, a, 0).addPacket(0, a, 0).toBuffer();
    buf.writeUInt32LE(4, buf.length - 4);
    const stats = createCaptureStats();
    assert.equal(collect(buf, stats).length, 1);
    assert.equal(stats.errors.badLength, 1);
  });

  test('a first block that is not a section header is an InputError', () => {
    const buf = new PcapngWriter().addInterface(1).toBuffer();
    buf.writeUInt32BE(0x0a0d0d0a, 0);
    buf.writeUInt32LE(0x11111111, 8);
    assert.throws(() => [...readCapture(buf)], /bad byte-order magic/);
  });
});

describe('streaming reader', () => {
  const packets = samplePackets(300);
  const w = new PcapWriter();
  for (const p of packets) w.add(p.data, p.timestampMs);
  const buffer = w.toBuffer();
  const path = join(dir, 'stream.pcap');
  writeFileSync(path, buffer);

  test('chunk borders anywhere, and records longer than a chunk, read the same packets', async () => {
    const whole = collect(buffer);
    for (const chunkSize of [64, 333, 4096]) {
      const { seen, stats } = await collectFile(path, chunkSize);
      assert.equal(seen.length, 300);
      assert.deepEqual(seen, whole, `chunk ${chunkSize}`);
      assert.equal(stats.errors.truncated, 0);
    }
  });

  test('mapped reading (a mapper of small segments) reads the same packets, in pcap and pcapng', async () => {
    const maps: [number, number][] = [];
    // What mmap gives, made with read(2): the file's bytes from a page-aligned offset.
    const map = (fd: number, offset: number, length: number) => {
      assert.equal(offset % 4096, 0);
      maps.push([offset, length]);
      const bytes = new Uint8Array(length);
      assert.equal(readSync(fd, bytes, 0, length, offset), length);
      live.add(bytes);
      return bytes;
    };
    // Released mappings are poisoned, as unmapping makes them unreadable: a read after release
    // would change what is seen.
    const live = new Set<Uint8Array>();
    let released = 0;
    const unmap = (mapping: Uint8Array) => {
      assert.ok(live.delete(mapping), 'released once, and only what map made');
      mapping.fill(0xee);
      released++;
    };
    const ng = new PcapngWriter().addInterface(LinkType.ETHERNET);
    for (const p of packets) ng.addPacket(0, p.data, p.timestampMs);
    const ngPath = join(dir, 'stream.pcapng');
    const ngBuffer = ng.toBuffer();
    writeFileSync(ngPath, ngBuffer);
    for (const [file, bytes] of [
      [path, buffer],
      [ngPath, ngBuffer],
    ] as const) {
      for (const mapSegmentBytes of [4096, 8192, 1 << 20]) {
        maps.length = 0;
        released = 0;
        const seen: Seen[] = [];
        const stats = await forEachPacket(file, (p) => seen.push(snapshot(p)), {
          map,
          unmap,
          mapMinBytes: 0,
          mapSegmentBytes,
        });
        assert.deepEqual(seen, collect(bytes), `${file}, segments of ${mapSegmentBytes}`);
        assert.equal(stats.errors.truncated, 0);
        assert.equal(maps.length > 1, mapSegmentBytes < bytes.length, 'one mapping per segment');
        assert.equal(released, maps.length, 'every mapping released');
      }
    }
    // A cut record at the end of the last mapping is counted, as when reading.
    const cut = join(dir, 'cut-mapped.pcap');
    writeFileSync(cut, buffer.subarray(0, buffer.length - 10));
    maps.length = 0;
    released = 0;
    const stats = await forEachPacket(cut, () => {}, { map, unmap, mapMinBytes: 0, mapSegmentBytes: 8192 });
    assert.equal(stats.packets, 299);
    assert.equal(stats.errors.truncated, 1);
    assert.equal(released, maps.length, 'every mapping released');
  });

  test('async iteration yields the same packets and exposes stats', async () => {
    const file = openCapture(path, { chunkSize: 1000 });
    let count = 0;
    let bytes = 0;
    for await (const p of file) {
      count++;
      bytes += p.data.length;
    }
    assert.equal(count, 300);
    assert.equal(file.stats.capturedBytes, bytes);
  });

  test('breaking out early closes the file', async () => {
    let count = 0;
    for await (const _ of openCapture(path)) if (++count === 3) break;
    assert.equal(count, 3);
  });

  test('a truncated file keeps the packets before the cut', async () => {
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, buffer.subarray(0, buffer.length - 10));
    const { seen, stats } = await collectFile(cut, 512);
    assert.equal(seen.length, 299);
    assert.equal(stats.errors.truncated, 1);
  });

  test('missing file and non-capture file are InputErrors', async () => {
    await assert.rejects(
      forEachPacket(join(dir, 'nope.pcap'), () => {}),
      (e: unknown) => e instanceof InputError && /ENOENT/.test(e.message),
    );
    const text = join(dir, 'text.pcap');
    writeFileSync(text, 'hello world, not a capture');
    await assert.rejects(
      forEachPacket(text, () => {}),
      InputError,
    );
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, '');
    await assert.rejects(
      forEachPacket(empty, () => {}),
      /too short/,
    );
  });
});

describe('files converted by editcap (Wireshark)', { skip: !hasEditcap && 'editcap not on PATH' }, () => {
  const packets = samplePackets(40);
  const source = join(dir, 'src.pcap');
  const w = new PcapWriter();
  for (const p of packets) w.add(p.data, p.timestampMs);
  writeFileSync(source, w.toBuffer());
  const reference = collect(w.toBuffer());

  for (const format of ['pcapng', 'nsecpcap', 'nsecpcapng' as string]) {
    test(`editcap -F ${format}`, () => {
      const out = join(dir, `conv.${format}`);
      const args = format === 'nsecpcapng' ? ['-F', 'pcapng', '--set-tsresol', '9'] : ['-F', format];
      const result = spawnSync('editcap', [...args, source, out], { encoding: 'utf8' });
      if (result.status !== 0 && format === 'nsecpcapng') return; // older editcap without --set-tsresol
      assert.equal(result.status, 0, result.stderr);
      const stats = createCaptureStats();
      const seen = collect(readFileSync(out), stats);
      assert.equal(stats.format, format.endsWith('pcapng') ? 'pcapng' : 'pcap');
      assert.equal(seen.length, reference.length);
      for (let i = 0; i < seen.length; i++) {
        assert.equal(seen[i]!.hex, reference[i]!.hex);
        assert.equal(seen[i]!.originalLength, reference[i]!.originalLength);
        assert.ok(Math.abs(seen[i]!.timestampMs - reference[i]!.timestampMs) < 1e-3);
      }
    });
  }

  test('committed fixtures written by editcap read as expected', () => {
    // testdata/editcap.pcapng and testdata/editcap-nsec.pcap: editcap conversions of 3 frames written by PcapWriter (see README).
    for (const name of ['editcap.pcapng', 'editcap-nsec.pcap']) {
      const stats = createCaptureStats();
      const seen = collect(readFileSync(new URL(`./testdata/${name}`, import.meta.url)), stats);
      assert.equal(seen.length, 3, name);
      assert.equal(seen[0]!.timestampMs, 1700000000000.5);
      assert.equal(seen[2]!.linkType, 1);
    }
  });
});

describe('fuzz: mutated captures never throw past the header, never hang', () => {
  const packets = samplePackets(6).map((p) => ({ ...p, data: p.data.subarray(0, 80) }));
  const pcap = (() => {
    const w = new PcapWriter();
    for (const p of packets) w.add(p.data, p.timestampMs);
    return w.toBuffer();
  })();
  const pcapng = buildPcapng(false).buffer;
  const pcapngBe = buildPcapng(true).buffer;

  const mutation = fc.record({
    which: fc.integer({ min: 0, max: 2 }),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    cut: fc.option(fc.nat()),
    insert: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 16 }))),
  });

  test('30,000 mutations', () => {
    let inputErrors = 0;
    fc.assert(
      fc.property(mutation, ({ which, flips, cut, insert }) => {
        let buf = Buffer.from([pcap, pcapng, pcapngBe][which]!);
        for (const [at, value] of flips) buf[at % buf.length] = value;
        if (insert) {
          const at = insert[0] % buf.length;
          buf = Buffer.concat([buf.subarray(0, at), insert[1], buf.subarray(at)]);
        }
        if (cut !== null) buf = buf.subarray(0, cut % (buf.length + 1));
        const stats = createCaptureStats();
        let count = 0;
        try {
          forEachPacketInBuffer(
            buf,
            (p) => {
              count++;
              assert.ok(
                p.data.length === p.capturedLength &&
                  p.data.byteOffset + p.data.length <= buf.byteOffset + buf.length,
              );
            },
            stats,
          );
        } catch (e) {
          // Only a damaged header may refuse the file, and only as an InputError.
          if (!(e instanceof InputError)) throw e;
          inputErrors++;
          return;
        }
        assert.ok(count <= buf.length / 12);
        assert.equal(stats.packets, count);
      }),
      { numRuns: 30000, seed: 42 },
    );
    assert.ok(inputErrors < 30000 / 2, 'most mutations leave the header readable');
  });
});
