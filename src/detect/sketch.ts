/** Small fixed-size helpers for per-destination state: address hashing and HyperLogLog counting. */

/** 32-bit finaliser (murmur3 fmix32): spreads nearby addresses across the hash space. */
export function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Salted hash of an IPv4 address (the salt keeps hashes meaningless outside this process). */
export function hashAddress4(address: number, salt: number): number {
  return mix32((address ^ salt) + 0x9e3779b9);
}

/** Salted hash of 16 address bytes at `offset`. */
export function hashAddress6(bytes: Uint8Array, offset: number, salt: number): number {
  let h = salt | 0;
  for (let i = 0; i < 16; i += 4) {
    const word =
      (bytes[offset + i]! << 24) |
      (bytes[offset + i + 1]! << 16) |
      (bytes[offset + i + 2]! << 8) |
      bytes[offset + i + 3]!;
    h = mix32(h ^ word) + 0x9e3779b9;
  }
  return mix32(h);
}

/**
 * Adds a hash to the HyperLogLog registers `registers[offset .. offset + 2^bits)`.
 * Returns true when a register changed.
 */
export function hllAdd(registers: Uint8Array, offset: number, bits: number, hash: number): boolean {
  const index = hash >>> (32 - bits);
  const rest = (hash << bits) >>> 0;
  // Rank: position of the first 1 bit in the remaining bits (capped when they are all zero).
  const rank = rest === 0 ? 33 - bits : Math.clz32(rest) + 1;
  const slot = offset + index;
  if (rank > registers[slot]!) {
    registers[slot] = rank;
    return true;
  }
  return false;
}

/** 2^-rank for every rank a register can hold (a table beats a division per register). */
const INVERSE_POWERS = Float64Array.from({ length: 64 }, (_, r) => Math.pow(2, -r));

/** Cardinality estimate from HyperLogLog registers, with linear counting for small sets. */
export function hllEstimate(registers: Uint8Array, offset: number, bits: number): number {
  const m = 1 << bits;
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < m; i++) {
    const r = registers[offset + i]!;
    sum += INVERSE_POWERS[r]!;
    if (r === 0) zeros++;
  }
  const alpha = m === 16 ? 0.673 : m === 32 ? 0.697 : m === 64 ? 0.709 : 0.7213 / (1 + 1.079 / m);
  const raw = (alpha * m * m) / sum;
  if (raw <= 2.5 * m && zeros > 0) return m * Math.log(m / zeros);
  return raw;
}
