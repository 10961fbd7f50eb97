/**
 * The scenario as packets: read back with tsunagi's capture reader, and through a real exporter
 * (softflowd -r) into tsunagi's collector, the flow records come back with their packets and bytes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../flow/testing.ts';
import { ipv4ToString, ipv6ToString } from '../core/index.ts';
import { batchOf, MINUTE, SESSION, T0, TCP, UDP, type Row } from '../core/testing.ts';
import { createFlowCollector, FlowConfig } from '../flow/index.ts';
import { PacketInfo, parseFrame, readCapture, TcpFlag } from '../packet/index.ts';
import { PACKET_SNAPLEN, packetFlags, writePacketPcap } from './packets.ts';

const ROWS: Row[] = [
  {
    t: T0,
    src: '198.18.0.10',
    dst: '203.0.113.5',
    sport: 40001,
    dport: 443,
    packets: 5,
    bytes: 1003,
    durationMs: 4000,
  },
  {
    t: T0 + 10,
    src: '203.0.113.5',
    dst: '198.18.0.10',
    sport: 443,
    dport: 40001,
    packets: 4,
    bytes: 4800,
    durationMs: 3990,
  },
  {
    t: T0 + 1000,
    src: '198.18.0.11',
    dst: '192.0.2.53',
    sport: 5353,
    dport: 53,
    proto: UDP,
    packets: 3,
    bytes: 300,
    durationMs: 20,
  },
  {
    t: T0 + 2000,
    src: '2001:db8::1',
    dst: '2001:db8:1::2',
    sport: 40002,
    dport: 8080,
    packets: 2,
    bytes: 200,
    durationMs: 1,
  },
  {
    t: T0 + MINUTE,
    src: '198.18.0.12',
    dst: '198.51.100.7',
    sport: 40003,
    dport: 23,
    flags: TcpFlag.SYN,
    packets: 1,
    bytes: 60,
    durationMs: 0,
  },
];

const key = (proto: number, src: string, dst: string, sport: number, dport: number) =>
  `${proto} ${src}:${sport} ${dst}:${dport}`;
const rowKey = (r: Row) => key(r.proto ?? TCP, r.src, r.dst, r.sport, r.dport);

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-packets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('scenario as packets', () => {
  const pcap = join(dir, 'traffic.pcap');

  test('every flow comes back as its packets: counts, IP bytes, flags, times, header-only frames', async () => {
    const written = await writePacketPcap([batchOf(ROWS)], pcap);
    assert.deepEqual(written, { flows: 5, packets: 15, bytes: 1003 + 4800 + 300 + 200 + 60 });
    const seen = new Map<
      string,
      { packets: number; bytes: number; flags: number; first: number; last: number }
    >();
    const info = new PacketInfo();
    let previous = -Infinity;
    for (const packet of readCapture(readFileSync(pcap))) {
      assert.ok(packet.capturedLength <= PACKET_SNAPLEN);
      assert.ok(packet.timestampMs >= previous, 'packets in time order');
      previous = packet.timestampMs;
      parseFrame(packet.linkType, packet.data, info);
      assert.equal(packet.originalLength, 14 + info.ipLength, 'the frame says how long it was on the wire');
      const src = info.ipVersion === 6 ? ipv6ToString(info.src6, 0) : ipv4ToString(info.src4);
      const dst = info.ipVersion === 6 ? ipv6ToString(info.dst6, 0) : ipv4ToString(info.dst4);
      const k = key(info.proto, src, dst, info.srcPort, info.dstPort);
      const s = seen.get(k) ?? { packets: 0, bytes: 0, flags: 0, first: packet.timestampMs, last: 0 };
      if (s.packets > 0) assert.equal(info.tcpFlags & TcpFlag.SYN, 0, `${k}: SYN only on the first packet`);
      s.packets++;
      s.bytes += info.ipLength;
      s.flags |= info.tcpFlags;
      s.last = packet.timestampMs;
      seen.set(k, s);
    }
    for (const r of ROWS) {
      const s = seen.get(rowKey(r));
      assert.ok(s, rowKey(r));
      assert.equal(s.packets, r.packets, `${rowKey(r)} packets`);
      assert.equal(s.bytes, r.bytes, `${rowKey(r)} bytes`);
      assert.equal(s.flags, (r.proto ?? TCP) === TCP ? (r.flags ?? SESSION) : 0, `${rowKey(r)} flags`);
      assert.equal(s.first, r.t);
      assert.equal(s.last, r.t + r.durationMs!);
    }
    assert.equal(seen.size, ROWS.length);
  });

  test('TCP flags: SYN first, FIN and RST last, the rest throughout', () => {
    const all = TcpFlag.SYN | TcpFlag.ACK | TcpFlag.PSH | TcpFlag.FIN;
    assert.deepEqual(
      [0, 1, 2].map((k) => packetFlags(all, k, 3)),
      [
        TcpFlag.SYN | TcpFlag.ACK | TcpFlag.PSH,
        TcpFlag.ACK | TcpFlag.PSH,
        TcpFlag.ACK | TcpFlag.PSH | TcpFlag.FIN,
      ],
    );
    assert.equal(packetFlags(all, 0, 1), all);
  });

  const softflowd = spawnSync('sh', ['-c', 'command -v softflowd'], { stdio: 'ignore' }).status === 0;
  test(
    'softflowd -r exports the same flows to the collector',
    { skip: !softflowd && 'softflowd not on PATH (Debian package softflowd)' },
    async () => {
      await writePacketPcap([batchOf(ROWS)], pcap);
      const got = new Map<string, { packets: number; bytes: number }>();
      const collector = createFlowCollector(FlowConfig.parse({ listen: ['127.0.0.1:0'] }), {
        sink: (batch) => {
          for (let i = 0; i < batch.length; i++) {
            const v6 = batch.ipVersion[i] === 6;
            const k = key(
              batch.proto[i]!,
              v6 ? ipv6ToString(batch.src6, i * 16) : ipv4ToString(batch.src4[i]!),
              v6 ? ipv6ToString(batch.dst6, i * 16) : ipv4ToString(batch.dst4[i]!),
              batch.srcPort[i]!,
              batch.dstPort[i]!,
            );
            got.set(k, { packets: batch.packets[i]!, bytes: batch.bytes[i]! });
          }
        },
      });
      await collector.start();
      try {
        const port = collector.listeners[0]!.boundPort;
        const run = spawnSync(
          'softflowd',
          ['-r', pcap, '-n', `127.0.0.1:${port}`, '-v', '10', '-c', 'none', '-d', '-p', join(dir, 'sf.pid')],
          { encoding: 'utf8', timeout: 20_000 },
        );
        assert.equal(run.status, 0, run.stderr);
        await waitFor(() => got.size >= ROWS.length, 5_000, 'the collector to decode every record');
      } finally {
        await collector.stop();
      }
      for (const r of ROWS)
        assert.deepEqual(got.get(rowKey(r)), { packets: r.packets, bytes: r.bytes }, rowKey(r));
    },
  );
});
