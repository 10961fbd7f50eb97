/**
 * The centre's HTTPS server. TLS asks every client for a certificate but lets one without it
 * through (enrolment comes before a certificate exists); the one onRequest hook below then decides
 * for every route but enrolment, before any body is read: a certificate the centre's CA issued,
 * of an enrolled, unrevoked sensor, and the very certificate the centre last issued it.
 */
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { RateLimiter, type Logger } from '../core/index.ts';
import { acceptBatch, type AuthenticatedSensor, type BatchDeps } from './batches.ts';
import type { SensorCentreConfig } from './config.ts';
import { enrol, type EnrolDeps } from './enrol.ts';
import { inflateCapped, InflateError } from './inflate.ts';
import type { SensorMetrics } from './metrics.ts';
import type { CentrePki } from './pki.ts';
import { SENSOR_PATHS, type SignedDocument } from './protocol.ts';
import { renewCertificate, type PresentedCertificate } from './renew.ts';
import { getSensor, replacedBy, type SensorDb } from './store.ts';

const ENROL_BODY_LIMIT = 64 * 1024;

export interface ServerDeps {
  config: SensorCentreConfig;
  db: SensorDb;
  pki: CentrePki;
  metrics: SensorMetrics;
  logger: Logger;
  now: () => Date;
  policy: () => SignedDocument;
  iocs: () => SignedDocument;
  batch: Omit<BatchDeps, 'db' | 'metrics' | 'now'>;
}

export interface SensorRoute {
  method: string;
  url: string;
}
const routesOf = new WeakMap<FastifyInstance, SensorRoute[]>();

/** Every route the server registered (from fastify's own onRoute), for tests that walk them all. */
export function sensorRoutes(app: FastifyInstance): SensorRoute[] {
  return [...(routesOf.get(app) ?? [])];
}

type Identification =
  { sensor: AuthenticatedSensor; certificate: PresentedCertificate } | { status: 401 | 403; reason: string };

/**
 * The sensor behind a TLS connection's client certificate, or why there is none. With
 * `previousAllowed` (renewal only) the certificate a renewal replaced is taken too, so a sensor
 * whose renewal answer was lost can ask again.
 */
export async function identify(
  socket: TLSSocket,
  db: SensorDb,
  previousAllowed = false,
): Promise<Identification> {
  const certificate =
    typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  if (!certificate?.raw) return { status: 401, reason: 'no-certificate' };
  if (!socket.authorized) return { status: 401, reason: 'untrusted-certificate' };
  const sensorId = typeof certificate.subject?.CN === 'string' ? certificate.subject.CN : '';
  const row = /^[0-9a-f]{64}$/.test(sensorId) ? await getSensor(db, sensorId) : undefined;
  if (!row) return { status: 401, reason: 'unknown-sensor' };
  if (row.revoked_at !== null) return { status: 403, reason: 'revoked' };
  const sha256 = createHash('sha256').update(certificate.raw).digest('hex');
  if (sha256 !== row.cert_sha256) {
    const previous = previousAllowed ? await replacedBy(db, row.id, row.cert_sha256) : undefined;
    if (previous !== sha256) return { status: 401, reason: 'superseded-certificate' };
  }
  return {
    sensor: { id: row.id, org: row.org },
    certificate: { raw: certificate.raw, sha256, currentSha256: row.cert_sha256 },
  };
}

/** A refusal with its reason as the body ({ error }), counted by the caller. */
class Refusal extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function routeName(request: FastifyRequest): string {
  const url = request.routeOptions.url;
  const known = Object.entries(SENSOR_PATHS).find(([, path]) => path === url);
  return known ? known[0] : 'unknown';
}

export async function createSensorServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config, metrics } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: ENROL_BODY_LIMIT,
    https: {
      key: deps.pki.serverKeyPem,
      cert: deps.pki.serverCertPem,
      ca: [deps.pki.caPem],
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
  }) as unknown as FastifyInstance;
  const sensors = new WeakMap<FastifyRequest, AuthenticatedSensor>();
  const certificates = new WeakMap<FastifyRequest, PresentedCertificate>();
  const routes: SensorRoute[] = [];
  routesOf.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat())
      if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  const batchLimiter = new RateLimiter(config.batchesPerMinute / 60, config.batchBurst);
  const enrolLimiter = new RateLimiter(
    config.enrolPerMinute / 60,
    Math.max(1, Math.ceil(config.enrolPerMinute / 6)),
  );

  app.addHook('onRequest', async (request) => {
    if (request.method === 'POST' && request.routeOptions.url === SENSOR_PATHS.enroll) return;
    const renewing = request.method === 'POST' && request.routeOptions.url === SENSOR_PATHS.renew;
    const identified = await identify(request.raw.socket as TLSSocket, deps.db, renewing);
    if ('reason' in identified) throw new Refusal(identified.status, identified.reason);
    sensors.set(request, identified.sensor);
    certificates.set(request, identified.certificate);
  });
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const reason =
      error instanceof Refusal
        ? error.reason
        : (error.code ?? 'error').toLowerCase().replace(/^fst_err_/, '');
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) deps.logger.error({ err: error }, 'sensor centre request failed');
    metrics.rejections.inc({ route: routeName(request), reason });
    if (status === 413) reply.header('connection', 'close');
    void reply.code(status).send({ error: status === 500 ? 'internal' : reason });
  });
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ error: 'not-found' }));

  registerEnrol(app, deps, enrolLimiter);
  app.get(SENSOR_PATHS.policy, async () => deps.policy());
  app.get(SENSOR_PATHS.iocs, async () => deps.iocs());
  registerBatches(app, deps, sensors, batchLimiter);
  app.post(SENSOR_PATHS.renew, async (request, reply) => {
    // The one body a renewal takes is `{}` as JSON: anything else is a client that means something else.
    const type = String(request.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    if (type !== 'application/json' || !isEmptyObject(request.body)) throw new Refusal(415, 'not-renewal');
    const renewDeps = { ...deps, clientCertDays: config.clientCertDays };
    const result = await renewCertificate(renewDeps, sensors.get(request)!, certificates.get(request)!);
    if (result.status === 200)
      deps.logger.info({ sensorId: result.body.sensorId }, 'sensor certificate renewed');
    return reply.code(result.status).send(result.body);
  });
  return app;
}

function registerEnrol(app: FastifyInstance, deps: ServerDeps, limiter: RateLimiter): void {
  const enrolDeps: EnrolDeps = {
    config: deps.config,
    db: deps.db,
    pki: deps.pki,
    metrics: deps.metrics,
    now: deps.now,
    policy: deps.policy,
  };
  app.post(
    SENSOR_PATHS.enroll,
    {
      bodyLimit: ENROL_BODY_LIMIT,
      onRequest: async (request) => {
        if (!limiter.take(request.ip)) throw new Refusal(429, 'rate-limited');
      },
    },
    async (request, reply) => {
      const result = await enrol(enrolDeps, request.body);
      if (result.status === 200) deps.logger.info({ sensorId: result.body.sensorId }, 'sensor enrolled');
      return reply.code(result.status).send(result.body);
    },
  );
}

function registerBatches(
  app: FastifyInstance,
  deps: ServerDeps,
  sensors: WeakMap<FastifyRequest, AuthenticatedSensor>,
  limiter: RateLimiter,
): void {
  const { config } = deps;
  const batchDeps: BatchDeps = { ...deps.batch, db: deps.db, metrics: deps.metrics, now: deps.now };
  app.addContentTypeParser('application/x-ndjson', (request, payload, done) => {
    if (request.headers['content-encoding'] !== 'gzip') return done(new Refusal(415, 'not-gzip'), undefined);
    if (Number(request.headers['content-length'] ?? 0) > config.maxCompressedBytes)
      return done(new Refusal(413, 'compressed-too-large'), undefined);
    inflateCapped(payload, {
      maxCompressed: config.maxCompressedBytes,
      maxInflated: config.maxUncompressedBytes,
    }).then(
      (body) => done(null, body),
      (error: unknown) => {
        if (!(error instanceof InflateError)) return done(error as Error, undefined);
        done(new Refusal(error.reason === 'not-gzip' ? 400 : 413, error.reason), undefined);
      },
    );
  });
  app.post(
    SENSOR_PATHS.batches,
    {
      // The rate limit is taken before the body is read (the global hook has authenticated).
      onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
        const sensor = sensors.get(request)!;
        if (!limiter.take(sensor.id)) {
          reply.header('retry-after', String(limiter.retryAfter(sensor.id)));
          throw new Refusal(429, 'rate-limited');
        }
      },
    },
    async (request, reply) => {
      if (!Buffer.isBuffer(request.body)) throw new Refusal(415, 'not-ndjson');
      const result = await acceptBatch(batchDeps, sensors.get(request)!, request.body);
      return reply.code(result.status).send(result.body);
    },
  );
}

function isEmptyObject(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0
  );
}
