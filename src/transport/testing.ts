/** Test helpers for transport: random FlowBatches (fast-check arbitraries) and column-by-column comparison. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FlowBatch } from '../core/index.ts';

export interface RowSpec {
  exporter: number;
  version: number;
  startMs: number;
  endMs: number;
  v6: boolean;
  src4: number;
  dst4: number;
  src6: Uint8Array;
  dst6: Uint8Array;
  srcPort: number;
  dstPort: number;
  proto: number;
  tcpFlags: number;
  packets: number;
  bytes: number;
  samplingRate: number;
}

const count = fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.double({ min: 0, max: 1e15, noNaN: true }));

export function rowArbitrary(exporters: number, v6Share: 'none' | 'some'): fc.Arbitrary<RowSpec> {
  return fc.record({
    exporter: fc.integer({ min: 0, max: exporters - 1 }),
    version: fc.constantFrom(5, 9, 10, 105),
    startMs: fc.integer({ min: 0, max: 2 ** 45 }),
    endMs: fc.integer({ min: 0, max: 2 ** 45 }),
    v6: v6Share === 'none' ? fc.constant(false) : fc.boolean(),
    src4: fc.integer({ min: 0, max: 0xffffffff }),
    dst4: fc.integer({ min: 0, max: 0xffffffff }),
    src6: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    dst6: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    srcPort: fc.integer({ min: 0, max: 65535 }),
    dstPort: fc.integer({ min: 0, max: 65535 }),
    proto: fc.integer({ min: 0, max: 255 }),
    tcpFlags: fc.integer({ min: 0, max: 255 }),
    packets: count,
    bytes: count,
    samplingRate: fc.integer({ min: 1, max: 0xffffffff }),
  });
}

/** A random batch: 1-4 exporters (some non-ASCII names), 0-300 rows, spare capacity. */
export const batchArbitrary: fc.Arbitrary<FlowBatch> = fc
  .tuple(
    fc.uniqueArray(fc.string({ unit: 'grapheme', maxLength: 20 }), { minLength: 1, maxLength: 4 }),
    fc.constantFrom<'none' | 'some'>('none', 'some'),
    fc.integer({ min: 0, max: 16 }),
  )
  .chain(([exporters, v6Share, spare]) =>
    fc
      .array(rowArbitrary(exporters.length, v6Share), { maxLength: 300 })
      .map((rows) => buildBatch(exporters, rows, rows.length + spare)),
  );

export function buildBatch(
  exporters: readonly string[],
  rows: readonly RowSpec[],
  capacity = rows.length,
): FlowBatch {
  const batch = new FlowBatch(capacity);
  for (const e of exporters) batch.exporters.push(e);
  for (const spec of rows) {
    const r = batch.addRow(spec.exporter, spec.version);
    batch.startMs[r] = spec.startMs;
    batch.endMs[r] = spec.endMs;
    batch.ipVersion[r] = spec.v6 ? 6 : 4;
    batch.src4[r] = spec.v6 ? 0 : spec.src4;
    batch.dst4[r] = spec.v6 ? 0 : spec.dst4;
    if (spec.v6) {
      batch.src6.set(spec.src6, r * 16);
      batch.dst6.set(spec.dst6, r * 16);
    }
    batch.srcPort[r] = spec.srcPort;
    batch.dstPort[r] = spec.dstPort;
    batch.proto[r] = spec.proto;
    batch.tcpFlags[r] = spec.tcpFlags;
    batch.packets[r] = spec.packets;
    batch.bytes[r] = spec.bytes;
    batch.samplingRate[r] = spec.samplingRate;
  }
  return batch;
}

/** Asserts row `ra` of `a` equals row `rb` of `b` in every column (exporter compared by name). */
export function assertSameRow(a: FlowBatch, ra: number, b: FlowBatch, rb: number): void {
  const where = `row ${ra} vs ${rb}`;
  assert.equal(b.exporters[b.exporter[rb]!], a.exporters[a.exporter[ra]!], `${where} exporter`);
  assert.equal(b.version[rb], a.version[ra], `${where} version`);
  assert.equal(b.startMs[rb], a.startMs[ra], `${where} startMs`);
  assert.equal(b.endMs[rb], a.endMs[ra], `${where} endMs`);
  assert.equal(b.ipVersion[rb], a.ipVersion[ra], `${where} ipVersion`);
  assert.equal(b.src4[rb], a.src4[ra], `${where} src4`);
  assert.equal(b.dst4[rb], a.dst4[ra], `${where} dst4`);
  if (a.ipVersion[ra] === 6) {
    assert.deepEqual(
      b.src6.subarray(rb * 16, rb * 16 + 16),
      a.src6.subarray(ra * 16, ra * 16 + 16),
      `${where} src6`,
    );
    assert.deepEqual(
      b.dst6.subarray(rb * 16, rb * 16 + 16),
      a.dst6.subarray(ra * 16, ra * 16 + 16),
      `${where} dst6`,
    );
  }
  assert.equal(b.srcPort[rb], a.srcPort[ra], `${where} srcPort`);
  assert.equal(b.dstPort[rb], a.dstPort[ra], `${where} dstPort`);
  assert.equal(b.proto[rb], a.proto[ra], `${where} proto`);
  assert.equal(b.tcpFlags[rb], a.tcpFlags[ra], `${where} tcpFlags`);
  assert.equal(b.packets[rb], a.packets[ra], `${where} packets`);
  assert.equal(b.bytes[rb], a.bytes[ra], `${where} bytes`);
  assert.equal(b.samplingRate[rb], a.samplingRate[ra], `${where} samplingRate`);
}

export function assertSameBatch(a: FlowBatch, b: FlowBatch): void {
  assert.equal(b.length, a.length, 'length');
  for (let r = 0; r < a.length; r++) assertSameRow(a, r, b, r);
}
