/** What the console's route files share: their dependencies, the tier checks and the audited read. */
import type { FastifyRequest } from 'fastify';
import type { Tier } from '../../intel/index.ts';
import { HttpError, type Principal, type PublicNoticeDecision } from '../../share/index.ts';
import type { AsnDirectory } from '../asn.ts';
import type { ConsoleConfig } from '../config.ts';
import type { ConsoleDeps } from '../deps.ts';
import type { OverviewBody } from './types.ts';

export interface ApiState {
  overviewCache: Map<Tier, { at: number; body: OverviewBody }>;
  overviewRefresh: Map<Tier, Promise<OverviewBody>>;
  /** Set by the overview routes: recounts a tier's overview (to warm up, and after changes). */
  refreshOverview?: (tier: Tier) => Promise<OverviewBody>;
}

export interface RouteContext {
  deps: ConsoleDeps;
  config: ConsoleConfig;
  state: ApiState;
  asns: AsnDirectory;
}

export function requireFull(p: Principal): void {
  if (p.org.tier !== 'full') throw new HttpError(403, 'Forbidden', 'This view needs the full-analysis tier.');
}

/** The analysis centre's public-notice decisions on rows a public reader is about to see. */
export async function decisionsFor(
  ctx: RouteContext,
  tier: Tier,
  rows: readonly { id: string }[],
): Promise<Map<string, PublicNoticeDecision>> {
  if (tier !== 'public' || rows.length === 0) return new Map();
  return ctx.deps.share.publicNoticeDecisions(rows.map((r) => r.id));
}

/** Records a console read of restricted data in the audit log. */
export function auditRead(
  ctx: RouteContext,
  request: FastifyRequest,
  p: Principal,
  target: string,
  detail: Record<string, unknown>,
): Promise<void> {
  return ctx.deps.share.noteRead(request, p, { channel: 'console', purpose: 'console', target, detail });
}

/** ISO hours (`2026-01-02T03`) of the last `hours` hours, ending with the current one. */
export function hourBuckets(hours: number, now: Date): string[] {
  const out: string[] = [];
  const end = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
  for (let i = hours - 1; i >= 0; i--) out.push(new Date(end - i * 3_600_000).toISOString().slice(0, 13));
  return out;
}
