/**
 * Benchmark receiver (a child process): tsunagi's flow collector on 127.0.0.1. Prints
 * `{"port":N}` once listening and, after SIGTERM, one JSON line with its counters, then exits.
 *
 * The sink decides how much work the run does:
 * - `csv:FILE` writes every decoded record to FILE in tsunagi's flow CSV (`tsunagi flows decode`)
 *   through FlowCsvFile (the bytes of formatCsv, made without a string per row): the same kind
 *   of work as nfcapd writing its flow files or nfacctd its CSV: decode, format, write to disk.
 * - `formatcsv:FILE` writes the same bytes through formatCsv, one string per batch (the writer
 *   this bench used before FlowCsvFile; kept to show what the writer costs).
 * - `count` only counts rows (decode only; not comparable with a collector that stores flows).
 *
 * Usage: node --import tsx bench/flow/receiver.ts [RECEIVE_BUFFER_BYTES] [count|csv:FILE|formatcsv:FILE]
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { createFlowCollector, FlowConfig, FLOW_CSV_HEADER, formatCsv } from '../../src/flow/index.ts';
import { FlowCsvFile } from './csv-writer.ts';

const receiveBufferBytes = Number(process.argv[2] ?? 4 * 1024 * 1024);
const sinkMode = process.argv[3] ?? 'count';
const [writer, csvFile] = /^(csv|formatcsv):(.+)$/.exec(sinkMode)?.slice(1) ?? [];
if (!csvFile && sinkMode !== 'count') {
  process.stderr.write(`receiver: sink must be count, csv:FILE or formatcsv:FILE, not ${sinkMode}\n`);
  process.exit(2);
}
const fd = csvFile ? openSync(csvFile, 'w') : -1;
const csv = fd >= 0 && writer === 'csv' ? new FlowCsvFile(fd) : undefined;
if (fd >= 0 && !csv) writeSync(fd, `${FLOW_CSV_HEADER}\n`);
let rows = 0;
const collector = createFlowCollector(FlowConfig.parse({ listen: ['127.0.0.1:0'], receiveBufferBytes }), {
  sink: (batch) => {
    rows += batch.length;
    if (csv) csv.write(batch);
    else if (fd >= 0) writeSync(fd, formatCsv(batch));
  },
  // The sink is done with a batch on return, as a streaming detector or a publisher is.
  recycleBatches: true,
});
await collector.start();
const listener = collector.listeners[0]!;
process.stdout.write(
  JSON.stringify({ port: listener.boundPort, receiveBufferBytes: listener.receiveBufferBytes }) + '\n',
);

process.once('SIGTERM', () => {
  // Drops must be read while the socket is still open: /proc/net/udp forgets it on close.
  const { kernelDrops } = collector.counters();
  collector
    .stop()
    .then(() => {
      csv?.flush();
      if (fd >= 0) closeSync(fd);
      const counters = collector.counters();
      process.stdout.write(
        JSON.stringify({ ...counters, kernelDrops, rows, receivePath: collector.receivePath }) + '\n',
      );
      process.exit(0);
    })
    .catch((error: unknown) => {
      process.stderr.write(`receiver: ${String(error)}\n`);
      process.exit(1);
    });
});
