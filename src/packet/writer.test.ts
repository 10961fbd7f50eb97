/** Tests for the pcap writer and frame builders, cross-checked with tshark when installed. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildTcpFrame,
  buildUdpFrame,
  internetChecksum,
  LinkType,
  PcapWriter,
  splitTimestamp,
  TcpFlag,
} from './writer.ts';

const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;

describe('frame builders', () => {
  test('IPv4 UDP frame has correct lengths and a valid header checksum', () => {
    const frame = buildUdpFrame({
      srcIp: '10.0.0.1',
      dstIp: '192.0.2.9',
      srcPort: 1234,
      dstPort: 6343,
      payload: Buffer.from('hello'),
    });
    assert.equal(frame.length, 14 + 20 + 8 + 5);
    assert.equal(frame.readUInt16BE(12), 0x0800);
    assert.equal(frame.readUInt16BE(14 + 2), 20 + 8 + 5);
    assert.equal(internetChecksum(frame.subarray(14, 34)), 0, 'checksum over a valid header is 0');
    assert.equal(frame.readUInt32BE(14 + 12), 0x0a000001);
    assert.equal(frame.readUInt16BE(34 + 4), 13);
    assert.equal(frame.subarray(42).toString(), 'hello');
  });

  test('IPv6 TCP frame without ethernet, with flags and sequence numbers', () => {
    const frame = buildTcpFrame({
      srcIp: '2001:db8::1',
      dstIp: '2001:db8::2',
      srcPort: 40000,
      dstPort: 23,
      flags: TcpFlag.SYN | TcpFlag.ACK,
      seq: 0xdeadbeef,
      ack: 7,
      ethernet: false,
    });
    assert.equal(frame.length, 40 + 20);
    assert.equal(frame[0]! >> 4, 6);
    assert.equal(frame.readUInt16BE(4), 20);
    assert.equal(frame[6], 6);
    assert.equal(frame.readUInt32BE(44), 0xdeadbeef);
    assert.equal(frame[53], 0x12);
  });

  test('VLAN tags are inserted before the ethertype', () => {
    const frame = buildUdpFrame({
      srcIp: '1.2.3.4',
      dstIp: '5.6.7.8',
      srcPort: 1,
      dstPort: 2,
      vlans: [100, 200],
    });
    assert.equal(frame.readUInt16BE(12), 0x8100);
    assert.equal(frame.readUInt16BE(14), 100);
    assert.equal(frame.readUInt16BE(16), 0x8100);
    assert.equal(frame.readUInt16BE(18), 200);
    assert.equal(frame.readUInt16BE(20), 0x0800);
  });

  test('mixed address families are refused', () => {
    assert.throws(
      () => buildUdpFrame({ srcIp: '1.2.3.4', dstIp: '::1', srcPort: 1, dstPort: 2 }),
      /families differ/,
    );
  });
});

describe('PcapWriter', () => {
  test('writes the global header and records with split timestamps', () => {
    const w = new PcapWriter(LinkType.RAW, 100);
    w.add(new Uint8Array(150).fill(7), 1700000000123.456);
    const buf = w.toBuffer();
    assert.equal(buf.readUInt32LE(0), 0xa1b2c3d4);
    assert.equal(buf.readUInt16LE(4), 2);
    assert.equal(buf.readUInt32LE(16), 100);
    assert.equal(buf.readUInt32LE(20), 101);
    assert.equal(buf.readUInt32LE(24), 1700000000);
    assert.equal(buf.readUInt32LE(28), 123456);
    assert.equal(buf.readUInt32LE(32), 100, 'captured length cut at snaplen');
    assert.equal(buf.readUInt32LE(36), 150);
    assert.equal(buf.length, 24 + 16 + 100);
  });

  test('splitTimestamp carries a rounded-up fraction into the seconds', () => {
    assert.deepEqual(splitTimestamp(1999.9999999, 1e6), [2, 0]);
    assert.deepEqual(splitTimestamp(1500, 1e9), [1, 500000000]);
  });

  test(
    'tshark reads the written file with the same addresses, ports and times',
    { skip: !hasTshark && 'tshark not on PATH' },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'tsunagi-writer-'));
      try {
        const w = new PcapWriter();
        w.add(
          buildUdpFrame({
            srcIp: '10.1.2.3',
            dstIp: '10.9.8.7',
            srcPort: 5555,
            dstPort: 53,
            payload: Buffer.alloc(10),
          }),
          1700000000250,
        );
        w.add(
          buildTcpFrame({
            srcIp: 'fe80::1',
            dstIp: 'fe80::2',
            srcPort: 1000,
            dstPort: 80,
            flags: TcpFlag.SYN,
          }),
          1700000001500.5,
        );
        const path = join(dir, 'w.pcap');
        writeFileSync(path, w.toBuffer());
        const out = execFileSync(
          'tshark',
          [
            '-r',
            path,
            '-o',
            'tcp.check_checksum:TRUE',
            '-T',
            'fields',
            '-e',
            'frame.time_epoch',
            '-e',
            'ip.src',
            '-e',
            'ipv6.src',
            '-e',
            'udp.srcport',
            '-e',
            'tcp.srcport',
            '-e',
            'tcp.checksum.status',
            '-e',
            'ip.checksum.status' /* 1 = good, 0 = bad, 2 = unverified */,
            '-o',
            'ip.check_checksum:TRUE',
          ],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
        );
        const lines = out
          .trim()
          .split('\n')
          .map((l) => l.split('\t'));
        assert.equal(lines.length, 2);
        assert.equal(Number(lines[0]![0]), 1700000000.25);
        assert.equal(lines[0]![1], '10.1.2.3');
        assert.equal(lines[0]![3], '5555');
        assert.equal(lines[0]![6], '1', 'IPv4 header checksum good');
        assert.ok(Math.abs(Number(lines[1]![0]) - 1700000001.5005) < 1e-6);
        assert.equal(lines[1]![2], 'fe80::1');
        assert.equal(lines[1]![4], '1000');
        assert.equal(lines[1]![5], '1', 'TCP checksum good');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
