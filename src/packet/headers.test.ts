/** Tests for header parsing over every link type, IPv4 options/fragments, IPv6 extension chains, and against tshark. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ipv4ToString, ipv6ToString } from '../core/index.ts';
import { readCapture } from './capture.ts';
import { PacketInfo, parseFrame, parseIpPacket, ParseResult, ParseResultLabel } from './headers.ts';
import { buildTcpFrame, buildUdpFrame, internetChecksum, LinkType, PcapWriter, TcpFlag } from './writer.ts';

const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'tsunagi-headers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const info = new PacketInfo();

function parse(linkType: number, frame: Uint8Array): ParseResult {
  return parseFrame(linkType, frame, info);
}

const tcp4 = buildTcpFrame({
  srcIp: '10.1.2.3',
  dstIp: '203.0.113.9',
  srcPort: 51000,
  dstPort: 23,
  flags: TcpFlag.SYN | TcpFlag.ECE,
  seq: 0x01020304,
  ack: 0xa0b0c0d0,
  window: 1024,
  payload: Buffer.from('xyz'),
  ttl: 51,
  ipId: 0x4242,
});
const rawTcp4 = tcp4.subarray(14);

/** Prefixes a raw IP packet with a link header. */
function withLink(linkType: number, ip: Uint8Array, v6 = false): Buffer {
  switch (linkType) {
    case LinkType.NULL: {
      const h = Buffer.alloc(4);
      h.writeUInt32LE(v6 ? 30 : 2);
      return Buffer.concat([h, ip]);
    }
    case LinkType.LOOP: {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(v6 ? 24 : 2);
      return Buffer.concat([h, ip]);
    }
    case LinkType.LINUX_SLL: {
      const h = Buffer.alloc(16);
      h.writeUInt16BE(0, 0); // to us
      h.writeUInt16BE(1, 2); // ARPHRD_ETHER
      h.writeUInt16BE(6, 4);
      h.writeUInt16BE(v6 ? 0x86dd : 0x0800, 14);
      return Buffer.concat([h, ip]);
    }
    case LinkType.LINUX_SLL2: {
      const h = Buffer.alloc(20);
      h.writeUInt16BE(v6 ? 0x86dd : 0x0800, 0);
      h.writeUInt32BE(2, 4); // ifindex
      h.writeUInt16BE(1, 8);
      h[11] = 6;
      return Buffer.concat([h, ip]);
    }
    default:
      return Buffer.from(ip);
  }
}

/** An IPv6 TCP packet with hop-by-hop, routing, fragment (first), destination options and AH in front of TCP. */
function ipv6WithExtensions(fragmentOffset = 0): Buffer {
  const base = buildTcpFrame({
    srcIp: '2001:db8::a',
    dstIp: '2001:db8:1::b',
    srcPort: 443,
    dstPort: 50000,
    flags: TcpFlag.ACK,
    ethernet: false,
    payload: Buffer.from('hi'),
  });
  const tcp = base.subarray(40);
  const hopByHop = Buffer.from([43, 0, 1, 4, 0, 0, 0, 0]); // next: routing; PadN
  const routing = Buffer.from([44, 0, 0, 0, 0, 0, 0, 0]); // next: fragment; type 0, segments left 0
  const fragment = Buffer.alloc(8);
  fragment[0] = 60; // next: destination options
  fragment.writeUInt16BE((fragmentOffset & 0xfff8) | 1, 2); // M flag set
  fragment.writeUInt32BE(0xcafe, 4);
  const destination = Buffer.from([51, 0, 1, 4, 0, 0, 0, 0]); // next: AH
  const ah = Buffer.alloc(12);
  ah[0] = 6; // next: TCP
  ah[1] = 1; // (1 + 2) * 4 = 12 bytes
  const payload = Buffer.concat([hopByHop, routing, fragment, destination, ah, tcp]);
  const header = Buffer.from(base.subarray(0, 40));
  header[6] = 0;
  header.writeUInt16BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('link layers', () => {
  for (const [name, linkType] of Object.entries(LinkType)) {
    if (name === 'ETHERNET') continue;
    if (name === 'IPV6') continue;
    test(`${name} carrying IPv4 TCP`, () => {
      assert.equal(parse(linkType, withLink(linkType, rawTcp4)), ParseResult.OK);
      assert.equal(ipv4ToString(info.src4), '10.1.2.3');
      assert.equal(info.dstPort, 23);
    });
  }

  test('Ethernet IPv4 TCP: every field', () => {
    assert.equal(parse(LinkType.ETHERNET, tcp4), ParseResult.OK);
    assert.equal(info.etherType, 0x0800);
    assert.equal(info.ipVersion, 4);
    assert.equal(info.ipOffset, 14);
    assert.equal(ipv4ToString(info.src4), '10.1.2.3');
    assert.equal(ipv4ToString(info.dst4), '203.0.113.9');
    assert.equal(info.ttl, 51);
    assert.equal(info.ipId, 0x4242);
    assert.equal(info.ipLength, 20 + 20 + 3);
    assert.equal(info.proto, 6);
    assert.equal(info.l4Offset, 34);
    assert.equal(info.srcPort, 51000);
    assert.equal(info.dstPort, 23);
    assert.equal(info.tcpSeq, 0x01020304);
    assert.equal(info.tcpAck, 0xa0b0c0d0);
    assert.equal(info.tcpFlags, 0x42);
    assert.equal(info.tcpWindow, 1024);
    assert.equal(info.tcpHeaderLength, 20);
    assert.equal(info.payloadOffset, 54);
    assert.equal(info.payloadLength, 3);
    assert.equal(info.fragment, false);
  });

  test('IPv6 over SLL2, NULL (macOS family 30) and LOOP (family 24)', () => {
    const v6 = ipv6WithExtensions();
    for (const linkType of [
      LinkType.LINUX_SLL2,
      LinkType.NULL,
      LinkType.LOOP,
      LinkType.LINUX_SLL,
      LinkType.IPV6,
      LinkType.RAW,
    ]) {
      assert.equal(parse(linkType, withLink(linkType, v6, true)), ParseResult.OK, `link ${linkType}`);
      assert.equal(ipv6ToString(info.dst6), '2001:db8:1::b');
    }
  });

  test('802.1Q and 802.1ad stacks', () => {
    const tagged = buildUdpFrame({
      srcIp: '1.1.1.1',
      dstIp: '2.2.2.2',
      srcPort: 53,
      dstPort: 999,
      vlans: [10, 20, 30],
    });
    tagged.writeUInt16BE(0x88a8, 12); // outer tag as 802.1ad
    assert.equal(parse(LinkType.ETHERNET, tagged), ParseResult.OK);
    assert.equal(info.vlanCount, 3);
    assert.equal(info.outerVlan, 10);
    assert.equal(info.innerVlan, 30);
    assert.equal(info.ipOffset, 14 + 12);
    assert.equal(info.srcPort, 53);
    assert.equal(info.udpLength, 8);
  });

  test('non-IP, unsupported links and unknown BSD families', () => {
    const arp = Buffer.alloc(60);
    arp.writeUInt16BE(0x0806, 12);
    assert.equal(parse(LinkType.ETHERNET, arp), ParseResult.NOT_IP);
    assert.equal(parse(147, tcp4), ParseResult.UNSUPPORTED_LINK);
    const appletalk = withLink(LinkType.NULL, rawTcp4);
    appletalk[0] = 16;
    assert.equal(parse(LinkType.NULL, appletalk), ParseResult.NOT_IP);
    assert.equal(ParseResultLabel[ParseResult.NOT_IP], 'notIp');
  });
});

describe('IPv4', () => {
  test('options are skipped by IHL', () => {
    const ip = Buffer.from(rawTcp4);
    const withOptions = Buffer.concat([ip.subarray(0, 20), Buffer.from([1, 1, 1, 0]), ip.subarray(20)]);
    withOptions[0] = 0x46;
    withOptions.writeUInt16BE(withOptions.length, 2);
    assert.equal(parse(LinkType.RAW, withOptions), ParseResult.OK);
    assert.equal(info.l4Offset, 24);
    assert.equal(info.dstPort, 23);
    assert.equal(info.payloadLength, 3);
  });

  test('a non-first fragment has no L4 header; a first fragment does', () => {
    const frag = Buffer.from(rawTcp4);
    frag.writeUInt16BE(0x2000 | 185, 6); // MF, offset 185*8
    assert.equal(parse(LinkType.RAW, frag), ParseResult.OK);
    assert.equal(info.fragment, true);
    assert.equal(info.moreFragments, true);
    assert.equal(info.fragmentOffset, 1480);
    assert.equal(info.srcPort, 0);
    assert.equal(info.l4Offset, -1);
    frag.writeUInt16BE(0x2000, 6);
    assert.equal(parse(LinkType.RAW, frag), ParseResult.OK);
    assert.equal(info.fragment, false);
    assert.equal(info.srcPort, 51000);
  });

  test('bad headers and truncation', () => {
    const bad = Buffer.from(rawTcp4);
    bad[0] = 0x44;
    assert.equal(parse(LinkType.RAW, bad), ParseResult.BAD_HEADER);
    bad[0] = 0x55;
    assert.equal(parse(LinkType.RAW, bad), ParseResult.BAD_HEADER);
    assert.equal(parse(LinkType.ETHERNET, tcp4.subarray(0, 30)), ParseResult.TRUNCATED);
    assert.equal(info.ipVersion, 0);
    // Cut inside TCP after the ports: addresses and ports are kept.
    assert.equal(parse(LinkType.ETHERNET, tcp4.subarray(0, 14 + 20 + 6)), ParseResult.TRUNCATED);
    assert.equal(ipv4ToString(info.dst4), '203.0.113.9');
    assert.equal(info.dstPort, 23);
    const badOffset = Buffer.from(rawTcp4);
    badOffset[32] = 0x20; // data offset 2 words
    assert.equal(parse(LinkType.RAW, badOffset), ParseResult.BAD_HEADER);
    // Ethernet says IPv4, the packet says 6.
    const mismatch = Buffer.from(tcp4);
    mismatch[14] = 0x65;
    assert.equal(parse(LinkType.ETHERNET, mismatch), ParseResult.BAD_HEADER);
  });

  test('ICMP type and code; UDP length', () => {
    const icmp = Buffer.from(
      buildUdpFrame({
        srcIp: '9.9.9.9',
        dstIp: '8.8.8.8',
        srcPort: 0,
        dstPort: 0,
        ethernet: false,
        payload: Buffer.alloc(8),
      }),
    );
    icmp[9] = 1;
    icmp[20] = 3;
    icmp[21] = 13;
    assert.equal(parse(LinkType.RAW, icmp), ParseResult.OK);
    assert.equal(info.proto, 1);
    assert.equal(info.icmpType, 3);
    assert.equal(info.icmpCode, 13);
    assert.equal(info.srcPort, 0);
  });
});

describe('IPv6', () => {
  test('extension header chain is walked to TCP', () => {
    assert.equal(parseIpPacket(ipv6WithExtensions(), 0, info), ParseResult.OK);
    assert.equal(info.ipVersion, 6);
    assert.equal(ipv6ToString(info.src6), '2001:db8::a');
    assert.equal(info.proto, 6);
    assert.equal(info.l4Offset, 40 + 8 + 8 + 8 + 8 + 12);
    assert.equal(info.srcPort, 443);
    assert.equal(info.dstPort, 50000);
    assert.equal(info.tcpFlags, TcpFlag.ACK);
    assert.equal(info.payloadLength, 2);
    assert.equal(info.moreFragments, true);
    assert.equal(info.fragment, false);
    assert.equal(info.ipId, 0xcafe);
  });

  test('a non-first IPv6 fragment stops before L4', () => {
    assert.equal(parseIpPacket(ipv6WithExtensions(64), 0, info), ParseResult.OK);
    assert.equal(info.fragment, true);
    assert.equal(info.fragmentOffset, 64);
    assert.equal(info.srcPort, 0);
    assert.equal(info.proto, 60);
  });

  test('ESP and no-next-header stop the walk', () => {
    const esp = Buffer.from(
      buildUdpFrame({
        srcIp: '::1',
        dstIp: '::2',
        srcPort: 1,
        dstPort: 2,
        ethernet: false,
        payload: Buffer.alloc(16),
      }),
    );
    esp[6] = 50;
    assert.equal(parseIpPacket(esp, 0, info), ParseResult.OK);
    assert.equal(info.proto, 50);
    assert.equal(info.srcPort, 0);
    esp[6] = 59;
    assert.equal(parseIpPacket(esp, 0, info), ParseResult.OK);
    assert.equal(info.proto, 59);
  });

  test('an extension length past the packet is a bad header; a cut chain is truncated', () => {
    const v6 = ipv6WithExtensions();
    const huge = Buffer.from(v6);
    huge[41] = 200; // hop-by-hop length 201*8
    assert.equal(parseIpPacket(huge, 0, info), ParseResult.BAD_HEADER);
    assert.equal(parseIpPacket(v6.subarray(0, 60), 0, info), ParseResult.TRUNCATED);
    assert.equal(ipv6ToString(info.src6), '2001:db8::a', 'addresses survive truncation');
  });

  test('parseIpPacket honours offset and end', () => {
    const padded = Buffer.concat([Buffer.alloc(7, 0xee), rawTcp4, Buffer.alloc(9, 0xee)]);
    assert.equal(parseIpPacket(padded, 7, info, 7 + rawTcp4.length), ParseResult.OK);
    assert.equal(info.dstPort, 23);
    assert.equal(parseIpPacket(padded, 7, info, 7 + 21), ParseResult.TRUNCATED);
  });
});

describe('against tshark', { skip: !hasTshark && 'tshark not on PATH' }, () => {
  test('addresses, ports, protocol, flags, TTL and fragment state agree on a mixed capture', () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      const v6 = i % 3 === 0;
      const options = {
        srcIp: v6 ? `2001:db8::${(i + 1).toString(16)}` : `10.${i}.0.1`,
        dstIp: v6 ? '2001:db8::ffff' : `192.0.2.${i}`,
        srcPort: 1024 + i * 7,
        dstPort: i * 3,
        payload: Buffer.alloc(i),
        ttl: 30 + i,
        vlans: i % 4 === 1 ? [i] : [],
      };
      frames.push(
        i % 2 === 0 ? buildUdpFrame(options) : buildTcpFrame({ ...options, flags: i & 0xff, seq: i * 1000 }),
      );
    }
    const frag = Buffer.from(frames[2]!);
    frag.writeUInt16BE(0x0010, 20); // offset 128 bytes, last fragment
    frag.writeUInt16BE(0, 24);
    frag.writeUInt16BE(internetChecksum(frag.subarray(14, 34)), 24);
    frames.push(frag);
    const w = new PcapWriter();
    frames.forEach((f, i) => w.add(f, 1000 * i));
    const path = join(dir, 'mixed.pcap');
    const buffer = w.toBuffer();
    writeFileSync(path, buffer);
    const fields = [
      'ip.src',
      'ipv6.src',
      'ip.dst',
      'ipv6.dst',
      'ip.proto',
      'ipv6.nxt',
      'tcp.srcport',
      'udp.srcport',
      'tcp.dstport',
      'udp.dstport',
      'tcp.flags',
      'ip.ttl',
      'ipv6.hlim',
      'ip.frag_offset',
    ];
    const out = execFileSync('tshark', ['-r', path, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const rows = out
      .trimEnd()
      .split('\n')
      .map((line) => line.split('\t'));
    const ours: string[] = [];
    const theirs: string[] = [];
    let i = 0;
    for (const p of readCapture(buffer)) {
      assert.equal(parseFrame(p.linkType, p.data, info), ParseResult.OK);
      const r = rows[i++]!;
      const v4 = info.ipVersion === 4;
      ours.push(
        [
          v4 ? ipv4ToString(info.src4) : ipv6ToString(info.src6),
          v4 ? ipv4ToString(info.dst4) : ipv6ToString(info.dst6),
          info.proto,
          info.fragment ? '' : info.srcPort,
          info.fragment ? '' : info.dstPort,
          info.proto === 6 ? `0x${info.tcpFlags.toString(16).padStart(4, '0')}` : '',
          info.ttl,
          v4 ? info.fragmentOffset / 8 : '', // tshark 4.0 prints the offset in 8-byte units
        ].join('|'),
      );
      theirs.push(
        [
          r[0] || r[1],
          r[2] || r[3],
          r[4] || r[5],
          r[6] || r[7],
          r[8] || r[9],
          r[10],
          r[11] || r[12],
          r[13],
        ].join('|'),
      );
    }
    assert.equal(i, frames.length);
    assert.deepEqual(ours, theirs);
  });
});

describe('fuzz: arbitrary bytes never throw', () => {
  test('20,000 random frames over every link type', () => {
    const linkTypes = Object.values(LinkType);
    fc.assert(
      fc.property(
        fc.constantFrom(...linkTypes),
        fc.uint8Array({ maxLength: 120 }),
        fc.nat(),
        (linkType, bytes, seed) => {
          // Half the cases start from a valid frame and overwrite a few bytes, to reach deep paths.
          let frame: Uint8Array = bytes;
          if (seed % 2 === 0) {
            const base = withLink(linkType, seed % 4 === 0 ? ipv6WithExtensions() : rawTcp4, seed % 4 === 0);
            frame = linkType === LinkType.ETHERNET ? Buffer.from(tcp4) : base;
            for (let k = 0; k < bytes.length && k < 6; k++)
              frame[(seed + bytes[k]! * 7) % frame.length] = bytes[k]!;
            frame = frame.subarray(0, (seed >> 2) % (frame.length + 1));
          }
          const result = parseFrame(linkType, frame, info);
          assert.ok(result >= 0 && result <= 4);
          if (result === ParseResult.OK && info.l4Offset >= 0) assert.ok(info.l4Offset < frame.length);
        },
      ),
      { numRuns: 20000, seed: 7 },
    );
  });
});
