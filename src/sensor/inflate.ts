/**
 * Reads a gzip body from a stream with two caps: compressed bytes as they arrive, inflated bytes
 * as gunzip produces them. Neither is ever held beyond its cap (a zip bomb stops at the first
 * chunk past it), and every failure is an InflateError with the reason counted by the caller.
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export type InflateReason = 'compressed-too-large' | 'inflated-too-large' | 'not-gzip';

export class InflateError extends Error {
  constructor(readonly reason: InflateReason) {
    super(reason);
  }
}

export function inflateCapped(
  source: Readable,
  limits: { maxCompressed: number; maxInflated: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const gunzip = createGunzip();
    const chunks: Buffer[] = [];
    let compressed = 0;
    let inflated = 0;
    let settled = false;
    const fail = (reason: InflateReason) => {
      if (settled) return;
      settled = true;
      source.unpipe(gunzip);
      gunzip.destroy();
      // What is left of the body is read and dropped, so the answer can still be sent.
      source.resume();
      reject(new InflateError(reason));
    };
    source.on('data', (chunk: Buffer) => {
      compressed += chunk.length;
      if (compressed > limits.maxCompressed) fail('compressed-too-large');
    });
    source.on('error', () => fail('not-gzip'));
    gunzip.on('data', (chunk: Buffer) => {
      inflated += chunk.length;
      if (inflated > limits.maxInflated) fail('inflated-too-large');
      else chunks.push(chunk);
    });
    gunzip.on('error', () => fail('not-gzip'));
    gunzip.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks, inflated));
    });
    source.pipe(gunzip);
  });
}
