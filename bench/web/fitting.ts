/**
 * What bench/web/fit.ts (the host-name model) and fit-url.ts (the URL part) fit with alike: the
 * ridge, the two folds of the tuning data, the linear solve of a Newton step, and the refit that
 * drops a weight which may only speak for phishing but came out negative.
 */
import { createHash } from 'node:crypto';

export const RIDGE = 1e-3;

/** A host's fold: tables learned on one fold are used to fit on the other (no leak into a row). */
export function foldOf(host: string): 0 | 1 {
  return (createHash('sha256').update(`fold:${host}`).digest()[0]! & 1) as 0 | 1;
}

/**
 * How the phishing rows are split into the two folds: by a hash of the host (as the benign rows
 * always are) or by the parity of the month JPCERT/CC first listed it, so a row's out-of-fold
 * table values and cross-fitted score come mostly from other months' campaigns.
 */
export type PhishingFolds = 'host' | 'month';

/** A row's fold: the host's, or for a phishing host under month folds its month's parity. */
export function rowFold(
  item: { url: { host: string }; month?: string },
  phishing: boolean,
  folds: PhishingFolds,
): 0 | 1 {
  if (!phishing || folds === 'host') return foldOf(item.url.host);
  if (item.month === undefined) throw new Error(`phishing host ${item.url.host} has no month`);
  return (monthsBefore('2000-01', item.month) % 2) as 0 | 1;
}

/** Gaussian elimination with partial pivoting. */
export function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const diagonal = m[col]![col]! || 1e-12;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = m[r]![col]! / diagonal;
      for (let c = col; c <= n; c++) m[r]![c]! -= factor * m[col]![c]!;
    }
  }
  return m.map((row, i) => row[n]! / (row[i]! || 1e-12));
}

/**
 * Fits on the columns kept, dropping every column in `nonNegative` whose weight came out below
 * zero and fitting again, so no verdict reads "looks like SMBC, therefore safer". `fit` gets the
 * kept columns of each row and returns [bias, ...weights]; the answer has a weight (0 when
 * dropped) for every column.
 */
export function fitMonotone(
  columns: readonly string[],
  nonNegative: ReadonlySet<string>,
  x: readonly (readonly number[])[],
  fit: (kept: number[][]) => number[],
): number[] {
  const kept = columns.map((_, i) => i);
  for (;;) {
    const beta = fit(x.map((row) => kept.map((i) => row[i]!)));
    const full = [beta[0]!, ...columns.map(() => 0)];
    kept.forEach((i, k) => (full[i + 1] = beta[k + 1]!));
    const wrong = kept.filter((i) => nonNegative.has(columns[i]!) && full[i + 1]! < 0);
    if (wrong.length === 0) return full;
    for (const i of wrong) kept.splice(kept.indexOf(i), 1);
  }
}

export function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** Whole months from `month` to `last` (0 when the same). */
export function monthsBefore(month: string, last: string): number {
  const index = (m: string) => Number(m.slice(0, 4)) * 12 + Number(m.slice(5, 7));
  return index(last) - index(month);
}

/**
 * Recency weights of the phishing hosts: 2^(-age / halfLife), age in months before the last
 * tuning month, scaled to a mean of 1 so the tables' smoothing and the classes' totals keep their
 * scale. Every host weighs 1 without a half-life.
 */
export function recencyWeights(
  hosts: readonly { url: { host: string }; month?: string }[],
  lastMonth: string,
  halfLife: number | undefined,
): Map<string, number> {
  const raw = hosts.map((h) => {
    if (halfLife === undefined) return 1;
    if (h.month === undefined) throw new Error(`phishing host ${h.url.host} has no month`);
    return 2 ** (-monthsBefore(h.month, lastMonth) / halfLife);
  });
  const mean = raw.reduce((s, v) => s + v, 0) / (raw.length || 1);
  return new Map(hosts.map((h, i) => [h.url.host, raw[i]! / mean]));
}
