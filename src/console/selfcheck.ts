/**
 * The public self-check: tells visitors whether THEIR OWN address (the request's, see
 * address.ts) is listed as infected, weak or hosting C&C, as far as public notice already says
 * it (share's release rule for an anonymous reader holding that one address: an entry the
 * analysis centre released under TLP:CLEAR at the public tier, never restricted analysis).
 * No sign-in, no address parameter (anything in the query is refused), rate-limited per
 * address, never cached, and it answers nothing about any other address.
 */
import type { FastifyInstance } from 'fastify';
import { Counter } from 'prom-client';
import { RateLimiter, type PrefixSet } from '../core/index.ts';
import type { IndicatorKind } from '../intel/index.ts';
import { anonymousReader, releasedTo } from '../share/index.ts';
import { clientAddress } from './address.ts';
import type { SelfCheckAnswer, SelfCheckCategory, SelfCheckFinding } from './api/types.ts';
import type { ConsoleConfig } from './config.ts';
import type { ConsoleDeps } from './deps.ts';

export type { SelfCheckAnswer, SelfCheckCategory, SelfCheckFinding } from './api/types.ts';

const CATEGORY: Record<string, SelfCheckCategory> = {
  bot: 'infected',
  'vulnerable-device': 'weak',
  c2: 'c2',
};

export function registerSelfCheck(
  app: FastifyInstance,
  deps: Pick<ConsoleDeps, 'intel' | 'share' | 'registry'>,
  config: ConsoleConfig,
  trusted: PrefixSet,
): void {
  const limiter = new RateLimiter(config.selfCheck.perMinute / 60, config.selfCheck.burst);
  const outcomes = { listed: 0, unlisted: 0, limited: 0, refused: 0, unknown: 0 };
  new Counter({
    name: 'tsunagi_console_selfcheck_total',
    help: 'Public self-check requests by outcome (listed, unlisted, rate limited, refused for parameters, address unknown)',
    labelNames: ['outcome'],
    registers: [deps.registry],
    collect() {
      this.reset();
      for (const [outcome, n] of Object.entries(outcomes)) this.inc({ outcome }, n);
    },
  });

  app.get('/console/api/self-check', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    if (request.raw.url?.includes('?')) {
      outcomes.refused++;
      return reply.code(400).send({
        title: 'Bad Request',
        description:
          'The self-check takes no parameters: it only ever answers about the address you connect from.',
      });
    }
    const address = clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], trusted);
    if (!address) {
      outcomes.unknown++;
      return reply
        .code(400)
        .send({ title: 'Bad Request', description: 'Your address could not be determined.' });
    }
    if (!limiter.take(address)) {
      outcomes.limited++;
      return reply
        .code(429)
        .header('retry-after', String(Math.max(1, limiter.retryAfter(address))))
        .send({ title: 'Too Many Requests', description: 'Please wait a little before checking again.' });
    }
    const rows = await deps.intel.queries.activeWithValue(
      address,
      Object.keys(CATEGORY) as IndicatorKind[],
      new Date(),
      20,
    );
    // Only what public notice already says about this address: the release rule, for an
    // anonymous reader holding just its own address (issue #15, 7: no tip-off to a C&C operator).
    const reader = anonymousReader(address);
    const decisions = await deps.share.publicNoticeDecisions(rows.map((r) => r.id));
    const findings: SelfCheckFinding[] = rows.flatMap((r) => {
      const copy = releasedTo(r, reader, decisions.get(r.id));
      if (!copy) return [];
      const ind = copy.indicator;
      const service =
        typeof ind.attributes.service === 'string' ? ind.attributes.service.slice(0, 40) : undefined;
      const category = CATEGORY[ind.kind]!;
      return [
        {
          category,
          ...(category === 'infected' && ind.family ? { family: ind.family } : {}),
          ...(category !== 'infected' && service ? { service } : {}),
          ...(category !== 'infected' && ind.port ? { port: ind.port } : {}),
          since: ind.createdAt.slice(0, 10),
        },
      ];
    });
    if (findings.length) outcomes.listed++;
    else outcomes.unlisted++;
    const answer: SelfCheckAnswer = {
      address,
      listed: findings.length > 0,
      findings,
      checkedAt: new Date().toISOString(),
    };
    return answer;
  });
}
