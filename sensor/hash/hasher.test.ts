import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ExecutableHasher } from './hasher.ts';
import { TokenBucket } from './token-bucket.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-hasher-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('ExecutableHasher', () => {
  it('streams the SHA-256 and caches it by device, inode, size and mtime', async () => {
    const file = join(dir, 'prog');
    const bytes = randomBytes(300_000);
    writeFileSync(file, bytes);
    const hasher = new ExecutableHasher({ bytesPerSecond: 1e9 });
    const expected = createHash('sha256').update(bytes).digest('hex');
    assert.equal(await hasher.sha256(file), expected);
    assert.equal(await hasher.sha256(file), expected);
    assert.equal(hasher.hashedFiles, 1);
    assert.equal(hasher.cacheHits, 1);
    assert.equal(hasher.hashedBytes, 300_000);
    // The same size and inode with another mtime is another file's content.
    const other = randomBytes(300_000);
    writeFileSync(file, other);
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    assert.equal(await hasher.sha256(file), createHash('sha256').update(other).digest('hex'));
    assert.equal(hasher.hashedFiles, 2);
  });

  it('answers undefined for what cannot be read, and counts it', async () => {
    const hasher = new ExecutableHasher({ bytesPerSecond: 1e9 });
    assert.equal(await hasher.sha256(join(dir, 'missing')), undefined);
    assert.equal(await hasher.sha256(dir), undefined);
    assert.equal(hasher.failures, 1);
  });

  it('saves its digests and, loaded by a new hasher, answers from them without reading the file', async () => {
    const file = join(dir, 'saved');
    const bytes = randomBytes(200_000);
    writeFileSync(file, bytes);
    const first = new ExecutableHasher({ bytesPerSecond: 1e9 });
    assert.equal(first.dirty, false);
    const digest = await first.sha256(file);
    assert.equal(first.dirty, true);
    const saved = JSON.parse(JSON.stringify(first.save())) as unknown;
    assert.equal(first.dirty, false);
    const restarted = new ExecutableHasher({ bytesPerSecond: 1e9 });
    assert.equal(restarted.load(saved), 1);
    assert.equal(restarted.lookup(file)?.sha256, digest);
    assert.equal(await restarted.sha256(file), digest);
    assert.equal(restarted.hashedBytes, 0);
    // A damaged file gives what is well formed and nothing else.
    assert.equal(restarted.load([['k', 'not hex'], 'junk', ['k2', 'a'.repeat(64)]]), 1);
    assert.equal(restarted.load({ not: 'a list' }), 0);
  });

  it('keeps to its rate: 3 MB at 1 MB/s, with a small burst, takes at least 2 s', async () => {
    const file = join(dir, 'big');
    writeFileSync(file, randomBytes(3_000_000));
    const hasher = new ExecutableHasher({ bytesPerSecond: 1_000_000 });
    const started = performance.now();
    await hasher.sha256(file);
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds >= 1.9, `1 MB/s hashed 3 MB in ${seconds} s`);
  });
});

describe('TokenBucket', () => {
  it('waits for the tokens it lacks, at its rate', async () => {
    let now = 0;
    const waits: number[] = [];
    const bucket = new TokenBucket(
      1000,
      1000,
      () => now,
      async (ms) => {
        waits.push(ms);
        now += ms;
      },
    );
    await bucket.take(1000);
    assert.deepEqual(waits, []);
    await bucket.take(500);
    assert.deepEqual(waits, [500]);
    now += 2000; // idle time refills only up to the burst
    await bucket.take(1500);
    assert.deepEqual(waits, [500, 500]);
  });
});
