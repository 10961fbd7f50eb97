/** GET /console/api/me: who the token belongs to. */
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../../share/index.ts';
import type { MeBody } from './types.ts';

export function registerMe(app: FastifyInstance): void {
  app.get('/console/api/me', async (request): Promise<MeBody> => {
    const p = principalOf(request);
    return {
      org: p.org.name,
      role: p.org.role,
      tier: p.org.tier,
      scopes: p.scopes,
      consent: p.org.consentAt !== null,
    };
  });
}
