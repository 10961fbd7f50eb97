/** Tests of the FlowBatch wire codec: round trips, exact sizes, refusals by kind, and a fuzz of the decoder. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FlowBatch } from '../core/index.ts';
import {
  DECODE_ERROR_KINDS,
  HEADER_BYTES,
  ROW_BYTES_V4,
  ROW_BYTES_V6,
  decodeFlowBatch,
  encodeExporterTable,
  encodeFlowBatch,
  encodeFlowRows,
  encodedSize,
  rowsPerMessage,
  type DecodeResult,
} from './codec.ts';
import { assertSameBatch, assertSameRow, batchArbitrary, buildBatch, rowArbitrary } from './testing.ts';

function decoded(result: DecodeResult): FlowBatch {
  if (!result.ok) assert.fail(`decode failed: ${result.error}: ${result.detail}`);
  return result.batch;
}

function sampleBatch(rows = 20, v6 = true): FlowBatch {
  const specs = fc.sample(rowArbitrary(2, v6 ? 'some' : 'none'), { numRuns: rows, seed: 42 });
  if (v6) specs[0]!.v6 = true;
  return buildBatch(['192.0.2.1', '2001:db8::1'], specs);
}

describe('codec round trip', () => {
  test('any batch (v4 only or mixed v4/v6) decodes to the same rows and exporters', () => {
    fc.assert(
      fc.property(batchArbitrary, (batch) => {
        const bytes = encodeFlowBatch(batch);
        const back = decoded(decodeFlowBatch(bytes));
        assert.deepEqual(back.exporters, batch.exporters);
        assertSameBatch(batch, back);
        assert.equal(back.capacity, batch.length, 'decoded batch is sized to its rows');
      }),
      { numRuns: 300 },
    );
  });

  test('size is exact: only used rows, IPv6 columns only when a row is v6', () => {
    fc.assert(
      fc.property(batchArbitrary, (batch) => {
        const bytes = encodeFlowBatch(batch);
        let hasV6 = false;
        for (let r = 0; r < batch.length; r++) if (batch.ipVersion[r] === 6) hasV6 = true;
        const table = encodeExporterTable(batch.exporters);
        assert.equal(bytes.length, encodedSize(batch.length, hasV6, table));
        const columns = bytes.length - ((HEADER_BYTES + table.bytes.length + 7) & ~7);
        assert.equal(columns, batch.length * (hasV6 ? ROW_BYTES_V6 : ROW_BYTES_V4));
      }),
      { numRuns: 200 },
    );
  });

  test('a gather of rows encodes exactly those rows, in that order', () => {
    const batch = sampleBatch(50);
    const rows = Uint32Array.from([49, 3, 3, 17, 0]);
    const back = decoded(decodeFlowBatch(encodeFlowRows(batch, rows, 1, 5)));
    assert.equal(back.length, 4);
    [3, 3, 17, 0].forEach((r, k) => assertSameRow(batch, r, back, k));
    const range = decoded(decodeFlowBatch(encodeFlowRows(batch, null, 10, 13)));
    [10, 11, 12].forEach((r, k) => assertSameRow(batch, r, range, k));
  });

  test('encoding the rows of a message-size budget never exceeds it', () => {
    const batch = sampleBatch(200);
    const table = encodeExporterTable(batch.exporters);
    const per = rowsPerMessage(4096, true, table);
    assert.ok(per > 0);
    assert.ok(encodeFlowRows(batch, null, 0, per, table).length <= 4096);
    assert.ok(encodedSize(per + 1, true, table) > 4096);
    assert.equal(rowsPerMessage(HEADER_BYTES, true, table), 0);
  });

  test('an empty batch round-trips', () => {
    const back = decoded(decodeFlowBatch(encodeFlowBatch(new FlowBatch(8))));
    assert.equal(back.length, 0);
  });

  test('a decoded message does not alias the buffer it came from', () => {
    const batch = sampleBatch(5);
    const bytes = encodeFlowBatch(batch);
    const back = decoded(decodeFlowBatch(bytes));
    bytes.fill(0);
    assertSameBatch(batch, back);
  });

  test('decodes from an unaligned view inside a larger buffer', () => {
    const batch = sampleBatch(33);
    const bytes = encodeFlowBatch(batch);
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    assertSameBatch(batch, decoded(decodeFlowBatch(big.subarray(3))));
  });
});

describe('codec refusals', () => {
  const batch = sampleBatch(10);
  const good = encodeFlowBatch(batch);
  const tableEnd = HEADER_BYTES + encodeExporterTable(batch.exporters).bytes.length;
  const columnsAt = (tableEnd + 7) & ~7;
  const n = batch.length;
  const mutate = (edit: (b: Uint8Array, v: DataView) => void, bytes = good) => {
    const copy = bytes.slice();
    edit(copy, new DataView(copy.buffer));
    return decodeFlowBatch(copy);
  };
  const kind = (r: DecodeResult) => (r.ok ? 'ok' : r.error);

  test('each kind of damage is named', () => {
    assert.equal(kind(decodeFlowBatch(good.subarray(0, 10))), 'truncated');
    assert.equal(kind(decodeFlowBatch(good.subarray(0, good.length - 1))), 'truncated');
    assert.equal(kind(mutate((b) => (b[0] = 0x58))), 'bad_magic');
    assert.equal(kind(mutate((b) => (b[4] = 2))), 'bad_version');
    assert.equal(kind(mutate((b) => (b[5] = 0x81))), 'bad_flags');
    assert.equal(kind(mutate((_, v) => v.setUint32(8, 0xffffffff, true))), 'too_many_rows');
    assert.equal(kind(mutate((_, v) => v.setUint32(8, n + 1, true))), 'truncated');
    assert.equal(kind(mutate((_, v) => v.setUint32(8, n - 1, true))), 'length_mismatch');
    assert.equal(kind(mutate((_, v) => v.setUint32(12, 0x7fffffff, true))), 'bad_exporter_table');
    assert.equal(kind(mutate((_, v) => v.setUint16(6, 60000, true))), 'bad_exporter_table');
    assert.equal(kind(mutate((b) => (b[HEADER_BYTES] = 250))), 'bad_exporter_table');
    assert.equal(kind(mutate((b) => (b[HEADER_BYTES + 1] = 0xff))), 'bad_exporter_table', 'invalid UTF-8');
    const exporterColumn = columnsAt + n * (4 * 8 + 3 * 4);
    assert.equal(kind(mutate((_, v) => v.setUint16(exporterColumn, 2, true))), 'bad_exporter_index');
    const ipVersionColumn = columnsAt + n * (4 * 8 + 3 * 4 + 3 * 2) + n;
    assert.equal(kind(mutate((b) => (b[ipVersionColumn + 4] = 5))), 'bad_ip_version');
    assert.equal(kind(mutate((_, v) => v.setFloat64(columnsAt + 2 * 8 * n, NaN, true))), 'bad_value');
    assert.equal(kind(mutate((_, v) => v.setFloat64(columnsAt + 3 * 8 * n + 8, -1, true))), 'bad_value');
    assert.equal(kind(mutate((_, v) => v.setFloat64(columnsAt, Infinity, true))), 'bad_value');
    assert.equal(kind(decodeFlowBatch(good, { maxRows: n - 1 })), 'too_many_rows');
  });

  test('a v6 row in a message without IPv6 columns is refused', () => {
    const v4 = sampleBatch(6, false);
    const bytes = encodeFlowBatch(v4);
    const at =
      ((HEADER_BYTES + encodeExporterTable(v4.exporters).bytes.length + 7) & ~7) +
      6 * (4 * 8 + 3 * 4 + 3 * 2) +
      6;
    assert.equal(kind(mutate((b) => (b[at] = 6), bytes)), 'bad_ip_version');
  });

  test('fuzz: mutated, truncated and extended encodings never throw and never allocate past the message', () => {
    const seen = new Set<string>();
    const samples = fc.sample(batchArbitrary, { numRuns: 40, seed: 7 }).map((b) => encodeFlowBatch(b));
    const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 8,
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: samples.length - 1 }),
        edits,
        fc.integer({ min: -64, max: 64 }),
        fc.boolean(),
        (which, changes, resize, headerOnly) => {
          const base = samples[which]!;
          const size = Math.max(0, base.length + (resize > 32 || resize < -32 ? resize : 0));
          const bytes = new Uint8Array(size);
          bytes.set(base.subarray(0, Math.min(size, base.length)));
          for (const [pos, value] of changes) {
            if (bytes.length === 0) break;
            const at = headerOnly ? pos % Math.min(bytes.length, 32) : pos % bytes.length;
            bytes[at] = value;
          }
          const result = decodeFlowBatch(bytes);
          seen.add(result.ok ? 'ok' : result.error);
          if (result.ok) {
            assert.ok(
              result.batch.capacity * ROW_BYTES_V4 <= bytes.length,
              'allocation bounded by message size',
            );
            for (let r = 0; r < result.batch.length; r++) {
              assert.ok(result.batch.exporter[r]! < result.batch.exporters.length);
              assert.ok(result.batch.ipVersion[r] === 4 || result.batch.ipVersion[r] === 6);
            }
          }
        },
      ),
      { numRuns: 20_000, seed: 11 },
    );
    for (const k of seen) assert.ok(k === 'ok' || DECODE_ERROR_KINDS.includes(k as never), k);
    // The fuzz reached both outcomes and several refusal kinds, so it exercised the checks.
    assert.ok(seen.has('ok') && seen.size >= 6, [...seen].join(','));
  });

  test('fuzz: random bytes behind a valid header prefix never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (tail, keepMagic) => {
        const bytes = new Uint8Array(tail.length + 8);
        bytes.set(tail, 8);
        if (keepMagic) bytes.set(good.subarray(0, 6));
        const result = decodeFlowBatch(bytes);
        if (result.ok) assert.ok(result.batch.capacity * ROW_BYTES_V4 <= bytes.length);
      }),
      { numRuns: 5000, seed: 3 },
    );
  });
});
