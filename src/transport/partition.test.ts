/** Tests of partitioning: every row exactly once, both directions and all clients of a server together, spread, stability. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FlowBatch, ipv4FromString, ipv6FromString, PrefixSet } from '../core/index.ts';
import {
  assignPartitions,
  balancePartitions,
  groupRows,
  keyHash4,
  keyHash6,
  partitionBatch,
  partitionOfRow,
  type PartitionOptions,
} from './partition.ts';
import { assertSameRow, batchArbitrary } from './testing.ts';

const SUBS = new PrefixSet(['10.0.0.0/8', '2001:db8:1::/48']);

/** A contact between a subscriber and an external host, as the forward and the reply row. */
interface Contact {
  v6: boolean;
  inside: number;
  outside: number;
  insidePort: number;
  outsidePort: number;
  proto: number;
}

const contactArbitrary: fc.Arbitrary<Contact> = fc.record({
  v6: fc.boolean(),
  inside: fc.integer({ min: 0, max: 0xffffff }),
  outside: fc.integer({ min: 0x0b000000, max: 0xdfffffff }), // never inside 10/8
  insidePort: fc.integer({ min: 0, max: 65535 }),
  outsidePort: fc.integer({ min: 0, max: 65535 }),
  proto: fc.constantFrom(6, 17, 1),
});

function v6Of(prefix: string, value: number): Uint8Array {
  const bytes = ipv6FromString(prefix);
  new DataView(bytes.buffer).setUint32(12, value);
  return bytes;
}

function setRow(batch: FlowBatch, c: Contact, reply: boolean): number {
  const r = batch.addRow(0, 10);
  const insideAddress = c.v6 ? v6Of('2001:db8:1::', c.inside) : (0x0a000000 | c.inside) >>> 0;
  const outsideAddress = c.v6 ? v6Of('2001:db8:ff::', c.outside) : c.outside;
  const [src, dst] = reply ? [outsideAddress, insideAddress] : [insideAddress, outsideAddress];
  if (c.v6) {
    batch.ipVersion[r] = 6;
    batch.src6.set(src as Uint8Array, r * 16);
    batch.dst6.set(dst as Uint8Array, r * 16);
  } else {
    batch.src4[r] = src as number;
    batch.dst4[r] = dst as number;
  }
  batch.srcPort[r] = reply ? c.outsidePort : c.insidePort;
  batch.dstPort[r] = reply ? c.insidePort : c.outsidePort;
  batch.proto[r] = c.proto;
  batch.startMs[r] = r; // marks the row, to check identity after partitioning
  return r;
}

function contactsBatch(contacts: readonly Contact[]): FlowBatch {
  const batch = new FlowBatch(contacts.length * 2);
  batch.exporterIndex('192.0.2.1');
  for (const c of contacts) {
    setRow(batch, c, false);
    setRow(batch, c, true);
  }
  return batch;
}

describe('partitionBatch', () => {
  test('every row lands in exactly one partition, unchanged and in order', () => {
    fc.assert(
      fc.property(
        batchArbitrary,
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        (batch, partitions, withSubs) => {
          const options: PartitionOptions = withSubs ? { subscribers: SUBS } : {};
          const parts = partitionBatch(batch, partitions, options);
          assert.equal(parts.length, partitions);
          assert.equal(
            parts.reduce((sum, p) => sum + p.length, 0),
            batch.length,
          );
          const next = new Array<number>(partitions).fill(0);
          for (let r = 0; r < batch.length; r++) {
            const p = partitionOfRow(batch, r, partitions, options);
            const part = parts[p]!;
            assert.deepEqual(part.exporters, batch.exporters);
            assertSameRow(batch, r, part, next[p]!++);
          }
          next.forEach((n, p) => assert.equal(n, parts[p]!.length));
        },
      ),
      { numRuns: 200 },
    );
  });

  test('with subscriber prefixes, both directions of a contact share a partition, keyed by the external side', () => {
    fc.assert(
      fc.property(fc.array(contactArbitrary, { minLength: 1, maxLength: 100 }), (contacts) => {
        const batch = contactsBatch(contacts);
        const parts = partitionBatch(batch, 4, { subscribers: SUBS });
        const where = new Map<number, number>();
        parts.forEach((part, p) => {
          for (let r = 0; r < part.length; r++) where.set(part.startMs[r]!, p);
        });
        for (let i = 0; i < contacts.length; i++) {
          assert.equal(where.get(2 * i), where.get(2 * i + 1), `contact ${i}`);
          const c = contacts[i]!;
          const expected = c.v6
            ? keyHash6(v6Of('2001:db8:ff::', c.outside), 0, 0, c.proto) % 4
            : keyHash4(c.outside, 0, c.proto) % 4;
          assert.equal(where.get(2 * i), expected);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('all clients of one server share its partition, whichever way their flows were exported', () => {
    const server: Contact = {
      v6: false,
      inside: 0,
      outside: ipv4FromString('198.51.100.7'),
      insidePort: 0,
      outsidePort: 4444,
      proto: 6,
    };
    const contacts = Array.from({ length: 300 }, (_, i) => ({
      ...server,
      inside: i * 7919,
      insidePort: 1024 + i,
    }));
    const batch = contactsBatch(contacts);
    const parts = partitionBatch(batch, 8, { subscribers: SUBS });
    assert.deepEqual(
      parts.map((p) => p.length).filter((n) => n > 0),
      [600],
    );
  });

  test('without subscribers, the service-port rule is symmetric; destination keys on dst only', () => {
    fc.assert(
      fc.property(
        fc.array(contactArbitrary, { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 2, max: 16 }),
        (contacts, n) => {
          const batch = contactsBatch(contacts);
          for (let i = 0; i < contacts.length; i++) {
            const a = partitionOfRow(batch, 2 * i, n, { unknownSide: 'service-port' });
            const b = partitionOfRow(batch, 2 * i + 1, n, { unknownSide: 'service-port' });
            assert.equal(a, b);
            const c = contacts[i]!;
            if (!c.v6) {
              const forward = partitionOfRow(batch, 2 * i, n);
              assert.equal(forward, keyHash4(c.outside, 0, c.proto) % n);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('service-port rule: the lower port is the key side (clients of a well-known port share it)', () => {
    const batch = new FlowBatch(2);
    const c: Contact = {
      v6: false,
      inside: 5,
      outside: ipv4FromString('203.0.113.9'),
      insidePort: 50123,
      outsidePort: 23,
      proto: 6,
    };
    setRow(batch, c, false);
    setRow(batch, c, true);
    const expected = keyHash4(c.outside, 0, 6) % 16;
    assert.equal(partitionOfRow(batch, 0, 16, { unknownSide: 'service-port' }), expected);
    assert.equal(partitionOfRow(batch, 1, 16, { unknownSide: 'service-port' }), expected);
  });

  test('keys spread evenly over partitions', () => {
    const contacts = Array.from({ length: 20_000 }, (_, i) => ({
      v6: i % 3 === 0,
      inside: i,
      outside: 0x30000000 + i * 13,
      insidePort: 40000,
      outsidePort: 443 + (i % 7),
      proto: 6,
    }));
    const parts = partitionBatch(contactsBatch(contacts), 4, { subscribers: SUBS });
    for (const part of parts) {
      const share = part.length / (contacts.length * 2);
      assert.ok(share > 0.23 && share < 0.27, `share ${share}`);
    }
  });

  test('the hash is part of the wire contract: fixed values for fixed keys', () => {
    // Collectors of different versions must agree on where a key goes; a change here is a
    // protocol change and needs a new subject scheme. The values were computed independently
    // with a reference MurmurHash3_x86_32 (seed 0x7473756e) over the little-endian words
    // [address (v4) or its four big-endian words (v6), port << 8 | proto].
    assert.equal(keyHash4(ipv4FromString('192.0.2.1'), 443, 6), 2813840195);
    assert.equal(keyHash6(ipv6FromString('2001:db8::1'), 0, 53, 17), 3660546566);
  });
});

describe('partitionBatch', () => {
  test('groupRows orders row indices by partition without allocating', () => {
    const batch = contactsBatch(fc.sample(contactArbitrary, { numRuns: 100, seed: 5 }));
    const ids = new Uint16Array(batch.length);
    const counts = new Uint32Array(5);
    assignPartitions(batch, 5, ids, counts, { subscribers: SUBS });
    const rows = new Uint32Array(batch.length);
    const offsets = new Uint32Array(6);
    groupRows(ids, batch.length, counts, 5, rows, offsets);
    assert.equal(offsets[5], batch.length);
    const seen = new Set<number>();
    for (let p = 0; p < 5; p++) {
      assert.equal(offsets[p + 1]! - offsets[p]!, counts[p]);
      let last = -1;
      for (let k = offsets[p]!; k < offsets[p + 1]!; k++) {
        const r = rows[k]!;
        assert.equal(ids[r], p);
        assert.ok(r > last, 'stable order');
        last = r;
        seen.add(r);
      }
    }
    assert.equal(seen.size, batch.length);
  });

  test('bad partition counts are refused', () => {
    const batch = new FlowBatch(1);
    assert.throws(() => partitionBatch(batch, 0), RangeError);
    assert.throws(() => partitionBatch(batch, 1.5), RangeError);
    assert.throws(() => partitionBatch(batch, 100_000), RangeError);
  });
});

test('balancePartitions: every partition owned once, heaviest spread first, same answer for the same loads', () => {
  const loads = [17, 16, 9, 8, 8, 7, 6, 6, 5, 4, 4, 3, 3, 2, 1, 1];
  const owned = balancePartitions(loads, 2);
  assert.deepEqual(
    owned.flat().sort((a, b) => a - b),
    loads.map((_, p) => p),
  );
  const totals = owned.map((list) => list.reduce((sum, p) => sum + loads[p]!, 0));
  assert.ok(Math.abs(totals[0]! - totals[1]!) <= 1, `balanced: ${totals.join('/')}`);
  assert.deepEqual(balancePartitions(loads, 2), owned);
  // One key heavier than all the rest together cannot be split: its worker gets it alone.
  assert.deepEqual(balancePartitions([100, 1, 1, 1], 2), [[0], [1, 2, 3]]);
  assert.throws(() => balancePartitions(loads, 0), RangeError);
});
