/**
 * The hub's HTTP server as a fastify app factory: TAXII 2.1 at /taxii2/ and /{root}/..., the JSON
 * API under /api/. Authentication by token, a rate limit per token (per address before that),
 * body size limits, schema validation on every route, and TAXII error bodies.
 */
import { createHash } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { totalCounter } from '../core/metrics.ts';
import { registerApi } from './api.ts';
import { refusedVersionCount } from './collections.ts';
import { acceptsTaxii, HttpError, TAXII_MEDIA_TYPE, tokenFrom, type HubContext } from './http.ts';
import { RateLimiter } from './ratelimit.ts';
import { registerTaxii } from './taxii.ts';

export async function createHubServer(ctx: HubContext & { registry: Registry }): Promise<FastifyInstance> {
  const { config, orgs } = ctx;
  const app = Fastify({
    bodyLimit: config.bodyLimitBytes,
    logger: false,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, allErrors: false } },
  });
  const limiter = new RateLimiter(config.rateLimit.perSecond, config.rateLimit.burst);
  const counts = new Map<string, number>();
  new Counter({
    name: 'tsunagi_hub_requests_total',
    help: 'HTTP requests answered by the hub, by status code',
    labelNames: ['status'],
    registers: [ctx.registry],
    collect() {
      this.reset();
      for (const [status, n] of counts) this.inc({ status }, n);
    },
  });

  totalCounter(
    ctx.registry,
    'tsunagi_hub_refused_versions_total',
    'STIX versions refused because another object holds that version under the same object key (a hash collision)',
    refusedVersionCount,
  );

  app.addContentTypeParser(
    /^application\/(taxii|stix)\+json/,
    { parseAs: 'string' },
    (_request, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new HttpError(400, 'Bad Request', 'The body is not valid JSON.'), undefined);
      }
    },
  );

  // JSON APIs (the hub's and the console's, which also streams text/event-stream) are not TAXII:
  // TAXII's Accept rule and media-typed error bodies apply everywhere else.
  const isApi = (url: string) => url.startsWith('/api/') || url.startsWith('/console/') || url === '/healthz';

  app.addHook('onRequest', async (request, reply) => {
    const url = request.url;
    if (url === '/healthz') return;
    if (!isApi(url) && !acceptsTaxii(request.headers.accept))
      throw new HttpError(406, 'Not Acceptable', `This server speaks ${TAXII_MEDIA_TYPE}.`);
    const token = tokenFrom(request.headers.authorization);
    const key = token
      ? `t:${createHash('sha256').update(token).digest('base64url').slice(0, 22)}`
      : `a:${request.ip}`;
    if (!limiter.take(key)) {
      reply.header('retry-after', String(limiter.retryAfter(key)));
      throw new HttpError(429, 'Too Many Requests', 'Slow down: the rate limit for this token was reached.');
    }
    if (token) {
      const principal = await orgs.authenticate(token);
      if (!principal) {
        // Guessing tokens costs the client address too, not only a fresh per-token bucket.
        const addressKey = `a:${request.ip}`;
        if (!limiter.take(addressKey)) {
          reply.header('retry-after', String(limiter.retryAfter(addressKey)));
          throw new HttpError(429, 'Too Many Requests', 'Slow down: too many failed authentications.');
        }
        throw new HttpError(401, 'Unauthorized', 'The token is not valid.');
      }
      request.principal = principal;
    }
  });

  app.addHook('onResponse', async (_request, reply) => {
    const status = String(reply.statusCode);
    counts.set(status, (counts.get(status) ?? 0) + 1);
  });

  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
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
      title =
        status === 413 ? 'Payload Too Large' : status === 415 ? 'Unsupported Media Type' : 'Bad Request';
      description = error.message;
    } else if ((error as { exitCode?: number }).exitCode === 2) {
      // InputError from intel: the client's data, not our fault.
      status = 400;
      title = 'Bad Request';
      description = error.message;
    } else {
      ctx.logger.error({ err: error, url: request.url }, 'request failed');
    }
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
