/**
 * Round trip with a real exporter: softflowd turns a generated pcap into NetFlow v5, v9 and
 * IPFIX, sent once to tsunagi's collector and once to nfdump's nfcapd; both must see the same
 * flows, packets and bytes, and both must match the traffic the pcap was built from.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freeUdpPort, readUdpSocket, startChild, waitExit, waitFor, type Child } from '../testdata/proc.ts';
import { ipv4ToString } from '../../core/index.ts';
import { buildTcpFrame, buildUdpFrame, PcapWriter, TcpFlag } from '../../packet/index.ts';
import { errorTotal } from './decoder.ts';
import { createFlowCollector, FlowConfig } from '../index.ts';
import { RECEIVE_PATHS } from '../testdata/receivers.ts';

const missing = ['softflowd', 'nfcapd', 'nfdump'].filter(
  (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
);
const skip = missing.length > 0 && `${missing.join(', ')} not on PATH (Debian packages softflowd, nfdump)`;

/** One direction of a connection: what an exporter should report as one flow record. */
interface ExpectedFlow {
  key: string;
  packets: number;
  bytes: number;
}

/**
 * Truth for timing (per connection: softflowd tracks both directions as one flow and gives
 * both records its first and last packet times) and TCP flags (per direction).
 */
interface ExpectedTiming {
  firstMs: number;
  lastMs: number;
  tcpFlags: number;
}

/** The same string for both directions of a 5-tuple. */
function connectionKey(key: string): string {
  const [proto, src, dst, srcPort, dstPort] = key.split(' ');
  const a = `${src}:${srcPort}`;
  const b = `${dst}:${dstPort}`;
  return a < b ? `${proto} ${a} ${b}` : `${proto} ${b} ${a}`;
}

/** "proto src dst sport dport" then packets and bytes: the unit both collectors are compared on. */
const flowKey = (proto: number, src: string, dst: string, srcPort: number, dstPort: number) =>
  `${proto} ${src} ${dst} ${srcPort} ${dstPort}`;

/**
 * Ordinary traffic over many 5-tuples, interleaved in time: TCP connections with a handshake,
 * data both ways and FIN; DNS-like UDP request/response; one-way UDP. Returns the pcap and the
 * per-direction truth (IP bytes, as exporters count them).
 */
function generateTraffic(): {
  pcap: Buffer;
  expected: Map<string, ExpectedFlow>;
  timing: Map<string, ExpectedTiming>;
  packets: number;
} {
  const expected = new Map<string, ExpectedFlow>();
  const timing = new Map<string, ExpectedTiming>();
  const connectionTimes = new Map<string, { firstMs: number; lastMs: number }>();
  type Pending = { frames: { frame: Buffer; key: string; ipBytes: number; tcpFlags?: number }[] };
  const connections: Pending[] = [];
  const note = (key: string, ipBytes: number, timestampMs: number, tcpFlags: number) => {
    const flow = expected.get(key) ?? { key, packets: 0, bytes: 0 };
    flow.packets++;
    flow.bytes += ipBytes;
    expected.set(key, flow);
    const connection = connectionKey(key);
    const times = connectionTimes.get(connection) ?? { firstMs: timestampMs, lastMs: timestampMs };
    times.lastMs = timestampMs;
    connectionTimes.set(connection, times);
    const time = timing.get(key) ?? { firstMs: 0, lastMs: 0, tcpFlags: 0 };
    time.tcpFlags |= tcpFlags;
    timing.set(key, time);
  };
  for (let i = 0; i < 420; i++) {
    const client = ipv4ToString((0x0a000000 + 1 + i * 7) >>> 0);
    const server = ipv4ToString((0xc6336400 + (i % 40)) >>> 0); // 198.51.100.0/24
    const clientPort = 20000 + i;
    const frames: Pending['frames'] = [];
    const kind = i % 6;
    if (kind < 4) {
      const serverPort = [443, 80, 22, 8443][kind]!;
      const up = flowKey(6, client, server, clientPort, serverPort);
      const down = flowKey(6, server, client, serverPort, clientPort);
      const push = (fromClient: boolean, flags: number, payloadLength: number) => {
        const frame = buildTcpFrame({
          srcIp: fromClient ? client : server,
          dstIp: fromClient ? server : client,
          srcPort: fromClient ? clientPort : serverPort,
          dstPort: fromClient ? serverPort : clientPort,
          flags,
          payload: Buffer.alloc(payloadLength, 0x61),
        });
        frames.push({ frame, key: fromClient ? up : down, ipBytes: 40 + payloadLength, tcpFlags: flags });
      };
      push(true, TcpFlag.SYN, 0);
      push(false, TcpFlag.SYN | TcpFlag.ACK, 0);
      push(true, TcpFlag.ACK, 0);
      const exchanges = 1 + (i % 5);
      for (let k = 0; k < exchanges; k++) {
        push(true, TcpFlag.ACK | TcpFlag.PSH, 60 + ((i * 13 + k * 7) % 400));
        push(false, TcpFlag.ACK | TcpFlag.PSH, 200 + ((i * 31 + k * 11) % 1200));
      }
      push(true, TcpFlag.FIN | TcpFlag.ACK, 0);
      push(false, TcpFlag.FIN | TcpFlag.ACK, 0);
      push(true, TcpFlag.ACK, 0);
    } else if (kind === 4) {
      const up = flowKey(17, client, server, clientPort, 53);
      const down = flowKey(17, server, client, 53, clientPort);
      for (let k = 0; k < 1 + (i % 3); k++) {
        const query = 30 + ((i + k) % 40);
        const answer = 60 + ((i * 3 + k) % 300);
        frames.push({
          frame: buildUdpFrame({
            srcIp: client,
            dstIp: server,
            srcPort: clientPort,
            dstPort: 53,
            payload: Buffer.alloc(query),
          }),
          key: up,
          ipBytes: 28 + query,
        });
        frames.push({
          frame: buildUdpFrame({
            srcIp: server,
            dstIp: client,
            srcPort: 53,
            dstPort: clientPort,
            payload: Buffer.alloc(answer),
          }),
          key: down,
          ipBytes: 28 + answer,
        });
      }
    } else {
      const key = flowKey(17, client, server, clientPort, 5004);
      for (let k = 0; k < 2 + (i % 9); k++) {
        const size = 100 + ((i + k * 17) % 900);
        frames.push({
          frame: buildUdpFrame({
            srcIp: client,
            dstIp: server,
            srcPort: clientPort,
            dstPort: 5004,
            payload: Buffer.alloc(size),
          }),
          key,
          ipBytes: 28 + size,
        });
      }
    }
    connections.push({ frames });
  }
  // Interleave: each round takes the next packet of every connection still open.
  const writer = new PcapWriter();
  let timestampMs = Date.UTC(2025, 0, 15, 9, 0, 0);
  for (let round = 0; ; round++) {
    let any = false;
    for (const connection of connections) {
      const next = connection.frames[round];
      if (!next) continue;
      any = true;
      writer.add(next.frame, timestampMs);
      note(next.key, next.ipBytes, timestampMs, next.tcpFlags ?? 0);
      timestampMs += 0.25;
    }
    if (!any) break;
  }
  for (const [key, time] of timing) Object.assign(time, connectionTimes.get(connectionKey(key)));
  return { pcap: writer.toBuffer(), expected, timing, packets: writer.packetCount };
}

/** Multiset of "key packets bytes" lines, sorted, for assert.deepEqual with a readable diff. */
const multiset = (flows: Iterable<ExpectedFlow>) =>
  [...flows].map((f) => `${f.key} ${f.packets} ${f.bytes}`).sort();

const PROTOCOLS: Record<string, number> = { TCP: 6, UDP: 17, ICMP: 1 };

/** nfdump prints TCP flags as 8 characters CWR ECE URG ACK PSH RST SYN FIN, '.' when unset. */
function tcpFlagBits(text: string): number {
  let bits = 0;
  for (let i = 0; i < text.length && i < 8; i++) if (text[i] !== '.') bits |= 1 << (7 - i);
  return bits;
}

/** Runs softflowd over `pcapPath` towards 127.0.0.1:port and waits for it to finish (bounded). */
async function exportWithSoftflowd(
  pcapPath: string,
  port: number,
  version: number,
  workDir: string,
  children: Child[],
) {
  const softflowd = startChild('softflowd', [
    '-r',
    pcapPath,
    '-n',
    `127.0.0.1:${port}`,
    '-v',
    String(version),
    '-c',
    'none',
    '-a',
    '-d',
    '-p',
    join(workDir, `softflowd-${port}.pid`),
  ]);
  children.push(softflowd);
  const code = await waitExit(softflowd, 20_000);
  const output = softflowd.lines.join('\n');
  assert.equal(code, 0, `softflowd failed: ${softflowd.stderr()}`);
  const exported = /Flows exported: (\d+) \((\d+) records\) in (\d+) packets \((\d+) failures\)/.exec(output);
  assert.ok(exported, `softflowd printed no export summary:\n${output}`);
  assert.equal(exported[4], '0', 'softflowd reported send failures');
  return { records: Number(exported[2]), packets: Number(exported[3]) };
}

/** Waits until the socket on `port` has no datagram queued (everything sent was read). */
async function drained(port: number): Promise<void> {
  await waitFor(() => (readUdpSocket(port)?.rxQueue ?? 0) === 0, 10_000, `socket ${port} to drain`);
}

/** Sends softflowd's export of the pcap to an nfcapd child and reads its flow file back with nfdump. */
async function collectWithNfcapd(pcapPath: string, version: number, workDir: string, children: Child[]) {
  const nfPort = await freeUdpPort();
  const flowDir = mkdtempSync(join(workDir, `nfcapd-v${version}-`));
  const nfcapd = startChild('nfcapd', ['-b', '127.0.0.1', '-p', String(nfPort), '-w', flowDir, '-t', '3600']);
  children.push(nfcapd);
  await waitFor(() => readUdpSocket(nfPort) !== undefined, 10_000, 'nfcapd to bind');
  const nfExport = await exportWithSoftflowd(pcapPath, nfPort, version, workDir, children);
  await drained(nfPort);
  nfcapd.kill('SIGTERM');
  assert.equal(await waitExit(nfcapd, 10_000), 0, `nfcapd exit: ${nfcapd.stderr()}`);
  const csv = execFileSync(
    'nfdump',
    ['-R', flowDir, '-q', '-N', '-o', 'fmt:%pr,%sa,%da,%sp,%dp,%pkt,%byt,%tsr,%td,%flg'],
    {
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  const nfTiming: string[] = [];
  const nfRows = csv
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [proto, src, dst, sport, dport, packets, bytes, start, duration, flags] = line
        .split(',')
        .map((c) => c.trim());
      const protoNumber = PROTOCOLS[proto!] ?? Number(proto);
      assert.ok(Number.isInteger(protoNumber), `nfdump line: ${line}`);
      const key = flowKey(protoNumber, src!, dst!, Number(sport), Number(dport));
      nfTiming.push(
        `${key} start ${Math.round(Number(start) * 1000)} duration ${Math.round(Number(duration) * 1000)} flags ${tcpFlagBits(flags!)}`,
      );
      return { key, packets: Number(packets), bytes: Number(bytes) };
    });
  return { nfRows, nfTiming, nfExport };
}

describe('softflowd round trip: tsunagi and nfcapd agree', { skip }, () => {
  const workDir = mkdtempSync(join(tmpdir(), 'tsunagi-roundtrip-'));
  const children: Child[] = [];
  const pcapPath = join(workDir, 'traffic.pcap');
  let traffic: ReturnType<typeof generateTraffic>;

  before(() => {
    traffic = generateTraffic();
    writeFileSync(pcapPath, traffic.pcap);
  });

  after(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  });

  test('the generated traffic has thousands of packets over many 5-tuples', () => {
    assert.ok(traffic.packets >= 3000, `only ${traffic.packets} packets`);
    assert.ok(traffic.expected.size >= 700, `only ${traffic.expected.size} flows`);
  });

  for (const version of [5, 9, 10])
    for (const { receiver, skip: skipPath } of RECEIVE_PATHS) {
      test(
        `NetFlow ${version === 10 ? 'IPFIX' : `v${version}`} (${receiver} receiver): same flows, packets and bytes`,
        { skip: skipPath },
        async () => {
          // tsunagi, in this process.
          const rows: ExpectedFlow[] = [];
          const timing: string[] = [];
          const timingMismatches: string[] = [];
          const collector = createFlowCollector(
            FlowConfig.parse({ receiver, listen: ['127.0.0.1:0'], receiveBufferBytes: 1 << 20 }),
            {
              sink: (batch) => {
                for (let i = 0; i < batch.length; i++) {
                  assert.equal(batch.ipVersion[i], 4);
                  assert.equal(batch.version[i], version);
                  assert.equal(batch.exporters[batch.exporter[i]!], '127.0.0.1');
                  const key = flowKey(
                    batch.proto[i]!,
                    ipv4ToString(batch.src4[i]!),
                    ipv4ToString(batch.dst4[i]!),
                    batch.srcPort[i]!,
                    batch.dstPort[i]!,
                  );
                  rows.push({ key, packets: batch.packets[i]!, bytes: batch.bytes[i]! });
                  timing.push(
                    `${key} start ${batch.startMs[i]} duration ${batch.endMs[i]! - batch.startMs[i]!} flags ${batch.tcpFlags[i]}`,
                  );
                  const truth = traffic.timing.get(key);
                  // softflowd keeps milliseconds, so the pcap's quarter-millisecond steps round either
                  // way; v9's header clock has whole seconds only, so its absolute times may be up to
                  // a second off while durations stay exact.
                  const clockSlack = version === 9 ? 1000 : 1;
                  const duration = batch.endMs[i]! - batch.startMs[i]!;
                  if (
                    !truth ||
                    Math.abs(batch.startMs[i]! - truth.firstMs) > clockSlack ||
                    Math.abs(duration - (truth.lastMs - truth.firstMs)) > 1 ||
                    batch.tcpFlags[i] !== truth.tcpFlags
                  ) {
                    timingMismatches.push(
                      `${key}: start ${batch.startMs[i]} end ${batch.endMs[i]} flags ${batch.tcpFlags[i]}; pcap ${JSON.stringify(truth)}`,
                    );
                  }
                }
              },
            },
          );
          await collector.start();
          let tsunagiExport: { records: number; packets: number };
          try {
            const port = collector.listeners[0]!.boundPort;
            tsunagiExport = await exportWithSoftflowd(pcapPath, port, version, workDir, children);
            await drained(port);
            await waitFor(
              () => collector.counters().payloads >= tsunagiExport.packets,
              5_000,
              'tsunagi to read every datagram',
            );
          } finally {
            await collector.stop();
          }
          const counters = collector.counters();
          assert.equal(counters.payloads, tsunagiExport.packets, 'tsunagi read every export packet');
          // errorTotal rather than counters().decodeErrors, which index.ts still sums as a flat record.
          assert.equal(errorTotal(collector.decoder.stats), 0, 'no decode errors');
          assert.equal(
            rows.length,
            tsunagiExport.records,
            'tsunagi decoded as many records as softflowd exported',
          );

          // nfcapd, a child process writing its flow file.
          const { nfRows, nfTiming, nfExport } = await collectWithNfcapd(
            pcapPath,
            version,
            workDir,
            children,
          );
          assert.equal(
            nfRows.length,
            nfExport.records,
            'nfcapd stored as many records as softflowd exported',
          );

          // Both collectors agree with each other and with the traffic the pcap was built from.
          assert.equal(rows.length, nfRows.length, 'flow count');
          const sum = (list: ExpectedFlow[], field: 'packets' | 'bytes') =>
            list.reduce((s, f) => s + f[field], 0);
          assert.equal(sum(rows, 'packets'), sum(nfRows, 'packets'), 'total packets');
          assert.equal(sum(rows, 'bytes'), sum(nfRows, 'bytes'), 'total bytes');
          assert.deepEqual(multiset(rows), multiset(nfRows), 'multiset of 5-tuple, packets, bytes');
          assert.deepEqual(
            multiset(rows),
            multiset(traffic.expected.values()),
            'tsunagi rows match the generated traffic',
          );
          assert.deepEqual(
            timingMismatches.slice(0, 5),
            [],
            'tsunagi start/end within 1 ms of the pcap, TCP flags equal',
          );
          // nfcapd 1.7.1 decodes softflowd's IPFIX times as start = end and a negative duration, so
          // its timing is compared for v5 and v9 only (tsunagi's IPFIX timing is checked above).
          if (version !== 10)
            assert.deepEqual(
              timing.sort(),
              nfTiming.sort(),
              'start, duration (ms) and TCP flags agree with nfcapd',
            );
        },
      );
    }
});
