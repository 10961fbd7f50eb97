/**
 * Benchmark sender (a child process): replays a datagram pool to host:port at a fixed rate,
 * cycling through the pool with fresh sequence numbers, then prints one JSON line of totals.
 *
 * Usage: node --import tsx bench/flow/sender.ts POOL HOST:PORT DATAGRAMS_PER_SECOND DATAGRAMS
 */
import { createSocket } from 'node:dgram';
import { readPool, setSequence } from './payloads.ts';

const [poolPath, target, rateText, countText] = process.argv.slice(2);
if (!poolPath || !target || !rateText || !countText) {
  process.stderr.write('usage: sender.ts POOL HOST:PORT DATAGRAMS_PER_SECOND DATAGRAMS\n');
  process.exit(2);
}
const separator = target.lastIndexOf(':');
const host = target.slice(0, separator);
const port = Number(target.slice(separator + 1));
const rate = Number(rateText);
const total = Number(countText);
if (!(rate > 0) || !(total > 0) || !(port > 0)) {
  process.stderr.write('sender: rate, count and port must be positive numbers\n');
  process.exit(2);
}

const pool = readPool(poolPath);
const socket = createSocket('udp4');
socket.on('error', (error) => {
  process.stderr.write(`sender: ${error.message}\n`);
  process.exit(1);
});
socket.connect(port, host, () => {
  let sent = 0;
  let records = 0;
  const started = performance.now();
  // Sends in small bursts every millisecond or so: node has no sendmmsg, and a timer per
  // datagram would cap the rate far below what the receivers can take.
  const tick = () => {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    while (sent < due) {
      const index = sent % pool.datagrams.length;
      // A copy: the kernel may still hold the previous send of this pool entry.
      const datagram = Buffer.from(pool.datagrams[index]!);
      setSequence(pool.version, datagram, sent, records);
      socket.send(datagram);
      records += pool.records[index]!;
      sent++;
    }
    if (sent < total) {
      setTimeout(tick, 1);
      return;
    }
    const seconds = (performance.now() - started) / 1000;
    // Let queued sends leave before closing the socket.
    setTimeout(() => {
      socket.close();
      process.stdout.write(JSON.stringify({ datagrams: sent, records, seconds }) + '\n');
    }, 50);
  };
  tick();
});
