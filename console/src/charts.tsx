// Hand-drawn SVG charts: horizontal bars, a line/bar time series, and a simple force layout.
import { useMemo } from 'react';

export function Bars({
  rows,
  label,
}: {
  rows: { label: string; value: number; color?: string }[];
  label?: string;
}) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  if (rows.length === 0) return null;
  const height = rows.length * 22;
  return (
    <svg className="bars" viewBox={`0 0 420 ${height}`} role="img" aria-label={label}>
      {rows.map((r, i) => (
        <g key={`${r.label}-${i}`} transform={`translate(0 ${i * 22})`}>
          <text x="0" y="15" className="bar-label">
            {r.label.length > 22 ? `${r.label.slice(0, 21)}…` : r.label}
          </text>
          <rect
            x="150"
            y="3"
            height="16"
            width={Math.max(1, (r.value / max) * 220)}
            fill={r.color ?? '#4c9aff'}
            rx="2"
          />
          <text x={156 + (r.value / max) * 220} y="15" className="bar-value">
            {r.value.toLocaleString()}
          </text>
        </g>
      ))}
    </svg>
  );
}

export function Series({
  series,
  labels,
  highlight,
}: {
  series: { name: string; values: number[]; color: string }[];
  labels: string[];
  highlight?: Set<number>;
}) {
  const w = 640;
  const h = 160;
  const pad = 28;
  const n = labels.length;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i: number) => pad + (i * (w - pad * 2)) / Math.max(1, n - 1);
  const y = (v: number) => h - pad - (v / max) * (h - pad * 2);
  return (
    <svg className="series" viewBox={`0 0 ${w} ${h}`} role="img">
      <line x1={pad} y1={h - pad} x2={w - pad} y2={h - pad} className="axis" />
      <text x={2} y={pad} className="tick">
        {max}
      </text>
      {[...(highlight ?? [])].map((i) => (
        <rect key={`h${i}`} x={x(i) - 4} y={pad / 2} width={8} height={h - pad * 1.5} className="surge" />
      ))}
      {series.map((s) => (
        <polyline
          key={s.name}
          fill="none"
          stroke={s.color}
          strokeWidth="2"
          points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ')}
        />
      ))}
      {labels.map((l, i) =>
        i % Math.ceil(n / 8) === 0 ? (
          <text key={l} x={x(i)} y={h - 8} className="tick" textAnchor="middle">
            {l.slice(11, 13)}h
          </text>
        ) : null,
      )}
      {series.map((s, i) => (
        <g key={`l${s.name}`} transform={`translate(${pad + i * 150} 10)`}>
          <rect width="10" height="10" fill={s.color} />
          <text x="14" y="9" className="tick">
            {s.name}
          </text>
        </g>
      ))}
    </svg>
  );
}

export interface GraphNode {
  id: string;
  kind: string;
  label: string;
}
export interface GraphEdge {
  from: string;
  to: string;
  type: string;
}

const NODE_COLOR: Record<string, string> = { c2: '#e5484d', family: '#8e4ec6', bot: '#f76b15' };

/** A small force layout run a fixed number of steps (deterministic start), drawn once. */
export function ForceGraph({ nodes, edges }: { nodes: GraphNode[]; edges: GraphEdge[] }) {
  const positions = useMemo(() => {
    const w = 900;
    const h = 560;
    const index = new Map(nodes.map((n, i) => [n.id, i]));
    const px = new Float64Array(nodes.length);
    const py = new Float64Array(nodes.length);
    nodes.forEach((_, i) => {
      const a = i * 2.399963;
      const r = 20 + 8 * Math.sqrt(i);
      px[i] = w / 2 + r * Math.cos(a);
      py[i] = h / 2 + r * Math.sin(a);
    });
    const links = edges
      .map((e) => [index.get(e.from), index.get(e.to)])
      .filter((l): l is [number, number] => l[0] !== undefined && l[1] !== undefined);
    const steps = nodes.length > 400 ? 80 : 200;
    for (let step = 0; step < steps; step++) {
      const fx = new Float64Array(nodes.length);
      const fy = new Float64Array(nodes.length);
      for (let i = 0; i < nodes.length; i++) {
        for (let j = i + 1; j < nodes.length; j++) {
          const dx = px[i]! - px[j]!;
          const dy = py[i]! - py[j]!;
          const d2 = Math.max(dx * dx + dy * dy, 25);
          const f = 120 / d2;
          fx[i]! += dx * f;
          fy[i]! += dy * f;
          fx[j]! -= dx * f;
          fy[j]! -= dy * f;
        }
      }
      for (const [a, b] of links) {
        const dx = px[b]! - px[a]!;
        const dy = py[b]! - py[a]!;
        fx[a]! += dx * 0.06;
        fy[a]! += dy * 0.06;
        fx[b]! -= dx * 0.06;
        fy[b]! -= dy * 0.06;
      }
      for (let i = 0; i < nodes.length; i++) {
        fx[i]! += (w / 2 - px[i]!) * 0.03;
        fy[i]! += (h / 2 - py[i]!) * 0.03;
        px[i] = Math.min(w - 10, Math.max(10, px[i]! + Math.max(-10, Math.min(10, fx[i]!))));
        py[i] = Math.min(h - 10, Math.max(10, py[i]! + Math.max(-10, Math.min(10, fy[i]!))));
      }
    }
    return { px, py, index, links, w, h };
  }, [nodes, edges]);
  const { px, py, links, w, h } = positions;
  return (
    <svg className="graph" viewBox={`0 0 ${w} ${h}`} role="img">
      {links.map(([a, b], i) => (
        <line key={i} x1={px[a]} y1={py[a]} x2={px[b]} y2={py[b]} className="edge" />
      ))}
      {nodes.map((n, i) => (
        <g key={n.id}>
          <circle
            cx={px[i]}
            cy={py[i]}
            r={n.kind === 'bot' ? 3 : n.kind === 'family' ? 9 : 6}
            fill={NODE_COLOR[n.kind] ?? '#888'}
          >
            <title>{n.label}</title>
          </circle>
          {n.kind !== 'bot' ? (
            <text x={px[i]! + 8} y={py[i]! + 4} className="node-label">
              {n.label}
            </text>
          ) : null}
        </g>
      ))}
    </svg>
  );
}
