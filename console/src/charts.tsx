// Hand-drawn SVG charts: horizontal bars, a time series with a round axis, and the layered
// correlation graph (infected hosts -> families -> C&C servers).
import { formatHour } from './format.ts';
import { useI18n } from './i18n.ts';

/** A label cut to about `width` SVG units at 11px (wide characters count double), with an ellipsis. */
export function fitLabel(label: string, width: number): string {
  let used = 0;
  for (let i = 0; i < label.length; i++) {
    used += label.charCodeAt(i) > 0x2e80 ? 11 : 6.3;
    if (used > width) return `${label.slice(0, Math.max(1, i - 1))}…`;
  }
  return label;
}

/** Horizontal bars; with no rows, a sentence saying so (`empty`, or "no data yet"). */
export function Bars({
  rows,
  label,
  empty,
}: {
  rows: { label: string; value: number; color?: string; dataLabel?: boolean }[];
  label?: string;
  empty?: string;
}) {
  const { t } = useI18n();
  if (rows.length === 0) return <p className="muted">{empty ?? t('emptyChart')}</p>;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const height = rows.length * 22;
  return (
    <svg className="bars" viewBox={`0 0 460 ${height}`} role="img" aria-label={label}>
      {rows.map((r, i) => (
        <g key={`${r.label}-${i}`} transform={`translate(0 ${i * 22})`}>
          <text x="0" y="15" className="bar-label" data-translate={r.dataLabel ? 'no' : undefined}>
            <title>{r.label}</title>
            {fitLabel(r.label, 180)}
          </text>
          <rect
            x="190"
            y="3"
            height="16"
            width={Math.max(1, (r.value / max) * 210)}
            fill={r.color ?? '#4c9aff'}
            rx="2"
          />
          <text x={196 + (r.value / max) * 210} y="15" className="bar-value">
            {r.value.toLocaleString()}
          </text>
        </g>
      ))}
    </svg>
  );
}

/** Round axis steps (1, 2, 5 x 10^k, whole numbers) so the top tick is a number people read. */
export function axisTicks(max: number): number[] {
  if (max <= 0) return [0];
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power);
  const ticks: number[] = [];
  for (let v = 0; v < max + step; v += step) ticks.push(v);
  return ticks;
}

export function Series({
  series,
  labels,
  highlight,
  formatLabel,
  legend = true,
}: {
  /** A null is a bucket the series has no value for: the line skips it. */
  series: { name: string; values: (number | null)[]; color: string }[];
  /** Hour buckets `YYYY-MM-DDTHH` (UTC), shown as local hours, unless `formatLabel` says otherwise. */
  labels: string[];
  highlight?: Set<number>;
  formatLabel?: (label: string) => string;
  /** False when the page draws its own legend (more series than fit above the chart). */
  legend?: boolean;
}) {
  const { t, lang } = useI18n();
  const w = 640;
  const h = 170;
  const left = 40;
  const right = 26;
  const top = 26;
  const bottom = 24;
  const n = labels.length;
  const ticks = axisTicks(Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v !== null))));
  const scaleMax = ticks[ticks.length - 1]! || 1;
  const allZero = ticks.length === 1;
  const x = (i: number) => left + (i * (w - left - right)) / Math.max(1, n - 1);
  const y = (v: number) => h - bottom - (v / scaleMax) * (h - top - bottom);
  const every = Math.ceil(n / 8);
  return (
    <svg className="series" viewBox={`0 0 ${w} ${h}`} role="img">
      {ticks.map((v) => (
        <g key={`y${v}`}>
          <line x1={left} y1={y(v)} x2={w - right} y2={y(v)} className="axis" />
          <text x={left - 6} y={y(v) + 4} className="tick" textAnchor="end">
            {v.toLocaleString()}
          </text>
        </g>
      ))}
      {allZero ? (
        <text x={(left + w - right) / 2} y={h / 2} className="chart-note" textAnchor="middle">
          {t('allZero')}
        </text>
      ) : null}
      {[...(highlight ?? [])].map((i) => (
        <rect key={`h${i}`} x={x(i) - 4} y={top} width={8} height={h - top - bottom} className="surge" />
      ))}
      {series.map((s) => (
        <polyline
          key={s.name}
          fill="none"
          stroke={s.color}
          strokeWidth="2"
          points={s.values.flatMap((v, i) => (v === null ? [] : [`${x(i)},${y(v)}`])).join(' ')}
        />
      ))}
      {n <= 12
        ? series.map((s) =>
            s.values.map((v, i) =>
              v === null ? null : <circle key={`${s.name}-${i}`} cx={x(i)} cy={y(v)} r="3" fill={s.color} />,
            ),
          )
        : null}
      {labels.map((l, i) =>
        (n - 1 - i) % every === 0 ? (
          <text key={l} x={x(i)} y={h - 6} className="tick" textAnchor="middle">
            {formatLabel ? formatLabel(l) : formatHour(l, lang)}
          </text>
        ) : null,
      )}
      {(legend ? series : []).map((s, i) => (
        <g key={`l${s.name}`} transform={`translate(${left + i * 150} 8)`}>
          <rect width="10" height="10" fill={s.color} />
          <text x="14" y="9" className="tick">
            {s.name}
          </text>
        </g>
      ))}
    </svg>
  );
}

/** The legend of a Series drawn with `legend={false}`: below the chart, wrapping, names untranslated. */
export function SeriesLegend({
  series,
  testId,
}: {
  series: { name: string; color: string }[];
  testId: string;
}) {
  return (
    <p className="legend" data-testid={testId}>
      {series.map((s) => (
        <span key={s.name} className="legend-item">
          <span className="swatch" style={{ background: s.color }} />
          <span translate="no">{s.name}</span>
        </span>
      ))}
    </p>
  );
}
