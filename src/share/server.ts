/**
 * The hub's HTTP server as a fastify app factory: TAXII 2.1 at /taxii2/ and /{root}/..., the JSON
 * API under /api/. Every request is authenticated in onRequest, before any body is read: anonymous
 * and failed requests are refused there (with the connection closed when a large body is on its
 * way), then each organisation is held to its own request rate and body size. Refusals and
 * restricted reads leave one audit record each, written before the answer leaves.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { RateLimiter, totalCounter, UsageError } from '../core/index.ts';
import { registerApi } from './api.ts';
import { refusedVersionCount } from './collections.ts';
import { droppedRuleFieldCount } from './exports.ts';
import {
  acceptsTaxii,
  credentialsFrom,
  HttpError,
  isPublicRequest,
  readEntry,
  TAXII_MEDIA_TYPE,
  type HubContext,
} from './http.ts';
import type { Principal } from './orgs.ts';
import { registerTaxii } from './taxii.ts';

/** A refused request with a body larger than this announced gets its connection closed. */
const DRAIN_LIMIT_BYTES = 65_536;
const TOKEN_REQUIRED = 'A valid API token is required (Bearer, or Basic with the token as password).';
const MALFORMED = 'The Authorization header must be exactly "Bearer TOKEN" or Basic.';
/** Answers that refuse a request: each leaves an audit record. */
const REFUSALS = new Set([401, 403, 404]);

export interface HubRoute {
  method: string;
  url: string;
}
const routesOf = new WeakMap<FastifyInstance, HubRoute[]>();

/** Every route the hub's app serves (its own and its plugins'), for tests that walk them all. */
export function hubRoutes(app: FastifyInstance): readonly HubRoute[] {
  return routesOf.get(app) ?? [];
}

/** Deeper JSON than this is refused: STIX needs a handful of levels; recursion needs a stack. */
const MAX_JSON_DEPTH = 100;

/** The deepest nesting of arrays and objects in JSON text (brackets inside strings do not count). */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

function httpsOptions(tls: { cert: string; key: string } | undefined) {
  if (!tls) return undefined;
  try {
    return { cert: readFileSync(tls.cert), key: readFileSync(tls.key) };
  } catch (error) {
    throw new UsageError(`cannot read the TLS certificate or key: ${(error as Error).message}`);
  }
}

/** Whether the request announces a body too big to read just to throw it away. */
function largeBodyPending(request: FastifyRequest): boolean {
  const length = Number(request.headers['content-length'] ?? 0);
  return length > DRAIN_LIMIT_BYTES || request.headers['transfer-encoding'] !== undefined;
}

/** Ends a stream with a 413 once it carries more than `limit` bytes (chunked bodies). */
function capped(payload: Readable, limit: number): Readable {
  let seen = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > limit) {
        const error = new HttpError(413, 'Payload Too Large', `The body is larger than ${limit} bytes.`);
        done(Object.assign(error, { statusCode: 413 }));
      } else done(null, chunk);
    },
  });
  payload.on('error', (error) => cap.destroy(error));
  return payload.pipe(cap);
}

/** The hub's request counts by status (returned, filled by onResponse) and its refusal counters. */
function hubMetrics(registry: Registry): Map<string, number> {
  const counts = new Map<string, number>();
  new Counter({
    name: 'tsunagi_hub_requests_total',
    help: 'HTTP requests answered by the hub, by status code',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [status, n] of counts) this.inc({ status }, n);
    },
  });

  totalCounter(
    registry,
    'tsunagi_hub_refused_versions_total',
    'STIX versions refused because another object holds that version under the same object key (a hash collision)',
    refusedVersionCount,
  );
  totalCounter(
    registry,
    'tsunagi_hub_rule_fields_dropped_total',
    'Values left out of Suricata, RPZ and MISP exports because they failed the allow-list of that field',
    droppedRuleFieldCount,
  );
  return counts;
}

/** TAXII and STIX bodies: JSON, refused when nested deeper than MAX_JSON_DEPTH. */
function addStixJsonParser(app: FastifyInstance): void {
  app.addContentTypeParser(
    /^application\/(taxii|stix)\+json/,
    { parseAs: 'string' },
    (_request, body, done) => {
      const text = body as string;
      if (nestingDepth(text) > MAX_JSON_DEPTH) {
        done(
          new HttpError(400, 'Bad Request', `The body nests deeper than ${MAX_JSON_DEPTH} levels.`),
          undefined,
        );
        return;
      }
      try {
        done(null, JSON.parse(text));
      } catch {
        done(new HttpError(400, 'Bad Request', 'The body is not valid JSON.'), undefined);
      }
    },
  );
}

/** The status, title and description an error is answered with; `unexpected` runs for a server fault. */
function describeError(
  error: FastifyError | HttpError,
  unexpected: () => void,
): { status: number; title: string; description: string | undefined } {
  let status = 500;
  let title = 'Internal Server Error';
  let description: string | undefined;
  if (error instanceof HttpError) {
    status = error.status;
    title = error.title;
    description = error.description;
  } else if ((error as FastifyError).validation) {
    status = 400;
    title = 'Bad Request';
    description = error.message;
  } else if ((error as FastifyError).statusCode && (error as FastifyError).statusCode! < 500) {
    status = (error as FastifyError).statusCode!;
    title = status === 413 ? 'Payload Too Large' : status === 415 ? 'Unsupported Media Type' : 'Bad Request';
    description = error.message;
  } else if ((error as { exitCode?: number }).exitCode === 2) {
    // InputError from intel: the client's data, not our fault.
    status = 400;
    title = 'Bad Request';
    description = error.message;
  } else {
    unexpected();
  }
  return { status, title, description };
}

export async function createHubServer(ctx: HubContext & { registry: Registry }): Promise<FastifyInstance> {
  const { config, orgs } = ctx;
  const https = httpsOptions(config.tls);
  const app = Fastify({
    bodyLimit: config.bodyLimitBytes,
    logger: false,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, allErrors: false } },
    ...(https ? { https } : {}),
  }) as unknown as FastifyInstance;
  const limiter = new RateLimiter(config.rateLimit.perSecond, config.rateLimit.burst);
  const counts = hubMetrics(ctx.registry);

  const routes: HubRoute[] = [];
  routesOf.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat())
      if (method !== 'HEAD') routes.push({ method, url: route.url });
  });

  addStixJsonParser(app);

  // JSON APIs (the hub's and the console's, which also streams text/event-stream) are not TAXII:
  // TAXII's Accept rule and media-typed error bodies apply everywhere else.
  const isApi = (url: string) => url.startsWith('/api/') || url.startsWith('/console/') || url === '/healthz';
  const bodyLimitOf = (p: Principal) => config.bodyLimitByRole[p.org.role] ?? config.bodyLimitBytes;

  /** Refuses in onRequest; a large body on its way is not read: the connection closes after. */
  function refuse(request: FastifyRequest, reply: FastifyReply, error: HttpError): never {
    if (largeBodyPending(request)) reply.header('connection', 'close');
    throw error;
  }
  function takeOrRefuse(request: FastifyRequest, reply: FastifyReply, key: string, description: string) {
    if (limiter.take(key)) return;
    reply.header('retry-after', String(limiter.retryAfter(key)));
    refuse(request, reply, new HttpError(429, 'Too Many Requests', description));
  }

  /** The request's organisation, or undefined for an anonymous request to a public URL; else refused. */
  async function authenticate(request: FastifyRequest, reply: FastifyReply, open: boolean) {
    const credentials = credentialsFrom(request.headers.authorization);
    const addressKey = `a:${request.ip}`;
    if (credentials.kind === 'none') {
      takeOrRefuse(request, reply, addressKey, 'Slow down: the rate limit for this address was reached.');
      if (open) return undefined;
      refuse(request, reply, new HttpError(401, 'Unauthorized', TOKEN_REQUIRED));
    }
    if (credentials.kind === 'malformed') {
      takeOrRefuse(request, reply, addressKey, 'Slow down: too many failed authentications.');
      refuse(request, reply, new HttpError(401, 'Unauthorized', MALFORMED));
    }
    const tokenKey = `t:${createHash('sha256').update(credentials.token).digest('base64url').slice(0, 22)}`;
    takeOrRefuse(request, reply, tokenKey, 'Slow down: the rate limit for this token was reached.');
    const principal = await orgs.authenticate(credentials.token);
    if (principal) return principal;
    // Guessing tokens costs the client address too, not only a fresh per-token bucket.
    takeOrRefuse(request, reply, addressKey, 'Slow down: too many failed authentications.');
    refuse(request, reply, new HttpError(401, 'Unauthorized', 'The token is not valid.'));
  }

  /** One bucket and one body limit per organisation: its tokens share them, no one spends another's. */
  function holdToLimits(request: FastifyRequest, reply: FastifyReply, p: Principal) {
    takeOrRefuse(
      request,
      reply,
      `o:${p.org.id}`,
      'Slow down: the rate limit for your organisation was reached.',
    );
    const limit = bodyLimitOf(p);
    if (Number(request.headers['content-length'] ?? 0) > limit)
      refuse(
        request,
        reply,
        new HttpError(413, 'Payload Too Large', `The body is larger than ${limit} bytes.`),
      );
  }

  app.addHook('onRequest', async (request, reply) => {
    const url = request.url;
    const open = isPublicRequest(request.method, url);
    // Console pages and assets set their own caching; every answer with data is never stored.
    if (!open || url === '/healthz' || url.startsWith('/console/'))
      reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-store');
    if (url === '/healthz') return;
    if (!isApi(url) && !acceptsTaxii(request.headers.accept))
      refuse(request, reply, new HttpError(406, 'Not Acceptable', `This server speaks ${TAXII_MEDIA_TYPE}.`));
    const principal = await authenticate(request, reply, open);
    if (!principal) return;
    request.principal = principal;
    holdToLimits(request, reply, principal);
  });

  app.addHook('preParsing', async (request, _reply, payload) => {
    const p = request.principal;
    if (!p || request.headers['transfer-encoding'] === undefined) return payload;
    return capped(payload, bodyLimitOf(p));
  });

  // One audit record per request, before the answer leaves: a restricted read that succeeded, or
  // a refusal (401, 403, 404) of anything but the public pages. A failure to write it is a 500.
  app.addHook('onSend', async (request, reply, payload) => {
    const status = reply.statusCode;
    const p = request.principal;
    if (request.auditedRead && p && status < 400) {
      await ctx.audit.record(readEntry(request, p, request.auditedRead));
    } else if (REFUSALS.has(status) && !isPublicRequest(request.method, request.url)) {
      await ctx.audit.record(refusalEntry(request, status));
    }
    return payload;
  });

  app.addHook('onResponse', async (_request, reply) => {
    const status = String(reply.statusCode);
    counts.set(status, (counts.get(status) ?? 0) + 1);
  });

  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    const { status, title, description } = describeError(error, () =>
      ctx.logger.error({ err: error, url: request.url }, 'request failed'),
    );
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="tsunagi", Basic realm="tsunagi"');
    const body = { title, ...(description ? { description } : {}), http_status: String(status) };
    if (isApi(request.url)) return reply.code(status).send(body);
    return reply
      .code(status)
      .header('content-type', TAXII_MEDIA_TYPE)
      .send(Buffer.from(JSON.stringify(body)));
  });

  app.setNotFoundHandler((request, reply) => {
    const body = {
      title: 'Not Found',
      description: 'The requested resource does not exist or is not available to you.',
      http_status: '404',
    };
    if (isApi(request.url)) return reply.code(404).send(body);
    return reply
      .code(404)
      .header('content-type', TAXII_MEDIA_TYPE)
      .send(Buffer.from(JSON.stringify(body)));
  });

  app.get('/healthz', async () => ({ ok: true }));
  registerApi(app, ctx);
  registerTaxii(app, ctx);
  return app;
}

/** The audit record of a refused request: who asked (if known), for what, and the answer. */
function refusalEntry(request: FastifyRequest, status: number) {
  const p = request.principal;
  return {
    actor: p ? p.org.name : 'anonymous',
    action: 'http.refused',
    target: `${request.method} ${request.url.split('?', 1)[0]!.slice(0, 400)}`,
    reason: String(request.headers['x-tsunagi-purpose'] ?? '').slice(0, 100),
    detail: { status, address: request.ip, ...(p ? { token: p.tokenId } : {}) },
  };
}
