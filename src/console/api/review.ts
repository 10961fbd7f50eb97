/**
 * GET/POST /console/api/review: the public-notice review queue: the analysis centre lists what submitters
 * asked to reach the public, edits, approves or refuses it. Share's review module decides and
 * audits; who may decide is share's release rule (the analysis centre, with a write token).
 */
import type { FastifyInstance } from 'fastify';
import {
  HttpError,
  principalOf,
  mayDecidePublicNotice,
  mayReadAudit,
  readerOf,
  REVIEW_STATUSES,
  type Reviews,
  type ReviewStatus,
} from '../../share/index.ts';

const IdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } },
} as const;

export function registerReview(app: FastifyInstance, reviews: Reviews): void {
  app.get<{ Querystring: { status?: ReviewStatus | 'all' } }>(
    '/console/api/review',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { status: { type: 'string', enum: [...REVIEW_STATUSES, 'all'] } },
        },
      },
    },
    async (request) => {
      const p = principalOf(request);
      // The queue names submitters: as the audit log, for the analysis centre only.
      if (!mayReadAudit(readerOf(p)))
        throw new HttpError(403, 'Forbidden', 'The review queue is for the analysis centre.');
      const status = request.query.status ?? 'pending';
      return { items: await reviews.list(status === 'all' ? undefined : status, 1000) };
    },
  );

  const decide = (action: 'approve' | 'refuse' | 'edit') =>
    app.post<{ Params: { id: string }; Body: { family?: string; note?: string } | undefined }>(
      `/console/api/review/:id/${action}`,
      {
        schema: {
          params: IdParams,
          body: {
            type: ['object', 'null'],
            additionalProperties: false,
            properties: {
              family: { type: 'string', maxLength: 64 },
              note: { type: 'string', maxLength: 500 },
            },
          },
        },
      },
      async (request) => {
        const p = principalOf(request);
        if (!mayDecidePublicNotice(p))
          throw new HttpError(403, 'Forbidden', 'Public notice is decided by the analysis centre.');
        const { id } = request.params;
        const body = request.body ?? {};
        if (!(await reviews.get(id))) throw new HttpError(404, 'Not Found', `no review entry ${id}`);
        const actor = `${p.org.name} (console)`;
        const entry =
          action === 'approve'
            ? await reviews.approve(id, actor)
            : action === 'refuse'
              ? await reviews.refuse(id, actor, body.note)
              : await reviews.edit(id, body, actor);
        return { entry };
      },
    );
  decide('approve');
  decide('refuse');
  decide('edit');
}
