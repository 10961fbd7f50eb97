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
 * MurmurHash3 x86_32's steps, for the callers that hash a key of their own layout (transport's
 * partition keys as big-endian words, the web room's favicon bytes as Shodan reads them):
 * `murmur3Scramble` of each 32-bit block, `murmur3Block` to fold a whole block into the running
 * hash (a partial tail block is only xored in, scrambled), `murmur3Final` with the key's length
 * in bytes. The result is unsigned; `| 0` gives Python mmh3's signed form.
 */
export function murmur3Scramble(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}

export function murmur3Block(h: number, k: number): number {
  h ^= murmur3Scramble(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

export function murmur3Final(h: number, length: number): number {
  return mix32(h ^ length);
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
