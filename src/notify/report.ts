/** Per-ISP reports in a Shadowserver-like layout (CSV and JSON), with maker and integrator routing. */
import type { Finding } from './types.ts';
import type { Routing } from './routing.ts';

/** Column order follows Shadowserver's scan_* / device_id reports where a column exists there. */
export const REPORT_COLUMNS = [
  'timestamp',
  'ip',
  'protocol',
  'port',
  'asn',
  'tag',
  'severity',
  'device_vendor',
  'device_type',
  'device_model',
  'device_version',
  'cpe',
  'cve',
  'rule',
  'maker_contact',
  'integrator',
  'banner',
] as const;
export type ReportRow = Record<(typeof REPORT_COLUMNS)[number], string>;

export interface RoutedFinding {
  finding: Finding;
  ispId: string;
  asn?: number | undefined;
}

export interface RoutingResult {
  routed: RoutedFinding[];
  /** Findings no ISP could be found for: they go to the operator, not lost. */
  unrouted: Finding[];
}

/** Only findings someone must act on are routed; merely exposed services stay in the survey output. */
export function routeFindings(
  findings: readonly Finding[],
  routing: Routing,
  includeExposed = false,
): RoutingResult {
  const result: RoutingResult = { routed: [], unrouted: [] };
  for (const finding of findings) {
    if (!includeExposed && finding.status === 'exposed') continue;
    const route = routing.route(finding.ip);
    if (route) result.routed.push({ finding, ispId: route.isp.id, asn: route.asn });
    else result.unrouted.push(finding);
  }
  return result;
}

export function reportRow(r: RoutedFinding, routing: Routing): ReportRow {
  const f = r.finding;
  const maker = routing.maker(f.vendor);
  const integrator = routing.integrator(f.ip);
  return {
    timestamp: f.time,
    ip: f.ip,
    protocol: 'tcp',
    port: String(f.port),
    asn: r.asn === undefined ? '' : String(r.asn),
    tag: [f.status, f.service].join(';'),
    severity: f.severity,
    device_vendor: f.vendor ?? '',
    device_type: f.deviceType ?? '',
    device_model: f.model ?? '',
    device_version: f.firmware ?? '',
    cpe: f.cpe ?? '',
    cve: f.cves.map((c) => c.cve).join(';'),
    rule: f.weakCredential?.rule ?? '',
    maker_contact: maker ? `${maker.name} <${maker.contact}>` : '',
    integrator: integrator ? `${integrator.name} <${integrator.contact}>` : '',
    banner: f.banner,
  };
}

/** RFC 4180 quoting, plus a leading apostrophe so no cell is read as a spreadsheet formula. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(rows: readonly ReportRow[]): string {
  const lines = [REPORT_COLUMNS.join(',')];
  for (const row of rows) lines.push(REPORT_COLUMNS.map((c) => csvCell(row[c])).join(','));
  return `${lines.join('\n')}\n`;
}

export interface IspReport {
  isp: { id: string; name: string; contact: string };
  generated: string;
  surveys: string[];
  count: number;
  rows: ReportRow[];
}

/** One report per ISP that has anything to act on, rows ordered by severity then address. */
export function ispReports(
  findings: readonly Finding[],
  routing: Routing,
  now = new Date(),
): Map<string, IspReport> {
  const { routed } = routeFindings(findings, routing);
  const rank: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3, none: 4 };
  const out = new Map<string, IspReport>();
  for (const r of routed) {
    let report = out.get(r.ispId);
    if (!report) {
      const isp = routing.isp(r.ispId)!;
      report = {
        isp: { id: isp.id, name: isp.name, contact: isp.contact },
        generated: now.toISOString(),
        surveys: [],
        count: 0,
        rows: [],
      };
      out.set(r.ispId, report);
    }
    if (!report.surveys.includes(r.finding.survey)) report.surveys.push(r.finding.survey);
    report.rows.push(reportRow(r, routing));
    report.count++;
  }
  for (const report of out.values()) {
    report.rows.sort(
      (a, b) =>
        (rank[a.severity] ?? 9) - (rank[b.severity] ?? 9) ||
        a.ip.localeCompare(b.ip, 'en', { numeric: true }) ||
        Number(a.port) - Number(b.port),
    );
  }
  return out;
}
