// The correlation graph as three columns read left to right: infected hosts (one group per
// family), families, and C&C servers grouped under their family. A layered layout keeps a
// thousand bots and sixty servers readable where a force layout would knot them.
import type { GraphEdge, GraphNode } from './api.ts';
import { useI18n } from './i18n.ts';

export type { GraphEdge, GraphNode } from './api.ts';

/** C&C servers drawn per family before the rest fold into "+N more". */
const PER_FAMILY = 8;
const ROW = 20;
const X = { bots: 200, family: 450, c2: 680 };
const WIDTH = 960;
export const COLORS = { c2: '#e5484d', family: '#8e4ec6', bots: '#f76b15' };

interface Placed {
  node: GraphNode;
  y: number;
  /** Servers folded into this row ("+N more"). */
  more?: number;
}

/** Rows per column: servers grouped by family (biggest first), families and bot groups beside them. */
export function layout(nodes: GraphNode[], edges: GraphEdge[]) {
  const familyNodes = nodes.filter((n) => n.kind === 'family');
  const c2ByFamily = new Map<string, GraphNode[]>();
  for (const n of nodes)
    if (n.kind === 'c2') c2ByFamily.set(n.family, [...(c2ByFamily.get(n.family) ?? []), n]);
  const order = [...c2ByFamily.keys()].sort(
    (a, b) =>
      (a === '' ? 1 : 0) - (b === '' ? 1 : 0) || c2ByFamily.get(b)!.length - c2ByFamily.get(a)!.length,
  );
  const servers: Placed[] = [];
  const families: Placed[] = [];
  let row = 0;
  for (const family of order) {
    const list = c2ByFamily.get(family)!;
    const first = row;
    for (const node of list.slice(0, PER_FAMILY)) servers.push({ node, y: row++ });
    if (list.length > PER_FAMILY)
      servers.push({
        node: { id: `more:${family}`, kind: 'c2', label: '', family },
        y: row++,
        more: list.length - PER_FAMILY,
      });
    const familyNode = familyNodes.find((f) => f.family === family);
    if (familyNode) families.push({ node: familyNode, y: (first + row - 1) / 2 });
    row += 0.6; // a gap between families
  }
  const serverRow = new Map(servers.map((p) => [p.node.id, p.y]));
  for (const p of servers)
    if (p.more) for (const n of c2ByFamily.get(p.node.family)!.slice(PER_FAMILY)) serverRow.set(n.id, p.y);
  const familyRow = new Map(families.map((p) => [p.node.id, p.y]));
  const bots: Placed[] = [];
  const taken: number[] = [];
  for (const node of nodes.filter((n) => n.kind === 'bots')) {
    const ownFamily = familyRow.get(`family:${node.family}`);
    const talked = edges
      .filter((e) => e.from === node.id && serverRow.has(e.to))
      .map((e) => serverRow.get(e.to)!);
    let y = ownFamily ?? (talked.length ? talked.reduce((a, b) => a + b, 0) / talked.length : row);
    while (taken.some((t) => Math.abs(t - y) < 1)) y += 1; // never on top of another group
    taken.push(y);
    bots.push({ node, y });
  }
  const rows = Math.max(row, ...bots.map((b) => b.y + 1), 1);
  return { servers, families, bots, serverRow, familyRow, rows };
}

export function CorrelationGraph({ nodes, edges }: { nodes: GraphNode[]; edges: GraphEdge[] }) {
  const { t } = useI18n();
  const { servers, families, bots, serverRow, familyRow, rows } = layout(nodes, edges);
  const top = 30;
  const y = (row: number) => top + row * ROW + ROW / 2;
  const height = top + rows * ROW + 10;
  const maxBots = Math.max(1, ...bots.map((b) => b.node.count ?? 0));
  const botRow = new Map(bots.map((b) => [b.node.id, b.y]));
  const radius = (count: number) => 4 + 10 * Math.sqrt(count / maxBots);
  return (
    <svg className="graph" viewBox={`0 0 ${WIDTH} ${height}`} role="img" data-testid="graph">
      <text x={X.bots} y={16} className="tick" textAnchor="middle">
        {t('kind_bot')}
      </text>
      <text x={X.family} y={16} className="tick" textAnchor="middle">
        {t('graphFamily')}
      </text>
      <text x={X.c2 - 10} y={16} className="tick">
        {t('graphC2')}
      </text>
      {edges.map((e, i) => {
        const fromBots = botRow.get(e.from);
        const toFamily = familyRow.get(e.to);
        const toServer = serverRow.get(e.to);
        const fromServer = serverRow.get(e.from);
        if (fromBots !== undefined && toFamily !== undefined)
          return (
            <line
              key={i}
              x1={X.bots}
              y1={y(fromBots)}
              x2={X.family}
              y2={y(toFamily)}
              className="edge"
              strokeWidth={1 + 4 * Math.sqrt((e.count ?? 1) / maxBots)}
            />
          );
        if (fromBots !== undefined && toServer !== undefined)
          return (
            <path
              key={i}
              d={`M${X.bots} ${y(fromBots)} C${X.family} ${y(fromBots)} ${X.family} ${y(toServer)} ${X.c2} ${y(toServer)}`}
              className="edge talks"
              fill="none"
            >
              <title>{`${e.count ?? 1} ${t('graphTalks')}`}</title>
            </path>
          );
        if (fromServer !== undefined && toFamily !== undefined)
          return (
            <line key={i} x1={X.family} y1={y(toFamily)} x2={X.c2} y2={y(fromServer)} className="edge" />
          );
        return null;
      })}
      {bots.map(({ node, y: row }) => (
        <g key={node.id} data-node="bots">
          <circle cx={X.bots} cy={y(row)} r={radius(node.count ?? 0)} fill={COLORS.bots}>
            <title data-translate={node.family ? 'no' : undefined}>
              {`${node.family || t('familyUnknown')}: ${node.count ?? 0} ${t('graphBotCount')}`}
            </title>
          </circle>
          <text
            x={X.bots - radius(node.count ?? 0) - 6}
            y={y(row) + 4}
            className="node-label"
            textAnchor="end"
          >
            <tspan data-translate="no">{node.family || t('familyUnknown')}</tspan>{' '}
            {(node.count ?? 0).toLocaleString()} {t('graphBotCount')}
          </text>
        </g>
      ))}
      {families.map(({ node, y: row }) => (
        <g key={node.id} data-node="family">
          <circle cx={X.family} cy={y(row)} r={9} fill={COLORS.family} />
          <text x={X.family + 14} y={y(row) + 4} className="node-label" data-translate="no">
            {node.label}
          </text>
          <text x={X.family + 14} y={y(row) + 16} className="node-count">
            {node.count ?? 0} {t('graphServers')}
          </text>
        </g>
      ))}
      {servers.map(({ node, y: row, more }) =>
        more ? (
          <text key={node.id} x={X.c2 + 10} y={y(row) + 4} className="node-count">
            + {more} {t('graphMore')}
          </text>
        ) : (
          <a key={node.id} href={`#/c2/${node.id}`} data-node="c2">
            <circle cx={X.c2} cy={y(row)} r={6} fill={COLORS.c2} />
            <text x={X.c2 + 10} y={y(row) + 4} className="node-label" data-translate="no">
              {node.label}
            </text>
            {node.count !== undefined ? (
              <text x={X.c2 + 170} y={y(row) + 4} className="node-count">
                <title>{t('graphSeenBots')}</title>
                {node.count} {t('graphBotCount')}
              </text>
            ) : null}
          </a>
        ),
      )}
    </svg>
  );
}

/** The colours, said in words. */
export function GraphLegend() {
  const { t } = useI18n();
  const dot = (color: string) => (
    <svg width="12" height="12" aria-hidden="true">
      <circle cx="6" cy="6" r="5" fill={color} />
    </svg>
  );
  return (
    <div className="legend">
      <span>
        {dot(COLORS.bots)}
        {t('graphBots')}
      </span>
      <span>
        {dot(COLORS.family)}
        {t('graphFamily')}
      </span>
      <span>
        {dot(COLORS.c2)}
        {t('graphC2')}
      </span>
    </div>
  );
}
