/**
 * The channel to the centre after enrolment (mutual TLS): the signed policy and IoC list, and
 * the batches. A batch is sealed from the spool once (seq, prevHash, its hash) and kept on disk
 * as `inflight.ndjson` until the centre accepts it, so a retry sends the same bytes and a restart
 * resumes the chain where it stood.
 */
import { Agent } from 'node:https';
import { gzipSync } from 'node:zlib';
import {
  batchHash,
  BatchAck,
  BatchConflict,
  encodeBatchBody,
  parseBatchBody,
  SENSOR_PATHS,
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

export class CentreChannel {
  private readonly tls: TlsMaterial;
  private readonly center: URL;
  readonly sensorId: string;
  /** One kept-alive connection: a TLS handshake per batch would cost more bytes than the batch. */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
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
