/** Which tool leads on a type: F1 from the pooled counts, compared exactly so that a tie is a tie, not a rounding. */

/** A tool's pooled counts on one type. */
export interface PooledCounts {
  tp: number;
  fp: number;
  fn: number;
}

/** F1 as the fraction 2·tp / (2·tp + fp + fn); none to find and none reported is 1. */
export function f1Fraction(c: PooledCounts): [number, number] {
  const denominator = 2 * c.tp + c.fp + c.fn;
  return denominator === 0 ? [1, 1] : [2 * c.tp, denominator];
}

export function f1Of(c: PooledCounts): number {
  const [n, d] = f1Fraction(c);
  return n / d;
}

/**
 * The tool with the highest F1, or `tie (…)` naming every tool at the top. Tools
 * without counts (they do not extract the type) take no part; with none at all, `—`.
 */
export function leaderOf(counts: [tool: string, counts: PooledCounts | undefined][]): string {
  const entries = counts.flatMap(([tool, c]) => (c ? [[tool, f1Fraction(c)] as const] : []));
  if (entries.length === 0) return '—';
  // a/b against c/d with positive denominators: the sign of a·d − c·b (integers, so exact).
  const compare = ([a, b]: readonly [number, number], [c, d]: readonly [number, number]) => a * d - c * b;
  const best = entries.reduce((top, e) => (compare(e[1], top[1]) > 0 ? e : top))[1];
  const leaders = entries.filter((e) => compare(e[1], best) === 0).map(([tool]) => tool);
  return leaders.length === 1 ? leaders[0]! : `tie (${leaders.join(', ')})`;
}
