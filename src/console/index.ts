/**
 * Front door of src/console/: the web console's server side. `createConsole(config, deps)`
 * returns a component whose `register(app)` adds, to the hub's fastify app, the built SPA (with
 * a strict CSP), the console JSON API (same tokens, scopes and tiers as TAXII), the live-update
 * stream and the public self-check.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { InputError, RateLimiter, type Component } from '../core/index.ts';
import { TIERS, type Tier } from '../intel/index.ts';
import { HttpError, tokenFrom } from '../share/index.ts';
import { trustedProxySet } from './address.ts';
import { registerApi, type ApiState } from './api/index.ts';
import type { ConsoleDeps } from './deps.ts';
import { ConsoleConfig, type ConsoleConfigInput } from './config.ts';
import { registerLive, SECURITY_HEADERS, type LiveFeed } from './live.ts';
import { registerSelfCheck } from './selfcheck.ts';
import { CONTENT_SECURITY_POLICY, loadDist, registerStatic, type StaticFile } from './static.ts';

export { ConsoleConfig } from './config.ts';
export { clientAddress, trustedProxySet } from './address.ts';
export { CONTENT_SECURITY_POLICY } from './static.ts';
export { visibleAt, viewOf, whereVisible, indicatorRef } from './view.ts';
export {
  consoleDepsOf,
  type ConsoleDeps,
  type ConsoleHygiene,
  type ConsoleSensor,
  type ConsoleWeb,
  type ConsoleOsint,
  type ConsoleIntel,
  type ConsoleShare,
} from './deps.ts';
export type * from './api/types.ts';

export interface WebConsole extends Component {
  /** Adds the console's routes to the hub's app; call before the app is ready. */
  register(app: FastifyInstance): Promise<void>;
  /** The live-update feed (available after register). */
  readonly live: LiveFeed | undefined;
  /** Whether a built SPA was found at start. */
  readonly built: boolean;
}

export function createConsole(
  input: ConsoleConfig | ConsoleConfigInput | undefined,
  deps: ConsoleDeps,
): WebConsole {
  const config = ConsoleConfig.parse(input ?? {});
  const trusted = trustedProxySet(config.trustedProxies);
  let files = new Map<string, StaticFile>();
  let live: LiveFeed | undefined;
  const state: ApiState = { overviewCache: new Map(), overviewRefresh: new Map() };
  const recount = (tier: Tier) =>
    state
      .refreshOverview?.(tier)
      .catch((error: unknown) => deps.logger.error({ err: error }, 'console overview recount failed'));
  const limiter = new RateLimiter(config.apiRate.perSecond, config.apiRate.burst);

  return {
    name: 'console',
    get live() {
      return live;
    },
    get built() {
      return files.has('/index.html');
    },
    async register(app) {
      await app.register(async (scope) => {
        scope.addHook('onRequest', async (request, reply) => {
          reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
          for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
          if (!request.url.startsWith('/console/api/') || request.url.startsWith('/console/api/self-check'))
            return;
          reply.header('cache-control', 'no-store');
          const token = tokenFrom(request.headers.authorization);
          if (token && !request.principal) request.principal = await deps.share.authenticate(token);
          const key = request.principal ? `t:${request.principal.tokenId}` : `a:${request.ip}`;
          if (!limiter.take(key)) {
            throw new HttpError(
              429,
              'Too Many Requests',
              `Slow down; retry in ${limiter.retryAfter(key)} s.`,
            );
          }
          // Refuse anonymous calls before anything else runs, so they learn nothing (not even
          // which parameters a route takes).
          if (!request.principal)
            throw new HttpError(401, 'Unauthorized', 'Sign in with an organisation token.');
          if (!request.principal.scopes.includes('read'))
            throw new HttpError(403, 'Forbidden', 'This token has no read scope.');
        });
        scope.setErrorHandler(async (error: FastifyError, request, reply) => {
          if (error instanceof HttpError) {
            if (error.status === 429) reply.header('retry-after', '1');
            return reply
              .code(error.status)
              .send({ title: error.title, description: error.description ?? error.title });
          }
          if (error instanceof InputError || error.validation) {
            return reply.code(400).send({ title: 'Bad Request', description: error.message });
          }
          if (typeof error.statusCode === 'number' && error.statusCode < 500) {
            return reply.code(error.statusCode).send({ title: 'Bad Request', description: error.message });
          }
          deps.logger.error({ err: error, url: request.routeOptions.url }, 'console request failed');
          return reply.code(500).send({
            title: 'Internal Server Error',
            description: 'The console could not answer; see the hub log.',
          });
        });
        registerStatic(scope, () => files);
        registerApi(scope, deps, config, state);
        registerSelfCheck(scope, deps, config, trusted);
        live = registerLive(scope, deps.intel.changes, deps.share, config, {
          registry: deps.registry,
          logger: deps.logger,
          onChange: async () => {
            // Recount the tiers someone looks at; their next read gets the new counts.
            await Promise.all([...state.overviewCache.keys()].map(recount));
          },
        });
      });
    },
    async start() {
      files = loadDist(config.distDir);
      if (!files.has('/index.html'))
        deps.logger.warn({ dir: config.distDir }, 'console not built: run npm run build:console');
      await live?.start();
      // Warm the counts in the background so the first visitor does not wait for them.
      for (const tier of TIERS) void recount(tier);
    },
    async stop() {
      await live?.stop();
    },
  };
}
