/**
 * User reports: a URL someone saw, with what they say of it and the brand they think it
 * imitates, one or a list. Validated here (zod) so every door (the console API, a future CLI)
 * refuses the same things; each report is scored and kept under source `report:<organisation>`.
 */
import { z } from 'zod';
import { InputError } from '../../core/index.ts';

/** Reports in one request at most: a person's or a mail filter's batch, not a list import. */
export const MAX_REPORTS = 500;

export const WebReport = z
  .object({
    url: z.string().min(1).max(8192),
    /** What the reporter says (a mail's subject, where they met it). */
    description: z.string().max(2000).optional(),
    /** The brand the reporter thinks it imitates: a lexicon key or a free name. */
    brand: z.string().min(1).max(100).optional(),
  })
  .strict();
export type WebReport = z.infer<typeof WebReport>;

const WebReportList = z.array(WebReport).min(1).max(MAX_REPORTS);
export const WebReports = z.union([WebReport, WebReportList]);

export class ReportInputError extends InputError {
  override name = 'ReportInputError';
}

/** The body's reports, or ReportInputError (an InputError: exit code 2, HTTP 400) saying what is wrong. */
export function parseReports(body: unknown): WebReport[] {
  // Checked against the branch the body is (one report or a list), so the error names its field:
  // the union's own error was "Invalid input" for a misspelt key or a list of 501.
  const parsed = Array.isArray(body)
    ? WebReportList.safeParse(body)
    : typeof body === 'object' && body !== null
      ? WebReport.safeParse(body)
      : WebReports.safeParse(body);
  if (!parsed.success) {
    // A string (JSON that is only a URL), a number...: said as what it is, not the union's "Invalid input".
    if (typeof body !== 'object' || body === null)
      throw new ReportInputError(
        `reports: the body is ${body === null ? 'null' : `a ${typeof body}`}; expected {url, description?, brand?} or a list of up to ${MAX_REPORTS}`,
      );
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    throw new ReportInputError(
      `reports: ${where}${issue.message} (expected {url, description?, brand?} or a list of up to ${MAX_REPORTS})`,
    );
  }
  return Array.isArray(parsed.data) ? parsed.data : [parsed.data];
}

/** The sighting's description: the reporter's brand first, then their words. */
export function reportDescription(report: WebReport): string | undefined {
  const parts = [report.brand ? `brand: ${report.brand}` : '', report.description ?? ''].filter(Boolean);
  return parts.length ? parts.join('; ') : undefined;
}

/** `report:<organisation>`, the organisation's name kept to the characters a source name allows. */
export function reportSource(organisation: string): string {
  const name = organisation
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}._@-]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 90);
  return `report:${name || 'unnamed'}`;
}
