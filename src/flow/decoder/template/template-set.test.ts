/**
 * The one template-set parser behind NetFlow v9 and IPFIX: the same template records give the
 * same templates and the same damage the same counted error in both protocols; only the record
 * header and IPFIX's enterprise bit differ.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DecoderConfig } from '../../config.ts';
import { encodeIpfix, encodeV9 } from '../../encode.ts';
import { decodeAll } from '../../testdata/rows.ts';
import { createFlowDecoder, type FlowDecoder } from '../decoder.ts';
import {
  IPFIX_OPTIONS_TEMPLATE_SET,
  IPFIX_TEMPLATE_SET,
  V9_OPTIONS_TEMPLATE_SET,
  V9_TEMPLATE_SET,
} from './template-set.ts';

const T0 = 1_700_000_000;
const u16 = (...values: number[]) => Buffer.from(values.flatMap((v) => [v >> 8, v & 255]));
const u32 = (v: number) => Buffer.from([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);

type Protocol = 'netflow9' | 'ipfix';
const PROTOCOLS: Protocol[] = ['netflow9', 'ipfix'];

/** One message with a raw template (or options template) set body. */
function templateMessage(protocol: Protocol, body: Buffer, options = false): Buffer {
  if (protocol === 'netflow9') {
    const rawSetId = options ? V9_OPTIONS_TEMPLATE_SET : V9_TEMPLATE_SET;
    return encodeV9({ sysUptime: 0, unixSecs: T0 }, [{ rawSetId, body }]);
  }
  const rawSetId = options ? IPFIX_OPTIONS_TEMPLATE_SET : IPFIX_TEMPLATE_SET;
  return encodeIpfix({ exportTime: T0 }, [{ rawSetId, body }]);
}

function decoded(messages: Buffer[]): FlowDecoder {
  const decoder = createFlowDecoder(DecoderConfig.parse({}));
  decodeAll(decoder, messages);
  return decoder;
}

/** A template both protocols read alike: addresses, ports, protocol, counters (no times). */
const FIELDS: [number, number][] = [
  [8, 4], // sourceIPv4Address
  [12, 4], // destinationIPv4Address
  [7, 2], // sourceTransportPort
  [11, 2], // destinationTransportPort
  [4, 1], // protocolIdentifier
  [2, 4], // packetDeltaCount
  [1, 4], // octetDeltaCount
];
const VALUES = ['10.0.0.1', '203.0.113.7', 51000, 443, 6, 12, 3400];

/** The template as a raw template record: id, field count, then id/length pairs. */
const typicalRecord = (id: number) =>
  Buffer.concat([u16(id, FIELDS.length), ...FIELDS.map(([f, l]) => u16(f, l))]);

describe('one template-set parser for v9 and IPFIX', () => {
  test('the same template record is learned by both, and decodes the same data', () => {
    const template = { id: 300, fields: FIELDS.map(([id, length]) => ({ id, length })) };
    const rows = (protocol: Protocol) => {
      const decoder = createFlowDecoder(DecoderConfig.parse({}));
      const data =
        protocol === 'netflow9'
          ? encodeV9({ sysUptime: 0, unixSecs: T0 }, [{ template, records: [VALUES] }])
          : encodeIpfix({ exportTime: T0 }, [{ template, records: [VALUES] }]);
      const out = decodeAll(decoder, [templateMessage(protocol, typicalRecord(300)), data]);
      assert.equal(decoder.stats.templates.learned[protocol], 1, protocol);
      assert.deepEqual(decoder.stats.errors[protocol], {}, protocol);
      return out.map(({ version: _, ...row }) => row);
    };
    const v9 = rows('netflow9');
    assert.equal(v9.length, 1);
    assert.deepEqual(rows('ipfix'), v9);
    assert.equal(v9[0]!.bytes, 3400);
  });

  const damage: [string, Buffer, string][] = [
    ['a field count beyond the set', u16(400, 9, 8, 4), 'template_truncated'],
    ['a reserved template id', Buffer.concat([u16(255, 1), u16(8, 4)]), 'template_id_reserved'],
  ];
  for (const [what, body, kind] of damage) {
    test(`${what} is counted as ${kind} by both`, () => {
      for (const protocol of PROTOCOLS) {
        const decoder = decoded([templateMessage(protocol, body)]);
        assert.equal(decoder.stats.errors[protocol][kind], 1, protocol);
        assert.equal(decoder.stats.templates.learned[protocol], 0, protocol);
      }
    });
  }

  test('padding after the last record ends the set quietly', () => {
    for (const protocol of PROTOCOLS) {
      const decoder = decoded([templateMessage(protocol, Buffer.concat([typicalRecord(301), u16(0, 0)]))]);
      assert.equal(decoder.stats.templates.learned[protocol], 1, protocol);
      assert.deepEqual(decoder.stats.errors[protocol], {}, protocol);
    }
  });

  test('record headers: v9 options give scope and option lengths in bytes, IPFIX a scope count', () => {
    // Scope: one 4-byte field (v9 scope type 1 system; IPFIX IE 149 observationDomainId);
    // option: samplingInterval (34), 4 bytes.
    const v9 = decoded([templateMessage('netflow9', u16(310, 4, 4, 1, 4, 34, 4), true)]);
    assert.equal(v9.stats.templates.learned.netflow9, 1);
    const ipfix = decoded([templateMessage('ipfix', u16(310, 2, 1, 149, 4, 34, 4), true)]);
    assert.equal(ipfix.stats.templates.learned.ipfix, 1);
    // Lengths that are not whole specifiers (v9) and a scope count beyond the fields (IPFIX).
    const v9Bad = decoded([templateMessage('netflow9', u16(311, 3, 4, 1, 4, 34, 4), true)]);
    assert.equal(v9Bad.stats.errors.netflow9.template_truncated, 1);
    const ipfixBad = decoded([templateMessage('ipfix', u16(311, 1, 2, 149, 4), true)]);
    assert.equal(ipfixBad.stats.errors.ipfix.template_scope_count, 1);
  });

  test('only IPFIX reads the enterprise bit; a field count of 0 withdraws only in IPFIX', () => {
    // Field 0x8000|100 with enterprise number 9 (4 extra bytes), then sourceIPv4Address.
    const enterprise = Buffer.concat([u16(320, 2, 0x8000 | 100, 4), u32(9), u16(8, 4)]);
    const ipfix = decoded([templateMessage('ipfix', enterprise)]);
    assert.equal(ipfix.stats.templates.learned.ipfix, 1);
    assert.deepEqual(ipfix.stats.errors.ipfix, {});
    const withdraw = decoded([
      templateMessage('ipfix', typicalRecord(330)),
      templateMessage('ipfix', u16(330, 0)),
    ]);
    assert.equal(withdraw.stats.templates.withdrawn.ipfix, 1);
    const v9 = decoded([templateMessage('netflow9', u16(330, 0))]);
    assert.equal(v9.stats.templates.withdrawn.netflow9, 0);
    assert.equal(v9.stats.errors.netflow9.template_empty, 1);
  });
});
