/**
 * Certificate renewal: an enrolled, unrevoked sensor asks over mutual TLS, with the certificate in
 * force, for a new one before it expires. The key stays (the sensor's identity is the hash of its
 * public key, so a new key would be a new sensor that must enrol); the new certificate is for
 * the key of the certificate presented, it replaces the old one in one transaction with the
 * record of the renewal, and a revoked sensor gets none (the onRequest hook refuses it first).
 */
import { X509Certificate } from 'node:crypto';
import type { AuthenticatedSensor } from './batches.ts';
import type { SensorMetrics } from './metrics.ts';
import type { CentrePki } from './pki.ts';
import { certificateSha256, sensorIdOf, type RenewResponse } from './protocol.ts';
import { saveRenewal, type SensorDb } from './store.ts';

export interface RenewDeps {
  db: SensorDb;
  pki: CentrePki;
  metrics: SensorMetrics;
  clientCertDays: number;
  now: () => Date;
}

/** The certificate the sensor presented, and the one the centre holds in force for it. */
export interface PresentedCertificate {
  raw: Buffer;
  sha256: string;
  currentSha256: string;
}

export type RenewResult =
  { status: 200; body: RenewResponse } | { status: 403 | 409; body: { error: string } };

export async function renewCertificate(
  deps: RenewDeps,
  sensor: AuthenticatedSensor,
  presented: PresentedCertificate,
): Promise<RenewResult> {
  const refuse = (status: 403 | 409, reason: string): RenewResult => {
    deps.metrics.rejections.inc({ route: 'renew', reason });
    return { status, body: { error: reason } };
  };
  const publicKey = new X509Certificate(presented.raw).publicKey;
  if (sensorIdOf(publicKey) !== sensor.id) return refuse(403, 'sensor-mismatch');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const certificatePem = await deps.pki.issueClientCertificate(publicKeyPem, sensor.id, deps.clientCertDays);
  const saved = await saveRenewal(
    deps.db,
    {
      sensorId: sensor.id,
      currentCertSha256: presented.currentSha256,
      replacedCertSha256: presented.currentSha256,
      newCertSha256: certificateSha256(certificatePem),
      notAfter: new Date(new X509Certificate(certificatePem).validTo).toISOString(),
    },
    deps.now(),
  );
  // Revoked, or another renewal went first, between the hook's check and this transaction.
  if (!saved) return refuse(409, 'concurrent');
  deps.metrics.enrolments.inc({ outcome: 'renewed' });
  return { status: 200, body: { sensorId: sensor.id, certificatePem } };
}
