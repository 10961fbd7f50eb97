/** Unit tests of the NetFlow v5 / v9 / IPFIX decoders through the front door, with encoded payloads. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlowBatchWriter, InputError, Registry } from '../../core/index.ts';
import { DecoderConfig } from '../config.ts';
import { createFlowDecoder, errorTotal } from './decoder.ts';
import {
  encodeIpfix,
  encodeIpfixFlows,
  encodeNetflow5,
  encodeNetflow5Flows,
  encodeV9,
  encodeV9Flows,
  IPFIX_TEMPLATE_V4,
  type EncodeTemplate,
  type SimpleFlow,
} from '../encode.ts';
import { IE, NTP_UNIX_OFFSET_S } from './template/fields.ts';
import { VARIABLE_LENGTH } from './template/template.ts';
import { decodeAll } from '../testdata/rows.ts';

const config = (over: Record<string, unknown> = {}) => DecoderConfig.parse(over);
const T0 = 1_700_000_000; // export time, seconds

const flows: SimpleFlow[] = [
  {
    src: '10.0.0.1',
    dst: '203.0.113.7',
    srcPort: 51000,
    dstPort: 443,
    proto: 6,
    tcpFlags: 0x1b,
    packets: 12,
    bytes: 3400,
    startMs: T0 * 1000 - 5000,
    endMs: T0 * 1000 - 1000,
  },
  {
    src: '10.0.0.2',
    dst: '198.51.100.9',
    srcPort: 5353,
    dstPort: 53,
    proto: 17,
    packets: 1,
    bytes: 80,
    startMs: T0 * 1000 - 200,
    endMs: T0 * 1000 - 200,
  },
  {
    src: '2001:db8::1',
    dst: '2001:db8:ffff::42',
    srcPort: 40000,
    dstPort: 8443,
    proto: 6,
    tcpFlags: 2,
    packets: 3,
    bytes: 180,
    startMs: T0 * 1000 - 60_000,
    endMs: T0 * 1000,
  },
];

const pick = (r: ReturnType<typeof decodeAll>[number]) => ({
  src: r.src,
  dst: r.dst,
  srcPort: r.srcPort,
  dstPort: r.dstPort,
  proto: r.proto,
  tcpFlags: r.tcpFlags ?? 0,
  packets: r.packets,
  bytes: r.bytes,
  startMs: r.startMs,
  endMs: r.endMs,
});
const expectFlows = (list: SimpleFlow[]) => list.map((f) => ({ ...f, tcpFlags: f.tcpFlags ?? 0 }));

describe('netflow v5', () => {
  test('round trip: addresses, ports, flags, counters, uptime-relative times', () => {
    const v4 = flows.slice(0, 2);
    const payload = encodeNetflow5Flows(v4, { unixSecs: T0, sysUptime: 3_600_000 });
    const decoder = createFlowDecoder(config());
    const rows = decodeAll(decoder, [payload]);
    assert.deepEqual(rows.map(pick), expectFlows(v4));
    assert.ok(rows.every((r) => r.version === 5 && r.samplingRate === 1));
    assert.equal(decoder.stats.records.netflow5, 2);
  });

  test('header sampling interval multiplies counters; default rate applies otherwise', () => {
    const payload = encodeNetflow5Flows(flows.slice(0, 1), {
      unixSecs: T0,
      sysUptime: 10_000,
      samplingInterval: 64,
    });
    const [row] = decodeAll(createFlowDecoder(config()), [payload]);
    assert.equal(row!.samplingRate, 64);
    assert.equal(row!.packets, 12 * 64);
    assert.equal(row!.bytes, 3400 * 64);
    const plain = encodeNetflow5Flows(flows.slice(0, 1), { unixSecs: T0, sysUptime: 10_000 });
    const [def] = decodeAll(createFlowDecoder(config({ defaultSamplingRate: 10 })), [plain]);
    assert.equal(def!.samplingRate, 10);
    assert.equal(def!.bytes, 34000);
  });

  test('uptime wrap: First just before a 32-bit wrap of sysUptime', () => {
    const payload = encodeNetflow5(
      [
        {
          src: '1.2.3.4',
          dst: '5.6.7.8',
          packets: 1,
          bytes: 1,
          first: 0xffffff00,
          last: 0x10,
          srcPort: 1,
          dstPort: 2,
          proto: 6,
        },
      ],
      { unixSecs: T0, sysUptime: 0x100 },
    );
    const [row] = decodeAll(createFlowDecoder(config()), [payload]);
    assert.equal(row!.startMs, T0 * 1000 - 0x200);
    assert.equal(row!.endMs, T0 * 1000 - 0xf0);
  });

  test('count larger than the packet: counted, the records that fit are decoded', () => {
    const good = encodeNetflow5Flows(flows.slice(0, 2), { unixSecs: T0, sysUptime: 1000 });
    good.writeUInt16BE(30, 2);
    const decoder = createFlowDecoder(config());
    assert.equal(decodeAll(decoder, [good, good.subarray(0, 24 + 48 + 20)]).length, 3);
    assert.equal(decoder.stats.errors.netflow5.length_mismatch, 2);
  });
});

describe('netflow v9', () => {
  test('round trip of v4 and v6 flows with uptime times', () => {
    const payload = encodeV9Flows(flows, { unixSecs: T0, sysUptime: 7_200_000, sourceId: 3 });
    const decoder = createFlowDecoder(config());
    const rows = decodeAll(decoder, [payload]);
    const v4 = flows.filter((f) => !f.src.includes(':'));
    const v6 = flows.filter((f) => f.src.includes(':'));
    assert.deepEqual(rows.map(pick), expectFlows([...v4, ...v6]));
    assert.ok(rows.every((r) => r.version === 9));
    assert.equal(decoder.stats.templates.active.netflow9, 2);
    assert.equal(errorTotal(decoder.stats), 0);
  });

  test('generated readers and the interpreter agree', () => {
    const payloads = [
      encodeV9Flows(flows, { unixSecs: T0, sysUptime: 7_200_000 }),
      encodeIpfixFlows(flows, { exportTime: T0 }),
    ];
    const fast = decodeAll(createFlowDecoder(config()), payloads);
    const slow = decodeAll(createFlowDecoder(config(), { generateReaders: false }), payloads);
    assert.equal(fast.length, 6);
    assert.deepEqual(fast, slow);
  });

  test('options data sets a sampler rate; data carrying the sampler id uses it, others the domain rate', () => {
    const samplerOptions: EncodeTemplate = {
      id: 300,
      scopeCount: 1,
      fields: [
        { id: 1, length: 4 }, // scope: system
        { id: IE.samplerId, length: 1 },
        { id: IE.samplerMode, length: 1 },
        { id: IE.samplerRandomInterval, length: 4 },
      ],
    };
    const domainOptions: EncodeTemplate = {
      id: 301,
      scopeCount: 1,
      fields: [
        { id: 1, length: 4 },
        { id: IE.samplingInterval, length: 4 },
      ],
    };
    const withSampler: EncodeTemplate = {
      id: 310,
      fields: [
        { id: IE.sourceIPv4Address, length: 4 },
        { id: IE.destinationIPv4Address, length: 4 },
        { id: IE.packetDeltaCount, length: 4 },
        { id: IE.octetDeltaCount, length: 4 },
        { id: IE.samplerId, length: 1 },
      ],
    };
    const own: EncodeTemplate = {
      id: 311,
      fields: [...withSampler.fields.slice(0, 4), { id: IE.samplingInterval, length: 2 }],
    };
    const payload = encodeV9({ sysUptime: 1000, unixSecs: T0 }, [
      { optionsTemplates: [samplerOptions, domainOptions] },
      { templates: [withSampler, own] },
      {
        template: samplerOptions,
        records: [
          [0, 7, 2, 1000],
          [0, 8, 2, 50],
        ],
      },
      { template: domainOptions, records: [[0, 4]] },
      {
        template: withSampler,
        records: [
          ['1.1.1.1', '2.2.2.2', 2, 100, 7],
          ['1.1.1.1', '2.2.2.2', 2, 100, 8],
          ['1.1.1.1', '2.2.2.2', 2, 100, 9],
        ],
      },
      { template: own, records: [['1.1.1.1', '2.2.2.2', 2, 100, 16]] },
    ]);
    const rows = decodeAll(createFlowDecoder(config()), [payload]);
    assert.deepEqual(
      rows.map((r) => [r.samplingRate, r.packets, r.bytes]),
      [
        [1000, 2000, 100_000],
        [50, 100, 5000],
        [4, 8, 400], // unknown sampler 9: the domain's rate
        [16, 32, 1600], // the record's own samplingInterval
      ],
    );
  });

  test('template key: source port ignored by default, separate when configured', () => {
    const tpl = encodeV9Flows([], { unixSecs: T0, sysUptime: 3_600_000 });
    const data = encodeV9Flows(flows.slice(0, 1), {
      unixSecs: T0,
      sysUptime: 3_600_000,
      withTemplate: false,
    });
    const shared = createFlowDecoder(config());
    assert.equal(decodeAll(shared, [tpl], { exporterPort: 1000 }).length, 0);
    assert.equal(decodeAll(shared, [data], { exporterPort: 2000 }).length, 1);
    const perPort = createFlowDecoder(config({ templateKeyIncludesPort: true }));
    decodeAll(perPort, [tpl], { exporterPort: 1000 });
    assert.equal(decodeAll(perPort, [data], { exporterPort: 2000 }).length, 0);
    assert.equal(perPort.stats.pending.held, 1);
    assert.equal(decodeAll(perPort, [data], { exporterPort: 1000 }).length, 1);
    // Different exporters and source ids never share templates.
    assert.equal(decodeAll(shared, [data], { exporter: '192.0.2.99' }).length, 0);
    const otherSource = encodeV9Flows(flows.slice(0, 1), {
      unixSecs: T0,
      sysUptime: 3_600_000,
      withTemplate: false,
      sourceId: 5,
    });
    assert.equal(decodeAll(shared, [otherSource]).length, 0);
  });

  test('pending: data before its template is held, replayed with its own header clock, or expires', () => {
    const data = encodeV9Flows(flows.slice(0, 2), { unixSecs: T0, sysUptime: 50_000, withTemplate: false });
    const tpl = encodeV9Flows([], { unixSecs: T0 + 100, sysUptime: 150_000 });
    const decoder = createFlowDecoder(config());
    assert.equal(decodeAll(decoder, [data], { receivedMs: 1000 }).length, 0);
    assert.equal(decoder.stats.pending.waiting, 1);
    const rows = decodeAll(decoder, [tpl]);
    assert.deepEqual(rows.map(pick), expectFlows(flows.slice(0, 2)));
    assert.equal(decoder.stats.pending.replayed, 1);
    assert.equal(decoder.stats.pending.replayedRecords, 2);
    assert.equal(decoder.stats.pending.waiting, 0);

    const expiring = createFlowDecoder(config({ pending: { ttlMs: 5000 } }));
    decodeAll(expiring, [data], { receivedMs: 1000 });
    assert.equal(expiring.expire(5999), 0);
    assert.equal(expiring.expire(6000), 1);
    assert.equal(expiring.stats.pending.droppedExpired, 1);
    assert.equal(decodeAll(expiring, [tpl]).length, 0);
  });
});

describe('netflow v9', () => {
  test('pending is bounded by sets and bytes', () => {
    const decoder = createFlowDecoder(config({ pending: { maxSets: 3, maxBytes: 1 << 20 } }));
    const data = encodeV9Flows(flows.slice(0, 1), {
      unixSecs: T0,
      sysUptime: 3_600_000,
      withTemplate: false,
    });
    decodeAll(
      decoder,
      Array.from({ length: 10 }, () => data),
    );
    assert.equal(decoder.stats.pending.waiting, 3);
    assert.equal(decoder.stats.pending.droppedOverflow, 7);
    const small = createFlowDecoder(config({ pending: { maxSets: 100, maxBytes: 100 } }));
    decodeAll(
      small,
      Array.from({ length: 10 }, () => data),
    );
    assert.ok(small.stats.pending.waitingBytes <= 100);
    assert.equal(
      decodeAll(small, [encodeV9Flows([], { unixSecs: T0, sysUptime: 3_600_000 })]).length,
      small.stats.pending.replayed,
    );
  });

  test('absurd templates are rejected and counted, and do not hang', () => {
    const decoder = createFlowDecoder(config());
    const zero: EncodeTemplate = {
      id: 400,
      fields: [
        { id: 8, length: 0 },
        { id: 12, length: 0 },
      ],
    };
    const empty: EncodeTemplate = { id: 401, fields: [] };
    decodeAll(decoder, [
      encodeV9({ sysUptime: 0, unixSecs: T0 }, [{ templates: [zero] }]),
      encodeV9({ sysUptime: 0, unixSecs: T0 }, [{ templates: [empty] }]),
    ]);
    assert.equal(decoder.stats.errors.netflow9.template_zero_length, 1);
    assert.equal(decoder.stats.errors.netflow9.template_empty, 1);
    // Field count beyond the set.
    const body = Buffer.from([0x01, 0x90, 0x7f, 0xff, 0, 8, 0, 4]);
    decodeAll(decoder, [encodeV9({ sysUptime: 0, unixSecs: T0 }, [{ rawSetId: 0, body }])]);
    assert.equal(decoder.stats.errors.netflow9.template_truncated, 1);
    // An address field with a wrong length is skipped and counted.
    const wrong: EncodeTemplate = {
      id: 402,
      fields: [
        { id: 8, length: 3 },
        { id: 12, length: 4 },
      ],
    };
    const rows = decodeAll(decoder, [
      encodeV9({ sysUptime: 0, unixSecs: T0 }, [
        { templates: [wrong] },
        { template: wrong, records: [[Buffer.from([1, 2, 3]), '9.9.9.9']] },
      ]),
    ]);
    assert.equal(decoder.stats.errors.netflow9.field_length, 1);
    assert.deepEqual(
      rows.map((r) => [r.src, r.dst]),
      [['0.0.0.0', '9.9.9.9']],
    );
    assert.equal(decoder.stats.templates.active.netflow9, 1);
  });

  test('a resent template is a refresh; a changed one with the same id replaces it', () => {
    const decoder = createFlowDecoder(config());
    const a: EncodeTemplate = {
      id: 1000,
      fields: [
        { id: 8, length: 4 },
        { id: 12, length: 4 },
      ],
    };
    const b: EncodeTemplate = {
      id: 1000,
      fields: [
        { id: 12, length: 4 },
        { id: 8, length: 4 },
      ],
    };
    const header = { sysUptime: 0, unixSecs: T0 };
    const rows = decodeAll(decoder, [
      encodeV9(header, [{ templates: [a] }, { template: a, records: [['1.1.1.1', '2.2.2.2']] }]),
      encodeV9(header, [{ templates: [a] }, { template: a, records: [['1.1.1.1', '2.2.2.2']] }]),
      encodeV9(header, [{ templates: [b] }, { template: b, records: [['2.2.2.2', '1.1.1.1']] }]),
    ]);
    assert.deepEqual(
      rows.map((r) => [r.src, r.dst]),
      [
        ['1.1.1.1', '2.2.2.2'],
        ['1.1.1.1', '2.2.2.2'],
        ['1.1.1.1', '2.2.2.2'],
      ],
    );
    assert.equal(decoder.stats.templates.learned.netflow9, 2);
    assert.equal(decoder.stats.templates.refreshed.netflow9, 1);
    assert.equal(decoder.stats.templates.active.netflow9, 1);
  });

  test('a flood of templates from one exporter stays within maxPerExporter and maxTotal', () => {
    const decoder = createFlowDecoder(config({ templates: { maxPerExporter: 50, maxTotal: 120 } }));
    const fields = IPFIX_TEMPLATE_V4.fields;
    for (let i = 0; i < 2000; i++) {
      const templates = Array.from({ length: 10 }, (_, k) => ({ id: 256 + ((i * 10 + k) % 65000), fields }));
      decodeAll(decoder, [encodeV9({ sysUptime: 0, unixSecs: T0, sourceId: i % 7 }, [{ templates }])], {
        exporter: `10.0.${i % 3}.1`,
      });
    }
    assert.ok(decoder.stats.templates.active.netflow9 <= 120);
    assert.ok(decoder.stats.templates.evicted.netflow9 >= 20_000 - 120);
    const state = decoder.exportState();
    for (const exporter of ['10.0.0.1', '10.0.1.1', '10.0.2.1']) {
      const held = state.domains
        .filter((d) => d.exporter === exporter)
        .reduce((n, d) => n + d.templates.length, 0);
      assert.ok(held <= 50, `${exporter} holds ${held}`);
    }
  });
});

describe('ipfix', () => {
  test('round trip of v4 and v6 flows with absolute ms times', () => {
    const decoder = createFlowDecoder(config());
    const rows = decodeAll(decoder, [encodeIpfixFlows(flows, { exportTime: T0, domain: 9 })]);
    const v4 = flows.filter((f) => !f.src.includes(':'));
    const v6 = flows.filter((f) => f.src.includes(':'));
    assert.deepEqual(rows.map(pick), expectFlows([...v4, ...v6]));
    assert.ok(rows.every((r) => r.version === 10));
  });

  test('counter fallbacks: octetDeltaCount, else octetTotalCount, else initiatorOctets, else postOctetDeltaCount', () => {
    const cases: [number[], number][] = [
      [[IE.octetTotalCount, IE.octetDeltaCount], 2],
      [[IE.postOctetDeltaCount, IE.octetTotalCount], 2],
      [[IE.postOctetDeltaCount, IE.initiatorOctets], 2],
      [[IE.postOctetDeltaCount], 1],
    ];
    for (const [ids, winner] of cases) {
      const tpl: EncodeTemplate = {
        id: 500,
        fields: [
          { id: 8, length: 4 },
          { id: 12, length: 4 },
          ...ids.map((id) => ({ id, length: 4 })),
          { id: IE.packetTotalCount, length: 4 },
          { id: IE.initiatorPackets, length: 4 },
        ],
      };
      const values = ids.map((_, i) => (i + 1) * 1000);
      const [row] = decodeAll(createFlowDecoder(config()), [
        encodeIpfix({ exportTime: T0 }, [
          { templates: [tpl] },
          { template: tpl, records: [['1.1.1.1', '2.2.2.2', ...values, 5, 6]] },
        ]),
      ]);
      assert.equal(row!.bytes, winner * 1000, ids.join(','));
      assert.equal(row!.packets, 5, 'packetTotalCount before initiatorPackets');
    }
  });

  test('reduced-size encoding: 1-8 byte counters, exact below 2^53', () => {
    for (const length of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const max = length >= 7 ? Number.MAX_SAFE_INTEGER : 2 ** (8 * length) - 1;
      const tpl: EncodeTemplate = {
        id: 600,
        fields: [
          { id: 8, length: 4 },
          { id: 12, length: 4 },
          { id: IE.octetDeltaCount, length },
          { id: IE.packetDeltaCount, length },
          { id: IE.sourceTransportPort, length: 1 },
          { id: IE.protocolIdentifier, length: 2 },
        ],
      };
      const value = Math.min(max, 2 ** (8 * length - 1) + 3);
      const [row] = decodeAll(createFlowDecoder(config()), [
        encodeIpfix({ exportTime: T0 }, [
          { templates: [tpl] },
          { template: tpl, records: [['1.1.1.1', '2.2.2.2', max, value, 80, 17]] },
        ]),
      ]);
      assert.equal(row!.bytes, max, `length ${length}`);
      assert.equal(row!.packets, value);
      assert.equal(row!.srcPort, 80);
      assert.equal(row!.proto, 17);
    }
  });

  test('variable-length and enterprise fields are skipped with offsets kept right', () => {
    const tpl: EncodeTemplate = {
      id: 700,
      fields: [
        { id: 96, length: VARIABLE_LENGTH }, // applicationName
        { id: IE.sourceIPv4Address, length: 4 },
        { id: 1, length: 4, enterprise: 29305 }, // enterprise element 1 is NOT octetDeltaCount
        { id: 82, length: VARIABLE_LENGTH }, // interfaceName
        { id: IE.destinationIPv4Address, length: 4 },
        { id: IE.octetDeltaCount, length: 8 },
        { id: 7, length: VARIABLE_LENGTH, enterprise: 9 },
        { id: IE.destinationTransportPort, length: 2 },
      ],
    };
    const long = 'x'.repeat(300); // forces the 3-byte length form
    const payload = encodeIpfix({ exportTime: T0 }, [
      { templates: [tpl] },
      {
        template: tpl,
        records: [
          ['http', '10.1.1.1', 777, long, '10.2.2.2', 5000, Buffer.alloc(0), 80],
          ['', '10.1.1.3', 1, 'eth0', '10.2.2.4', 6, 'zz', 443],
        ],
      },
    ]);
    const decoder = createFlowDecoder(config());
    const rows = decodeAll(decoder, [payload]);
    assert.deepEqual(
      rows.map((r) => [r.src, r.dst, r.bytes, r.dstPort, r.srcPort]),
      [
        ['10.1.1.1', '10.2.2.2', 5000, 80, 0],
        ['10.1.1.3', '10.2.2.4', 6, 443, 0],
      ],
    );
    assert.equal(errorTotal(decoder.stats), 0);
  });

  test('withdrawal of one template and of all templates (id 2)', () => {
    const data = encodeIpfixFlows(flows, { exportTime: T0, withTemplate: false });
    const decoder = createFlowDecoder(config());
    decodeAll(decoder, [encodeIpfixFlows([], { exportTime: T0 })]);
    assert.equal(decodeAll(decoder, [data]).length, 3);
    decodeAll(decoder, [encodeIpfix({ exportTime: T0 }, [{ withdraw: [256] }])]);
    assert.equal(decoder.stats.templates.active.ipfix, 1);
    assert.equal(decodeAll(decoder, [data]).length, 1, 'only the v6 template is left');
    decodeAll(decoder, [encodeIpfix({ exportTime: T0 }, [{ withdraw: [2] }])]);
    assert.equal(decoder.stats.templates.active.ipfix, 0);
    assert.equal(decoder.stats.templates.withdrawn.ipfix, 2);
    assert.equal(decodeAll(decoder, [data]).length, 0);
  });
});

describe('ipfix', () => {
  test('time fields: seconds, NTP micro/nanoseconds, delta microseconds, durations, observation time', () => {
    const ms = T0 * 1000 - 4321;
    const ntp = (epochMs: number) =>
      (BigInt(Math.floor(epochMs / 1000) + NTP_UNIX_OFFSET_S) << 32n) +
      (BigInt(epochMs % 1000) << 32n) / 1000n +
      1n;
    const base = [
      { id: 8, length: 4 },
      { id: 12, length: 4 },
    ];
    const cases: [string, { id: number; length: number }[], (number | bigint)[], number, number][] = [
      [
        'seconds',
        [
          { id: IE.flowStartSeconds, length: 4 },
          { id: IE.flowEndSeconds, length: 4 },
        ],
        [T0 - 10, T0 - 2],
        (T0 - 10) * 1000,
        (T0 - 2) * 1000,
      ],
      [
        'NTP us',
        [
          { id: IE.flowStartMicroseconds, length: 8 },
          { id: IE.flowEndMicroseconds, length: 8 },
        ],
        [ntp(ms), ntp(ms + 250)],
        ms,
        ms + 250,
      ],
      [
        'NTP ns',
        [
          { id: IE.flowStartNanoseconds, length: 8 },
          { id: IE.flowEndNanoseconds, length: 8 },
        ],
        [ntp(ms), ntp(ms + 7)],
        ms,
        ms + 7,
      ],
      [
        'delta us',
        [
          { id: IE.flowStartDeltaMicroseconds, length: 4 },
          { id: IE.flowEndDeltaMicroseconds, length: 4 },
        ],
        [9_000_000, 1_000_000],
        T0 * 1000 - 9000,
        T0 * 1000 - 1000,
      ],
      [
        'start + duration ms',
        [
          { id: IE.flowStartMilliseconds, length: 8 },
          { id: IE.flowDurationMilliseconds, length: 4 },
        ],
        [ms, 1500],
        ms,
        ms + 1500,
      ],
      [
        'end + duration us',
        [
          { id: IE.flowEndMilliseconds, length: 8 },
          { id: IE.flowDurationMicroseconds, length: 4 },
        ],
        [ms, 2_000_000],
        ms - 2000,
        ms,
      ],
      ['observation time', [{ id: IE.observationTimeMilliseconds, length: 8 }], [ms], ms, ms],
      ['nothing: export time', [], [], T0 * 1000, T0 * 1000],
    ];
    for (const [name, fields, values, start, end] of cases) {
      const tpl: EncodeTemplate = { id: 800, fields: [...base, ...fields] };
      const [row] = decodeAll(createFlowDecoder(config()), [
        encodeIpfix({ exportTime: T0 }, [
          { templates: [tpl] },
          { template: tpl, records: [['1.1.1.1', '2.2.2.2', ...values]] },
        ]),
      ]);
      assert.deepEqual([row!.startMs, row!.endMs], [start, end], name);
    }
  });

  test('sysUpTime fields resolve against systemInitTimeMilliseconds from options data', () => {
    const initMs = T0 * 1000 - 86_400_000;
    const opts: EncodeTemplate = {
      id: 900,
      scopeCount: 1,
      fields: [
        { id: 149, length: 4 },
        { id: IE.systemInitTimeMilliseconds, length: 8 },
      ],
    };
    const tpl: EncodeTemplate = {
      id: 901,
      fields: [
        { id: 8, length: 4 },
        { id: 12, length: 4 },
        { id: IE.flowStartSysUpTime, length: 4 },
        { id: IE.flowEndSysUpTime, length: 4 },
      ],
    };
    const decoder = createFlowDecoder(config());
    const before = decodeAll(decoder, [
      encodeIpfix({ exportTime: T0 }, [
        { templates: [tpl] },
        { template: tpl, records: [['1.1.1.1', '2.2.2.2', 1000, 2000]] },
      ]),
    ]);
    assert.deepEqual(
      [before[0]!.startMs, before[0]!.endMs],
      [T0 * 1000, T0 * 1000],
      'unknown init time: export time',
    );
    const rows = decodeAll(decoder, [
      encodeIpfix({ exportTime: T0 }, [
        { optionsTemplates: [opts] },
        { template: opts, records: [[1, initMs]] },
        { template: tpl, records: [['1.1.1.1', '2.2.2.2', 1000, 2000]] },
      ]),
    ]);
    assert.deepEqual([rows[0]!.startMs, rows[0]!.endMs], [initMs + 1000, initMs + 2000]);
  });
});

describe('ipfix', () => {
  test('sampling: selector options (packet interval/space) per selector id, record samplingInterval wins', () => {
    const opts: EncodeTemplate = {
      id: 950,
      scopeCount: 1,
      fields: [
        { id: IE.selectorId, length: 8 },
        { id: IE.samplingPacketInterval, length: 4 },
        { id: IE.samplingPacketSpace, length: 4 },
      ],
    };
    const tpl: EncodeTemplate = {
      id: 951,
      fields: [
        { id: 8, length: 4 },
        { id: 12, length: 4 },
        { id: IE.packetDeltaCount, length: 4 },
        { id: IE.selectorId, length: 8 },
      ],
    };
    const decoder = createFlowDecoder(config({ defaultSamplingRate: 3 }));
    const rows = decodeAll(decoder, [
      encodeIpfix({ exportTime: T0, domain: 1 }, [
        { optionsTemplates: [opts] },
        { templates: [tpl] },
        {
          template: opts,
          records: [
            [5n, 1, 99],
            [6n, 1, 0],
          ],
        },
        {
          template: tpl,
          records: [
            ['1.1.1.1', '2.2.2.2', 1, 5n],
            ['1.1.1.1', '2.2.2.2', 1, 6n],
            ['1.1.1.1', '2.2.2.2', 1, 7n],
          ],
        },
      ]),
    ]);
    assert.deepEqual(
      rows.map((r) => [r.samplingRate, r.packets]),
      [
        [100, 100],
        [1, 1],
        [3, 3],
      ],
    );
    // Learned state survives export / import into a fresh decoder.
    const restored = createFlowDecoder(config({ defaultSamplingRate: 3 }));
    restored.importState(JSON.parse(JSON.stringify(decoder.exportState())));
    const again = decodeAll(restored, [
      encodeIpfix({ exportTime: T0, domain: 1 }, [
        { template: tpl, records: [['1.1.1.1', '2.2.2.2', 2, 5n]] },
      ]),
    ]);
    assert.deepEqual(
      again.map((r) => [r.samplingRate, r.packets]),
      [[100, 200]],
    );
  });

  test('importState rejects data that is not decoder state', () => {
    const decoder = createFlowDecoder(config());
    assert.throws(() => decoder.importState({ format: 'nope' }), InputError);
    assert.throws(
      () => decoder.importState({ format: 'tsunagi-flow-decoder-state/1', domains: [{ exporter: 'x' }] }),
      InputError,
    );
  });
});

describe('dispatch and metrics', () => {
  test('unknown versions and short payloads are counted, never thrown', () => {
    const decoder = createFlowDecoder(config());
    const writer = new FlowBatchWriter(() => {});
    const source = { exporter: '192.0.2.1', exporterPort: 1, receivedMs: 0 };
    for (const p of [
      Buffer.alloc(0),
      Buffer.from([0, 5]),
      Buffer.from([0, 7, 0, 0, 0, 0]),
      Buffer.from([0, 9, 0, 1]),
    ]) {
      assert.equal(decoder.decode(p, source, writer), 0);
    }
    assert.deepEqual(decoder.stats.errors.unknown, { empty: 1, too_short: 1, unknown_version: 1 });
    assert.equal(decoder.stats.errors.netflow9.header_truncated, 1);
  });

  test('metrics read the counters at scrape time', async () => {
    const registry = new Registry();
    const decoder = createFlowDecoder(config(), { registry });
    decodeAll(decoder, [
      encodeV9Flows(flows, { unixSecs: T0, sysUptime: 3_600_000 }),
      Buffer.from([0, 7, 0, 0]),
    ]);
    const text = await registry.metrics();
    assert.match(text, /tsunagi_flow_packets_total\{protocol="netflow9"\} 1/);
    assert.match(text, /tsunagi_flow_records_total\{protocol="netflow9"\} 3/);
    assert.match(text, /tsunagi_flow_decode_errors_total\{protocol="unknown",kind="unknown_version"\} 1/);
    assert.match(text, /tsunagi_flow_templates\{protocol="netflow9"\} 2/);
    assert.match(text, /tsunagi_flow_pending_total\{outcome="held"\} 0/);
  });
});
