/**
 * Charts as inline SVG, drawn on the server: horizontal bars and day-by-day lines. Each bar and
 * point links to its figure in the appendix and carries the figure's id, so a chart's numbers
 * are traceable like the tables'.
 */
export interface ChartData {
  labels: string[];
  series: { name: string; values: number[]; figures: string[] }[];
}

const PALETTE = ['#2f6fde', '#e5662b', '#2a9d5c', '#8e4ec6', '#c9a100', '#d6336c'];
const FONT = 'font-family="inherit" font-size="11"';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function figureLink(id: string, inner: string): string {
  return `<a href="#${id}">${inner}</a>`;
}

/** Horizontal bars, one per label (first series), longest label at the left. */
export function barChart(data: ChartData, width = 640): string {
  const series = data.series[0];
  if (!series || data.labels.length === 0) return '';
  const rowHeight = 22;
  const labelWidth = Math.min(220, Math.max(60, ...data.labels.map((l) => l.length * 7 + 10)));
  const valueWidth = 90;
  const plot = width - labelWidth - valueWidth;
  const max = Math.max(1, ...series.values);
  const height = data.labels.length * rowHeight + 8;
  const bars = data.labels.map((label, i) => {
    const value = series.values[i] ?? 0;
    const y = 4 + i * rowHeight;
    const w = Math.max(value > 0 ? 2 : 0, Math.round((value / max) * plot));
    const id = series.figures[i] ?? '';
    return [
      `<text x="${labelWidth - 6}" y="${y + 15}" text-anchor="end" ${FONT}>${escapeXml(label)}</text>`,
      figureLink(
        id,
        `<rect x="${labelWidth}" y="${y + 3}" width="${w}" height="${rowHeight - 6}" fill="${PALETTE[0]}"><title>${id}: ${value}</title></rect>`,
      ),
      `<text x="${labelWidth + w + 4}" y="${y + 15}" ${FONT}>${value} ${figureLink(id, `<tspan class="fig-ref" fill="#666">[${id}]</tspan>`)}</text>`,
    ].join('');
  });
  return svg(width, height, bars.join(''));
}

/** Vertical columns over time buckets (first series), each value above its column. */
export function columnChart(data: ChartData, width = 640): string {
  const series = data.series[0];
  if (!series || data.labels.length === 0) return '';
  const left = 8;
  const top = 16;
  const plotHeight = 120;
  const n = data.labels.length;
  const slot = (width - left * 2) / n;
  const max = Math.max(1, ...series.values);
  const parts = [
    `<line x1="${left}" y1="${top + plotHeight}" x2="${width - left}" y2="${top + plotHeight}" stroke="#999"/>`,
  ];
  data.labels.forEach((label, i) => {
    const value = series.values[i] ?? 0;
    const id = series.figures[i] ?? '';
    const h = Math.max(value > 0 ? 2 : 0, Math.round((value / max) * plotHeight));
    const cx = left + slot * i + slot / 2;
    parts.push(
      figureLink(
        id,
        `<rect x="${(cx - slot * 0.35).toFixed(1)}" y="${top + plotHeight - h}" width="${(slot * 0.7).toFixed(1)}" height="${h}" fill="${PALETTE[0]}"><title>${id}: ${value}</title></rect>`,
      ),
      `<text x="${cx.toFixed(1)}" y="${top + plotHeight - h - 3}" text-anchor="middle" font-family="inherit" font-size="9">${value}</text>`,
      `<text x="${cx.toFixed(1)}" y="${top + plotHeight + 13}" text-anchor="middle" ${FONT}>${escapeXml(label)}</text>`,
    );
  });
  const ids = series.figures.length
    ? `${series.figures[0]}–${series.figures[series.figures.length - 1]}`
    : '';
  parts.push(
    `<text x="${width - left}" y="${top + plotHeight + 28}" text-anchor="end" class="fig-ref" font-size="9" fill="#666">[${ids}]</text>`,
  );
  return svg(width, top + plotHeight + 34, parts.join(''));
}

/**
 * Lines over the labels (days), one per series, with a legend and the axis maximum. The legend
 * says each series in a few numbers (`legend`; every value, by default): 28 days of values read
 * as a row of zeros, and each point keeps its own value and figure id.
 */
export function lineChart(
  data: ChartData,
  width = 640,
  legend: (values: readonly number[]) => string = (values) => values.join(', '),
): string {
  if (data.series.length === 0 || data.labels.length === 0) return '';
  const left = 40;
  const right = 16;
  const top = 10;
  const plotHeight = 150;
  const legendHeight = 18 * data.series.length;
  const height = top + plotHeight + 24 + legendHeight;
  const max = Math.max(1, ...data.series.flatMap((s) => s.values));
  const n = data.labels.length;
  const x = (i: number) => left + (n === 1 ? 0 : (i * (width - left - right)) / (n - 1));
  const y = (v: number) => top + plotHeight - (v / max) * plotHeight;
  const parts: string[] = [
    `<line x1="${left}" y1="${top + plotHeight}" x2="${width - right}" y2="${top + plotHeight}" stroke="#999"/>`,
    `<text x="${left - 4}" y="${top + 8}" text-anchor="end" ${FONT}>${max}</text>`,
    `<text x="${left - 4}" y="${top + plotHeight}" text-anchor="end" ${FONT}>0</text>`,
  ];
  // At most about eight axis labels, counted back from the last (the period's own day).
  const every = Math.ceil(n / 8);
  data.labels.forEach((label, i) => {
    if ((n - 1 - i) % every !== 0) return;
    parts.push(
      `<text x="${x(i)}" y="${top + plotHeight + 16}" text-anchor="middle" ${FONT}>${escapeXml(label)}</text>`,
    );
  });
  data.series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length]!;
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2"/>`);
    s.values.forEach((v, i) => {
      const id = s.figures[i] ?? '';
      parts.push(
        figureLink(
          id,
          `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${color}"><title>${id}: ${v}</title></circle>`,
        ),
      );
    });
    const ly = top + plotHeight + 24 + k * 18;
    const ids = s.figures.length ? `${s.figures[0]}–${s.figures[s.figures.length - 1]}` : '';
    parts.push(
      `<rect x="${left}" y="${ly + 2}" width="12" height="12" fill="${color}"/>`,
      `<text x="${left + 18}" y="${ly + 12}" ${FONT}>${escapeXml(s.name)} (${escapeXml(legend(s.values))}) <tspan class="fig-ref" fill="#666">[${ids}]</tspan></text>`,
    );
  });
  return svg(width, height, parts.join(''));
}

function svg(width: number, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">${body}</svg>`;
}
