/**
 * The malicious threshold of the URL verdict, set so that "no false positive on the tuning
 * benign set" carries over to benign data the fit never saw (issue #18: no false positive on the
 * evaluation half).
 *
 * Why not "just above the highest tuning benign score": the benign scores' upper tail is heavy
 * (small sites' login pages, random-letter .cn names of the OpenDNS list), so the highest of one
 * sample says little about the highest of another sample the same size. On the two folds of the
 * tuning benign rows, the threshold set on one fold let 0 of the other fold's rows through one way
 * and 5 the other way.
 *
 * The scores it rests on are cross-fitted (fit-url.ts): each tuning row scored with table values
 * AND logistic weights from the other fold only. Under weights fitted on every tuning row (as
 * the shipped ones are) the benign rows, weighted heavily, pull their own scores down: the tail
 * rule then expected 0.3 benign hosts above the threshold on the evaluation half and 3 were.
 *
 * The rule (a peaks-over-threshold tail model): take each benign HOST's highest cross-fitted
 * log-odds (a site's pages are not independent draws: one site with many pages would otherwise
 * weigh as many), fit an exponential to the excesses of the top `share` of hosts over the next
 * host's log-odds (maximum likelihood: the scale is their mean excess), and put the threshold
 * where the fitted tail expects `expected` benign hosts above it on a benign set the size of the
 * one it was fitted on (the evaluation half is the tuning half's size by construction: a salted
 * hash of the host). Never below the highest cross-fitted tuning benign score.
 *
 * Which `share` and `expected` (and which benign weight and ridge of the fit): a nested check on
 * the cross-fitted tuning scores only. The tuning benign and phishing rows are split in halves by
 * host, by the table folds (foldOf) and by nine more salted hashes; on each split the rule is fitted on one half's benign
 * rows and its false positives (benign rows at or above it) and recall (phishing hosts at or above
 * it) are counted on the other half, both ways: 20 held-out checks. The candidate kept is the one
 * with no held-out false positive in any of the 20 checks and the best mean held-out recall.
 */
import { createHash } from 'node:crypto';
import { foldOf } from './fitting.ts';

/** Shares of the benign hosts whose excesses the exponential is fitted to. */
export const TAIL_SHARES = [0.001, 0.002, 0.003, 0.004, 0.005] as const;
/** Benign hosts expected above the threshold on a benign set the fitted set's size. */
export const EXPECTED_HOSTS = [0.3, 0.2, 0.1, 0.05] as const;
/** The fewest hosts the tail is fitted to, whatever the share. */
const MIN_TAIL = 5;
/** Salts of the nested check's halves besides the table folds. */
const CHECK_SALTS = Array.from({ length: 9 }, (_, i) => `tsunagi-web-threshold-check-${i + 1}`);

export interface TailRule {
  share: number;
  expected: number;
}

/** One scored tuning row: cross-fitted log-odds, class and host. */
export interface ScoredRow {
  logOdds: number;
  phishing: boolean;
  host: string;
}

/** Each host's highest log-odds, highest first. */
function hostMaxima(rows: readonly ScoredRow[]): number[] {
  const byHost = new Map<string, number>();
  for (const row of rows) {
    const seen = byHost.get(row.host);
    if (seen === undefined || row.logOdds > seen) byHost.set(row.host, row.logOdds);
  }
  return [...byHost.values()].sort((a, b) => b - a);
}

/**
 * The log-odds threshold the rule gives on these benign rows, for a benign set of `targetHosts`
 * hosts (default: as many as here); never below the highest benign log-odds.
 */
export function tailThreshold(benign: readonly ScoredRow[], rule: TailRule, targetHosts?: number): number {
  const maxima = hostMaxima(benign);
  if (maxima.length === 0) return Infinity;
  const highest = maxima[0]!;
  const k = Math.min(maxima.length - 1, Math.max(MIN_TAIL, Math.ceil(rule.share * maxima.length)));
  if (k < 1) return highest;
  const floor = maxima[k]!;
  let excess = 0;
  for (let i = 0; i < k; i++) excess += maxima[i]! - floor;
  const scale = excess / k;
  // P(a host's log-odds > floor + y) = (k / n) e^(-y / scale); expected hosts above on the
  // target set = target × that; solve for `expected`.
  const target = targetHosts ?? maxima.length;
  const y = scale * Math.log((k * target) / (maxima.length * rule.expected));
  return Math.max(highest, floor + Math.max(0, y));
}

export interface RuleCheck {
  rule: TailRule;
  /** Held-out checks (of 20) in which any benign row reached the threshold, and their rows. */
  checksWithFalsePositives: number;
  heldOutFalsePositives: number;
  /** Mean and lowest held-out phishing recall over the 20 checks. */
  heldOutRecall: number;
  worstHeldOutRecall: number;
}

function halfOf(salt: string | null, host: string): 0 | 1 {
  if (salt === null) return foldOf(host);
  return (createHash('sha256').update(`${salt}:${host}`).digest()[0]! & 1) as 0 | 1;
}

/** The nested check of every candidate rule on these cross-fitted tuning scores. */
export function checkRules(
  rows: readonly ScoredRow[],
  expectedHosts: readonly number[] = EXPECTED_HOSTS,
): RuleCheck[] {
  const splits = [null, ...CHECK_SALTS].map((salt) => {
    const benign: ScoredRow[][] = [[], []];
    const phishing: number[][] = [[], []];
    for (const row of rows) {
      const half = halfOf(salt, row.host);
      if (row.phishing) phishing[half]!.push(row.logOdds);
      else benign[half]!.push(row);
    }
    return { benign, phishing, hosts: benign.map((b) => new Set(b.map((r) => r.host)).size) };
  });
  const checks: RuleCheck[] = [];
  for (const share of TAIL_SHARES)
    for (const expected of expectedHosts) {
      const rule = { share, expected };
      let checksWithFalsePositives = 0;
      let heldOutFalsePositives = 0;
      const recalls: number[] = [];
      for (const split of splits)
        for (const fitted of [0, 1] as const) {
          const held = 1 - fitted;
          const t = tailThreshold(split.benign[fitted]!, rule, split.hosts[held]);
          const fp = split.benign[held]!.filter((r) => r.logOdds >= t).length;
          if (fp > 0) checksWithFalsePositives++;
          heldOutFalsePositives += fp;
          const phishing = split.phishing[held]!;
          recalls.push(phishing.filter((v) => v >= t).length / phishing.length);
        }
      checks.push({
        rule,
        checksWithFalsePositives,
        heldOutFalsePositives,
        heldOutRecall: recalls.reduce((a, b) => a + b, 0) / recalls.length,
        worstHeldOutRecall: Math.min(...recalls),
      });
    }
  return checks;
}

/**
 * The candidate kept: no held-out false positive in any check and the best mean held-out recall;
 * when every candidate let some through, the fewest held-out false positives.
 */
export function bestRule(checks: readonly RuleCheck[]): RuleCheck {
  const clean = checks.filter((c) => c.heldOutFalsePositives === 0);
  if (clean.length > 0) return clean.reduce((a, b) => (b.heldOutRecall > a.heldOutRecall ? b : a));
  return checks.reduce((a, b) =>
    b.heldOutFalsePositives < a.heldOutFalsePositives ||
    (b.heldOutFalsePositives === a.heldOutFalsePositives && b.heldOutRecall > a.heldOutRecall)
      ? b
      : a,
  );
}

/** The rule the nested check keeps on these cross-fitted tuning scores, and its log-odds threshold on all of them. */
export function maliciousThreshold(
  rows: readonly ScoredRow[],
  expectedHosts: readonly number[] = EXPECTED_HOSTS,
): { logOdds: number; check: RuleCheck } {
  const check = bestRule(checkRules(rows, expectedHosts));
  return {
    logOdds: tailThreshold(
      rows.filter((r) => !r.phishing),
      check.rule,
    ),
    check,
  };
}
