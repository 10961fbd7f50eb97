import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { mix32, mixInts } from './hash.ts';

describe('mix32', () => {
  test('is murmur3 fmix32 (reference values), unsigned', () => {
    assert.equal(mix32(0), 0);
    assert.equal(mix32(1), 0x514e28b7);
    assert.equal(mix32(2), 0x30f4c306);
    assert.equal(mix32(0xc0a80001), 0xa3d2bba6);
    assert.equal(mix32(0xffffffff), 0x81f16f39);
    assert.equal(mix32(-1), 0x81f16f39, 'only the low 32 bits count');
  });

  test('the signed and unsigned forms the darknet and the detector used carry the same bits', () => {
    // darknet's mix32 returned `h | 0`, detect's `h >>> 0`: every use is a bitwise one.
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), (v) => {
        const h = mix32(v);
        assert.ok(h >= 0 && h <= 0xffffffff);
        assert.equal(h | 0, signedFmix32(v));
      }),
    );
  });
});

describe('mixInts', () => {
  test('draws the same values as the scenario address plan always did', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), { maxLength: 6 }),
        (seed, values) => assert.equal(mixInts(seed, values), scenarioFold(seed, values)),
      ),
    );
    assert.equal(mixInts(0x9e3779b9, []), 0x9e3779b9);
  });

  test('order matters', () => {
    assert.notEqual(mixInts(1, [2, 3]), mixInts(1, [3, 2]));
  });
});

/** The darknet's former mix32. */
function signedFmix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** The fold src/scenario/seeded/plan.ts had before it used mixInts. */
function scenarioFold(seed: number, values: readonly number[]): number {
  let h = seed;
  for (const v of values) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
