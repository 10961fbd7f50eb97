/**
 * SHA-256 of executables, streamed through one reused buffer (an executable is never held in
 * memory whole), rate-limited by a token bucket, and cached by what identifies the file's
 * bytes: device, inode, size and modification time. A process of an executable already hashed
 * costs one stat. The cache can be saved and loaded, so a restarted sensor does not hash again
 * what it hashed before.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { TokenBucket } from './token-bucket.ts';

const CHUNK_BYTES = 64 * 1024;
/** The bucket's burst: one read's worth, so hashing is spread evenly at the rate, never a 4 MB gulp. */
const BURST_BYTES = 4 * CHUNK_BYTES;

export interface HasherOptions {
  /** Bytes a second the hasher may read, averaged (the budget's hashMbPerS). */
  bytesPerSecond: number;
  /** Entries the cache keeps before it forgets the oldest. */
  cacheEntries?: number;
  /** Files larger than this are not hashed (counted as skipped). */
  maxFileBytes?: number;
}

/** What the cache is keyed by: the file's identity and version, not its path. */
export type FileKey = string;

/** The saved form of the cache: [key, sha256] pairs, oldest first. */
export type SavedDigests = [FileKey, string][];

export class ExecutableHasher {
  private readonly bucket: TokenBucket;
  private readonly cache = new Map<FileKey, string>();
  private readonly cacheEntries: number;
  private readonly maxFileBytes: number;
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  /** One read at a time: the shared buffer and the rate limit assume it. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Files waiting for (or in) the stream: what a scan has not got a digest for yet. */
  private waiting = 0;
  private stopped = false;
  /** Ends a wait for tokens at stop(), so a stopping sensor does not sit out a long sleep. */
  private readonly stopping = new AbortController();
  /** Changed since the last save(): the caller writes the cache only then. */
  dirty = false;
  hashedBytes = 0;
  hashedFiles = 0;
  cacheHits = 0;
  failures = 0;
  skippedLarge = 0;

  constructor(options: HasherOptions) {
    this.bucket = new TokenBucket(
      options.bytesPerSecond,
      Math.min(options.bytesPerSecond, BURST_BYTES),
      undefined,
      (ms) => sleep(ms, undefined, { signal: this.stopping.signal }),
    );
    this.cacheEntries = options.cacheEntries ?? 4096;
    this.maxFileBytes = options.maxFileBytes ?? 512 * 1024 * 1024;
  }

  setRate(bytesPerSecond: number): void {
    this.bucket.setRate(bytesPerSecond);
  }

  /** Ends the hashing under way and what is queued (each answers undefined): the sensor is stopping. */
  stop(): void {
    this.stopped = true;
    this.stopping.abort();
  }

  /** Forgets the older half of the cached digests (the memory budget asks for it). */
  trimCache(): void {
    let excess = Math.floor(this.cache.size / 2);
    for (const key of this.cache.keys()) {
      if (excess-- <= 0) break;
      this.cache.delete(key);
    }
    this.dirty = true;
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  /** Files queued for hashing and not done yet. */
  get pending(): number {
    return this.waiting;
  }

  /** The cache as it can be written to disk (load() takes it back). */
  save(): SavedDigests {
    this.dirty = false;
    return [...this.cache];
  }

  /** Takes back a saved cache; malformed entries are skipped, the newest kept when it is too long. */
  load(saved: unknown): number {
    if (!Array.isArray(saved)) return 0;
    let loaded = 0;
    for (const entry of saved.slice(-this.cacheEntries)) {
      if (!Array.isArray(entry) || entry.length !== 2) continue;
      const [key, digest] = entry as unknown[];
      if (typeof key !== 'string' || typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest)) continue;
      this.cache.set(key, digest);
      loaded++;
    }
    return loaded;
  }

  /**
   * The file's key and, when the cache knows it, its digest: one stat, no read. `path` may be
   * /proc/PID/exe (stat follows it to the executable). Undefined when the file cannot be seen.
   */
  lookup(path: string): { key: FileKey; size: number; sha256?: string } | undefined {
    try {
      const info = statSync(path, { bigint: true });
      if (!info.isFile()) return undefined;
      const key = `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}`;
      const sha256 = this.cache.get(key);
      if (sha256) this.cacheHits++;
      return { key, size: Number(info.size), ...(sha256 ? { sha256 } : {}) };
    } catch {
      this.failures++;
      return undefined;
    }
  }

  /** The file's SHA-256 hex, or undefined when it cannot be read. `path` may be /proc/PID/exe. */
  async sha256(path: string): Promise<string | undefined> {
    const found = this.lookup(path);
    if (!found) return undefined;
    if (found.sha256) return found.sha256;
    return this.hashLater(path, found);
  }

  /** Streams a file the cache does not know, after the files queued before it, at the rate. */
  hashLater(path: string, found: { key: FileKey; size: number }): Promise<string | undefined> {
    if (found.size > this.maxFileBytes) {
      this.skippedLarge++;
      return Promise.resolve(undefined);
    }
    this.waiting++;
    const run = this.queue.then(async () => {
      try {
        // Another process of the same file may have been hashed while this one waited.
        return this.cache.get(found.key) ?? (await this.stream(path, found.key));
      } finally {
        this.waiting--;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private remember(key: FileKey, digest: string): void {
    if (this.cache.size >= this.cacheEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, digest);
    this.dirty = true;
  }

  private async stream(path: string, key: FileKey): Promise<string | undefined> {
    if (this.stopped) return undefined;
    const hash = createHash('sha256');
    let handle;
    try {
      handle = await open(path, 'r');
      // The file the path names now must be the one looked up (an exec may have replaced it).
      const info = await handle.stat({ bigint: true });
      if (`${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}` !== key) {
        this.failures++;
        return undefined;
      }
      while (true) {
        await this.bucket.take(CHUNK_BYTES);
        const { bytesRead } = await handle.read(this.buffer, 0, CHUNK_BYTES, null);
        if (bytesRead === 0) break;
        if (this.stopped) return undefined;
        hash.update(this.buffer.subarray(0, bytesRead));
        this.hashedBytes += bytesRead;
      }
      this.hashedFiles++;
      const digest = hash.digest('hex');
      this.remember(key, digest);
      return digest;
    } catch {
      if (!this.stopped) this.failures++;
      return undefined;
    } finally {
      await handle?.close();
    }
  }
}
