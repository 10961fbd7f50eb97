/**
 * SHA-256 of executables, streamed through one reused buffer (an executable is never held in
 * memory whole), rate-limited by a token bucket, and cached by what identifies the file's
 * bytes: device, inode, size and modification time. A process of an executable already hashed
 * costs one stat.
 */
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { TokenBucket } from './token-bucket.ts';

const CHUNK_BYTES = 64 * 1024;

export interface HasherOptions {
  /** Bytes a second the hasher may read, averaged (the budget's hashMbPerS). */
  bytesPerSecond: number;
  /** Entries the cache keeps before it forgets the oldest. */
  cacheEntries?: number;
  /** Files larger than this are not hashed (counted as skipped). */
  maxFileBytes?: number;
}

export class ExecutableHasher {
  private readonly bucket: TokenBucket;
  private readonly cache = new Map<string, string>();
  private readonly cacheEntries: number;
  private readonly maxFileBytes: number;
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  /** One read at a time: the shared buffer and the rate limit assume it. */
  private queue: Promise<unknown> = Promise.resolve();
  hashedBytes = 0;
  hashedFiles = 0;
  cacheHits = 0;
  failures = 0;
  skippedLarge = 0;

  constructor(options: HasherOptions) {
    this.bucket = new TokenBucket(options.bytesPerSecond, Math.min(options.bytesPerSecond, 4 * 1024 * 1024));
    this.cacheEntries = options.cacheEntries ?? 4096;
    this.maxFileBytes = options.maxFileBytes ?? 512 * 1024 * 1024;
  }

  setRate(bytesPerSecond: number): void {
    this.bucket.setRate(bytesPerSecond);
  }

  /** Forgets the older half of the cached digests (the memory budget asks for it). */
  trimCache(): void {
    let excess = Math.floor(this.cache.size / 2);
    for (const key of this.cache.keys()) {
      if (excess-- <= 0) break;
      this.cache.delete(key);
    }
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  /** The file's SHA-256 hex, or undefined when it cannot be read. `path` may be /proc/PID/exe. */
  sha256(path: string): Promise<string | undefined> {
    const run = this.queue.then(() => this.hashOne(path));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async hashOne(path: string): Promise<string | undefined> {
    let key: string;
    let size: number;
    try {
      const info = await stat(path, { bigint: true });
      if (!info.isFile()) return undefined;
      size = Number(info.size);
      key = `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}`;
    } catch {
      this.failures++;
      return undefined;
    }
    const cached = this.cache.get(key);
    if (cached) {
      this.cacheHits++;
      return cached;
    }
    if (size > this.maxFileBytes) {
      this.skippedLarge++;
      return undefined;
    }
    const digest = await this.stream(path);
    if (digest === undefined) return undefined;
    if (this.cache.size >= this.cacheEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, digest);
    return digest;
  }

  private async stream(path: string): Promise<string | undefined> {
    const hash = createHash('sha256');
    let handle;
    try {
      handle = await open(path, 'r');
      while (true) {
        await this.bucket.take(CHUNK_BYTES);
        const { bytesRead } = await handle.read(this.buffer, 0, CHUNK_BYTES, null);
        if (bytesRead === 0) break;
        hash.update(this.buffer.subarray(0, bytesRead));
        this.hashedBytes += bytesRead;
      }
      this.hashedFiles++;
      return hash.digest('hex');
    } catch {
      this.failures++;
      return undefined;
    } finally {
      await handle?.close();
    }
  }
}
