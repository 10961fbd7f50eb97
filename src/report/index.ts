/**
 * The report room: daily and weekly reports (HTML, PDF) in Japanese and English from intel,
 * each made for one tier through share's release decision, every number traceable to its
 * query; an optional summariser; and runbooks generated from the configuration. No lifecycle
 * (nothing runs between calls), so plain functions are its front door.
 */
import type { ReportConfig } from './config.ts';
import { buildReport, type BuildOptions, type ReportDocument } from './build.ts';
import type { ReportDeps } from './gather.ts';
import { renderReportHtml, reportTitle } from './html.ts';

export { ReportConfig, SummariserConfig, LANGS, PERIODS, type Lang, type Period } from './config.ts';
export { buildReport, type BuildOptions, type ReportDocument } from './build.ts';
export type { ReportDeps, SourceQuery, Window } from './gather.ts';
export type { Figure, Section, SectionKey } from './figures.ts';
export { renderReportHtml, reportTitle } from './html.ts';
export { renderPdf, renderPng, renderPngPages, type BrowserOptions } from './pdf.ts';
export { completionsUrl, type Summary } from './summarise.ts';
export { formatDate, LABELS, labels } from './i18n.ts';
export {
  buildRunbook,
  renderRunbookHtml,
  type Runbook,
  type RunbookInput,
  type RunbookProcedure,
  type RunbookStep,
} from './runbook.ts';

/** One call for the CLI: the report's document and its HTML. */
export async function makeReport(
  config: ReportConfig,
  deps: ReportDeps,
  options: BuildOptions = {},
): Promise<{ document: ReportDocument; html: string; title: string }> {
  const document = await buildReport(config, deps, options);
  return { document, html: renderReportHtml(document), title: reportTitle(document) };
}
