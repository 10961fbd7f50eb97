/**
 * The batch path without TLS: capped inflation (a zip bomb and an oversized body stop at their
 * caps), and a seeded fuzz of inflate + parse + accept where only the documented refusals may
 * come out (InflateError, or a 400/403/409 answer), never a throw.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { acceptBatch, type BatchDeps } from './batches.ts';
import { inflateCapped, InflateError } from './inflate.ts';
import { createSensorMetrics } from './metrics.ts';
import { encodeBatchBody, GENESIS_HASH, type SensorEvent } from './protocol.ts';
import { saveEnrolment } from './store.ts';
import { openSensorTestDb } from './testing.ts';

const limits = { maxCompressed: 64 * 1024, maxInflated: 256 * 1024 };

function chunked(bytes: Buffer, size = 4096): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

async function reasonOf(bytes: Buffer): Promise<string> {
  try {
    await inflateCapped(chunked(bytes), limits);
    return 'ok';
  } catch (error) {
    assert.ok(error instanceof InflateError, String(error));
    return error.reason;
  }
}

test('inflation stops at either cap and names why', async () => {
  assert.equal(await reasonOf(gzipSync(Buffer.alloc(100_000, 0x41))), 'ok');
  assert.equal(await reasonOf(gzipSync(Buffer.alloc(64 * 1024 * 1024))), 'inflated-too-large');
  // Incompressible bytes: valid gzip, but more than the compressed cap on the wire.
  assert.equal(await reasonOf(gzipSync(randomBytes(limits.maxCompressed * 2))), 'compressed-too-large');
  assert.equal(await reasonOf(Buffer.from('not gzip at all')), 'not-gzip');
});

test('fuzz: random and mutated batches end in a documented refusal, never a throw', async () => {
  const db = await openSensorTestDb();
  const sensorId = 'e'.repeat(64);
  await saveEnrolment(
    db,
    {
      id: sensorId,
      org: 'mic',
      hostname: 'h',
      platform: 'linux',
      bundle_digest: 'a'.repeat(64),
      cert_sha256: 'f'.repeat(64),
    },
    new Date(),
  );
  const deps: BatchDeps = {
    db,
    metrics: createSensorMetrics(new Registry()),
    now: () => new Date(),
    knownC2: () => new Set(['192.0.2.1:443']),
    onObservations: () => {},
  };
  const events: SensorEvent[] = [
    {
      type: 'socket.open',
      at: Date.now(),
      pid: 1,
      proto: 'tcp',
      local: '10.0.0.1:1',
      remote: '192.0.2.1:443',
    },
    { type: 'ioc.match', at: Date.now(), ioc: 'c2.example.net', kind: 'domain' },
  ];
  const valid = encodeBatchBody(
    { sensorId, seq: 1, prevHash: GENESIS_HASH, count: 2, policyVersion: 1 },
    events,
  );
  let seed = 0xc0ffee;
  const random = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const outcomes = new Map<string, number>();
  for (let i = 0; i < 600; i++) {
    let body: Buffer;
    if (i % 3 === 0) {
      body = Buffer.alloc(Math.floor(random() * 300));
      for (let j = 0; j < body.length; j++) body[j] = Math.floor(random() * 256);
    } else {
      body = Buffer.from(valid);
      for (let k = 0; k < 1 + Math.floor(random() * 3); k++)
        body[Math.floor(random() * body.length)] = Math.floor(random() * 256);
    }
    let gz = gzipSync(body);
    if (i % 5 === 0) {
      gz = Buffer.from(gz);
      gz[Math.floor(random() * gz.length)] = Math.floor(random() * 256);
    }
    let outcome: string;
    try {
      const inflated = await inflateCapped(chunked(gz, 64), limits);
      outcome = String((await acceptBatch(deps, { id: sensorId, org: 'mic' }, inflated)).status);
    } catch (error) {
      assert.ok(error instanceof InflateError, `unexpected ${String(error)}`);
      outcome = error.reason;
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  for (const outcome of outcomes.keys()) assert.match(outcome, /^(200|400|403|409|not-gzip)$/);
  assert.ok((outcomes.get('400') ?? 0) > 100, JSON.stringify([...outcomes]));
  await db.destroy();
});
