/** GET /console/api/audit: the audit log, newest first, with the chain's verification (the analysis centre only). */
import type { FastifyInstance } from 'fastify';
import { HttpError, principalOf, mayReadAudit, readerOf } from '../../share/index.ts';
import type { RouteContext } from './common.ts';
import type { AuditBody } from './types.ts';

export function registerAudit(app: FastifyInstance, ctx: RouteContext): void {
  const { share } = ctx.deps;
  let verified: { at: number; result: AuditBody['verification'] } | undefined;
  app.get<{ Querystring: { before?: number; limit?: number } }>(
    '/console/api/audit',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            before: { type: 'integer', minimum: 1 },
            limit: { type: 'integer', minimum: 1, maximum: 500 },
          },
        },
      },
    },
    async (request): Promise<AuditBody> => {
      const p = principalOf(request);
      if (!mayReadAudit(readerOf(p)))
        throw new HttpError(403, 'Forbidden', 'The audit log is for the analysis centre.');
      const records = await share.auditRecords(request.query.limit ?? 50, request.query.before);
      // Verifying reads the whole chain: reuse the answer for a few seconds.
      if (!verified || performance.now() - verified.at > 10_000)
        verified = { at: performance.now(), result: await share.verifyAudit() };
      return {
        verification: verified.result,
        records: records.map((r) => ({
          seq: r.seq,
          at: r.at,
          actor: r.actor,
          action: r.action,
          target: r.target,
          reason: r.reason,
          detail: r.detail,
          hash: r.hash,
        })),
      };
    },
  );
}
