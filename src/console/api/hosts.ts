/** GET /console/api/hosts: infected hosts and vulnerable devices by AS, country and family (full tier only). */
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../../share/index.ts';
import { requireFull, type RouteContext } from './common.ts';
import type { HostsBody } from './types.ts';

/** Hosts without an AS placed by their address per hosts request. */
const HOSTS_ASN_LOOKUPS = 20_000;

export function registerHosts(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/console/api/hosts', async (request): Promise<HostsBody> => {
    requireFull(principalOf(request));
    const [hosts] = await Promise.all([
      ctx.deps.intel.queries.hostBreakdown(new Date(), HOSTS_ASN_LOOKUPS),
      ctx.asns.ready(),
    ]);
    const perAsn = new Map<string, { kind: string; asn: number | null; count: number }>();
    const add = (kind: string, asn: number | null, count: number) => {
      const key = `${kind}|${asn ?? ''}`;
      const row = perAsn.get(key) ?? { kind, asn, count: 0 };
      row.count += count;
      perAsn.set(key, row);
    };
    for (const r of hosts.byAsn) add(r.kind, r.asn, r.count);
    // Hosts reported without an AS (a darknet sensor knows only the address) placed by the bundled database.
    for (const r of hosts.withoutAsn) add(r.kind, ctx.asns.asnOf(r.value), 1);
    return {
      totals: Object.fromEntries(hosts.totals.map((r) => [r.kind, r.count])),
      byAsn: [...perAsn.values()]
        .sort((a, b) => b.count - a.count)
        .slice(0, 40)
        .map((r) => ({ ...r, name: r.asn === null ? undefined : ctx.asns.nameOf(r.asn) })),
      asnSampled: hosts.withoutAsn.length === HOSTS_ASN_LOOKUPS,
      byCountry: hosts.byCountry,
      byFamily: hosts.byFamily,
    };
  });
}
