/**
 * Fits the URL verdict's part of model.json (src/web/score/url-features.ts) on the TUNING part
 * only, after the host-name model (fit.ts):
 *
 * - rows: JPCERT/CC's tuning hosts (their first URL, path and all) against the tuning half of the
 *   benign URLs WITH paths and the tuning half of the benign hosts (as `https://host/`);
 * - path token and path shape tables, and the host context's (subdomain tokens, host shapes,
 *   brand places, registrant label shapes and consonant/vowel trigrams: src/web/score/host-context.ts): smoothed log-odds, each host's tokens (shapes) counted once
 *   per class, rates within each class; the weights are fitted on values from the OTHER fold's
 *   tables, and the host name's log-odds (the offset, weight 1) from the other fold's host risk
 *   tables, so nothing vouches for itself; the shipped tables use every tuning host;
 * - logistic regression with the host name's log-odds as a fixed offset, the classes weighted
 *   equally in total (each benign host's URLs share one host's weight), the phishing-only
 *   features kept non-negative, and a ridge on every weight in phishing rows' worth of curvature
 *   (RIDGES), which keeps a rare indicator from separating one fold (an IP-hosted page with no
 *   benign IP-hosted row in that fold ran to weight 105 under the old ridge of 1e-3);
 * - thresholds on CROSS-FITTED scores of the tuning rows: each row scored with weights fitted on
 *   the other fold's rows only, so no row of its host was in their fit (those rows' table values
 *   come from tables built on this fold, a second-order leak left as is). Scores under weights fitted on every row
 *   looked safer than unseen data's: the heavily weighted benign rows pull their own scores down,
 *   so the tuning benign tail was thinner than the evaluation half's. Suspicious above all but
 *   1e-3 of the tuning benign URLs and hosts; malicious by the tail rule of threshold.ts (an
 *   exponential fitted to the top benign hosts' log-odds, the threshold where it expects well
 *   under one benign host (0.05 to 0.3) above it on a benign set the tuning half's size, never
 *   below the highest cross-fitted tuning benign score; model.json's fit.url.maliciousRule says
 *   which), its two parameters kept by a nested check on the same cross-fitted scores (fitted on
 *   one half of the benign rows, false positives counted on the other, 20 ways). The benign
 *   weight and the ridge are chosen with the rule: no held-out false positive, then the best
 *   held-out recall at the malicious threshold;
 * - the shipped weights are then fitted on every tuning row with that benign weight and ridge;
 *   the thresholds stay those set on the cross-fitted scores.
 */
import {
  brandPlace,
  FEATURES,
  GATE_CENTRE,
  GATED_FEATURES,
  gatedValues,
  HOST_CONTEXT_FEATURES,
  hostContext,
  hostFeatures,
  hostShape,
  labelCvTrigrams,
  labelShape,
  registrantLabel,
  riskBand,
  siteSubdomain,
  subdomainTokens,
  logistic,
  pathShape,
  pathTokens,
  urlFeatures,
  URL_FEATURES,
  type BrandIndex,
  type FittedModel,
  type HostContextTables,
  type HostFeatures,
  type RiskTables,
  type UrlModel,
  type UrlTables,
} from '../../src/web/index.ts';
import type { LabelledHost } from './data.ts';
import { fitMonotone, rowFold, round, solve, type PhishingFolds } from './fitting.ts';
import { maliciousThreshold, type RuleCheck } from './threshold.ts';

/** Tokens (shapes) seen on fewer hosts than this are left out of the shipped table. */
const MIN_HOSTS = 3;
const SUSPICIOUS_FALSE_POSITIVE_RATE = 1e-3;
/**
 * The share of tuning benign rows above the floor a tie on the room's own verdicts may lift
 * (`judgedLift`): twice the suspicious one, chosen on the forward check's tuning folds
 * (bench/web/README.md, "The room's own verdicts").
 */
const JUDGED_LIFT_FALSE_POSITIVE_RATE = 2e-3;
/**
 * The benign rows' share of the loss against the phishing rows'. On cross-fitted scores a heavy
 * one (64 to 4096, kept before on in-sample scores) let held-out benign rows through and lost
 * recall: the fit bends round its own benign rows, which unseen benign rows do not follow.
 */
const BENIGN_WEIGHTS = [1, 2, 4, 8, 16];
/**
 * Ridge on every weight, in phishing rows' worth of curvature (a phishing row weighs about 1):
 * a rare indicator (an IP-hosted page, a punycode host) seen on a few dozen phishing rows and no
 * benign row of one fold is held near what its rows can carry instead of running off to 100,
 * while a feature on thousands of rows barely feels it. Chosen with the benign weight by the
 * nested check on cross-fitted scores.
 */
const RIDGES = [10, 30, 100, 300, 1000, 3000];
const NON_NEGATIVE = new Set<string>([
  'host_name',
  'path_token_max',
  'path_token_mean',
  'path_shape',
  'path_brand',
  'path_keywords',
  'sub_token_max',
  'sub_token_mean',
  'host_shape',
  'brand_place',
  'label_shape',
  'label_cv',
  'path_token_gated',
  'sub_token_gated',
]);

export interface UrlRow {
  item: LabelledHost;
  phishing: boolean;
  fold: 0 | 1;
  /** Share of the row's class weight: 1 / URLs of its host for benign URLs, the host's recency weight for phishing (fitting.ts). */
  share: number;
}

type FittedUrlModel = NonNullable<FittedModel['url']>;

export function urlRows(
  phishing: LabelledHost[],
  benignHosts: LabelledHost[],
  benignUrls: LabelledHost[],
  recency: ReadonlyMap<string, number>,
  folds: PhishingFolds,
): UrlRow[] {
  const perHost = new Map<string, number>();
  for (const u of [...benignHosts, ...benignUrls])
    perHost.set(u.url.host, (perHost.get(u.url.host) ?? 0) + 1);
  return [
    ...phishing.map((item) => ({
      item,
      phishing: true,
      fold: rowFold(item, true, folds),
      share: recency.get(item.url.host) ?? 1,
    })),
    ...[...benignHosts, ...benignUrls].map((item) => ({
      item,
      phishing: false,
      fold: rowFold(item, false, folds),
      share: 1 / perHost.get(item.url.host)!,
    })),
  ];
}

/**
 * Smoothed log-odds per key, each host's keys once per class, rates within each class. A phishing
 * host counts with its recency weight (its rows' share); a key needs minHosts hosts however
 * weighted.
 */
function table(
  rows: readonly UrlRow[],
  keysOf: (row: UrlRow) => string[],
  { smoothing, minHosts }: TableCounts,
): Record<string, number> {
  const byHost = new Map<string, { phishing: boolean; weight: number; keys: Set<string> }>();
  for (const row of rows) {
    const id = `${row.phishing ? 1 : 0}:${row.item.url.host}`;
    const h = byHost.get(id) ?? {
      phishing: row.phishing,
      weight: row.phishing ? row.share : 1,
      keys: new Set<string>(),
    };
    for (const key of keysOf(row)) h.keys.add(key);
    byHost.set(id, h);
  }
  let phishing = 0;
  let benign = 0;
  const counts = new Map<string, { phishing: number; benign: number; hosts: number }>();
  for (const h of byHost.values()) {
    if (h.phishing) phishing += h.weight;
    else benign += h.weight;
    for (const key of h.keys) {
      const c = counts.get(key) ?? { phishing: 0, benign: 0, hosts: 0 };
      if (h.phishing) c.phishing += h.weight;
      else c.benign += h.weight;
      c.hosts++;
      counts.set(key, c);
    }
  }
  const out: Record<string, number> = {};
  for (const [key, c] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (c.hosts < minHosts) continue;
    const odds =
      (c.phishing + smoothing) / (phishing + smoothing) / ((c.benign + smoothing) / (benign + smoothing));
    const value = Math.round(Math.log(odds) * 1000) / 1000;
    if (value !== 0) out[key] = value;
  }
  return out;
}

export function urlTables(rows: readonly UrlRow[], counts: TableCounts): UrlTables {
  return {
    token: table(rows, (r) => (r.item.url.path === '/' ? [] : pathTokens(r.item.url.path)), counts),
    shape: table(rows, (r) => [pathShape(r.item.url.path)], counts),
  };
}

/** Newton's method for weighted logistic regression with a fixed offset; returns [bias, ...weights]. */
function fitWithOffset(
  x: readonly number[][],
  y: readonly number[],
  w: readonly number[],
  offset: readonly number[],
  ridge: number,
) {
  const d = x[0]!.length + 1;
  let beta = new Array<number>(d).fill(0);
  const row = new Array<number>(d).fill(1);
  for (let iteration = 0; iteration < 60; iteration++) {
    const gradient = new Array<number>(d).fill(0);
    const hessian = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      for (let j = 1; j < d; j++) row[j] = xi[j - 1]!;
      let z = offset[i]!;
      for (let j = 0; j < d; j++) z += row[j]! * beta[j]!;
      const p = logistic(z);
      const g = w[i]! * (y[i]! - p);
      const h = w[i]! * p * (1 - p);
      for (let j = 0; j < d; j++) {
        gradient[j]! += g * row[j]!;
        for (let k = j; k < d; k++) hessian[j]![k]! += h * row[j]! * row[k]!;
      }
    }
    for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) hessian[j]![k] = hessian[k]![j]!;
    for (let j = 1; j < d; j++) {
      gradient[j]! -= ridge * beta[j]!;
      hessian[j]![j]! += ridge;
    }
    const step = solve(hessian, gradient);
    // Damped: halve the step until the penalised loss does not rise (a plain step can diverge
    // when the offset already separates many rows).
    const before = loss(x, y, w, offset, beta, ridge);
    let scale = 1;
    let next = beta.map((b, j) => b + step[j]!);
    while (scale > 1e-6 && !(loss(x, y, w, offset, next, ridge) <= before)) {
      scale /= 2;
      next = beta.map((b, j) => b + scale * step[j]!);
    }
    beta = next;
    if (scale * Math.max(...step.map(Math.abs)) < 1e-7) break;
  }
  return beta;
}

function loss(
  x: readonly number[][],
  y: readonly number[],
  w: readonly number[],
  offset: readonly number[],
  beta: number[],
  ridge: number,
) {
  let total = 0;
  for (let i = 0; i < x.length; i++) {
    let z = offset[i]! + beta[0]!;
    const xi = x[i]!;
    for (let j = 0; j < xi.length; j++) z += xi[j]! * beta[j + 1]!;
    // log(1 + e^z) - y z, written so large |z| does not overflow.
    const softplus = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
    total += w[i]! * (softplus - y[i]! * z);
  }
  for (let j = 1; j < beta.length; j++) total += (ridge / 2) * beta[j]! ** 2;
  return total;
}

/**
 * The host-context tables (src/web/score/host-context.ts), each row's host read under the given
 * host features (its fold's risk tables out of fold, the shipped ones for the shipped tables).
 */
export function contextTables(
  rows: readonly UrlRow[],
  featuresOf: (row: UrlRow) => HostFeatures,
  counts: TableCounts,
): HostContextTables {
  const domain = (r: UrlRow) => r.item.url.hostKind === 'domain';
  return {
    subToken: table(rows, (r) => (domain(r) ? subdomainTokens(siteSubdomain(r.item.url)) : []), counts),
    shape: table(
      rows,
      (r) => (domain(r) ? [hostShape(siteSubdomain(r.item.url), riskBand(featuresOf(r)))] : []),
      counts,
    ),
    brand: table(
      rows,
      (r) => {
        if (!domain(r)) return [];
        const f = featuresOf(r);
        const place = brandPlace(f, registrantLabel(r.item.url), riskBand(f));
        return place === '' ? [] : [place];
      },
      counts,
    ),
    labelShape: table(rows, (r) => (domain(r) ? [labelShape(r.item.url, featuresOf(r))] : []), counts),
    labelCv: table(rows, (r) => (domain(r) ? labelCvTrigrams(r.item.url) : []), counts),
  };
}

const COLUMNS = [...URL_FEATURES, ...HOST_CONTEXT_FEATURES, ...GATED_FEATURES, 'host_name'];
/**
 * The features `--drop` names (comma-separated): each one the host-name model (FEATURES) or the
 * URL part (COLUMNS) fits, but not the host name's log-odds, which the URL part rests on.
 */
export function dropped(text: string | undefined): Set<string> {
  const names = text === undefined ? [] : text.split(',').filter((n) => n !== '');
  const known = new Set<string>([...FEATURES, ...COLUMNS]);
  for (const name of names)
    if (!known.has(name) || name === 'host_name')
      throw new Error(`--drop: ${name} is not a feature it can drop`);
  return new Set(names);
}

/** The host name's log-odds under given risk tables; null for a brand's official domain (the rule). */
function hostLogOdds(
  model: FittedModel,
  item: LabelledHost,
  brands: BrandIndex,
  risk: RiskTables,
): { logOdds: number; features: HostFeatures } | null {
  const f = hostFeatures(item.url, brands, risk);
  if (f.official) return null;
  return {
    logOdds: FEATURES.reduce((s, name) => s + f.values[name] * model.weights[name], model.bias),
    features: f,
  };
}

/** The URL part's weights, the host context's (with its shipped tables) and the gated part's, from the fitted columns. */
function partWeights(beta: readonly number[], tables: HostContextTables) {
  const of = (features: readonly string[], from: number) =>
    Object.fromEntries(features.map((f, i) => [f, round(beta[from + i + 1]!)]));
  return {
    weights: of(URL_FEATURES, 0) as UrlModel['weights'],
    context: {
      weights: of(HOST_CONTEXT_FEATURES, URL_FEATURES.length) as NonNullable<
        FittedUrlModel['context']
      >['weights'],
      tables,
    },
    gated: {
      weights: of(GATED_FEATURES, URL_FEATURES.length + HOST_CONTEXT_FEATURES.length) as NonNullable<
        FittedUrlModel['gated']
      >['weights'],
    },
  };
}

/** The fit's rows: features, class, row weight and fixed offset. */
interface Design {
  x: readonly number[][];
  y: readonly number[];
  w: readonly number[];
  offset: readonly number[];
}

/** The weights fitted on the rows at `indices`, with `ridge` per the whole tuning set's rows. */
function fitOnRows(d: Design, indices: readonly number[], ridge: number): number[] {
  return fitMonotone(
    COLUMNS,
    NON_NEGATIVE,
    indices.map((i) => d.x[i]!),
    (kept) =>
      fitWithOffset(
        kept,
        indices.map((i) => d.y[i]!),
        indices.map((i) => d.w[i]!),
        indices.map((i) => d.offset[i]!),
        // The same ridge per row of data: a half fit has half the rows.
        (ridge * indices.length) / d.x.length,
      ),
  );
}

/**
 * Cross-fitted log-odds: each row scored with weights fitted on the OTHER fold's rows only, so the
 * thresholds rest on scores the weights never saw (with weights fitted on every row, the heavily
 * weighted benign rows pull their own scores down and the tuning benign tail looks thinner than
 * unseen data's). Also each half fit's largest weight, for the log.
 */
function crossFitted(d: Design, byFold: readonly (readonly number[])[], ridge: number) {
  const logOdds = new Array<number>(d.x.length).fill(0);
  const largest: string[] = [];
  for (const f of [0, 1] as const) {
    const beta = fitOnRows(d, byFold[1 - f]!, ridge);
    for (const i of byFold[f]!)
      logOdds[i] = d.offset[i]! + beta[0]! + d.x[i]!.reduce((s, v, j) => s + v * beta[j + 1]!, 0);
    const top = COLUMNS.map((c, j) => [c, beta[j + 1]!] as const).sort(
      (p, q) => Math.abs(q[1]) - Math.abs(p[1]),
    )[0]!;
    largest.push(`${top[0]} ${round(top[1])}`);
  }
  return { logOdds, largest };
}

/**
 * The URL verdict's thresholds on cross-fitted log-odds of the tuning rows, and the recall they
 * give there: suspicious above all but 1e-3 of the benign rows, malicious by the tail rule the
 * nested check keeps (threshold.ts), fitted on every tuning benign row and never below the
 * highest of them.
 */
function thresholdsOn(
  logOdds: readonly number[],
  rows: readonly UrlRow[],
  officialBenign: number,
  expectedHosts: readonly number[] | undefined,
) {
  const benign = logOdds.filter((_, i) => !rows[i]!.phishing).map(logistic);
  // A brand's official domain scores 0 by rule: it counts among the benign rows below every threshold.
  for (let i = 0; i < officialBenign; i++) benign.push(0);
  benign.sort((a, b) => b - a);
  const nextUp = (score: number) => Math.min(1, score + 1e-9);
  const { logOdds: maliciousLogOdds, check } = maliciousThreshold(
    rows.map((row, i) => ({ logOdds: logOdds[i]!, phishing: row.phishing, host: row.item.url.host })),
    expectedHosts,
  );
  const quantile = (rate: number) => nextUp(benign[Math.floor(benign.length * rate)] ?? 0);
  const suspicious = quantile(SUSPICIOUS_FALSE_POSITIVE_RATE);
  const thresholds = {
    malicious: Math.max(nextUp(benign[0] ?? 0), logistic(maliciousLogOdds)),
    suspicious,
    judgedLift: Math.min(suspicious, quantile(JUDGED_LIFT_FALSE_POSITIVE_RATE)),
  };
  const phishingScores = logOdds.filter((_, i) => rows[i]!.phishing).map(logistic);
  const recallAt = (threshold: number) =>
    round(phishingScores.filter((s) => s >= threshold).length / phishingScores.length);
  return {
    thresholds,
    check,
    recall: recallAt(thresholds.malicious),
    suspiciousRecall: recallAt(thresholds.suspicious),
  };
}

/** One candidate of the URL part's fit: its benign weight and ridge and what the nested check made of them. */
interface Candidate {
  recall: number;
  suspiciousRecall: number;
  benignWeight: number;
  ridge: number;
  thresholds: UrlModel['thresholds'];
  check: RuleCheck;
}

/** How the tables count: the pseudo-count, and the hosts a key needs to be kept. */
export interface TableCounts {
  smoothing: number;
  minHosts: number;
}

export interface UrlFitOptions {
  smoothing: number;
  /** Hosts a table key needs (MIN_HOSTS when absent). */
  minHosts?: number;
  /** The candidates' benign weights and ridges (BENIGN_WEIGHTS, RIDGES when absent). */
  benignWeights?: readonly number[];
  ridges?: readonly number[];
  /** The tail rule's expected benign hosts above the threshold, its candidates (threshold.ts's EXPECTED_HOSTS when absent). */
  expectedHosts?: readonly number[];
  /** Columns fitted as 0 (weight 0): an ablation for the forward check. */
  drop?: ReadonlySet<string>;
  /** Called with the shipped part of EVERY candidate, not only the kept one (the forward check's grid). */
  everyCandidate?: (part: { url: FittedUrlModel; fit: Record<string, unknown> }) => void;
}

export function fitUrlModel(
  host: FittedModel,
  hostRiskByFold: readonly RiskTables[],
  rows: readonly UrlRow[],
  brands: BrandIndex,
  options: UrlFitOptions,
  log: (line: string) => void,
): { url: FittedUrlModel; fit: Record<string, unknown> } {
  const tableCounts: TableCounts = { smoothing: options.smoothing, minHosts: options.minHosts ?? MIN_HOSTS };
  // The other fold's tables for every row: its host risk (offset) and its path tables.
  const otherFold = <T>(build: (fold: 0 | 1) => T) => [build(1), build(0)];
  const pathByFold = otherFold((f) =>
    urlTables(
      rows.filter((r) => r.fold === f),
      tableCounts,
    ),
  );
  // The host features under the other fold's risk tables (out of fold) and under the shipped ones.
  const outOfFold = new Map<UrlRow, HostFeatures>();
  const shipped = new Map<UrlRow, HostFeatures>();
  const used: { row: UrlRow; offset: number }[] = [];
  for (const row of rows) {
    const h = hostLogOdds(host, row.item, brands, hostRiskByFold[row.fold]!);
    if (h === null) continue;
    outOfFold.set(row, h.features);
    shipped.set(row, hostFeatures(row.item.url, brands, host.risk));
    used.push({ row, offset: h.logOdds });
  }
  const usedRows = used.map((u) => u.row);
  const contextByFold = otherFold((f) =>
    contextTables(
      usedRows.filter((r) => r.fold === f),
      (r) => outOfFold.get(r)!,
      tableCounts,
    ),
  );
  const shippedContext = contextTables(usedRows, (r) => shipped.get(r)!, tableCounts);
  // The host name's log-odds is the last column: its weight is hostWeight.
  const x = used.map(({ row, offset }) => {
    const v = urlFeatures(row.item.url, pathByFold[row.fold]!).values;
    const c = hostContext(
      row.item.url,
      outOfFold.get(row)!,
      contextByFold[row.fold]!,
      hostRiskByFold[row.fold]!.bigram,
    ).values;
    return [
      ...URL_FEATURES.map((f) => v[f]),
      ...HOST_CONTEXT_FEATURES.map((f) => c[f]),
      ...gatedValues(offset, v.path_token_max, c.sub_token_max),
      offset,
    ];
  });
  const drop = COLUMNS.map((c) => options.drop?.has(c) ?? false);
  if (drop.some(Boolean)) for (const row of x) drop.forEach((d, j) => d && (row[j] = 0));
  const y = used.map(({ row }) => (row.phishing ? 1 : 0));
  const offset = used.map(() => 0);
  const phishingTotal = used.filter((r) => r.row.phishing).length;
  // The phishing rows' recency weights (their shares) sum to phishingTotal: their mean is 1.
  const phishingShares = used.reduce((s, r) => s + (r.row.phishing ? r.row.share : 0), 0);
  const benignTotal = used.reduce((s, r) => s + (r.row.phishing ? 0 : r.row.share), 0);
  const officialBenign = rows.length - used.length;
  const byFold = [0, 1].map((f) => used.flatMap((u, i) => (u.row.fold === f ? [i] : [])));
  let best: Candidate | undefined;
  // Each row's weight in the loss: the classes equal in total, benign rows times benignWeight.
  const rowWeights = (benignWeight: number) =>
    used.map(({ row }) =>
      row.phishing
        ? (row.share * used.length) / (2 * phishingShares)
        : (benignWeight * row.share * used.length) / (2 * benignTotal),
    );
  const design = { x, y, offset };
  // The same for every candidate (a forward check's grid ships each of them).
  const shippedPaths = urlTables(rows, tableCounts);
  const shippedOf = (candidate: Candidate) =>
    shippedPart(
      { ...design, w: rowWeights(candidate.benignWeight) },
      candidate,
      shippedContext,
      shippedPaths,
      { phishingUrls: phishingTotal, benignUrlsAndHosts: rows.length - phishingTotal },
      tableCounts.minHosts,
    );
  for (const benignWeight of options.benignWeights ?? BENIGN_WEIGHTS) {
    const w = rowWeights(benignWeight);
    for (const ridge of options.ridges ?? RIDGES) {
      const { logOdds, largest } = crossFitted({ x, y, w, offset }, byFold, ridge);
      const { thresholds, check, recall, suspiciousRecall } = thresholdsOn(
        logOdds,
        used.map(({ row }) => row),
        officialBenign,
        options.expectedHosts,
      );
      log(
        `URL part, benign weight ${benignWeight}, ridge ${ridge}: tail rule share ${check.rule.share}, expected ${check.rule.expected} ` +
          `(held-out: ${check.heldOutFalsePositives} benign rows flagged in ${check.checksWithFalsePositives} of 20 checks, ` +
          `recall ${round(check.heldOutRecall)} mean, ${round(check.worstHeldOutRecall)} worst); ` +
          `tuning recall ${recall} (cross-fitted) at the malicious threshold ${round(thresholds.malicious)}; ` +
          `largest half-fit weights ${largest.join(', ')}`,
      );
      const candidate = { recall, suspiciousRecall, benignWeight, ridge, thresholds, check };
      options.everyCandidate?.(shippedOf(candidate));
      if (
        !best ||
        check.heldOutFalsePositives < best.check.heldOutFalsePositives ||
        (check.heldOutFalsePositives === best.check.heldOutFalsePositives &&
          check.heldOutRecall > best.check.heldOutRecall)
      )
        best = candidate;
    }
  }
  return shippedOf(best!);
}

/**
 * The shipped URL part of a candidate: weights fitted on every tuning row with its benign weight
 * and ridge; the thresholds stay those set on the cross-fitted scores.
 */
function shippedPart(
  design: Design,
  chosen: Candidate,
  shippedContext: HostContextTables,
  tables: UrlTables,
  counts: { phishingUrls: number; benignUrlsAndHosts: number },
  minHosts: number,
): { url: FittedUrlModel; fit: Record<string, unknown> } {
  const beta = fitOnRows(
    design,
    design.x.map((_, i) => i),
    chosen.ridge,
  );
  const parts = partWeights(beta, shippedContext);
  const url: FittedUrlModel = {
    hostWeight: round(beta[COLUMNS.length]!),
    // The host model's bias is inside the host name's log-odds, scaled with it.
    bias: round(beta[0]!),
    weights: parts.weights,
    tables,
    thresholds: chosen.thresholds,
    context: parts.context,
    gated: parts.gated,
  };
  return {
    url,
    fit: {
      ...counts,
      benignWeight: chosen.benignWeight,
      ridge: chosen.ridge,
      thresholdScores: 'cross-fitted: each tuning row scored with weights fitted on the other fold only',
      minHostsPerTableKey: minHosts,
      gateCentre: GATE_CENTRE,
      maliciousRule: {
        tailShare: chosen.check.rule.share,
        expectedBenignHosts: chosen.check.rule.expected,
        heldOutChecks: 20,
        heldOutChecksWithFalsePositives: chosen.check.checksWithFalsePositives,
        heldOutBenignFlagged: chosen.check.heldOutFalsePositives,
        heldOutRecallMean: round(chosen.check.heldOutRecall),
        heldOutRecallWorst: round(chosen.check.worstHeldOutRecall),
      },
      tuningRecallAtMaliciousCrossFitted: chosen.recall,
      tuningRecallAtSuspiciousCrossFitted: chosen.suspiciousRecall,
    },
  };
}
