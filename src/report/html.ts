/**
 * A report as one self-contained HTML page: inline CSS and SVG, no script, no external fetch.
 * Every number is a figure with an anchor into the appendix, which names the query behind it.
 */
import type { ReportDocument } from './build.ts';
import type { Cell, Chart, FigureBook, Section } from './figures.ts';
import { formatDate, formatDateTime, formatNumber, labels, type LabelKey } from './i18n.ts';
import { barChart, columnChart, escapeXml as esc, lineChart } from './svg.ts';
import type { Summary } from './summarise.ts';
import type { Lang } from './config.ts';

export const REPORT_CSS = `
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Yu Gothic", sans-serif; color: #1d232b; margin: 0 auto; max-width: 820px; padding: 24px; line-height: 1.55; font-size: 13px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 17px; border-bottom: 2px solid #2f6fde; padding-bottom: 3px; margin: 28px 0 10px; break-after: avoid; }
h3 { font-size: 13px; margin: 14px 0 6px; color: #3b4754; break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 10px; break-inside: avoid; }
th, td { border-bottom: 1px solid #dde3ea; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f2f5f9; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.meta th { width: 9em; background: none; }
.tlp { font-weight: 700; padding: 1px 6px; border-radius: 3px; color: #fff; background: #000; }
.tlp-clear { color: #000; background: #fff; border: 1px solid #000; }
.tlp-green { color: #33ff00; }
.tlp-amber, .tlp-amber-strict { color: #ffc000; }
.tlp-red { color: #ff2b2b; }
.note { color: #55606c; font-size: 12px; }
.empty { color: #55606c; font-style: italic; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; }
.card { border: 1px solid #dde3ea; border-radius: 6px; padding: 8px 12px; min-width: 140px; flex: 1; }
.card .value { font-size: 22px; font-weight: 700; }
.card .label { font-size: 11px; color: #55606c; }
sup.ref a, .fig-ref { font-size: 9px; color: #6b7785; text-decoration: none; }
a { color: inherit; }
svg.chart { max-width: 100%; height: auto; display: block; margin: 4px 0 8px; }
.ai { background: #f5f0ff; border-left: 3px solid #8e4ec6; padding: 6px 10px; margin: 6px 0; }
.ai-badge { display: inline-block; font-size: 10px; font-weight: 700; color: #fff; background: #8e4ec6; border-radius: 3px; padding: 0 4px; margin-right: 4px; }
.ai-sources { font-size: 10px; color: #6b7785; }
.omitted { color: #8a5a00; font-size: 12px; }
.appendix td, .appendix th { font-size: 10.5px; }
.appendix code { font-family: "Noto Sans Mono CJK JP", monospace; font-size: 10px; word-break: break-all; }
section { break-inside: auto; }
/* On paper the @page margins frame the page: the screen's padding would only push the last lines onto a blank page. */
@media print { body { padding: 0; max-width: none; } }
/* The appendix's figure table runs over many pages: it breaks between rows instead of leaving a page empty before it. */
.appendix table { break-inside: auto; }
.appendix tr { break-inside: avoid; }
`;

function figureHtml(book: FigureBook, id: string, lang: Lang): string {
  const value = formatNumber(book.value(id), lang);
  return `${value}<sup class="ref"><a href="#${id}">${id}</a></sup>`;
}

function cellHtml(book: FigureBook, cell: Cell, lang: Lang): string {
  return typeof cell === 'string'
    ? `<td>${esc(cell)}</td>`
    : `<td class="num">${figureHtml(book, cell.figure, lang)}</td>`;
}

function tableHtml(doc: ReportDocument, title: LabelKey, columns: LabelKey[], rows: Cell[][]): string {
  const t = labels(doc.config.lang);
  if (rows.length === 0) return '';
  // Columns of figures are right-aligned like their numbers.
  const head = columns
    .map((c, i) => `<th${typeof rows[0]![i] === 'string' ? '' : ' class="num"'}>${esc(t(c))}</th>`)
    .join('');
  const body = rows
    .map((r) => `<tr>${r.map((c) => cellHtml(doc.book, c, doc.config.lang)).join('')}</tr>`)
    .join('');
  return `<h3>${esc(t(title))}</h3><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function chartHtml(doc: ReportDocument, chart: Chart): string {
  const t = labels(doc.config.lang);
  const data = {
    labels: chart.labels,
    series: chart.series.map((s) => ({
      name: s.name,
      figures: s.figures,
      values: s.figures.map((id) => doc.book.value(id)),
    })),
  };
  // A line's legend: the period's total and its last day, not every day's value.
  const legend = (values: readonly number[]) =>
    t('chartLegend')
      .replace('{total}', String(values.reduce((a, b) => a + b, 0)))
      .replace('{last}', String(values.at(-1) ?? 0));
  const drawn =
    chart.kind === 'line'
      ? lineChart(data, undefined, legend)
      : { bar: barChart, column: columnChart }[chart.kind](data);
  return drawn ? `<h3>${esc(t(chart.title))}</h3>${drawn}` : '';
}

function summaryHtml(summary: Summary | undefined, lang: Lang): string {
  const t = labels(lang);
  if (!summary) return '';
  if (summary.outcome === 'omitted')
    return `<p class="omitted" data-summary="omitted">${esc(t('summaryOmitted'))}: ${esc(summary.reason)}</p>`;
  const sources = summary.sources.map((id) => `<a href="#${id}">${id}</a>`).join(', ');
  const sentences = summary.sentences
    .map(
      (s) =>
        `<span class="ai-sentence" data-ai="true" data-sources="${summary.sources.join(' ')}"><span class="ai-badge">${esc(t('aiBadge'))}</span>${esc(s)}</span>`,
    )
    .join(' ');
  return `<div class="ai" data-summary="written"><p>${sentences}</p><p class="ai-sources">${esc(t('aiSources'))}: ${sources}</p></div>`;
}

function sectionHtml(doc: ReportDocument, section: Section, index: number): string {
  const { lang } = doc.config;
  const t = labels(lang);
  const parts = [
    `<section id="sec-${section.key}" data-section="${section.key}" data-state="${section.state}">`,
  ];
  parts.push(`<h2>${index + 1}. ${esc(t(`sec_${section.key}`))}</h2>`);
  parts.push(summaryHtml(doc.summaries.get(section.key), lang));
  if (section.headline.length) {
    const cards = section.headline
      .map(
        (id) =>
          `<div class="card"><div class="value">${figureHtml(doc.book, id, lang)}</div><div class="label">${esc(doc.book.byId.get(id)!.label)}</div></div>`,
      )
      .join('');
    parts.push(`<div class="cards">${cards}</div>`);
  }
  for (const chart of section.charts) parts.push(chartHtml(doc, chart));
  for (const { title, table } of section.tables) parts.push(tableHtml(doc, title, table.columns, table.rows));
  for (const note of section.notes)
    parts.push(
      `<p class="${note === 'noData' || note === 'notReleased' ? 'empty' : 'note'}">${esc(t(note))}</p>`,
    );
  if (section.truncated) parts.push(`<p class="note">${esc(t('truncated'))}</p>`);
  parts.push('</section>');
  return parts.join('\n');
}

function appendixHtml(doc: ReportDocument): string {
  const t = labels(doc.config.lang);
  const queries = doc.queries
    .map(
      (q) =>
        `<tr id="${q.id}"><td>${q.id}</td><td><code>${esc(q.name)}(${esc(JSON.stringify(q.params))})</code><br><code>${esc(q.release)}</code></td></tr>`,
    )
    .join('');
  const figures = doc.book.all
    .map(
      (f) =>
        `<tr id="${f.id}"><td>${f.id}</td><td>${esc(f.label)}</td><td class="num">${formatNumber(f.value, doc.config.lang)}</td><td>${esc(f.queryId)}</td><td><code>${esc(f.derive)}</code></td></tr>`,
    )
    .join('');
  return [
    `<section class="appendix" id="appendix"><h2>${esc(t('appendix'))}</h2>`,
    `<table><thead><tr><th>${esc(t('query'))}</th><th>${esc(t('queryText'))}</th></tr></thead><tbody>${queries}</tbody></table>`,
    // A store with nothing released for the period has no figure: said, not an empty table.
    figures
      ? `<table><thead><tr><th>${esc(t('figure'))}</th><th>${esc(t('what'))}</th><th class="num">${esc(t('value'))}</th><th>${esc(t('query'))}</th><th>${esc(t('derivation'))}</th></tr></thead><tbody>${figures}</tbody></table>`
      : `<p class="empty" data-figures="none">${esc(t('noFigures'))}</p>`,
    '</section>',
  ].join('\n');
}

function headerHtml(doc: ReportDocument, title: string): string {
  const { lang, tier } = doc.config;
  const t = labels(lang);
  const period = periodText(doc);
  const tlp = doc.marking.tlp;
  const anyAi = [...doc.summaries.values()].some((s) => s.outcome === 'written');
  return [
    `<header><h1>${esc(title)}</h1><table class="meta">`,
    `<tr><th>${esc(t('period'))}</th><td>${esc(period)}</td></tr>`,
    `<tr><th>${esc(t('tier'))}</th><td>${esc(t(`tier_${tier}`))}</td></tr>`,
    `<tr><th>${esc(t('marking'))}</th><td><span class="tlp tlp-${tlp.replace('+', '-')}">TLP:${tlp.toUpperCase()}</span></td></tr>`,
    `<tr><th>${esc(t('generated'))}</th><td>${esc(formatDateTime(doc.generatedAt, lang))}</td></tr>`,
    `</table><p class="note">${esc(t('tierNote'))}</p>`,
    anyAi
      ? `<p class="ai" data-ai-legend="true"><span class="ai-badge">${esc(t('aiBadge'))}</span>${esc(t('aiLegend'))}</p>`
      : '',
    '</header>',
  ].join('\n');
}

function keyFiguresHtml(doc: ReportDocument): string {
  const { lang } = doc.config;
  const t = labels(lang);
  const ids = doc.sections.flatMap((s) => s.headline.slice(0, 1));
  if (ids.length === 0) return '';
  const cards = ids
    .map(
      (id) =>
        `<div class="card"><div class="value">${figureHtml(doc.book, id, lang)}</div><div class="label">${esc(doc.book.byId.get(id)!.label)}</div></div>`,
    )
    .join('');
  return `<h2>${esc(t('keyFigures'))}</h2><div class="cards">${cards}</div>`;
}

export function reportTitle(doc: ReportDocument): string {
  const t = labels(doc.config.lang);
  return `${t(`title_${doc.window.period}`)} ${periodText(doc)}`;
}

/** The day a daily report covers, or the first and last day of a week. */
function periodText(doc: ReportDocument): string {
  const { lang } = doc.config;
  const last = new Date(doc.window.end.getTime() - 86_400_000);
  return doc.window.period === 'daily'
    ? formatDate(doc.window.start, lang)
    : `${formatDate(doc.window.start, lang)} – ${formatDate(last, lang)}`;
}

export function renderReportHtml(doc: ReportDocument): string {
  const title = reportTitle(doc);
  const body = [
    headerHtml(doc, title),
    keyFiguresHtml(doc),
    ...doc.sections.map((s, i) => sectionHtml(doc, s, i)),
    appendixHtml(doc),
  ].join('\n');
  return `<!doctype html>
<html lang="${doc.config.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title><style>${REPORT_CSS}</style></head>
<body data-tier="${doc.config.tier}" data-tlp="${doc.marking.tlp}">
${body}
</body></html>
`;
}
