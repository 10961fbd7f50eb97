/** Tests of the flow benchmark's parts: datagram pool, pool file, sequence numbers, /proc parsing (BENCHMARKS.md sections: bench/lib/report.test.ts). */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowBatch, FlowBatchWriter, ipv4ToString } from '../../src/core/index.ts';
import {
  createFlowDecoder,
  DecoderConfig,
  errorTotal,
  FLOW_CSV_HEADER,
  formatCsv,
} from '../../src/flow/index.ts';
import { FlowCsvFile } from './csv-writer.ts';
import {
  buildPool,
  generateRecords,
  readPool,
  RECORDS_PER_DATAGRAM,
  setSequence,
  TEMPLATE_EVERY,
  writePool,
  type BenchVersion,
} from './payloads.ts';
import { parseCpuTimes, readUdpSocket } from '../../src/flow/testing.ts';

describe('datagram pool', () => {
  for (const version of [5, 9, 10] as BenchVersion[]) {
    test(`v${version}: decodes to exactly the generated flows`, () => {
      const datagrams = TEMPLATE_EVERY + 3;
      const pool = buildPool(version, datagrams, 7);
      const generated = generateRecords(datagrams * RECORDS_PER_DATAGRAM[version], 7);
      const rows: string[] = [];
      const writer = new FlowBatchWriter((batch: FlowBatch) => {
        for (let i = 0; i < batch.length; i++) {
          rows.push(
            `${ipv4ToString(batch.src4[i]!)} ${ipv4ToString(batch.dst4[i]!)} ${batch.srcPort[i]} ${batch.dstPort[i]} ${batch.proto[i]} ${batch.tcpFlags[i]} ${batch.packets[i]} ${batch.bytes[i]} ${batch.endMs[i]! - batch.startMs[i]!}`,
          );
        }
      }, 1024);
      const decoder = createFlowDecoder(DecoderConfig.parse({}), {});
      let decoded = 0;
      pool.datagrams.forEach((d, i) => {
        const n = decoder.decode(
          d,
          { exporter: '192.0.2.1', exporterPort: 9995, receivedMs: Date.now() },
          writer,
        );
        assert.equal(n, pool.records[i], `datagram ${i}`);
        decoded += n;
      });
      writer.flush();
      assert.equal(errorTotal(decoder.stats), 0);
      assert.ok(
        pool.datagrams.every((d) => d.length <= 1472),
        'each datagram fits a 1500-byte MTU',
      );
      assert.equal(decoded, generated.length);
      const expected = generated.map(
        (r) =>
          `${r.src} ${r.dst} ${r.srcPort} ${r.dstPort} ${r.proto} ${r.tcpFlags} ${r.packets} ${r.bytes} ${r.last - r.first}`,
      );
      assert.deepEqual(rows, expected);
    });
  }

  test('pool file round trip and sequence rewriting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-flow-test-'));
    try {
      for (const version of [5, 9, 10] as BenchVersion[]) {
        const pool = buildPool(version, 10, 3);
        const path = join(dir, `v${version}.bin`);
        writePool(path, pool);
        const back = readPool(path);
        assert.equal(back.version, version);
        assert.deepEqual(back.records, pool.records);
        assert.deepEqual(back.datagrams, pool.datagrams);
        const copy = Buffer.from(back.datagrams[1]!);
        setSequence(version, copy, 12345, 987654);
        const offset = version === 5 ? 16 : version === 9 ? 12 : 8;
        assert.equal(copy.readUInt32BE(offset), version === 9 ? 12345 : 987654);
      }
      writePool(join(dir, 'bad.bin'), buildPool(5, 2));
      const whole = readFileSync(join(dir, 'bad.bin'));
      writeFileSync(join(dir, 'bad.bin'), whole.subarray(0, whole.length - 5));
      assert.throws(() => readPool(join(dir, 'bad.bin')), /truncated/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('/proc parsing', () => {
  test('CPU times come from utime and stime even when the command name has spaces and parentheses', () => {
    const stat = '1234 (node (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 100 0 0';
    assert.deepEqual(parseCpuTimes(stat), { user: 2.5, system: 0.75 });
    assert.throws(() => parseCpuTimes('1 (x) S 1 2'), /layout/);
  });

  test('UDP socket queue and drops by local port', () => {
    const table = [
      '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
      '  100: 0100007F:0807 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1111 2 0000000000000000 0',
      '  101: 0100007F:9C41 00000000:0000 07 00000000:00001A00 00:00000000 00000000     0        0 2222 2 0000000000000000 42',
    ].join('\n');
    assert.deepEqual(readUdpSocket(0x9c41, table), { rxQueue: 0x1a00, drops: 42 });
    assert.deepEqual(readUdpSocket(2055, table), { rxQueue: 0, drops: 0 });
    assert.equal(readUdpSocket(1, table), undefined);
  });
});

describe('FlowCsvFile (the bench sink)', () => {
  /** What FlowCsvFile wrote to a temp file, and what formatCsv makes of the same batches. */
  function bothWays(batches: FlowBatch[]): { written: string; reference: string } {
    const dir = mkdtempSync(join(tmpdir(), 'flow-csv-file-'));
    try {
      const path = join(dir, 'flows.csv');
      const fd = openSync(path, 'w');
      const file = new FlowCsvFile(fd);
      for (const batch of batches) file.write(batch);
      file.flush();
      closeSync(fd);
      return {
        written: readFileSync(path, 'utf8'),
        reference: `${FLOW_CSV_HEADER}\n${batches.map((b) => formatCsv(b)).join('')}`,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  for (const version of [5, 9, 10] as BenchVersion[]) {
    test(`v${version}: the same bytes as formatCsv for the decoded pool`, () => {
      const pool = buildPool(version, TEMPLATE_EVERY + 3, 11);
      const batches: FlowBatch[] = [];
      // No recycling: every batch is kept to be formatted both ways.
      const writer = new FlowBatchWriter((batch: FlowBatch) => batches.push(batch), 1000);
      const decoder = createFlowDecoder(DecoderConfig.parse({}), {});
      for (const d of pool.datagrams)
        decoder.decode(d, { exporter: '192.0.2.1', exporterPort: 9995, receivedMs: Date.now() }, writer);
      writer.flush();
      const { written, reference } = bothWays(batches);
      assert.equal(
        written.split('\n').length - 2,
        pool.records.reduce((a, b) => a + b, 0),
      );
      assert.equal(written, reference);
    });
  }

  test('IPv6 rows, quoted exporters, zero and large and fractional numbers: still formatCsv byte for byte', () => {
    const batch = new FlowBatch(8);
    const a = batch.addRow(batch.exporterIndex('2001:db8::1'), 10);
    batch.ipVersion[a] = 6;
    batch.src6.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], a * 16);
    batch.dst6.set([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd], a * 16);
    batch.startMs[a] = 1_764_000_000_123;
    batch.endMs[a] = 1_764_000_000_456;
    batch.packets[a] = 2 ** 40;
    batch.bytes[a] = 9_007_199_254_740_991;
    const b = batch.addRow(batch.exporterIndex('exporter "a",1'), 5);
    batch.src4[b] = 0xffffffff;
    batch.dst4[b] = 0;
    batch.packets[b] = 1.5;
    batch.bytes[b] = 2 ** 60;
    batch.srcPort[b] = 65535;
    batch.samplingRate[b] = 4096;
    const c = batch.addRow(batch.exporterIndex('10.0.0.1'), 9);
    batch.src4[c] = 0x0a000001;
    batch.dst4[c] = 0xc0a80164;
    const { written, reference } = bothWays([batch]);
    assert.equal(written, reference);
    assert.match(written, /^"exporter ""a"",1",5,0,0,255.255.255.255,0.0.0.0,65535,/m);
  });
});
