/**
 * The channel to the centre after enrolment (mutual TLS): the signed policy and IoC list, and
 * the batches. A batch is sealed from the spool once (seq, prevHash, its hash) and kept on disk
 * as `inflight.ndjson` until the centre accepts it, so a retry sends the same bytes and a restart
 * resumes the chain where it stood.
 */
import { X509Certificate } from 'node:crypto';
import { Agent } from 'node:https';
import { gzipSync } from 'node:zlib';
import {
  batchHash,
  BatchAck,
  BatchConflict,
  encodeBatchBody,
  parseBatchBody,
  RenewResponse,
  SENSOR_PATHS,
  sensorIdOf,
  type SensorEvent,
} from '../../src/sensor/protocol.ts';
import type { SensorState } from '../state.ts';
import { errorText, parseJson } from './enroll.ts';
import { request, TransportError, type HttpAnswer, type TlsMaterial } from './https.ts';

/** The centre answered with something a retry may fix (5xx, 429, 401 while a revocation is undone...). */
export class RetryableError extends Error {}

export interface SealedBatch {
  seq: number;
  prevHash: string;
  hash: string;
  body: Buffer;
  events: SensorEvent[];
}

export type SendOutcome =
  | { kind: 'accepted'; batch: SealedBatch; compressedBytes: number }
  | { kind: 'resealed'; from: number; to: number }
  | { kind: 'rejected'; batch: SealedBatch; reason: string };

/** The centre refused to renew the certificate (revoked, unknown): a retry will not change it. */
export class RenewRefused extends Error {}

export class CentreChannel {
  private tls: TlsMaterial;
  private readonly center: URL;
  readonly sensorId: string;
  /** One kept-alive connection: a TLS handshake per batch would cost more bytes than the batch. */
  private agent = new Agent({ keepAlive: true, maxSockets: 1 });
  requestBytes = 0;
  unreadableInflight = 0;

  constructor(private readonly state: SensorState) {
    const identity = state.identity();
    this.center = new URL(identity.center);
    this.sensorId = identity.sensorId;
    this.tls = {
      ca: state.readText('ca.pem'),
      key: state.readText('key.pem'),
      cert: state.readText('cert.pem'),
    };
  }

  close(): void {
    this.agent.destroy();
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    body?: Buffer,
    headers?: Record<string, string>,
  ): Promise<HttpAnswer> {
    const answer = await request(new URL(path, this.center), {
      method,
      tls: this.tls,
      agent: this.agent,
      ...(body ? { body } : {}),
      ...(headers ? { headers } : {}),
    });
    if (answer.status === 429 || answer.status >= 500 || answer.status === 401) {
      throw new RetryableError(`${method} ${path}: ${answer.status} ${errorText(answer.body)}`);
    }
    return answer;
  }

  /** The certificate in force: when it expires, and what share of its lifetime is left. */
  certificate(): { notAfter: number; lifetimeMs: number } {
    const certificate = new X509Certificate(this.tls.cert!);
    const notBefore = Date.parse(certificate.validFrom);
    const notAfter = Date.parse(certificate.validTo);
    return { notAfter, lifetimeMs: notAfter - notBefore };
  }

  /**
   * Asks the centre for a new certificate for the same key (the sensor's identity is its key's
   * hash), checks it (our key, the pinned CA, later expiry), stores it and uses it from the next
   * request on. Returns the new expiry.
   */
  async renew(): Promise<number> {
    const answer = await this.call('POST', SENSOR_PATHS.renew, Buffer.from('{}'), {
      'content-type': 'application/json',
    }).catch((error: unknown) => {
      // 401 is retryable for batches (a revocation undone); for a renewal it is a refusal too.
      if (error instanceof RetryableError && /: 401 /.test(error.message))
        throw new RenewRefused(error.message);
      throw error;
    });
    if (answer.status !== 200) throw new RenewRefused(`renew: ${answer.status} ${errorText(answer.body)}`);
    const parsed = RenewResponse.safeParse(parseJson(answer.body));
    if (!parsed.success) throw new RetryableError("the centre's renewal answer is not the protocol's");
    const certificate = new X509Certificate(parsed.data.certificatePem);
    const ca = new X509Certificate(this.tls.ca);
    if (!certificate.verify(ca.publicKey))
      throw new RenewRefused('the new certificate is not from the pinned CA');
    if (sensorIdOf(certificate.publicKey) !== this.sensorId)
      throw new RenewRefused('the new certificate is for another key');
    const notAfter = Date.parse(certificate.validTo);
    if (notAfter <= this.certificate().notAfter)
      throw new RenewRefused('the new certificate expires no later');
    this.state.write('cert.pem', parsed.data.certificatePem);
    this.tls = { ...this.tls, cert: parsed.data.certificatePem };
    // The kept-alive connection shows the old certificate: the next request opens a new one.
    this.agent.destroy();
    this.agent = new Agent({ keepAlive: true, maxSockets: 1 });
    return notAfter;
  }

  /** A signed document (policy or IoC list) as JSON, unverified: the caller verifies it. */
  async signed(which: 'policy' | 'iocs'): Promise<unknown> {
    const answer = await this.call('GET', SENSOR_PATHS[which]);
    if (answer.status !== 200)
      throw new RetryableError(`GET ${which}: ${answer.status} ${errorText(answer.body)}`);
    return parseJson(answer.body);
  }

  /** The batch in flight, or one sealed now from `take()`'s events (null when there is nothing). */
  sealed(take: () => SensorEvent[] | null, policyVersion: number): SealedBatch | null {
    const saved = this.loadInflight();
    if (saved) return saved;
    const events = take();
    if (!events || events.length === 0) return null;
    const head = this.state.chain();
    return this.seal(events, head.seq + 1, head.hash, policyVersion);
  }

  private seal(events: SensorEvent[], seq: number, prevHash: string, policyVersion: number): SealedBatch {
    const body = encodeBatchBody(
      { sensorId: this.sensorId, seq, prevHash, count: events.length, policyVersion },
      events,
    );
    const batch = { seq, prevHash, hash: batchHash(prevHash, body), body, events };
    this.state.write('inflight.ndjson', body, 0o600);
    return batch;
  }

  private loadInflight(): SealedBatch | null {
    if (!this.state.exists('inflight.ndjson')) return null;
    const body = Buffer.from(this.state.readText('inflight.ndjson'), 'utf8');
    try {
      const { header, events } = parseBatchBody(body);
      return {
        seq: header.seq,
        prevHash: header.prevHash,
        hash: batchHash(header.prevHash, body),
        body,
        events,
      };
    } catch {
      // Only this sensor writes the file, atomically; if it is unreadable anyway, it is lost, and counted.
      this.unreadableInflight++;
      this.dropInflight();
      return null;
    }
  }

  async send(batch: SealedBatch): Promise<SendOutcome> {
    const compressed = gzipSync(batch.body);
    this.requestBytes += compressed.length;
    const answer = await this.call('POST', SENSOR_PATHS.batches, compressed, {
      'content-type': 'application/x-ndjson',
      'content-encoding': 'gzip',
    });
    if (answer.status === 200) {
      const ack = BatchAck.safeParse(parseJson(answer.body));
      if (!ack.success || ack.data.acceptedSeq !== batch.seq || ack.data.hash !== batch.hash) {
        throw new RetryableError('the centre acknowledged another batch than the one sent');
      }
      return this.accepted(batch, compressed.length);
    }
    if (answer.status === 409) {
      const conflict = BatchConflict.safeParse(parseJson(answer.body));
      if (!conflict.success)
        throw new RetryableError(`409 without the expected seq: ${errorText(answer.body)}`);
      const { expectedSeq, expectedPrevHash } = conflict.data;
      // Our batch arrived before, and its answer was lost: the centre's head is this batch.
      if (expectedSeq === batch.seq + 1 && expectedPrevHash === batch.hash)
        return this.accepted(batch, compressed.length);
      // The chains parted (state restored from a backup, the centre's reset): the same events
      // are sealed again on the centre's head, and the centre has logged the conflict.
      const header = parseBatchBody(batch.body).header;
      this.seal(batch.events, expectedSeq, expectedPrevHash, header.policyVersion);
      return { kind: 'resealed', from: batch.seq, to: expectedSeq };
    }
    // 400/403/413: this batch will never be taken; keeping it would stop every later one.
    this.dropInflight();
    return { kind: 'rejected', batch, reason: `${answer.status} ${errorText(answer.body)}` };
  }

  private accepted(batch: SealedBatch, compressedBytes: number): SendOutcome {
    this.state.setChain({ seq: batch.seq, hash: batch.hash });
    this.dropInflight();
    return { kind: 'accepted', batch, compressedBytes };
  }

  private dropInflight(): void {
    this.state.remove('inflight.ndjson');
  }
}

export { TransportError };
