/**
 * Benchmark receiver (a child process): tsunagi's flow collector on 127.0.0.1 with a sink that
 * only counts rows. Prints `{"port":N}` once listening and, after SIGTERM, one JSON line with
 * its counters, then exits.
 *
 * Usage: node --import tsx bench/flow/receiver.ts [RECEIVE_BUFFER_BYTES]
 */
import { createFlowCollector, FlowConfig } from '../../src/flow/index.ts';

const receiveBufferBytes = Number(process.argv[2] ?? 4 * 1024 * 1024);
let rows = 0;
const collector = createFlowCollector(FlowConfig.parse({ listen: ['127.0.0.1:0'], receiveBufferBytes }), {
  sink: (batch) => {
    rows += batch.length;
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
