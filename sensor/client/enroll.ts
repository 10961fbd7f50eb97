/**
 * Enrolment: a P-256 key made here, the centre's CA pinned by the token's fingerprint, a proof
 * of possession, and the answer checked (the certificate is for our key and from the pinned CA,
 * the policy is signed by the key the centre names) before anything is written to the state.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { hostname, platform, release } from 'node:os';
import {
  certificateSha256,
  EnrollResponse,
  parseInviteToken,
  PolicyBody,
  SENSOR_PATHS,
  sensorIdOf,
  signProof,
  verifyDocument,
  type EnrollRequest,
} from '../../src/sensor/protocol.ts';
import { utcDay, type SensorState } from '../state.ts';
import { fetchPinnedCa, PinningError, request } from './https.ts';

/** The centre refused the enrolment (bad token, unknown bundle...): not worth a retry. */
export class EnrollRefused extends Error {}

export interface EnrollOptions {
  center: URL;
  token: string;
  bundleDigest: string;
}

export async function enroll(state: SensorState, options: EnrollOptions): Promise<{ sensorId: string }> {
  const invite = parseInviteToken(options.token);
  const caPem = await fetchPinnedCa(options.center, invite.caSha256);
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKeySpkiPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const body: EnrollRequest = {
    token: options.token.trim(),
    publicKeySpkiPem,
    proof: signProof(options.token.trim(), publicKeySpkiPem, privateKey),
    bundleDigest: options.bundleDigest,
    hostname: hostname().slice(0, 253) || 'unknown',
    platform: `${platform()} ${release()}`.slice(0, 64),
  };
  const answer = await request(new URL(SENSOR_PATHS.enroll, options.center), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(body)),
    tls: { ca: caPem },
  });
  if (answer.status !== 200)
    throw new EnrollRefused(`the centre refused enrolment: ${answer.status} ${errorText(answer.body)}`);
  const parsed = EnrollResponse.safeParse(parseJson(answer.body));
  if (!parsed.success) throw new EnrollRefused("the centre's enrolment answer is not the protocol's");
  const response = parsed.data;
  const sensorId = sensorIdOf(publicKey);
  checkAnswer(response, { sensorId, caSha256: invite.caSha256, publicKeySpkiPem });
  // The policy must verify with the key that came in the same answer, over a pinned channel.
  verifyDocument(response.policy, response.policyPublicKeyPem, PolicyBody);

  state.ensureDir();
  state.write('key.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
  state.write('cert.pem', response.certificatePem);
  state.write('ca.pem', response.caPem);
  state.write('policy-key.pem', response.policyPublicKeyPem);
  state.writeJson('policy.json', response.policy);
  state.writeJson('identity.json', {
    sensorId,
    center: options.center.origin,
    enrolledAt: new Date().toISOString(),
  });
  state.setChain(state.chain());
  state.setCounters(state.counters(utcDay()));
  state.userKey();
  return { sensorId };
}

function checkAnswer(
  response: EnrollResponse,
  expected: { sensorId: string; caSha256: string; publicKeySpkiPem: string },
): void {
  if (certificateSha256(response.caPem) !== expected.caSha256)
    throw new PinningError('the centre answered with another CA');
  if (response.sensorId !== expected.sensorId) throw new EnrollRefused('the centre named another sensor id');
  const certificate = new X509Certificate(response.certificatePem);
  const ca = new X509Certificate(response.caPem);
  if (!certificate.verify(ca.publicKey))
    throw new PinningError('the certificate was not issued by the pinned CA');
  if (sensorIdOf(certificate.publicKey) !== expected.sensorId)
    throw new EnrollRefused('the certificate is for another key');
}

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export function errorText(body: Buffer): string {
  const value = parseJson(body) as { error?: unknown; message?: unknown } | undefined;
  const text =
    typeof value?.message === 'string'
      ? value.message
      : typeof value?.error === 'string'
        ? value.error
        : body.toString('utf8');
  return text.replace(/\s+/g, ' ').slice(0, 200);
}
