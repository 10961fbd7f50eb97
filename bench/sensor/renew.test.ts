/**
 * Certificate renewal end to end: the real centre (createSensorCentre over TLS on 127.0.0.1,
 * in-memory store) and the real terminal (`tsunagi-sensor`, run from its sources as its own
 * process). The sensor renews its certificate when little is left of it, keeping its key; the
 * centre records the renewal and from then on takes only the new certificate (the replaced one
 * only to ask for a renewal again, when an answer was lost); a revoked sensor's renewal is
 * refused and its certificate stays.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createLogger } from '../../src/core/index.ts';
import {
  createSensorCentre,
  inviteSensor,
  revokeSensorById,
  SENSOR_PATHS,
  SensorCentreConfig,
} from '../../src/sensor/index.ts';
import { httpsCall, openSensorTestDb } from '../../src/sensor/testing.ts';
import { repo } from './lab.ts';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'tsunagi-sensor-renew-'));
const DAY_MS = 86_400_000;

/** `tsunagi-sensor ARGS` from the sources: exit code, stdout, stderr. */
async function sensorCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(repo, 'bin', 'tsunagi-sensor'), ...args], {
      timeout: 180_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

async function startCentre(name: string, overrides: object = {}) {
  const db = await openSensorTestDb();
  const pkiDir = join(work, `pki-${name}`);
  const config = SensorCentreConfig.parse({
    host: '127.0.0.1',
    port: 0,
    pkiDir,
    allowSourceDigests: true,
    bundleDigests: ['a'.repeat(64)],
    // Hashing this machine's executables is not what these tests are about.
    policy: { hashExecutables: false },
    ...overrides,
  });
  const centre = createSensorCentre(config, {
    db,
    registry: new Registry(),
    logger: createLogger({ level: 'silent' }),
  });
  await centre.start();
  return {
    db,
    origin: `https://127.0.0.1:${centre.address().port}`,
    invite: async (org: string) => (await inviteSensor(db, pkiDir, org, 60_000)).token,
    async stop() {
      await centre.stop();
      await db.destroy();
    },
  };
}

function sha256Of(certificate: X509Certificate): string {
  return certificate.fingerprint256.replaceAll(':', '').toLowerCase();
}

/** Enrols a sensor from source into `work/dir` with a one-time token for `org`; its state files read back. */
async function enrol(
  centre: { origin: string; invite(org: string): Promise<string> },
  dir: string,
  org: string,
) {
  const state = join(work, dir);
  const file = (name: string) => readFileSync(join(state, name), 'utf8');
  const enrolled = await sensorCli([
    'enroll',
    '--center',
    centre.origin,
    '--token',
    await centre.invite(org),
    '--state',
    state,
  ]);
  assert.equal(enrolled.code, 0, enrolled.stderr);
  return { state, file };
}

describe('client certificate renewal', { skip: process.platform !== 'linux' && 'needs Linux /proc' }, () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  it('renews before expiry with the same key, is recorded, and is refused once revoked', async () => {
    const centre = await startCentre('renew', { clientCertDays: 2 });
    try {
      const { state, file } = await enrol(centre, 'state', 'mic');
      const sensorId = JSON.parse(file('identity.json')).sensorId as string;
      const oldPem = file('cert.pem');
      const old = new X509Certificate(oldPem);
      await new Promise((r) => setTimeout(r, 1100)); // certificate times have a one-second grain
      // The 2-day certificate has less than 10 days left: due at this run's refresh.
      const within = ['--renew-within', String(10 * DAY_MS)];
      const once = await sensorCli(['run', '--once', '--state', state, ...within]);
      assert.equal(once.code, 0, once.stderr + once.stdout);
      assert.match(once.stderr, /client certificate renewed until/);
      const renewedPem = file('cert.pem');
      const renewed = new X509Certificate(renewedPem);
      assert.notEqual(renewedPem, oldPem);
      assert.ok(renewed.publicKey.equals(old.publicKey), 'the key changed');
      assert.equal(renewed.subject, `CN=${sensorId}`);
      assert.ok(Date.parse(renewed.validTo) > Date.parse(old.validTo));
      assert.ok(renewed.verify(new X509Certificate(file('ca.pem')).publicKey));
      assert.match(file('sent.log'), /client certificate renewed, valid until/);

      // The centre recorded it and holds the new certificate in force; the run's batches were
      // accepted with it (the chain moved).
      const renewals = await centre.db.selectFrom('sensor_cert_renewals').selectAll().execute();
      assert.deepEqual(
        renewals.map((r) => [r.sensor_id, r.old_cert_sha256, r.new_cert_sha256]),
        [[sensorId, sha256Of(old), sha256Of(renewed)]],
      );
      const row = await centre.db
        .selectFrom('sensor_sensors')
        .selectAll()
        .where('id', '=', sensorId)
        .executeTakeFirst();
      assert.equal(row?.cert_sha256, sha256Of(renewed));
      assert.ok(JSON.parse(file('chain.json')).seq >= 1, 'no batch accepted with the new certificate');

      // The old certificate is refused now.
      const tls = { ca: file('ca.pem'), key: file('key.pem') };
      const withOld = await httpsCall(`${centre.origin}${SENSOR_PATHS.policy}`, { ...tls, cert: oldPem });
      assert.deepEqual([withOld.status, withOld.body], [401, { error: 'superseded-certificate' }]);

      // Revoked: the renewal is refused, the certificate on the terminal stays as it was.
      await revokeSensorById(centre.db, sensorId);
      const revoked = await sensorCli(['run', '--once', '--state', state, ...within]);
      assert.match(revoked.stderr, /certificate renewal refused: .*403 revoked/);
      assert.equal(file('cert.pem'), renewedPem);
      assert.equal((await centre.db.selectFrom('sensor_cert_renewals').selectAll().execute()).length, 1);
    } finally {
      await centre.stop();
    }
  });

  it('takes the replaced certificate for a renewal only, when the answer to the last one was lost', async () => {
    const centre = await startCentre('lost');
    try {
      const { file } = await enrol(centre, 'state-lost', 'mof');
      const tls = { ca: file('ca.pem'), key: file('key.pem') };
      const enrolledPem = file('cert.pem');
      const renew = (cert: string) =>
        httpsCall(
          `${centre.origin}${SENSOR_PATHS.renew}`,
          { ...tls, cert },
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          },
        );
      const pemOf = (answer: { body: unknown }) => (answer.body as { certificatePem: string }).certificatePem;
      const first = await renew(enrolledPem);
      assert.equal(first.status, 200);
      // The answer "was lost": the sensor still holds the enrolment certificate and asks again.
      const again = await renew(enrolledPem);
      assert.equal(again.status, 200);
      // Two renewals old now: refused even for a renewal.
      assert.deepEqual(
        [(await renew(enrolledPem)).status, (await renew(enrolledPem)).body],
        [401, { error: 'superseded-certificate' }],
      );
      // The one in force works; the one whose answer was lost is not in force.
      const policy = (cert: string) => httpsCall(`${centre.origin}${SENSOR_PATHS.policy}`, { ...tls, cert });
      assert.equal((await policy(pemOf(again))).status, 200);
      assert.equal((await policy(pemOf(first))).status, 401);
    } finally {
      await centre.stop();
    }
  });
});
