/**
 * HyperLogLog distinct counting over plain register arrays: a sketch is `2^bits` one-byte
 * registers at an offset in a shared Uint8Array, so thousands of counters cost no objects
 * (darknet sources, detector destinations). Feed it well-spread 32-bit hashes (core/hash.ts):
 * the top `bits` bits pick the register, the rank of the first set bit in the rest is kept.
 * Sketches of the same size merge by a register-wise max.
 */

/**
 * Adds a 32-bit hash to the sketch of `2^bits` registers at `offset` (bits >= 4: the estimate's constants start at 16 registers).
 * Returns true when a register rose (the estimate may have changed).
 */
export function hllAdd(registers: Uint8Array, offset: number, bits: number, hash: number): boolean {
  const index = hash >>> (32 - bits);
  const rest = (hash << bits) >>> 0;
  // Rank of the first set bit in the remaining bits; all-zero rests rank one past the last bit.
  const rank = rest === 0 ? 33 - bits : Math.clz32(rest) + 1;
  const slot = offset + index;
  if (rank > registers[slot]!) {
    registers[slot] = rank;
    return true;
  }
  return false;
}

const INVERSE_POWERS = Float64Array.from({ length: 64 }, (_, r) => 2 ** -r);

/** Distinct-count estimate of one sketch, with linear counting for small sets (not rounded). */
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

/** `hllEstimate` rounded to a whole count, for reports. */
export function hllCount(registers: Uint8Array, offset: number, bits: number): number {
  return Math.round(hllEstimate(registers, offset, bits));
}

/** target |= source over `registers` registers: the sketch of the union. */
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
 * hllMerge over registers packed four to a 32-bit word (every register below 128): a per-byte
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
