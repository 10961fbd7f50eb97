/** The FlowBatchWriter batch pool: opt-in recycling and release() keep old sinks working. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlowBatch, FlowBatchWriter } from './flowbatch.ts';

function fill(writer: FlowBatchWriter, rows: number, exporter = '192.0.2.1'): void {
  for (let i = 0; i < rows; i++) {
    const row = writer.row(exporter, 9);
    writer.active.srcPort[row] = i;
  }
}

test('without recycle, every flushed batch is a new object the sink may keep', () => {
  const kept: FlowBatch[] = [];
  const writer = new FlowBatchWriter((b) => kept.push(b), 16);
  fill(writer, 16 * 5 + 3);
  writer.flush();
  assert.equal(kept.length, 6);
  assert.equal(new Set(kept).size, 6);
  // Kept batches still hold their own rows after later batches were written.
  assert.equal(kept[0]!.srcPort[0], 0);
  assert.equal(kept[4]!.srcPort[15], 16 * 4 + 15);
  assert.equal(kept[5]!.length, 3);
  assert.equal(writer.pooled, 0);
});

test('with recycle, the same few batches circulate, reset between uses', () => {
  const seen = new Set<FlowBatch>();
  const firstPorts: number[] = [];
  const exporters: string[][] = [];
  const writer = new FlowBatchWriter(
    (b) => {
      seen.add(b);
      firstPorts.push(b.srcPort[0]!);
      exporters.push([...b.exporters]);
      assert.equal(b.length, 16);
    },
    16,
    { recycle: true },
  );
  for (let i = 0; i < 20; i++) fill(writer, 16, `192.0.2.${i}`);
  writer.flush();
  assert.equal(firstPorts.length, 20);
  assert.ok(seen.size <= 2, `${seen.size} distinct batches for 20 flushes`);
  assert.deepEqual(firstPorts, new Array(20).fill(0));
  // The exporter table is reset with the batch: no stale exporter leaks into the next use.
  assert.deepEqual(exporters[7], ['192.0.2.7']);
});

test('release() returns a kept batch to the pool once, and ignores foreign ones', () => {
  const kept: FlowBatch[] = [];
  const writer = new FlowBatchWriter((b) => kept.push(b), 16, { poolSize: 2 });
  fill(writer, 16 * 3);
  writer.flush();
  assert.equal(kept.length, 3);
  writer.release(kept[0]!);
  writer.release(kept[0]!);
  writer.release(new FlowBatch(32));
  writer.release(writer.active);
  assert.equal(writer.pooled, 1);
  assert.equal(kept[0]!.length, 0, 'released batches are reset');
  // The batch written after the next flush is the released one.
  fill(writer, 17);
  assert.equal(kept.length, 4);
  assert.equal(writer.active, kept[0]);
  assert.equal(writer.active.length, 1);
  writer.release(kept[1]!);
  writer.release(kept[2]!);
  writer.release(kept[3]!);
  assert.equal(writer.pooled, 2, 'the pool is bounded');
});

test('rows() claims as many rows as fit, initialised like addRow even in a recycled batch', () => {
  const sizes: number[] = [];
  const writer = new FlowBatchWriter((b) => sizes.push(b.length), 16, { recycle: true });
  // Dirty every column of the batch, then let it be recycled.
  for (let i = 0; i < 16; i++) {
    const row = writer.row('192.0.2.1', 9);
    const B = writer.active;
    B.startMs[row] = B.endMs[row] = B.packets[row] = B.bytes[row] = 7;
    B.src4[row] = B.dst4[row] = B.srcPort[row] = B.dstPort[row] = B.samplingRate[row] = 7;
    B.proto[row] = B.tcpFlags[row] = B.ipVersion[row] = 6;
  }
  writer.flush();
  assert.equal(writer.rows('192.0.2.2', 10, 10), 10);
  assert.equal(writer.rows('192.0.2.2', 10, 10), 6, 'only the room left in the batch');
  assert.equal(writer.rows('192.0.2.2', 10, 0), 1, 'at least one row, in a fresh batch');
  assert.deepEqual(sizes, [16, 16]);
  const reference = new FlowBatch(16);
  reference.addRow(0, 10);
  const B = writer.active;
  assert.equal(B.length, 1);
  for (const column of [
    'exporter',
    'version',
    'startMs',
    'endMs',
    'ipVersion',
    'src4',
    'dst4',
    'srcPort',
    'dstPort',
    'proto',
    'tcpFlags',
    'packets',
    'bytes',
    'samplingRate',
  ] as const) {
    assert.equal(B[column][0], reference[column][0], column);
  }
  assert.deepEqual(B.exporters, ['192.0.2.2']);
});
