/**
 * GET /console/api/hygiene and /console/api/hygiene/organisations/{name}: the hygiene survey's
 * results through the hygiene room's reader. What each reader may see is share's release rule
 * (sector aggregates public, per-organisation results council under TLP:AMBER); this file only
 * asks it. Reads of per-organisation results are written to the audit log.
 */
import type { FastifyInstance } from 'fastify';
import { HttpError, notFound, principalOf, readerOf, release } from '../../share/index.ts';
import { auditRead, type RouteContext } from './common.ts';
import type { HygieneBody, HygieneOrganisationBody } from './types.ts';

const EMPTY: Omit<HygieneBody, 'sectorMarking' | 'organisationMarking' | 'organisations'> = {
  surveys: [],
  sectors: [],
};

export function registerHygiene(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/console/api/hygiene', async (request): Promise<HygieneBody> => {
    const p = principalOf(request);
    const reader = readerOf(p);
    const sectors = release({ type: 'hygiene', level: 'sector' }, reader);
    if (sectors.outcome === 'deny') throw new HttpError(403, 'Forbidden', sectors.reason);
    const organisations = release({ type: 'hygiene', level: 'organisation' }, reader);
    const hygiene = ctx.deps.hygiene;
    const released = organisations.outcome !== 'deny';
    if (!hygiene)
      return {
        ...EMPTY,
        sectorMarking: sectors.copy,
        organisations: released ? [] : null,
        organisationMarking: released ? organisations.copy : null,
      };
    const [adoption, scores] = await Promise.all([
      hygiene.adoption(),
      released ? hygiene.organisationScores() : Promise.resolve(null),
    ]);
    if (released && scores && scores.length > 0)
      await auditRead(ctx, request, p, 'console:hygiene', { organisations: scores.length });
    return {
      surveys: adoption.surveys,
      sectors: adoption.sectors,
      sectorMarking: sectors.copy,
      organisations: scores,
      organisationMarking: released ? organisations.copy : null,
    };
  });

  app.get<{ Params: { name: string } }>(
    '/console/api/hygiene/organisations/:name',
    async (request): Promise<HygieneOrganisationBody> => {
      const p = principalOf(request);
      const decision = release({ type: 'hygiene', level: 'organisation' }, readerOf(p));
      if (decision.outcome === 'deny') throw new HttpError(403, 'Forbidden', decision.reason);
      const name = request.params.name;
      if (name.length === 0 || name.length > 500) throw notFound();
      const detail = await ctx.deps.hygiene?.organisation(name);
      if (!detail) throw notFound();
      await auditRead(ctx, request, p, `hygiene:${name}`, { survey: detail.surveyId });
      return { ...detail, marking: decision.copy };
    },
  );
}
