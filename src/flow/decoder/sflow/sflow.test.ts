/** Tests for the sFlow v5 decoder: Telegraf corpus, synthetic datagrams, error kinds, tshark cross-check, fuzz. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  FlowBatchWriter,
  FlowVersion,
  type FlowBatch,
  ipv4FromString,
  ipv6FromString,
} from '../../../core/index.ts';
import { buildTcpFrame, buildUdpFrame, PcapWriter, TcpFlag } from '../../../packet/index.ts';
import { createSflowDecoder, SflowError } from './sflow.ts';
import { TELEGRAF } from '../../testdata/corpus.ts';
import { batchRows, type Row } from '../../testdata/rows.ts';

const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'tsunagi-sflow-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Decoded {
  count: number;
  rows: Row[];
  errors: string[];
  counters: number;
}

const SOURCE = { exporter: '192.0.2.200', exporterPort: 6343, receivedMs: 1700000000000 };

function decode(payload: Buffer): Decoded {
  const batches: FlowBatch[] = [];
  const writer = new FlowBatchWriter((b) => batches.push(b), 64);
  const errors: string[] = [];
  let counters = 0;
  const decoder = createSflowDecoder({
    countError: (protocol, kind) => {
      assert.equal(protocol, 'sflow5');
      errors.push(kind);
    },
    onCounterSample: () => counters++,
  });
  const count = decoder(payload, SOURCE, writer);
  writer.flush();
  const rows = batches.flatMap(batchRows);
  return { count, rows, errors, counters };
}

// --- a small sFlow v5 encoder for synthetic datagrams ------------------------------------

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

function pad(data: Uint8Array): Buffer {
  const b = Buffer.alloc((data.length + 3) & ~3);
  b.set(data);
  return b;
}

function framed(format: number, body: Buffer): Buffer {
  return Buffer.concat([u32(format, body.length), body]);
}

function datagram(samples: Buffer[], agent = '192.0.2.1'): Buffer {
  const address = agent.includes(':')
    ? Buffer.concat([u32(2), Buffer.from(ipv6FromString(agent))])
    : u32(1, ipv4FromString(agent));
  return Buffer.concat([u32(5), address, u32(0, 1, 12345, samples.length), ...samples]);
}

function flowSample(rate: number, records: Buffer[], expanded = false): Buffer {
  const head = expanded
    ? u32(1, 0, 7, rate, 1000, 0, 0, 3, 0, 4, records.length)
    : u32(1, 7, rate, 1000, 0, 3, 4, records.length);
  return framed(expanded ? 3 : 1, Buffer.concat([head, ...records]));
}

function counterSample(expanded = false): Buffer {
  const ifCounters = framed(1, Buffer.alloc(88));
  return framed(expanded ? 4 : 2, Buffer.concat([expanded ? u32(1, 0, 7, 1) : u32(1, 7, 1), ifCounters]));
}

function rawHeader(protocol: number, header: Uint8Array, frameLength = header.length + 4): Buffer {
  return framed(1, Buffer.concat([u32(protocol, frameLength, 4, header.length), pad(header)]));
}

function sampledIpv4(
  src: string,
  dst: string,
  proto: number,
  srcPort: number,
  dstPort: number,
  length: number,
  flags = 0,
): Buffer {
  return framed(3, u32(length, proto, ipv4FromString(src), ipv4FromString(dst), srcPort, dstPort, flags, 0));
}

function sampledIpv6(
  src: string,
  dst: string,
  proto: number,
  srcPort: number,
  dstPort: number,
  length: number,
): Buffer {
  return framed(
    4,
    Buffer.concat([
      u32(length, proto),
      Buffer.from(ipv6FromString(src)),
      Buffer.from(ipv6FromString(dst)),
      u32(srcPort, dstPort, 0, 0),
    ]),
  );
}

const extendedSwitch = framed(1001, u32(10, 0, 20, 0));

// --- Telegraf corpus ------------------------------------------------------------------------

/** Parses InfluxDB line protocol fields of one line (strings unquoted, `123u` as numbers). */
function lineFields(line: string): Map<string, string> {
  const fieldsPart = line.slice(line.indexOf(' ') + 1, line.lastIndexOf(' '));
  const fields = new Map<string, string>();
  for (const match of fieldsPart.matchAll(/([a-z0-9_]+)=("[^"]*"|[^,]*)/g)) {
    const value = match[2]!;
    fields.set(match[1]!, value.startsWith('"') ? value.slice(1, -1) : value.replace(/u$/, ''));
  }
  return fields;
}

const PROTOCOL_NUMBERS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, ipv6_icmp: 58, icmpv6: 58 };

describe('Telegraf corpus', () => {
  const folders = readdirSync(TELEGRAF).filter((d) => d.startsWith('sflow'));
  for (const folder of folders) {
    test(folder, () => {
      const path = join(TELEGRAF, folder);
      const payload = readFileSync(
        join(
          path,
          readdirSync(path).find((f) => f.endsWith('.bin'))!,
        ),
      );
      const lines = readFileSync(join(path, 'expected.out'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(lineFields);
      const flowLines = lines.filter((f) => f.has('src'));
      // Telegraf writes one line per counter sample (they carry "interface") and per drop notification ("reason").
      const counterLines = lines.filter((f) => f.has('interface'));
      const dropLines = lines.filter((f) => f.has('reason'));
      const { count, rows, errors, counters } = decode(payload);
      assert.equal(count, rows.length);
      assert.equal(rows.length, flowLines.length);
      assert.equal(counters, counterLines.length);
      // Drop notifications (format 5) are not flows: skipped and counted.
      assert.deepEqual(
        errors,
        dropLines.map(() => SflowError.UNKNOWN_SAMPLE),
      );
      // The mapping, field by field: Telegraf's src/dst/src_port/dst_port are ours; its
      // sampling_interval is our samplingRate and packets (one sample stands for that many
      // packets); its l2_bytes is the sFlow frame_length, and our bytes = l2_bytes * rate.
      // Telegraf reports no packets/bytes of its own for sFlow, and omits ports for non-TCP/UDP.
      // Its "protocol" is the first IPv6 next header ("hopopt" = 0); ours is the upper-layer
      // protocol after the extension chain, so hopopt is checked against tshark below instead.
      for (let i = 0; i < rows.length; i++) {
        const want = flowLines[i]!;
        const got = rows[i]!;
        const rate = Number(want.get('sampling_interval'));
        assert.equal(got.src, want.get('src'), `row ${i} src`);
        assert.equal(got.dst, want.get('dst'), `row ${i} dst`);
        assert.equal(got.srcPort, Number(want.get('src_port') ?? 0), `row ${i} src_port`);
        assert.equal(got.dstPort, Number(want.get('dst_port') ?? 0), `row ${i} dst_port`);
        const protocol = want.get('protocol')!;
        if (protocol === 'hopopt') assert.equal(got.proto, 58, 'MLD report behind hop-by-hop options');
        else assert.equal(got.proto, PROTOCOL_NUMBERS[protocol], `row ${i} protocol ${protocol}`);
        assert.equal(got.samplingRate, rate);
        assert.equal(got.packets, rate);
        assert.equal(got.bytes, Number(want.get('l2_bytes')) * rate);
        assert.equal(got.exporter, SOURCE.exporter);
        assert.equal(got.version, FlowVersion.SFLOW5);
        assert.equal(got.startMs, SOURCE.receivedMs);
      }
    });
  }
});

// --- synthetic datagrams --------------------------------------------------------------------

const tcpFrame = buildTcpFrame({
  srcIp: '198.51.100.7',
  dstIp: '203.0.113.66',
  srcPort: 45000,
  dstPort: 6667,
  flags: TcpFlag.PSH | TcpFlag.ACK,
  payload: Buffer.alloc(200),
});
const udp6 = buildUdpFrame({
  srcIp: '2001:db8::5',
  dstIp: '2001:db8:ffff::1',
  srcPort: 53,
  dstPort: 33333,
  payload: Buffer.alloc(60),
  ethernet: false,
});

describe('synthetic datagrams', () => {
  test('compact and expanded flow samples, IPv6 agent, Ethernet and IPv6 raw headers, counters', () => {
    const d = datagram(
      [
        flowSample(512, [rawHeader(1, tcpFrame.subarray(0, 128), 1518), extendedSwitch]),
        counterSample(),
        flowSample(1024, [extendedSwitch, rawHeader(12, udp6)], true),
        counterSample(true),
      ],
      '2001:db8::99',
    );
    const { rows, errors, counters } = decode(d);
    assert.deepEqual(errors, []);
    assert.equal(counters, 2);
    assert.equal(rows.length, 2);
    assert.deepEqual(
      { ...rows[0], startMs: 0, endMs: 0 },
      {
        exporter: SOURCE.exporter,
        version: 105,
        startMs: 0,
        endMs: 0,
        src: '198.51.100.7',
        dst: '203.0.113.66',
        srcPort: 45000,
        dstPort: 6667,
        proto: 6,
        tcpFlags: 0x18,
        packets: 512,
        bytes: 1518 * 512,
        samplingRate: 512,
      },
    );
    assert.equal(rows[1]!.src, '2001:db8::5');
    assert.equal(rows[1]!.dst, '2001:db8:ffff::1');
    assert.equal(rows[1]!.proto, 17);
    assert.equal(rows[1]!.srcPort, 53);
    assert.equal(rows[1]!.bytes, (udp6.length + 4) * 1024);
  });

  test('IPv4 raw header (protocol 11) cut inside TCP still gives addresses and ports', () => {
    const ip = tcpFrame.subarray(14, 14 + 24);
    const { rows, errors } = decode(datagram([flowSample(10, [rawHeader(11, ip, 1000)])]));
    assert.deepEqual(errors, []);
    assert.equal(rows[0]!.src, '198.51.100.7');
    assert.equal(rows[0]!.dstPort, 6667);
    assert.equal(rows[0]!.tcpFlags, 0, 'flags byte was not captured');
  });

  test('raw header preferred over sampled IPv4; sampled IPv4/IPv6 used when the header is not IP', () => {
    const arp = Buffer.alloc(42);
    arp.writeUInt16BE(0x0806, 12);
    const d = datagram([
      flowSample(100, [
        sampledIpv4('10.0.0.1', '10.0.0.2', 17, 1, 2, 99),
        rawHeader(1, tcpFrame.subarray(0, 64)),
      ]),
      flowSample(100, [rawHeader(1, arp), sampledIpv4('10.9.9.9', '10.8.8.8', 6, 1234, 80, 1500, 0x02)]),
      flowSample(7, [sampledIpv6('2001:db8::1', '2001:db8::2', 6, 443, 5555, 1280)], true),
      flowSample(5, [rawHeader(1, arp)]),
      flowSample(5, [rawHeader(2, Buffer.alloc(40))]), // token ring header: not read
      flowSample(5, [extendedSwitch]),
    ]);
    const { rows, errors } = decode(d);
    assert.deepEqual(errors, [
      SflowError.NO_IP_RECORD,
      SflowError.UNSUPPORTED_HEADER_PROTOCOL,
      SflowError.NO_IP_RECORD,
    ]);
    assert.equal(rows.length, 3);
    assert.equal(rows[0]!.src, '198.51.100.7');
    assert.deepEqual(
      [
        rows[1]!.src,
        rows[1]!.dst,
        rows[1]!.srcPort,
        rows[1]!.dstPort,
        rows[1]!.proto,
        rows[1]!.tcpFlags,
        rows[1]!.bytes,
      ],
      ['10.9.9.9', '10.8.8.8', 1234, 80, 6, 2, 150000],
    );
    assert.deepEqual(
      [rows[2]!.src, rows[2]!.dst, rows[2]!.srcPort, rows[2]!.proto, rows[2]!.packets, rows[2]!.bytes],
      ['2001:db8::1', '2001:db8::2', 443, 6, 7, 1280 * 7],
    );
  });

  test('a sampling rate of 0 is treated as 1 and counted', () => {
    const { rows, errors } = decode(datagram([flowSample(0, [rawHeader(1, tcpFrame.subarray(0, 64), 100)])]));
    assert.deepEqual(errors, [SflowError.ZERO_SAMPLING_RATE]);
    assert.equal(rows[0]!.samplingRate, 1);
    assert.equal(rows[0]!.packets, 1);
    assert.equal(rows[0]!.bytes, 100);
  });

  test('unknown sample formats and enterprises are skipped by length', () => {
    const d = datagram([
      framed((4413 << 12) | 1, Buffer.alloc(24)),
      framed(5, Buffer.alloc(16)),
      flowSample(2, [framed((9 << 12) | 1, Buffer.alloc(8)), rawHeader(1, tcpFrame.subarray(0, 64))]),
    ]);
    const { rows, errors } = decode(d);
    assert.deepEqual(errors, [SflowError.UNKNOWN_SAMPLE, SflowError.UNKNOWN_SAMPLE]);
    assert.equal(rows.length, 1);
  });
});

describe('synthetic datagrams', () => {
  describe('bad input is counted, the rest of the datagram abandoned', () => {
    const good = flowSample(3, [rawHeader(1, tcpFrame.subarray(0, 64))]);
    const cases: [string, Buffer, string, number][] = [
      ['short header', Buffer.alloc(20), SflowError.HEADER_TRUNCATED, 0],
      ['version 4', Buffer.concat([u32(4), datagram([good]).subarray(4)]), SflowError.BAD_VERSION, 0],
      [
        'agent type 3',
        Buffer.concat([u32(5, 3), datagram([good]).subarray(8)]),
        SflowError.BAD_AGENT_ADDRESS,
        0,
      ],
      [
        'sample count too high',
        (() => {
          const d = datagram([good, good]);
          d.writeUInt32BE(3, 24);
          return d;
        })(),
        SflowError.SAMPLE_COUNT_MISMATCH,
        2,
      ],
      [
        'sample length past the end',
        (() => {
          const d = datagram([good, good]);
          d.writeUInt32BE(0xfffffff0, 28 + good.length + 4);
          return d;
        })(),
        SflowError.SAMPLE_TRUNCATED,
        1,
      ],
      [
        'sample length not a multiple of 4',
        (() => {
          const d = datagram([good, good]);
          d.writeUInt32BE(good.length - 8 - 1, 28 + good.length + 4);
          return d;
        })(),
        SflowError.SAMPLE_LENGTH_UNALIGNED,
        1,
      ],
      [
        'record count past the sample',
        (() => {
          const s = Buffer.from(good);
          s.writeUInt32BE(5, 8 + 28);
          return datagram([s, good]);
        })(),
        SflowError.RECORD_TRUNCATED,
        0,
      ],
      [
        'record length past the sample',
        (() => {
          const s = Buffer.from(good);
          s.writeUInt32BE(0x7ffffff0, 8 + 32 + 4);
          return datagram([good, s]);
        })(),
        SflowError.RECORD_TRUNCATED,
        1,
      ],
      [
        'header length past the record',
        (() => {
          const s = Buffer.from(good);
          s.writeUInt32BE(4000, 8 + 32 + 8 + 12);
          return datagram([s]);
        })(),
        SflowError.RECORD_TRUNCATED,
        0,
      ],
      ['trailing bytes', Buffer.concat([datagram([good]), Buffer.alloc(4)]), SflowError.TRAILING_BYTES, 1],
    ];
    for (const [name, payload, kind, rowCount] of cases) {
      test(name, () => {
        const { rows, errors, count } = decode(payload);
        assert.deepEqual(errors, [kind]);
        assert.equal(rows.length, rowCount);
        assert.equal(count, rowCount);
      });
    }

    test('every truncation of a valid datagram returns without throwing', () => {
      const d = datagram([
        good,
        counterSample(),
        flowSample(9, [sampledIpv6('::1', '::2', 17, 1, 2, 3)], true),
      ]);
      for (let cut = 0; cut < d.length; cut++) {
        const { rows, errors } = decode(d.subarray(0, cut));
        assert.ok(errors.length >= 1, `cut at ${cut} is noticed`);
        assert.ok(rows.length <= 2);
      }
      assert.equal(decode(d).rows.length, 2);
    });
  });
});

// --- tshark -----------------------------------------------------------------------------------

/** From tshark's JSON of one sFlow datagram: per flow sample, "src dst proto sport dport packets bytes". */
function tsharkTuples(layers: Record<string, unknown>): string[] {
  const sflow = layers.sflow as Record<string, Record<string, unknown>>;
  const tuples: string[] = [];
  for (const [key, sample] of Object.entries(sflow)) {
    if (!key.startsWith('Flow sample') && !key.startsWith('Expanded flow sample')) continue;
    const samples = Array.isArray(sample) ? sample : [sample];
    for (const s of samples) {
      const rate = Number(s['sflow.flow_sample.sampling_rate']);
      const raw = s['Raw packet header'] as Record<string, unknown> | undefined;
      if (!raw) continue;
      const tree = raw['sflow_245.header_tree'] as Record<string, Record<string, string>>;
      const ip = tree.ip ?? tree.ipv6;
      if (!ip) continue;
      const src = ip['ip.src'] ?? ip['ipv6.src'];
      const dst = ip['ip.dst'] ?? ip['ipv6.dst'];
      // tshark names the upper layer by its dissector; the IPv6 "nxt" field would be the first extension header.
      const l4 = tree.tcp ?? tree.udp;
      const proto = tree.tcp
        ? 6
        : tree.udp
          ? 17
          : tree.icmpv6
            ? 58
            : tree.icmp
              ? 1
              : Number(ip['ip.proto'] ?? ip['ipv6.nxt']);
      const sport = l4 ? (l4['tcp.srcport'] ?? l4['udp.srcport']) : '0';
      const dport = l4 ? (l4['tcp.dstport'] ?? l4['udp.dstport']) : '0';
      const frameLength = Number(raw['sflow_245.header.frame_length']);
      tuples.push(`${src} ${dst} ${proto} ${sport} ${dport} ${rate} ${frameLength * rate}`);
    }
  }
  return tuples;
}

describe('against tshark', { skip: !hasTshark && 'tshark not on PATH' }, () => {
  test('the same multiset of 5-tuple, packets and bytes per flow sample', () => {
    const payloads: [string, Buffer][] = [];
    for (const folder of readdirSync(TELEGRAF).filter((d) => d.startsWith('sflow'))) {
      const path = join(TELEGRAF, folder);
      for (const f of readdirSync(path).filter((n) => n.endsWith('.bin')))
        payloads.push([folder, readFileSync(join(path, f))]);
    }
    let compared = 0;
    for (const [name, payload] of payloads) {
      const pcap = join(dir, `${name}.pcap`);
      const w = new PcapWriter();
      w.add(
        buildUdpFrame({ srcIp: '127.0.0.2', dstIp: '127.0.0.1', srcPort: 50000, dstPort: 6343, payload }),
        SOURCE.receivedMs,
      );
      writeFileSync(pcap, w.toBuffer());
      const json = execFileSync('tshark', ['-r', pcap, '-T', 'json', '--no-duplicate-keys'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        maxBuffer: 64 << 20,
      });
      const packets = JSON.parse(json) as { _source: { layers: Record<string, unknown> } }[];
      const theirs = tsharkTuples(packets[0]!._source.layers).sort();
      const ours = decode(payload)
        .rows.map((r) => `${r.src} ${r.dst} ${r.proto} ${r.srcPort} ${r.dstPort} ${r.packets} ${r.bytes}`)
        .sort();
      assert.deepEqual(ours, theirs, name);
      compared += ours.length;
    }
    assert.ok(compared >= 6, `compared ${compared} flow samples`);
  });
});

// --- fuzz -------------------------------------------------------------------------------------

describe('fuzz', () => {
  const seeds: Buffer[] = [];
  for (const folder of readdirSync(TELEGRAF).filter((d) => d.startsWith('sflow'))) {
    const path = join(TELEGRAF, folder);
    for (const f of readdirSync(path).filter((n) => n.endsWith('.bin')))
      seeds.push(readFileSync(join(path, f)));
  }
  const tcp = buildTcpFrame({
    srcIp: '10.0.0.1',
    dstIp: '10.0.0.2',
    srcPort: 1,
    dstPort: 2,
    payload: Buffer.alloc(80),
  });
  seeds.push(
    datagram([
      flowSample(3, [rawHeader(1, tcp.subarray(0, 96)), extendedSwitch]),
      counterSample(),
      flowSample(
        9,
        [sampledIpv4('1.2.3.4', '5.6.7.8', 6, 1, 2, 3), sampledIpv6('::1', '::2', 17, 1, 2, 3)],
        true,
      ),
    ]),
  );

  test('30,000 mutated datagrams: no throw, rows bounded, always returns', () => {
    // One decoder and writer for all cases, as a collector would run them.
    let rows = 0;
    const writer = new FlowBatchWriter(() => {}, 256);
    const decoder = createSflowDecoder({ countError: () => {}, onCounterSample: () => {} });
    fc.assert(
      fc.property(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.option(fc.nat()),
        fc.option(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 12 }))),
        (which, flips, cut, insert) => {
          let b = Buffer.from(seeds[which]!);
          for (const [at, value] of flips) b[at % b.length] = value;
          if (insert) {
            const at = insert[0] % (b.length + 1);
            b = Buffer.concat([b.subarray(0, at), insert[1], b.subarray(at)]);
          }
          if (cut !== null) b = b.subarray(0, cut % (b.length + 1));
          const n = decoder(b, SOURCE, writer);
          // The smallest flow sample that yields a row takes 8 + 32 + 8 + 32 bytes.
          assert.ok(Number.isInteger(n) && n >= 0 && n <= Math.floor(b.length / 80));
          rows += n;
        },
      ),
      { numRuns: 30000, seed: 2024 },
    );
    assert.ok(rows > 0, 'many mutations still decode');
  });
});
