/**
 * The centre end to end over real TLS on 127.0.0.1: a terminal with its own P-256 key enrols with
 * a one-time token (the CA pinned by the token's fingerprint), then uses mutual TLS with the
 * certificate the centre issued; every refusal the protocol names is walked, with its counter.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { createLogger } from '../core/index.ts';
import {
  createSensorCentre,
  createSensorReader,
  inviteSensor,
  revokeSensorById,
  SensorCentreConfig,
  type SensorCentre,
  type SensorObservation,
  type SensorTables,
} from './index.ts';
import {
  BatchAck,
  BatchConflict,
  IocListBody,
  PolicyBody,
  SENSOR_PATHS,
  verifyDocument,
  type SensorEvent,
} from './protocol.ts';
import { openSensorTestDb, TestSensor } from './testing.ts';

const BUNDLE = 'a'.repeat(64); // TestSensor's default digest
const C2 = '192.0.2.10:443';

async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return value?.value ?? 0;
}

interface Centre {
  dir: string;
  db: Kysely<SensorTables>;
  registry: Registry;
  centre: SensorCentre;
  url: string;
  caPem: string;
  observations: SensorObservation[];
  invite(org?: string, ttlMs?: number): Promise<string>;
  close(): Promise<void>;
}

async function startCentre(overrides: Partial<SensorCentreConfig> = {}): Promise<Centre> {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-sensor-'));
  const db = await openSensorTestDb();
  const registry = new Registry();
  const observations: SensorObservation[] = [];
  const config = SensorCentreConfig.parse({
    host: '127.0.0.1',
    port: 0,
    pkiDir: join(dir, 'pki'),
    bundleDigests: [BUNDLE],
    ...overrides,
  });
  const centre = createSensorCentre(config, {
    db,
    registry,
    logger: createLogger({ level: 'silent' }),
    iocSource: async () => ({ ipPorts: [C2], domains: ['c2.example.net'] }),
    onObservations: (batch) => observations.push(...batch),
  });
  await centre.start();
  const { port } = centre.address();
  return {
    dir,
    db,
    registry,
    centre,
    url: `https://127.0.0.1:${port}`,
    caPem: readFileSync(join(dir, 'pki', 'ca.pem'), 'utf8'),
    observations,
    invite: async (org = 'mic', ttlMs = 3_600_000) =>
      (await inviteSensor(db, join(dir, 'pki'), org, ttlMs)).token,
    async close() {
      await centre.stop();
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const now = Date.now();
const events: SensorEvent[] = [
  {
    type: 'process.start',
    at: now,
    pid: 4242,
    ppid: 1,
    exe: '/usr/bin/curl',
    sha256: 'c'.repeat(64),
    user: 'd'.repeat(64),
    startedAt: now,
  },
  {
    type: 'socket.open',
    at: now,
    pid: 4242,
    proto: 'tcp',
    local: '10.1.0.2:50000',
    remote: C2,
    state: 'ESTABLISHED',
  },
  { type: 'ioc.match', at: now, ioc: C2, kind: 'ip-port', pid: 4242, exe: '/usr/bin/curl' },
  {
    type: 'socket.open',
    at: now,
    pid: 7,
    proto: 'tcp6',
    local: '[2001:db8::2]:40000',
    remote: '[2001:db8::99]:443',
    state: 'SYN_SENT',
  },
  {
    type: 'sensor.status',
    at: now,
    cpuPercent: 0.4,
    rssMb: 41,
    hashedBytes: 1e6,
    sentBytesToday: 2048,
    spoolBytes: 0,
    droppedEvents: 0,
  },
];

// One centre for the tests below (each enrols its own sensors); the limits' tests start their own.
let c: Centre;
before(async () => {
  c = await startCentre();
});
after(() => c.close());

describe('sensor centre over TLS', () => {
  test('the CA key is private (0600) and openssl verifies an issued client certificate against the CA', async () => {
    assert.equal(statSync(join(c.dir, 'pki', 'ca.key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(join(c.dir, 'pki', 'policy.key.pem')).mode & 0o777, 0o600);
    const sensor = new TestSensor(c.url, c.caPem);
    assert.equal((await sensor.enrol(await c.invite())).status, 200);
    const cert = join(c.dir, 'client.pem');
    writeFileSync(cert, sensor.enrolment!.certificatePem);
    const verified = execFileSync('openssl', [
      'verify',
      '-CAfile',
      join(c.dir, 'pki', 'ca.pem'),
      '-purpose',
      'sslclient',
      cert,
    ]);
    assert.match(verified.toString(), /: OK/);
    const subject = execFileSync('openssl', ['x509', '-noout', '-subject', '-in', cert]).toString();
    assert.match(subject, new RegExp(`CN ?= ?${sensor.enrolment!.sensorId}`));
  });

  test('enrol, signed policy and IoC list, chained batches, statistics and observations', async () => {
    const sensor = new TestSensor(c.url, c.caPem);
    const enrolled = await sensor.enrol(await c.invite('mic'));
    assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
    const { policyPublicKeyPem, policy } = sensor.enrolment!;
    assert.equal(verifyDocument(policy, policyPublicKeyPem, PolicyBody).commandLines, false);
    const served = await sensor.get(SENSOR_PATHS.policy);
    assert.deepEqual(served.body, policy);
    const iocs = verifyDocument((await sensor.get(SENSOR_PATHS.iocs)).body, policyPublicKeyPem, IocListBody);
    assert.deepEqual(iocs.ipPorts, [C2]);
    assert.deepEqual(iocs.domains, ['c2.example.net']);

    const first = sensor.nextBatch(events);
    const ack = await sensor.send(events);
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    assert.deepEqual(BatchAck.parse(ack.body), { acceptedSeq: 1, hash: first.hash });
    assert.equal((await sensor.send(events.slice(0, 1))).status, 200);
    assert.equal(sensor.seq, 2);

    const reader = createSensorReader(c.db);
    const [daily] = await reader.daily(2);
    assert.deepEqual(
      daily && {
        org: daily.org,
        matches: daily.matches,
        connections: daily.connections,
        sockets: daily.sockets,
      },
      {
        org: 'mic',
        matches: 1,
        connections: 1,
        sockets: 2,
      },
    );
    assert.deepEqual(await reader.topIocs(2, 5), [{ ioc: C2, kind: 'ip-port', count: 1, orgs: 1 }]);
    const [org] = await reader.organisations();
    assert.equal(org?.online, 1);
    assert.ok((await counter(c.registry, 'tsunagi_sensor_sensors', { state: 'online' })) >= 1);
    // The connection and the sensor's own match name one C&C: one observation per IoC and batch.
    assert.deepEqual(
      c.observations.map((o) => [o.org, o.kind, o.ioc, o.via]),
      [['mic', 'ip-port', C2, 'socket.open']],
    );
    // Nothing of a command line, an executable path or a user is kept anywhere in the room's tables.
    const dump = JSON.stringify(
      await Promise.all(
        ['sensor_daily', 'sensor_ioc_hits', 'sensor_sensors'].map((t) =>
          c.db
            .selectFrom(t as 'sensor_daily')
            .selectAll()
            .execute(),
        ),
      ),
    );
    assert.equal(dump.includes('/usr/bin/curl'), false);
    assert.equal(dump.includes('d'.repeat(64)), false);
  });

  test('a token is single use, also under concurrent enrolments; wrong secret, expired, other CA refused', async () => {
    const token = await c.invite();
    const racers = [
      new TestSensor(c.url, c.caPem),
      new TestSensor(c.url, c.caPem),
      new TestSensor(c.url, c.caPem),
    ];
    const answers = await Promise.all(racers.map((s) => s.enrol(token)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 401, 401]);
    assert.equal((await new TestSensor(c.url, c.caPem).enrol(token)).status, 401);

    const fresh = await c.invite();
    const wrongSecret = fresh.replace(
      /\.([A-Za-z0-9_-]+)\.([0-9a-f]{64})$/,
      (_m, secret: string, ca: string) => `.${secret.slice(0, -2)}xx.${ca}`,
    );
    assert.equal((await new TestSensor(c.url, c.caPem).enrol(wrongSecret)).status, 401);
    assert.equal(
      (await new TestSensor(c.url, c.caPem).enrol(fresh)).status,
      200,
      'the right secret still works',
    );

    const expired = (await inviteSensor(c.db, join(c.dir, 'pki'), 'mic', 1000, new Date(Date.now() - 10_000)))
      .token;
    assert.equal((await new TestSensor(c.url, c.caPem).enrol(expired)).status, 401);
    assert.ok(
      (await counter(c.registry, 'tsunagi_sensor_rejections_total', {
        route: 'enroll',
        reason: 'bad-token',
      })) >= 4,
    );
  });

  test('a bad proof and an unknown bundle are refused without spending the token', async () => {
    const token = await c.invite();
    const sensor = new TestSensor(c.url, c.caPem);
    assert.equal((await sensor.enrol(token, 'e'.repeat(64))).status, 403);
    assert.equal((await sensor.enrol(token, `source:${'e'.repeat(64)}`)).status, 403);
    const impostor = new TestSensor(c.url, c.caPem);
    const { publicKeyPem } = new TestSensor(c.url, c.caPem);
    Object.defineProperty(impostor, 'publicKeyPem', { value: publicKeyPem });
    assert.equal((await impostor.enrol(token, BUNDLE)).status, 401);
    assert.equal(
      await counter(c.registry, 'tsunagi_sensor_rejections_total', { route: 'enroll', reason: 'bad-proof' }),
      1,
    );
    assert.equal((await sensor.enrol(token, BUNDLE)).status, 200);
  });
});

describe('sensor centre batches and routes', () => {
  test('a gap and a replay are 409 with the expected seq and hash; a tampered batch shows', async () => {
    const sensor = new TestSensor(c.url, c.caPem);
    await sensor.enrol(await c.invite());
    assert.equal((await sensor.send(events)).status, 200);
    const expected = { error: 'sequence', expectedSeq: 2, expectedPrevHash: sensor.prevHash };

    const gap = sensor.nextBatch(events);
    const gapBody = Buffer.from(gap.body.toString().replace('"seq":2', '"seq":3'));
    const gapAnswer = await sensor.postRaw(gzipSync(gapBody));
    assert.equal(gapAnswer.status, 409);
    assert.deepEqual(BatchConflict.parse(gapAnswer.body), expected);

    sensor.seq = 0;
    const saved = sensor.prevHash;
    sensor.prevHash = '0'.repeat(64);
    const replay = await sensor.send(events);
    assert.equal(replay.status, 409);
    assert.deepEqual(replay.body, expected);
    sensor.seq = 1;
    sensor.prevHash = saved;

    // A byte changed on the way (pid 4242 -> 4243) under a valid header: the centre's hash of what
    // it stored is not the sensor's, so the sensor's next batch, chained on its own hash, is refused.
    const sent = sensor.nextBatch(events);
    const changed = Buffer.from(sent.body.toString().replace('"pid":4242', '"pid":4243'));
    const tampered = await sensor.postRaw(gzipSync(changed));
    assert.equal(tampered.status, 200);
    assert.notEqual((tampered.body as { hash: string }).hash, sent.hash);
    sensor.seq = 2;
    sensor.prevHash = sent.hash;
    const next = await sensor.send(events);
    assert.equal(next.status, 409);
    assert.equal(
      (next.body as { expectedPrevHash: string }).expectedPrevHash,
      (tampered.body as { hash: string }).hash,
    );

    // A changed byte inside the gzip stream fails its CRC; a changed event fails validation.
    const corrupt = gzipSync(sensor.nextBatch(events).body);
    corrupt[corrupt.length - 6] = corrupt[corrupt.length - 6]! ^ 0xff;
    assert.equal((await sensor.postRaw(corrupt)).status, 400);
    const badEvent = Buffer.from(
      sensor.nextBatch(events).body.toString().replace('"proto":"tcp"', '"proto":"icmp"'),
    );
    assert.deepEqual((await sensor.postRaw(gzipSync(badEvent))).body, { error: 'format-event' });
    for (const reason of ['gap', 'replay', 'prev-hash', 'not-gzip', 'format-event'])
      assert.ok(
        (await counter(c.registry, 'tsunagi_sensor_rejections_total', { route: 'batches', reason })) >= 1,
        reason,
      );
  });

  test('a zip bomb stops at the cap with a counter; an oversized body is refused before inflating', async () => {
    const sensor = new TestSensor(c.url, c.caPem);
    await sensor.enrol(await c.invite());
    const header = JSON.stringify({
      sensorId: sensor.enrolment!.sensorId,
      seq: 1,
      prevHash: '0'.repeat(64),
      count: 1,
      policyVersion: 1,
    });
    const bomb = gzipSync(Buffer.concat([Buffer.from(`${header}\n`), Buffer.alloc(64 * 1024 * 1024, 0x20)]), {
      level: 9,
    });
    assert.ok(bomb.length < 1024 * 1024, `bomb is ${bomb.length} bytes compressed`);
    const answer = await sensor.postRaw(bomb);
    assert.equal(answer.status, 413);
    assert.deepEqual(answer.body, { error: 'inflated-too-large' });
    assert.equal(
      await counter(c.registry, 'tsunagi_sensor_rejections_total', {
        route: 'batches',
        reason: 'inflated-too-large',
      }),
      1,
    );
    const big = Buffer.alloc(1024 * 1024 + 10, 1);
    assert.equal((await sensor.postRaw(big)).status, 413);
    assert.equal((await sensor.postRaw(gzipSync('x'), { 'content-encoding': 'identity' })).status, 415);
    assert.equal((await sensor.send(events)).status, 200, 'the chain is where it was');
  });

  test("every route but enrolment refuses no certificate, another CA's certificate and a revoked sensor", async () => {
    const other = await startCentre();
    try {
      const stranger = new TestSensor(other.url, other.caPem);
      await stranger.enrol(await other.invite());
      const sensor = new TestSensor(c.url, c.caPem);
      await sensor.enrol(await c.invite());
      // Every route fastify registered (but enrolment), and two it did not (the 404 path).
      const routes: [string, string][] = [
        ...c.centre
          .routes()
          .filter((r) => !(r.method === 'POST' && r.url === SENSOR_PATHS.enroll))
          .map((r): [string, string] => [r.method, r.url]),
        ['GET', SENSOR_PATHS.enroll],
        ['GET', '/sensor/v1/unknown'],
      ];
      assert.ok(routes.length >= 5, JSON.stringify(routes));
      const { httpsCall } = await import('./testing.ts');
      const call = (tls: Parameters<typeof httpsCall>[1], [method, path]: [string, string]) =>
        httpsCall(`${c.url}${path}`, tls, {
          method,
          headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
          body: method === 'POST' ? gzipSync(sensor.nextBatch(events).body) : undefined,
        });
      for (const route of routes) {
        assert.equal((await call({ ca: c.caPem }, route)).status, 401, `${route} without a certificate`);
        const wrong = { ca: c.caPem, key: stranger.privateKey, cert: stranger.enrolment!.certificatePem };
        assert.equal((await call(wrong, route)).status, 401, `${route} with another CA's certificate`);
        assert.notEqual((await call(sensor.tls, route)).status, 401, `${route} with its certificate`);
      }
      assert.equal(
        await revokeSensorById(c.db, sensor.enrolment!.sensorId.slice(0, 12)),
        sensor.enrolment!.sensorId,
      );
      for (const route of routes)
        assert.equal((await call(sensor.tls, route)).status, 403, `${route} revoked`);
      const again = new TestSensor(c.url, c.caPem);
      Object.assign(again, { privateKey: sensor.privateKey, publicKeyPem: sensor.publicKeyPem });
      assert.equal((await again.enrol(await c.invite())).status, 403, 'a revoked key cannot enrol again');
      assert.ok(
        (await counter(c.registry, 'tsunagi_sensor_rejections_total', {
          route: 'policy',
          reason: 'no-certificate',
        })) >= 1,
      );
      assert.ok(
        (await counter(c.registry, 'tsunagi_sensor_rejections_total', {
          route: 'batches',
          reason: 'revoked',
        })) >= 1,
      );
    } finally {
      await other.close();
    }
  });
});

describe('sensor centre limits', () => {
  test('batches past the per-sensor rate are 429 before the body is read', async () => {
    const c = await startCentre({ batchBurst: 2, batchesPerMinute: 0.01 });
    try {
      const sensor = new TestSensor(c.url, c.caPem);
      await sensor.enrol(await c.invite());
      assert.equal((await sensor.send(events)).status, 200);
      assert.equal((await sensor.send(events)).status, 200);
      const limited = await sensor.send(events);
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers['retry-after']) > 0);
      assert.equal(
        await counter(c.registry, 'tsunagi_sensor_rejections_total', {
          route: 'batches',
          reason: 'rate-limited',
        }),
        1,
      );
    } finally {
      await c.close();
    }
  });

  test('source digests enrol only when the centre is told to accept them', async () => {
    const c = await startCentre({ allowSourceDigests: true });
    try {
      const sensor = new TestSensor(c.url, c.caPem);
      assert.equal((await sensor.enrol(await c.invite(), `source:${'f'.repeat(64)}`)).status, 200);
    } finally {
      await c.close();
    }
  });
});
