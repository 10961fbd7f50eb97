/**
 * Scores from 0 to 100: per domain the share of checks passed (a half for the halfway states),
 * per organisation the mean of its domains, per sector the mean of its organisations (so one
 * organisation with many domains does not outweigh the rest of its sector).
 */
import type { DomainHygiene } from '../check.ts';

type Column =
  'dnssec' | 'spf' | 'dmarc_policy' | 'dkim' | 'mta_sts' | 'tls_rpt' | 'dane' | 'ipv6' | 'https' | 'hsts';

/** Points per state; a column whose state is missing here scores 0. Unchecked DKIM is left out. */
export const POINTS: Record<Column, Record<string, number>> = {
  dnssec: { secure: 1 },
  spf: { strict: 1, softfail: 0.5 },
  dmarc_policy: { reject: 1, quarantine: 0.75, none: 0.25 },
  dkim: { ok: 1 },
  mta_sts: { enforce: 1, testing: 0.5 },
  tls_rpt: { ok: 1 },
  dane: { yes: 1, partial: 0.5 },
  ipv6: { 'web+mail': 1, web: 0.5, mail: 0.5 },
  https: { ok: 1 },
  hsts: { yes: 1, short: 0.5 },
};

export function domainScore(row: Pick<DomainHygiene, Column>): number {
  const columns = (Object.keys(POINTS) as Column[]).filter(
    (c) => !(c === 'dkim' && row.dkim === 'unchecked'),
  );
  const total = columns.reduce((sum, c) => sum + (POINTS[c][row[c]] ?? 0), 0);
  return Math.round((1000 * total) / columns.length) / 10;
}

export interface Scored {
  domain: string;
  organisation?: string;
  sector?: string;
  score: number;
}

export interface GroupScore {
  name: string;
  score: number;
  domains: number;
}

const mean = (values: number[]) => Math.round((10 * values.reduce((a, b) => a + b, 0)) / values.length) / 10;

export function organisationScores(rows: readonly Scored[]): GroupScore[] {
  const groups = new Map<string, number[]>();
  for (const row of rows) {
    const name = row.organisation ?? row.domain;
    groups.set(name, [...(groups.get(name) ?? []), row.score]);
  }
  return [...groups]
    .map(([name, scores]) => ({ name, score: mean(scores), domains: scores.length }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function sectorScores(rows: readonly Scored[]): GroupScore[] {
  const sectors = new Map<string, Scored[]>();
  for (const row of rows) {
    if (!row.sector) continue;
    sectors.set(row.sector, [...(sectors.get(row.sector) ?? []), row]);
  }
  return [...sectors]
    .map(([name, members]) => {
      const organisations = organisationScores(members);
      return { name, score: mean(organisations.map((o) => o.score)), domains: members.length };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
