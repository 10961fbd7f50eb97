import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from './ratelimit.ts';

test('a bucket gives its burst, refills at its rate and says when to come back', () => {
  let now = 0;
  const limiter = new RateLimiter(2, 3, 100, () => now);
  assert.deepEqual(
    [1, 2, 3, 4].map(() => limiter.take('a')),
    [true, true, true, false],
  );
  assert.equal(limiter.retryAfter('a'), 1);
  assert.equal(limiter.take('b'), true, 'keys have their own buckets');
  now = 500; // half a second at 2/s: one token back
  assert.deepEqual([limiter.take('a'), limiter.take('a')], [true, false]);
  now = 60_000; // never more than the burst
  assert.deepEqual(
    [1, 2, 3, 4].map(() => limiter.take('a')),
    [true, true, true, false],
  );
});

test('the oldest key is forgotten when the limiter holds its maximum', () => {
  const limiter = new RateLimiter(1, 1, 2, () => 0);
  assert.equal(limiter.take('a'), true);
  assert.equal(limiter.take('b'), true);
  assert.equal(limiter.take('c'), true); // forgets a
  assert.equal(limiter.take('a'), true, 'a forgotten key starts with a full bucket');
  assert.equal(limiter.take('c'), false);
});
