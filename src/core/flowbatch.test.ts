import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlowBatch, FlowBatchWriter, FlowVersion, flowVersionLabel } from './flowbatch.ts';

test('the writer hands on full batches and starts a new one', () => {
  const batches: FlowBatch[] = [];
  const writer = new FlowBatchWriter((b) => batches.push(b), 16);
  for (let i = 0; i < 40; i++) {
    const row = writer.row(i < 20 ? '192.0.2.1' : '192.0.2.2', FlowVersion.IPFIX);
    writer.active.dstPort[row] = i;
  }
  assert.equal(batches.length, 2);
  writer.flush();
  assert.equal(batches.length, 3);
  assert.deepEqual(
    batches.map((b) => b.length),
    [16, 16, 8],
  );
  // Exporter indexes stay right across the batch boundary and the exporter change.
  const second = batches[1]!;
  assert.equal(second.exporters[second.exporter[0]!], '192.0.2.1');
  assert.equal(second.exporters[second.exporter[15]!], '192.0.2.2');
  assert.equal(batches[2]!.exporters[batches[2]!.exporter[0]!], '192.0.2.2');
  assert.deepEqual(
    batches.flatMap((b) => Array.from(b.dstPort.subarray(0, b.length))),
    Array.from({ length: 40 }, (_, i) => i),
  );
  writer.flush();
  assert.equal(batches.length, 3, 'an empty batch is not handed on');
});

test('rows start zeroed with a sampling rate of 1', () => {
  const batch = new FlowBatch(2);
  batch.packets[0] = 99;
  batch.length = 0;
  const row = batch.addRow(batch.exporterIndex('x'), FlowVersion.NETFLOW5);
  assert.equal(batch.packets[row], 0);
  assert.equal(batch.samplingRate[row], 1);
  assert.equal(flowVersionLabel(FlowVersion.SFLOW5), 'sflow5');
  assert.equal(flowVersionLabel(FlowVersion.IPFIX), '10');
});
