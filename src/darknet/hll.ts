/**
 * Small HyperLogLog sketches stored as slices of one shared Uint8Array, so thousands of
 * counters cost no objects. Register counts are powers of two; merging is a register max.
 */

/**
 * A 32-bit integer mix (murmur3 finaliser): spreads address and port bits over all 32 bits.
 * The result is a signed 32-bit integer (use `>>> 0` for the unsigned value): it stays a small
 * integer to V8, so passing it to a call that is not inlined allocates nothing.
 */
export function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Adds a hashed value to the sketch of `registers` (power of two, `bits` = log2) at `offset`. */
export function hllAdd(regs: Uint8Array, offset: number, bits: number, hash: number): void {
  const index = hash >>> (32 - bits);
  // Rank of the first set bit in the remaining bits; a guard bit keeps it bounded.
  const rank = Math.clz32(((hash << bits) | (1 << (bits - 1))) >>> 0) + 1;
  const at = offset + index;
  if (rank > regs[at]!) regs[at] = rank;
}

/** Estimates the distinct count of one sketch (with the small-range linear-counting correction). */
const INVERSE_POWERS = Float64Array.from({ length: 64 }, (_, r) => 2 ** -r);

export function hllCount(regs: Uint8Array, offset: number, registers: number): number {
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < registers; i++) {
    const r = regs[offset + i]!;
    sum += INVERSE_POWERS[r]!;
    if (r === 0) zeros++;
  }
  const alpha =
    registers <= 16
      ? 0.673
      : registers <= 32
        ? 0.697
        : registers <= 64
          ? 0.709
          : 0.7213 / (1 + 1.079 / registers);
  const raw = (alpha * registers * registers) / sum;
  if (raw <= 2.5 * registers && zeros > 0) return Math.round(registers * Math.log(registers / zeros));
  return Math.round(raw);
}

/** target |= source, register-wise. */
export function hllMerge(
  target: Uint8Array,
  targetOffset: number,
  source: Uint8Array,
  sourceOffset: number,
  registers: number,
): void {
  for (let i = 0; i < registers; i++) {
    const r = source[sourceOffset + i]!;
    if (r > target[targetOffset + i]!) target[targetOffset + i] = r;
  }
}

/**
 * target |= source over registers packed four to a 32-bit word (registers below 128): a per-byte
 * max without unpacking. Bit 7 of each byte of `(a | 0x80808080) - b` is set exactly where the
 * byte of a >= the byte of b (no borrow crosses a byte), which gives a per-byte select mask.
 */
export function hllMergeWords(
  target: Uint32Array,
  targetOffset: number,
  source: Uint32Array,
  sourceOffset: number,
  words: number,
): void {
  for (let i = 0; i < words; i++) {
    const a = target[targetOffset + i]!;
    const b = source[sourceOffset + i]!;
    if (a === b) continue;
    const high = ((a | 0x80808080) - b) & 0x80808080;
    const keepA = (high - (high >>> 7)) | high;
    target[targetOffset + i] = ((a & keepA) | (b & ~keepA)) >>> 0;
  }
}
