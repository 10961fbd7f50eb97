/**
 * The room's test door: a store of its tables on in-memory SQLite, and a terminal that talks to a
 * centre the way the protocol says (its own P-256 key, the CA pinned by the token's fingerprint,
 * mutual TLS with the issued certificate, gzip NDJSON batches on the hash chain) over node https.
 */
import SqliteDatabase from 'better-sqlite3';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { gzipSync } from 'node:zlib';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { sensorMigrations, type SensorTables } from './migrations.ts';
import { summariseBatch } from './stats.ts';
import { addDailyCounts, addIocHits, advanceChain, saveEnrolment } from './store.ts';
import {
  batchHash,
  certificateSha256,
  encodeBatchBody,
  GENESIS_HASH,
  parseInviteToken,
  SENSOR_PATHS,
  signProof,
  type EnrollResponse,
  type SensorEvent,
} from './protocol.ts';

export async function openSensorTestDb(): Promise<Kysely<SensorTables>> {
  const db = new Kysely<SensorTables>({
    dialect: new SqliteDialect({ database: new SqliteDatabase(':memory:') }),
  });
  const migrated = await new Migrator({
    db,
    provider: { getMigrations: async () => sensorMigrations },
  }).migrateToLatest();
  if (migrated.error) throw migrated.error;
  return db;
}

/**
 * Two ministries' sensors and three days of reports, as the centre would have stored them: `mic`
 * with two terminals (one connected to a known C&C and matched it, two days running), `mof` with one
 * that matched a listed domain yesterday.
 */
export async function seedSensorCentre(db: Kysely<SensorTables>, now = new Date()): Promise<void> {
  const day = 86_400_000;
  const c2 = '192.0.2.10:443';
  const socket = (at: number, remote: string): SensorEvent => ({
    type: 'socket.open',
    at,
    proto: 'tcp',
    local: '10.1.0.2:50000',
    remote,
  });
  const reports: { id: string; org: string; events: SensorEvent[] }[] = [
    {
      id: '1'.repeat(64),
      org: 'mic',
      events: [0, 1].flatMap((d) => [
        socket(now.getTime() - d * day, c2),
        socket(now.getTime() - d * day, '198.51.100.1:443'),
        { type: 'ioc.match' as const, at: now.getTime() - d * day, ioc: c2, kind: 'ip-port' as const },
      ]),
    },
    { id: '2'.repeat(64), org: 'mic', events: [socket(now.getTime() - 2 * day, '198.51.100.2:80')] },
    {
      id: '3'.repeat(64),
      org: 'mof',
      events: [{ type: 'ioc.match', at: now.getTime() - day, ioc: 'c2.example.net', kind: 'domain' }],
    },
  ];
  for (const report of reports) {
    await saveEnrolment(
      db,
      {
        id: report.id,
        org: report.org,
        hostname: `pc-${report.id[0]}`,
        platform: 'linux-x64',
        bundle_digest: 'a'.repeat(64),
        cert_sha256: 'f'.repeat(64),
      },
      new Date(now.getTime() - 3 * day),
    );
    const summary = summariseBatch(report.org, report.events, new Set([c2]), now);
    await advanceChain(db, report.id, 0, { seq: 1, hash: 'e'.repeat(64), seenAt: now });
    for (const [d, counts] of summary.daily) await addDailyCounts(db, report.org, d, counts);
    for (const [d, hits] of summary.hits) await addIocHits(db, report.org, d, hits);
  }
}

export interface HttpAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export interface TlsIdentity {
  ca: string;
  key?: string | KeyObject;
  cert?: string;
}

/** One HTTPS request to the centre, the CA pinned (and, with key and cert, mutual TLS). */
export function httpsCall(
  url: string,
  tls: TlsIdentity,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<HttpAnswer> {
  const key =
    typeof tls.key === 'string' || tls.key === undefined
      ? tls.key
      : tls.key.export({ type: 'pkcs8', format: 'pem' });
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      {
        method: options.method ?? 'GET',
        ca: tls.ca,
        ...(key !== undefined ? { key } : {}),
        ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
        headers: options.headers ?? {},
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: left as text
          }
          resolve({ status: response.statusCode ?? 0, body, headers: response.headers });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/** A terminal: enrols with a token, then sends batches on its own hash chain. */
export class TestSensor {
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
  enrolment: EnrollResponse | undefined;
  seq = 0;
  prevHash = GENESIS_HASH;

  constructor(
    readonly baseUrl: string,
    readonly caPem: string,
  ) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** Enrols; the CA is trusted only when its fingerprint is the token's. */
  async enrol(token: string, bundleDigest = 'a'.repeat(64)): Promise<HttpAnswer> {
    if (certificateSha256(this.caPem) !== parseInviteToken(token).caSha256)
      throw new Error('the CA is not the one the token names');
    const body = JSON.stringify({
      token,
      publicKeySpkiPem: this.publicKeyPem,
      proof: signProof(token, this.publicKeyPem, this.privateKey),
      bundleDigest,
      hostname: 'terminal-1',
      platform: 'linux-x64',
    });
    const answer = await httpsCall(
      `${this.baseUrl}${SENSOR_PATHS.enroll}`,
      { ca: this.caPem },
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      },
    );
    if (answer.status === 200) this.enrolment = answer.body as EnrollResponse;
    return answer;
  }

  get tls(): TlsIdentity {
    return {
      ca: this.caPem,
      key: this.privateKey,
      ...(this.enrolment ? { cert: this.enrolment.certificatePem } : {}),
    };
  }

  get(path: string): Promise<HttpAnswer> {
    return httpsCall(`${this.baseUrl}${path}`, this.tls);
  }

  /** The next batch's uncompressed body and the hash the sensor chains on. */
  nextBatch(events: readonly SensorEvent[]): { body: Buffer; hash: string; seq: number } {
    const seq = this.seq + 1;
    const header = {
      sensorId: this.enrolment!.sensorId,
      seq,
      prevHash: this.prevHash,
      count: events.length,
      policyVersion: 1,
    };
    const body = encodeBatchBody(header, events);
    return { body, hash: batchHash(this.prevHash, body), seq };
  }

  /** POSTs gzip bytes as a batch (no bookkeeping). */
  postRaw(gzipped: Buffer, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return httpsCall(`${this.baseUrl}${SENSOR_PATHS.batches}`, this.tls, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip', ...headers },
      body: gzipped,
    });
  }

  /** Sends the next batch; on 200 the chain moves to the sensor's own hash of what it sent. */
  async send(events: readonly SensorEvent[]): Promise<HttpAnswer> {
    const batch = this.nextBatch(events);
    const answer = await this.postRaw(gzipSync(batch.body));
    if (answer.status === 200) {
      this.seq = batch.seq;
      this.prevHash = batch.hash;
    }
    return answer;
  }
}
