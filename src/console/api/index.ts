/**
 * The console's JSON API under /console/api/: the same bearer tokens, scopes and tier rules as
 * TAXII, one file per resource. Every answer is filtered by the reader's tier (in SQL where it
 * pages: see ../view.ts) so tables paginate and count server-side; reads of restricted detail
 * are written to the audit log. The routes call only what `ConsoleDeps` offers.
 */
import type { FastifyInstance } from 'fastify';
import { asnDirectory } from '../asn.ts';
import type { ConsoleConfig } from '../config.ts';
import type { ConsoleDeps } from '../deps.ts';
import { registerAudit } from './audit.ts';
import type { ApiState } from './common.ts';
import { registerDarknet } from './darknet.ts';
import { registerGraph } from './graph.ts';
import { registerHealth } from './health.ts';
import { registerHosts } from './hosts.ts';
import { registerHygiene } from './hygiene.ts';
import { registerSensors } from './sensor.ts';
import { registerIndicators } from './indicators.ts';
import { registerMe } from './me.ts';
import { registerOsint } from './osint.ts';
import { registerOverview } from './overview.ts';
import { registerReview } from './review.ts';
import { registerRunbook } from './runbook.ts';
import { registerSharing } from './sharing.ts';
import { registerSurvey } from './survey.ts';
import { registerWeb, registerWebReports } from './web.ts';

export type { ApiState } from './common.ts';
export { COUNT_CAP } from './indicators.ts';
export { evidenceOf } from './evidence.ts';
export type * from './types.ts';

export function registerApi(
  app: FastifyInstance,
  deps: ConsoleDeps,
  config: ConsoleConfig,
  state: ApiState,
): void {
  const ctx = { deps, config, state, asns: asnDirectory() };
  registerMe(app);
  registerOverview(app, ctx);
  registerIndicators(app, ctx);
  registerHosts(app, ctx);
  registerDarknet(app, ctx);
  registerSurvey(app, ctx);
  registerSharing(app, ctx);
  registerAudit(app, ctx);
  registerGraph(app, ctx);
  registerHygiene(app, ctx);
  registerSensors(app, ctx);
  registerWeb(app, ctx);
  registerWebReports(app, ctx);
  registerOsint(app, ctx);
  registerReview(app, deps.share.reviews);
  registerHealth(app, deps.health);
  registerRunbook(app, deps.runbook);
}
