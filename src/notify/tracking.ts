/** Remediation tracking: compare a re-survey with the survey that found the problem, and count by month. */
import type { Finding, FindingStatus } from './types.ts';

export type RemediationState = 'fixed' | 'still-vulnerable' | 'gone';

export interface Tracked {
  ip: string;
  port: number;
  service: string;
  before: FindingStatus;
  /** fixed: seen again and no longer vulnerable; still-vulnerable; gone: the host answered nothing at all. */
  state: RemediationState;
  after?: FindingStatus | undefined;
}

const key = (f: Finding) => `${f.ip}|${f.port}`;

/** Every vulnerable service of `before`, with what the re-survey `after` says about it. */
export function compareSurveys(before: readonly Finding[], after: readonly Finding[]): Tracked[] {
  const afterByKey = new Map<string, Finding>();
  const afterHosts = new Set<string>();
  for (const f of after) {
    afterByKey.set(key(f), f);
    afterHosts.add(f.ip);
  }
  const out: Tracked[] = [];
  for (const f of before) {
    if (f.status === 'exposed') continue;
    const now = afterByKey.get(key(f));
    let state: RemediationState;
    if (now) state = now.status === 'exposed' ? 'fixed' : 'still-vulnerable';
    // The service closed while the host still answers elsewhere: closing it is a fix.
    else state = afterHosts.has(f.ip) ? 'fixed' : 'gone';
    out.push({ ip: f.ip, port: f.port, service: f.service, before: f.status, state, after: now?.status });
  }
  return out.sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }) || a.port - b.port);
}

export interface SurveyRound {
  /** `YYYY-MM`; taken from the earliest finding when omitted. */
  month?: string;
  findings: readonly Finding[];
}

export interface MonthlyRow {
  month: string;
  /** Distinct addresses with something to act on. */
  vulnerableHosts: number;
  weakCredentialHosts: number;
  vulnerableFirmwareHosts: number;
  /** Against the previous round, per vulnerable service: */
  fixed: number;
  stillVulnerable: number;
  gone: number;
  /** Share of the previous round's vulnerable services now fixed (0..1), or null for the first round. */
  remediationRate: number | null;
}

export function monthlyStatistics(rounds: readonly SurveyRound[]): MonthlyRow[] {
  const rows: MonthlyRow[] = [];
  let previous: readonly Finding[] | undefined;
  for (const round of rounds) {
    const month = round.month ?? (round.findings.map((f) => f.time).sort()[0] ?? '').slice(0, 7);
    const hostsWith = (status: FindingStatus) =>
      new Set(round.findings.filter((f) => f.status === status).map((f) => f.ip)).size;
    const row: MonthlyRow = {
      month,
      vulnerableHosts: new Set(round.findings.filter((f) => f.status !== 'exposed').map((f) => f.ip)).size,
      weakCredentialHosts: hostsWith('weak-credential'),
      vulnerableFirmwareHosts: hostsWith('vulnerable-firmware'),
      fixed: 0,
      stillVulnerable: 0,
      gone: 0,
      remediationRate: null,
    };
    if (previous) {
      const tracked = compareSurveys(previous, round.findings);
      for (const t of tracked) {
        if (t.state === 'fixed') row.fixed++;
        else if (t.state === 'still-vulnerable') row.stillVulnerable++;
        else row.gone++;
      }
      row.remediationRate = tracked.length === 0 ? null : row.fixed / tracked.length;
    }
    rows.push(row);
    previous = round.findings;
  }
  return rows;
}
