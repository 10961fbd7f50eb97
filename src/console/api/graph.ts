/**
 * GET /console/api/graph: the correlation graph: the newest C&C servers, their families and
 * (full tier) the infected hosts, aggregated into one node per family so a thousand bots stay
 * readable. A bot group is joined to its family and to each C&C server its members were seen
 * talking to (with how many).
 */
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../../share/index.ts';
import { indicatorRef, whereVisible } from '../view.ts';
import type { RouteContext } from './common.ts';
import { detectorBotCount } from './evidence.ts';
import type { GraphBody, GraphEdge, GraphNode } from './types.ts';

export function registerGraph(app: FastifyInstance, ctx: RouteContext): void {
  const { intel } = ctx.deps;
  app.get<{ Querystring: { limit?: number } }>(
    '/console/api/graph',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 200 } },
        },
      },
    },
    async (request): Promise<GraphBody> => {
      const tier = principalOf(request).org.tier;
      const now = new Date();
      const servers = await intel.queries.newest(
        (q) => whereVisible(q, tier),
        'c2',
        request.query.limit ?? 60,
        now,
      );
      const nodes: GraphNode[] = [];
      const edges: GraphEdge[] = [];
      const families = new Map<string, number>();
      const idToNode = new Map<string, string>();
      for (const ind of servers) {
        const ref = indicatorRef(ind.kind, ind.value, ind.port, ind.proto);
        idToNode.set(ind.id, ref);
        // The detector's own count of distinct bots, when the reader may see its evidence.
        const bots = tier === 'full' ? detectorBotCount(ind.attributes) : undefined;
        nodes.push({
          id: ref,
          kind: 'c2',
          label: `${ind.value}:${ind.port}`,
          family: ind.family,
          ...(bots !== undefined ? { count: bots } : {}),
        });
        if (ind.family) {
          families.set(ind.family, (families.get(ind.family) ?? 0) + 1);
          edges.push({ from: ref, to: `family:${ind.family}`, type: 'member-of' });
        }
      }
      if (tier === 'full' && servers.length) {
        // Active bots of the shown families, and bots seen talking to the shown servers, one node per family.
        const { perFamily, links, talking } = await intel.queries.botGroups(
          servers.map((s) => s.id),
          [...families.keys()],
          now,
        );
        const groups = new Map<string, number>();
        for (const r of perFamily) groups.set(r.family, r.count);
        for (const r of talking) groups.set(r.family, Math.max(groups.get(r.family) ?? 0, r.count));
        for (const l of links)
          edges.push({
            from: `bots:${l.family}`,
            to: idToNode.get(l.c2Id)!,
            type: 'communicates-with',
            count: l.count,
          });
        for (const [family, count] of groups) {
          nodes.push({ id: `bots:${family}`, kind: 'bots', label: family, family, count });
          if (family && families.has(family))
            edges.push({ from: `bots:${family}`, to: `family:${family}`, type: 'member-of', count });
        }
      }
      for (const [family, count] of families)
        nodes.push({ id: `family:${family}`, kind: 'family', label: family, family, count });
      return { nodes, edges };
    },
  );
}
