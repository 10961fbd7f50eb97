/**
 * Fuzzing the decoder front door with mutated real payloads (bit flips, truncations, length
 * tweaks, duplicated sets, random bytes): it must never throw, never write more rows than the
 * input can hold, and keep template and pending state within its bounds.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FlowBatchWriter } from '../../core/index.ts';
import { DecoderConfig } from '../config.ts';
import { createFlowDecoder, type FlowDecoder } from './decoder.ts';
import {
  encodeIpfixFlows,
  encodeNetflow5Flows,
  encodeV9,
  encodeV9Flows,
  type SimpleFlow,
} from '../encode.ts';
import { LOGSTASH, TELEGRAF } from '../testdata/corpus.ts';

function corpus(): Buffer[] {
  const out: Buffer[] = [];
  for (const f of readdirSync(LOGSTASH).sort())
    if (f.endsWith('.dat')) out.push(readFileSync(join(LOGSTASH, f)));
  for (const d of readdirSync(TELEGRAF).sort()) {
    const dir = join(TELEGRAF, d);
    if (d.startsWith('sflow') || !existsSync(join(dir, 'expected.out'))) continue;
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.bin')) out.push(readFileSync(join(dir, f)));
  }
  return out;
}

const T0 = 1_700_000_000;
const flows: SimpleFlow[] = Array.from({ length: 6 }, (_, i) => ({
  src: i % 3 === 2 ? `2001:db8::${i + 1}` : `10.0.0.${i + 1}`,
  dst: i % 3 === 2 ? '2001:db8::ff' : '192.0.2.1',
  srcPort: 1000 + i,
  dstPort: 443,
  proto: 6,
  packets: i + 1,
  bytes: 100 * (i + 1),
  startMs: T0 * 1000 - 1000,
  endMs: T0 * 1000,
}));
// Encoded payloads join the corpus so every family has well-formed seeds.
const seeds = [
  ...corpus(),
  encodeNetflow5Flows(
    flows.filter((f) => !f.src.includes(':')),
    { unixSecs: T0, sysUptime: 100_000 },
  ),
  encodeV9Flows(flows, { unixSecs: T0, sysUptime: 100_000 }),
  encodeIpfixFlows(flows, { exportTime: T0 }),
];
const byVersion = (v: number) => seeds.filter((s) => s.length >= 2 && s.readUInt16BE(0) === v);
const families: [string, Buffer[], number][] = [
  ['netflow v5', byVersion(5), 25_000],
  ['netflow v9', byVersion(9), 35_000],
  ['ipfix', byVersion(10), 35_000],
];

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'u16'; at: number; value: number }
  | { kind: 'duplicate'; from: number; length: number }
  | { kind: 'bytes'; at: number; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  // Length fields sit early (headers) or at set boundaries: favour small offsets and extreme values.
  fc.record({
    kind: fc.constant('u16' as const),
    at: fc.oneof(fc.nat(64), fc.nat()),
    value: fc.oneof(fc.constantFrom(0, 1, 3, 4, 255, 256, 0x7fff, 0xffff), fc.nat(0xffff)),
  }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    from: fc.nat(),
    length: fc.integer({ min: 1, max: 400 }),
  }),
  fc.record({
    kind: fc.constant('bytes' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }),
  }),
);

function mutate(seed: Buffer, mutations: Mutation[]): Buffer {
  let b = Buffer.from(seed);
  for (const m of mutations) {
    if (b.length === 0) break;
    switch (m.kind) {
      case 'flip':
        b[m.at % b.length]! ^= 1 << m.bit;
        break;
      case 'truncate':
        b = b.subarray(0, m.at % (b.length + 1));
        break;
      case 'u16': {
        if (b.length < 2) break;
        b.writeUInt16BE(m.value, m.at % (b.length - 1));
        break;
      }
      case 'duplicate': {
        const from = m.from % b.length;
        b = Buffer.concat([b, b.subarray(from, from + m.length)]);
        break;
      }
      case 'bytes':
        b.set(m.bytes.subarray(0, Math.max(0, b.length - (m.at % b.length))), m.at % b.length);
        break;
    }
  }
  return b;
}

const smallConfig = DecoderConfig.parse({
  templates: { maxPerExporter: 32, maxTotal: 64 },
  pending: { maxSets: 16, maxBytes: 64 * 1024, ttlMs: 1000 },
});

function checkBounds(decoder: FlowDecoder): void {
  const s = decoder.stats;
  assert.equal(s.errors.unknown.internal, undefined, 'no decoder exception was swallowed');
  assert.ok(s.templates.active.netflow9 + s.templates.active.ipfix <= 64 * 2, 'templates bounded');
  assert.ok(s.pending.waiting <= 16 && s.pending.waitingBytes <= 64 * 1024, 'pending bounded');
}

describe('fuzz: mutated corpus through decode()', () => {
  for (const [name, family, numRuns] of families) {
    test(`${name}: ${numRuns} mutated payloads`, () => {
      assert.ok(family.length > 0, `seeds for ${name}`);
      const decoder = createFlowDecoder(smallConfig);
      let rowsSeen = 0;
      const writer = new FlowBatchWriter((batch) => (rowsSeen += batch.length), 512);
      let now = 0;
      fc.assert(
        fc.property(
          fc.nat(family.length - 1),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          fc.boolean(),
          (index, mutations, warmUp) => {
            const source = { exporter: `192.0.2.${index % 4}`, exporterPort: 2055, receivedMs: (now += 10) };
            // Half the runs first feed the clean seed so templates are known when the mutant arrives.
            if (warmUp) decoder.decode(family[index]!, source, writer);
            const payload = mutate(family[index]!, mutations);
            const rows = decoder.decode(payload, source, writer);
            // A row consumes at least one byte of this payload or of a held set.
            assert.ok(rows >= 0 && rows <= payload.length + 64 * 1024, `rows ${rows}`);
            if (now % 1000 === 0) decoder.expire(now);
            checkBounds(decoder);
          },
        ),
        { numRuns, seed: 20240601 + numRuns },
      );
      writer.flush();
      assert.ok(rowsSeen > 0, 'the clean and lightly damaged payloads still produce rows');
    });
  }

  test('random bytes after a valid version number', () => {
    const decoder = createFlowDecoder(smallConfig);
    const writer = new FlowBatchWriter(() => {}, 512);
    fc.assert(
      fc.property(fc.constantFrom(5, 9, 10, 0, 7), fc.uint8Array({ maxLength: 1500 }), (version, body) => {
        const payload = Buffer.concat([Buffer.from([version >> 8, version & 255]), body]);
        decoder.decode(payload, { exporter: '192.0.2.9', exporterPort: 1, receivedMs: 0 }, writer);
        checkBounds(decoder);
      }),
      { numRuns: 10_000, seed: 7 },
    );
  });

  test('a flood of 100k distinct templates from one exporter stays under maxPerExporter', () => {
    const decoder = createFlowDecoder(
      DecoderConfig.parse({ templates: { maxPerExporter: 100, maxTotal: 1000 } }),
    );
    const writer = new FlowBatchWriter(() => {});
    const fields = [
      { id: 8, length: 4 },
      { id: 12, length: 4 },
    ];
    const perPacket = 5000;
    for (let sent = 0; sent < 100_000; sent += perPacket) {
      const templates = Array.from({ length: perPacket }, (_, k) => ({
        id: 256 + ((sent + k) % 65280),
        fields,
      }));
      const payload = encodeV9({ sysUptime: 0, unixSecs: T0, sourceId: sent }, [{ templates }]);
      decoder.decode(payload, { exporter: '203.0.113.1', exporterPort: 2055, receivedMs: 0 }, writer);
    }
    assert.equal(decoder.stats.templates.learned.netflow9, 100_000);
    assert.equal(decoder.stats.templates.active.netflow9, 100);
    assert.equal(decoder.stats.templates.evicted.netflow9, 100_000 - 100);
  });
});
