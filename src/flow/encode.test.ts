/** The encoders round-trip through the decoder for arbitrary flows, and refuse values that do not fit. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DecoderConfig } from './config.ts';
import { createFlowDecoder } from './decoder/decoder.ts';
import {
  encodeIpfix,
  encodeIpfixFlows,
  encodeNetflow5Flows,
  encodeV9Flows,
  IPFIX_TEMPLATE_V4,
  type SimpleFlow,
} from './encode.ts';
import { decodeAll } from './testdata/rows.ts';

const T0 = 1_700_000_000;
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
// Eight plain hex groups (ipaddr.js reads "::0.0.0.0" as ::ffff:0:0, so no dotted tails).
const ipv6 = fc
  .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
  .map((w) => w.map((x) => x.toString(16)).join(':'));
const flow = (family: 4 | 6): fc.Arbitrary<SimpleFlow> =>
  fc.record({
    src: family === 4 ? ipv4 : ipv6,
    dst: family === 4 ? ipv4 : ipv6,
    srcPort: fc.nat(65535),
    dstPort: fc.nat(65535),
    proto: fc.nat(255),
    tcpFlags: fc.nat(255),
    packets: fc.nat(0xffffffff),
    bytes: fc.nat(0xffffffff),
    startMs: fc.integer({ min: T0 * 1000 - 3_600_000, max: T0 * 1000 }),
    endMs: fc.constant(T0 * 1000),
  });

const normalise = (text: string) =>
  text.includes(':') ? new URL(`http://[${text}]`).hostname.slice(1, -1) : text;
const key = (f: SimpleFlow) =>
  [
    normalise(f.src),
    normalise(f.dst),
    f.srcPort,
    f.dstPort,
    f.proto,
    f.tcpFlags,
    f.packets,
    f.bytes,
    f.startMs,
    f.endMs,
  ].join(' ');

test('decode(encode(flows)) == flows for v5, v9 and IPFIX', () => {
  fc.assert(
    fc.property(fc.array(flow(4), { maxLength: 30 }), fc.array(flow(6), { maxLength: 10 }), (v4, v6) => {
      const expected = [...v4, ...v6].map(key);
      const v9 = decodeAll(createFlowDecoder(DecoderConfig.parse({})), [
        encodeV9Flows([...v4, ...v6], { unixSecs: T0, sysUptime: 86_400_000 }),
      ]);
      const ipfix = decodeAll(createFlowDecoder(DecoderConfig.parse({})), [
        encodeIpfixFlows([...v4, ...v6], { exportTime: T0 }),
      ]);
      const v5 = decodeAll(createFlowDecoder(DecoderConfig.parse({})), [
        encodeNetflow5Flows(v4, { unixSecs: T0, sysUptime: 86_400_000 }),
      ]);
      const asKeys = (rows: typeof v9) => rows.map((r) => key({ ...r, tcpFlags: r.tcpFlags }));
      assert.deepEqual(asKeys(v9), expected);
      assert.deepEqual(asKeys(ipfix), expected);
      assert.deepEqual(asKeys(v5), v4.map(key));
    }),
    { numRuns: 300 },
  );
});

test('values that do not fit their field are refused', () => {
  const record = ['1.2.3.4', '5.6.7.8', 70000, 1, 6, 0, 0, 0, 1, 1, 0, 0];
  assert.throws(
    () => encodeIpfix({ exportTime: T0 }, [{ template: IPFIX_TEMPLATE_V4, records: [record] }]),
    RangeError,
  );
  assert.throws(
    () =>
      encodeIpfix({ exportTime: T0 }, [
        { template: IPFIX_TEMPLATE_V4, records: [['::1', ...record.slice(1)]] },
      ]),
    RangeError,
  );
  assert.throws(
    () => encodeIpfix({ exportTime: T0 }, [{ template: IPFIX_TEMPLATE_V4, records: [record.slice(1)] }]),
    RangeError,
  );
});
