/** The two-generation source table agrees with a Map model for IPv4 and IPv6 keys, and a source's record survives its move. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parsePrefix } from '../core/index.ts';
import { D_PACKETS, F_MIRAI, RECORD_F64, RECORD_U32, SourceTable } from './sources.ts';

function v6Bytes(n: number): Uint8Array {
  return parsePrefix(`2001:db8:${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}::${n % 7}`).network6;
}

describe('source table generations', () => {
  test('thousands of repeat senders outgrow the first hot index and are all still found', () => {
    const table = new SourceTable(1 << 14, 0);
    const address = (i: number) => (i * 2654435761 + 7) >>> 0;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5000; i++) {
        const id = table.find4(address(i), true);
        assert.ok(id >= 0);
        table.f64[id * RECORD_F64 + D_PACKETS]!++;
      }
    }
    for (let i = 0; i < 5000; i++) {
      const id = table.find4(address(i), false);
      assert.ok(id >= table.limit, 'moved to the established generation');
      assert.equal(table.packets(id), 2);
    }
    assert.equal(table.find4(address(5000), false), -1);
  });

  test('mixed IPv4/IPv6 inserts, lookups and removes agree with a Map model; fields move with the source', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('insert', 'find', 'remove'), fc.boolean(), fc.nat(200)), {
          maxLength: 500,
        }),
        (ops) => {
          const table = new SourceTable(256, 0);
          // Model: key -> packets written into the record.
          const model = new Map<string, number>();
          for (const [op, six, n] of ops) {
            const key = `${six ? 6 : 4}/${n}`;
            const address = (n * 2654435761) >>> 0;
            const find = (insert: boolean) =>
              six ? table.find6(v6Bytes(n), insert) : table.find4(address, insert);
            if (op === 'insert') {
              const id = find(true);
              if (id < 0) {
                assert.ok(!model.has(key) && table.size >= table.limit);
                continue;
              }
              assert.equal(table.inserted, !model.has(key));
              // Count a packet and a fingerprint hit in the record, wherever it lives now.
              table.f64[id * RECORD_F64 + D_PACKETS]!++;
              table.u32[id * RECORD_U32 + F_MIRAI]!++;
              model.set(key, (model.get(key) ?? 0) + 1);
            } else {
              const id = find(false);
              assert.equal(id >= 0, model.has(key));
              if (id < 0) continue;
              assert.equal(table.packets(id), model.get(key));
              assert.equal(table.counter(id, F_MIRAI), model.get(key));
              assert.equal(table.familyOf(id), six ? 6 : 4);
              if (op === 'remove') {
                table.remove(id);
                model.delete(key);
              }
            }
            assert.equal(table.size, model.size);
          }
          // Every source is still found, with its own address and counts.
          let live = 0;
          const ranges = table.idRanges();
          for (let r = 0; r < ranges.length; r += 2)
            for (let id = ranges[r]!; id < ranges[r + 1]!; id++) if (table.familyOf(id) !== 0) live++;
          assert.equal(live, model.size);
          for (const [key, packets] of model) {
            const [family, text] = key.split('/');
            const n = Number(text);
            const id =
              family === '6' ? table.find6(v6Bytes(n), false) : table.find4((n * 2654435761) >>> 0, false);
            assert.ok(id >= 0);
            assert.equal(table.packets(id), packets);
            const address = table.addressOf(id);
            if (family === '4') {
              const a = (n * 2654435761) >>> 0;
              assert.equal(address, `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`);
            } else {
              assert.deepEqual(parsePrefix(address).network6, v6Bytes(n));
            }
          }
        },
      ),
      { numRuns: 150, seed: 11 },
    );
  });
});
