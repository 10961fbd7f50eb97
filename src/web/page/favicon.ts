/**
 * Favicon hashes and the table of brands' icons. Two hashes of the same bytes: SHA-256 of the
 * icon (exact, collision-proof) and the Shodan-style `http.favicon.hash`, MurmurHash3 (x86,
 * 32-bit, seed 0, signed) of the icon's base64 in MIME lines (76 characters, each ending in a
 * newline, as Python's base64.encodebytes writes it): the value Shodan, Censys and FOFA search
 * by, so hashes published there can be added to the table as they are.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError, murmur3Block, murmur3Final, murmur3Scramble } from '../../core/index.ts';
import faviconData from './favicons.json' with { type: 'json' };

/** MurmurHash3 x86 32-bit of the bytes, as a signed 32-bit integer (Python mmh3.hash's form). */
export function murmur3x86(bytes: Uint8Array, seed = 0): number {
  let h = seed >>> 0;
  const whole = bytes.length & ~3;
  for (let i = 0; i < whole; i += 4) {
    h = murmur3Block(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  }
  const tail = bytes.length & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= bytes[whole + 2]! << 16;
    if (tail >= 2) k ^= bytes[whole + 1]! << 8;
    k ^= bytes[whole]!;
    h ^= murmur3Scramble(k);
  }
  return murmur3Final(h, bytes.length) | 0;
}

/** Base64 in MIME lines of 76 characters, each ending in `\n` (Python's base64.encodebytes). */
export function mimeBase64(bytes: Uint8Array): string {
  const flat = Buffer.from(bytes).toString('base64');
  let out = '';
  for (let i = 0; i < flat.length; i += 76) out += `${flat.slice(i, i + 76)}\n`;
  return out;
}

export interface FaviconHashes {
  sha256: string;
  /** Shodan's http.favicon.hash. */
  mmh3: number;
}

export function faviconHashes(bytes: Uint8Array): FaviconHashes {
  return {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    mmh3: murmur3x86(Buffer.from(mimeBase64(bytes), 'latin1')),
  };
}

/** One icon of the table: a brand (lexicon key) and at least one hash of its official icon. */
export const FaviconEntry = z
  .object({
    brand: z.string().min(1).max(100),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'lower-case hex of 64 digits')
      .optional(),
    mmh3: z.number().int().min(-2147483648).max(2147483647).optional(),
    /** Where the operator fetched it, and when. */
    source: z.string().max(500).optional(),
  })
  .strict()
  .refine((e) => e.sha256 !== undefined || e.mmh3 !== undefined, 'an icon needs sha256 or mmh3');
export type FaviconEntry = z.infer<typeof FaviconEntry>;

export const FaviconTable = z.object({ note: z.string().optional(), icons: z.array(FaviconEntry) }).strict();

/** The table shipped in favicons.json. */
export const FAVICONS: readonly FaviconEntry[] = FaviconTable.parse(faviconData).icons;

/**
 * The operator's table (same shape as favicons.json) joined to the shipped one; an InputError
 * (exit code 2) naming the file and the first problem when it cannot be read.
 */
export function loadFavicons(file: string, shipped: readonly FaviconEntry[] = FAVICONS): FaviconEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InputError(`cannot read the favicon table ${file}: ${(error as Error).message}`);
  }
  const parsed = FaviconTable.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`favicon table ${file}: ${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return [...shipped, ...parsed.data.icons];
}

/** The brand whose icon has these hashes (SHA-256 first, the exact one), or null. */
export function faviconBrand(hashes: FaviconHashes, icons: readonly FaviconEntry[]): string | null {
  return (
    icons.find((i) => i.sha256 === hashes.sha256)?.brand ??
    icons.find((i) => i.mmh3 === hashes.mmh3)?.brand ??
    null
  );
}
