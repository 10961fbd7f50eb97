/**
 * The one 32-bit integer hash of the project: murmur3's finaliser (fmix32). Cheap, no state,
 * and every input bit reaches every output bit, so nearby addresses and ports land far apart in
 * hash tables, Bloom filters and HyperLogLog registers. It is not a keyed or cryptographic hash:
 * callers that must not be predictable from outside mix a per-process salt into the input.
 */

/**
 * murmur3 fmix32 of the low 32 bits of `value`, as an unsigned 32-bit integer.
 * In a hot loop whose result is passed to a call that is not inlined, `mix32(x) | 0` keeps it a
 * small integer to V8 (values of 2^31 and up would be boxed); the bits are the same.
 */
export function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Folds integers into one unsigned 32-bit hash, starting from `seed`: each step mixes the next
 * value into the running hash with `mix32`. The xor-shift before each `mix32` undoes mix32's own
 * first step (x ^ x >>> 16 is its own inverse), which keeps the values of the fold the seeded
 * scenario has always used, so the same seed still draws the same world.
 */
export function mixInts(seed: number, values: readonly number[]): number {
  let h = seed >>> 0;
  for (const value of values) {
    const x = h ^ (value >>> 0);
    h = mix32(x ^ (x >>> 16));
  }
  return h;
}
