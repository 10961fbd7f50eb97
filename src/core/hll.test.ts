import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { mix32 } from './hash.ts';
import { hllAdd, hllCount, hllEstimate, hllMerge, hllMergeWords } from './hll.ts';

describe('HyperLogLog over register arrays', () => {
  test('estimates within the expected error from 16 to 4096 registers', () => {
    for (const bits of [4, 6, 12]) {
      for (const n of [10, 1000, 100_000]) {
        const registers = new Uint8Array(1 << bits);
        for (let i = 0; i < n; i++) hllAdd(registers, 0, bits, mix32(i * 2654435761));
        // 1.04 / sqrt(m) is one standard error; allow four.
        const bound = 4 * (1.04 / Math.sqrt(1 << bits));
        const estimate = hllEstimate(registers, 0, bits);
        assert.ok(Math.abs(estimate - n) / n <= bound, `bits ${bits}, n ${n}: estimate ${estimate}`);
        assert.equal(hllCount(registers, 0, bits), Math.round(estimate));
      }
    }
  });

  test('an empty sketch counts 0; a repeated value counts once; add says when a register rose', () => {
    const registers = new Uint8Array(64);
    assert.equal(hllCount(registers, 0, 6), 0);
    assert.equal(hllAdd(registers, 0, 6, mix32(7)), true);
    assert.equal(hllAdd(registers, 0, 6, mix32(7)), false);
    assert.equal(hllCount(registers, 0, 6), 1);
  });

  test('rank: first set bit after the index bits, one past the last when none is set', () => {
    const registers = new Uint8Array(16);
    hllAdd(registers, 0, 4, 0x3fffffff); // index 3, rest 0b11...: rank 1
    hllAdd(registers, 0, 4, 0x50000000); // index 5, rest 0: rank 33 - 4
    hllAdd(registers, 0, 4, 0x70100000); // index 7, rest 0x01000000: rank 8
    assert.deepEqual([registers[3], registers[5], registers[7]], [1, 29, 8]);
  });

  test('sketches live at offsets in one shared array without touching their neighbours', () => {
    const shared = new Uint8Array(3 * 32);
    for (let i = 0; i < 500; i++) hllAdd(shared, 32, 5, mix32(i));
    assert.ok(shared.subarray(0, 32).every((r) => r === 0));
    assert.ok(shared.subarray(64).every((r) => r === 0));
    assert.ok(Math.abs(hllCount(shared, 32, 5) - 500) < 500 * 4 * (1.04 / Math.sqrt(32)));
  });

  test('merge (bytes and packed words) is the sketch of the union', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer(), { maxLength: 300 }),
        fc.array(fc.integer(), { maxLength: 300 }),
        (a, b) => {
          const sketch = (values: number[]) => {
            const r = new Uint8Array(64);
            for (const v of values) hllAdd(r, 0, 6, mix32(v));
            return r;
          };
          const union = sketch([...a, ...b]);
          const merged = sketch(a);
          hllMerge(merged, 0, sketch(b), 0, 64);
          assert.deepEqual(merged, union);
          const words = sketch(a);
          hllMergeWords(new Uint32Array(words.buffer), 0, new Uint32Array(sketch(b).buffer), 0, 16);
          assert.deepEqual(words, union);
        },
      ),
    );
  });
});
