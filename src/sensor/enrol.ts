/**
 * Enrolment: a terminal proves it holds the key it names (proof of possession over the token),
 * runs a bundle the centre knows, and spends a one-time token; it gets a client certificate for
 * that key (CN = its id, the hash of the key) and the signed policy. Checks that need no state
 * come first, so a bad request never spends a token.
 */
import type { SensorCentreConfig } from './config.ts';
import type { SensorMetrics } from './metrics.ts';
import type { CentrePki } from './pki.ts';
import {
  certificateSha256,
  EnrollRequest,
  InviteTokenError,
  parseInviteToken,
  sensorIdOf,
  verifyProof,
  type EnrollResponse,
  type SignedDocument,
} from './protocol.ts';
import { consumeToken, getSensor, saveEnrolment, type SensorDb } from './store.ts';

export interface EnrolDeps {
  config: Pick<SensorCentreConfig, 'bundleDigests' | 'allowSourceDigests' | 'clientCertDays'>;
  db: SensorDb;
  pki: CentrePki;
  metrics: SensorMetrics;
  now: () => Date;
  policy: () => SignedDocument;
}

export type EnrolResult =
  { status: 200; body: EnrollResponse } | { status: 400 | 401 | 403; body: { error: string } };

function refuse(deps: EnrolDeps, status: 400 | 401 | 403, reason: string): EnrolResult {
  deps.metrics.rejections.inc({ route: 'enroll', reason });
  return { status, body: { error: reason } };
}

/** Whether the centre accepts a sensor running the bundle with this digest. */
export function bundleAllowed(
  config: Pick<SensorCentreConfig, 'bundleDigests' | 'allowSourceDigests'>,
  digest: string,
): boolean {
  if (digest.startsWith('source:')) return config.allowSourceDigests;
  return config.bundleDigests.includes(digest);
}

export async function enrol(deps: EnrolDeps, input: unknown): Promise<EnrolResult> {
  const parsed = EnrollRequest.safeParse(input);
  if (!parsed.success) return refuse(deps, 400, 'bad-request');
  const request = parsed.data;
  let token;
  try {
    token = parseInviteToken(request.token);
  } catch (error) {
    if (error instanceof InviteTokenError) return refuse(deps, 401, 'bad-token');
    throw error;
  }
  if (token.caSha256 !== deps.pki.caSha256) return refuse(deps, 401, 'bad-token');
  if (!verifyProof(request.token, request.publicKeySpkiPem, request.proof))
    return refuse(deps, 401, 'bad-proof');
  if (!bundleAllowed(deps.config, request.bundleDigest)) return refuse(deps, 403, 'unknown-bundle');
  const sensorId = sensorIdOf(request.publicKeySpkiPem);
  const known = await getSensor(deps.db, sensorId);
  if (known?.revoked_at) return refuse(deps, 403, 'revoked');

  const certificatePem = await deps.pki.issueClientCertificate(
    request.publicKeySpkiPem,
    sensorId,
    deps.config.clientCertDays,
  );
  const now = deps.now();
  const org = await deps.db.transaction().execute(async (trx) => {
    const org = await consumeToken(trx, token, sensorId, now);
    if (org === undefined) return undefined;
    await saveEnrolment(
      trx,
      {
        id: sensorId,
        org,
        hostname: request.hostname,
        platform: request.platform,
        bundle_digest: request.bundleDigest,
        cert_sha256: certificateSha256(certificatePem),
      },
      now,
    );
    return org;
  });
  if (org === undefined) return refuse(deps, 401, 'bad-token');
  deps.metrics.enrolments.inc({ outcome: known ? 're-enrolled' : 'enrolled' });
  return {
    status: 200,
    body: {
      sensorId,
      certificatePem,
      caPem: deps.pki.caPem,
      policyPublicKeyPem: deps.pki.policyPublicKeyPem,
      policy: deps.policy(),
    },
  };
}
