/**
 * Fits the web room's additive model (src/web/score/model.json) on the TUNING part only:
 *
 *   node --import tsx bench/web/fit.ts [--data DIR] [--out src/web/score/model.json]
 *
 * The forward check (bench/web/README.md, forward.ts) fits with --forward --tuning-last-month M
 * --out FILE, and compares fit choices by flags: --smoothing, --min-hosts, --half-life, --phishing-folds,
 * --url-benign-weights, --url-ridges, --url-expected-hosts (the tail rule's candidates, threshold.ts),
 * --drop (features fitted as 0, an ablation), --grid-out DIR. Without them the shipped model is fitted.
 *
 * Tuning is JPCERT/CC's months up to TUNING_LAST_MONTH (phishing hosts) and the tuning half of
 * the benign hosts (bench/web/data.ts). Steps:
 * 1. TLD and platform risk: per suffix, the smoothed log-odds of phishing vs benign hosts. The
 *    model's weight on it is fitted with each host's value taken from the OTHER half of the
 *    tuning hosts (two folds), so a suffix seen once cannot vouch for itself; the shipped tables
 *    use all tuning hosts.
 * 2. Logistic regression by Newton's method (IRLS) with a small ridge, the two classes weighted
 *    equally in total, over the features of src/web/score/features.ts.
 * 3. Thresholds on the tuning scores: malicious = above every tuning benign host (no false
 *    positive), suspicious = at most 1e-3 of tuning benign hosts above it.
 * 4. The URL verdict's part (path and query features on top of the host name's log-odds), on the
 *    tuning half of the benign URLs with paths as well: fit-url.ts. Its malicious threshold is not
 *    "above every tuning benign row" but a tail model of the benign scores checked on held-out
 *    halves of the tuning data (threshold.ts), as the highest benign score of one sample did not
 *    carry over to another; those scores are cross-fitted (weights fitted on the other fold).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createBrandIndex,
  FEATURES,
  hostFeatures,
  labelBigrams,
  registrantLabel,
  logistic,
  suffixesOf,
  type FittedModel,
  type RiskTables,
} from '../../src/web/index.ts';
import { dropped, fitUrlModel, urlRows } from './fit-url.ts';
import { fitMonotone, recencyWeights, RIDGE, round, rowFold, solve, type PhishingFolds } from './fitting.ts';
import { dataDirectory, loadSplit, splitMonths, type LabelledHost, type SplitMonths } from './data.ts';
import { runBench } from '../lib/main.ts';

/**
 * Pseudo-count per class added to every table key's tally (the host's and the URL part's tables).
 * 1, not 2 as before: chosen by the forward check (bench/web/README.md), where it caught more of
 * the later months on both folds at the same benign count; 0.5 flagged a benign row, 8 lost half
 * the recall.
 */
const SMOOTHING = 1;
/** Recency half-life of the phishing rows, in months; undefined weighs every month alike. */
const HALF_LIFE: number | undefined = undefined;

interface FitOptions {
  halfLife: number | undefined;
  smoothing: number;
  /** Hosts a URL-part table key needs (fit-url.ts's MIN_HOSTS when undefined). */
  minHosts: number | undefined;
  folds: PhishingFolds;
  /** Features fitted as 0 (weight 0), host-name and URL part alike: an ablation for the forward check. */
  drop: ReadonlySet<string>;
}

/** The phishing rows' folds (fitting.ts): by host hash, as the benign rows', unless a month parity is asked for. */
const PHISHING_FOLDS: PhishingFolds = 'host';

function foldsOf(text: string | undefined): PhishingFolds {
  if (text === undefined) return PHISHING_FOLDS;
  if (text === 'host' || text === 'month') return text;
  throw new Error(`--phishing-folds takes host or month, not ${text}`);
}

function list(text: string | undefined, flag: string): number[] | undefined {
  return text?.split(',').map((v) => positive(v, flag));
}

function positive(text: string, flag: string): number {
  const value = Number(text);
  if (!(value > 0)) throw new Error(`${flag} takes a positive number, not ${text}`);
  return value;
}
const SUSPICIOUS_FALSE_POSITIVE_RATE = 1e-3;
const BENIGN_WEIGHTS = [16, 64, 256, 1024, 4096];
const NON_NEGATIVE = new Set<string>([
  'brand_exact',
  'brand_fuzzy',
  'keywords',
  'punycode',
  'ip_host',
  'tld_risk',
  'platform_risk',
  'name_style',
]);

interface Row {
  host: LabelledHost;
  phishing: boolean;
  fold: 0 | 1;
  /** The row's weight in the tables' counts and the fit: its recency for phishing, 1 for benign. */
  weight: number;
}

/** Smoothed log-odds per key, centred so an unseen key gets 0 relative to the base rate. */
export function riskTable(
  rows: readonly Row[],
  keyOf: (row: Row) => string,
  smoothing: number,
): { table: Record<string, number>; unseen: number } {
  const counts = new Map<string, { phishing: number; benign: number }>();
  let phishing = 0;
  let benign = 0;
  for (const row of rows) {
    const key = keyOf(row);
    if (key === '') continue;
    const c = counts.get(key) ?? { phishing: 0, benign: 0 };
    if (row.phishing) {
      c.phishing += row.weight;
      phishing += row.weight;
    } else {
      c.benign += row.weight;
      benign += row.weight;
    }
    counts.set(key, c);
  }
  const base = Math.log((phishing + smoothing) / (benign + smoothing));
  const table: Record<string, number> = {};
  for (const [key, c] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
    table[key] =
      Math.round((Math.log((c.phishing + smoothing) / (c.benign + smoothing)) - base) * 1000) / 1000;
  return { table, unseen: 0 };
}

function riskTables(rows: readonly Row[], smoothing: number): RiskTables {
  const tld = riskTable(rows, (r) => suffixesOf(r.host.url).tld, smoothing);
  const platform = riskTable(rows, (r) => suffixesOf(r.host.url).platform, smoothing);
  return {
    tld: tld.table,
    platform: platform.table,
    unseenTld: tld.unseen,
    unseenPlatform: platform.unseen,
    bigram: bigramTable(rows, smoothing),
  };
}

/** Smoothed log-odds per label bigram, each host's bigrams counted once per class. */
function bigramTable(rows: readonly Row[], smoothing: number): Record<string, number> {
  const counts = new Map<string, { phishing: number; benign: number }>();
  let phishing = 0;
  let benign = 0;
  for (const row of rows) {
    if (row.host.url.hostKind !== 'domain') continue;
    if (row.phishing) phishing += row.weight;
    else benign += row.weight;
    for (const bigram of new Set(labelBigrams(registrantLabel(row.host.url)))) {
      const c = counts.get(bigram) ?? { phishing: 0, benign: 0 };
      if (row.phishing) c.phishing += row.weight;
      else c.benign += row.weight;
      counts.set(bigram, c);
    }
  }
  const table: Record<string, number> = {};
  for (const [bigram, c] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    // Rates within each class, so the classes' sizes do not tilt every bigram one way.
    const odds =
      (c.phishing + smoothing) / (phishing + smoothing) / ((c.benign + smoothing) / (benign + smoothing));
    table[bigram] = Math.round(Math.log(odds) * 1000) / 1000;
  }
  return table;
}

/** Newton's method for weighted logistic regression; returns [bias, ...weights]. */
export function fitLogistic(
  x: readonly number[][],
  y: readonly number[],
  weight: readonly number[],
): number[] {
  const d = x[0]!.length + 1;
  let beta = new Array<number>(d).fill(0);
  for (let iteration = 0; iteration < 50; iteration++) {
    const gradient = new Array<number>(d).fill(0);
    const hessian = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let i = 0; i < x.length; i++) {
      const row = [1, ...x[i]!];
      const p = logistic(row.reduce((s, v, j) => s + v * beta[j]!, 0));
      const w = weight[i]!;
      for (let j = 0; j < d; j++) {
        gradient[j]! += w * (y[i]! - p) * row[j]!;
        for (let k = 0; k < d; k++) hessian[j]![k]! += w * p * (1 - p) * row[j]! * row[k]!;
      }
    }
    for (let j = 1; j < d; j++) {
      gradient[j]! -= RIDGE * beta[j]!;
      hessian[j]![j]! += RIDGE;
    }
    const step = solve(hessian, gradient);
    beta = beta.map((b, j) => b + step[j]!);
    if (Math.max(...step.map(Math.abs)) < 1e-7) break;
  }
  return beta;
}

async function main() {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      out: { type: 'string', default: 'src/web/score/model.json' },
      'tuning-first-month': { type: 'string' },
      'tuning-last-month': { type: 'string' },
      forward: { type: 'boolean', default: false },
      'half-life': { type: 'string' },
      smoothing: { type: 'string' },
      'min-hosts': { type: 'string' },
      'url-benign-weights': { type: 'string' },
      'url-ridges': { type: 'string' },
      'grid-out': { type: 'string' },
      'phishing-folds': { type: 'string' },
      drop: { type: 'string' },
      'url-expected-hosts': { type: 'string' },
    },
    strict: true,
  });
  const months = splitMonths(values);
  const options: FitOptions = {
    halfLife: values['half-life'] === undefined ? HALF_LIFE : positive(values['half-life'], '--half-life'),
    smoothing: values.smoothing === undefined ? SMOOTHING : positive(values.smoothing, '--smoothing'),
    minHosts: values['min-hosts'] === undefined ? undefined : positive(values['min-hosts'], '--min-hosts'),
    folds: foldsOf(values['phishing-folds']),
    drop: dropped(values.drop),
  };
  if (!months.forward && values.out !== 'src/web/score/model.json')
    process.stderr.write(`writing ${values.out}; the shipped model is src/web/score/model.json\n`);
  if (months.forward && values.out === 'src/web/score/model.json')
    throw new Error('a forward check fits a scratch model: name it with --out FILE');
  const gridOut = values['grid-out'];
  if (gridOut !== undefined && !months.forward)
    throw new Error('--grid-out is for a forward check (--forward): the shipped fit keeps one candidate');
  if (gridOut !== undefined) mkdirSync(gridOut, { recursive: true });
  const split = await loadSplit(dataDirectory(values.data), months);
  const recency = recencyWeights(split.tuning.phishing, months.tuningLast, options.halfLife);
  const rows: Row[] = [
    ...split.tuning.phishing.map((host) => ({
      host,
      phishing: true,
      fold: rowFold(host, true, options.folds),
      weight: recency.get(host.url.host)!,
    })),
    ...split.tuning.benign.map((host) => ({
      host,
      phishing: false,
      fold: rowFold(host, false, options.folds),
      weight: 1,
    })),
  ];
  const brands = createBrandIndex();
  const byFold = [
    riskTables(
      rows.filter((r) => r.fold === 1),
      options.smoothing,
    ),
    riskTables(
      rows.filter((r) => r.fold === 0),
      options.smoothing,
    ),
  ];
  const x = rows.map((row) => {
    const values = hostFeatures(row.host.url, brands, byFold[row.fold]!).values;
    return FEATURES.map((f) => (options.drop.has(f) ? 0 : values[f]));
  });
  const y = rows.map((r) => (r.phishing ? 1 : 0));
  const phishingCount = split.tuning.phishing.length;
  const benignCount = split.tuning.benign.length;
  const risk = riskTables(rows, options.smoothing);
  // The benign hosts' share of the loss: more of it pulls the fit toward the no-false-positive
  // end the malicious threshold works at. Chosen by tuning recall at that threshold.
  let best: { model: FittedModel; recall: number; benignWeight: number } | undefined;
  for (const benignWeight of BENIGN_WEIGHTS) {
    const weight = rows.map((r) =>
      r.phishing
        ? (r.weight * rows.length) / (2 * phishingCount)
        : (benignWeight * rows.length) / (2 * benignCount),
    );
    const beta = fitMonotone(FEATURES, NON_NEGATIVE, x, (kept) => fitLogistic(kept, y, weight));
    const model = modelOf(beta, risk, months);
    model.thresholds = thresholdsOn(model, rows, brands);
    const recall = recallAt(model, rows, brands, model.thresholds.malicious);
    process.stderr.write(
      `benign weight ${benignWeight}: tuning recall ${recall} at no tuning false positive\n`,
    );
    if (!best || recall > best.recall) best = { model, recall, benignWeight };
  }
  const model = best!.model;
  model.fit = {
    tuningMonths: `${months.tuningFirst}..${months.tuningLast}`,
    ...(months.forward
      ? { forwardCheck: 'fitted on one half of the tuning benign half, for bench/web/forward.ts' }
      : {}),
    phishingHosts: phishingCount,
    benignHosts: benignCount,
    smoothing: options.smoothing,
    recencyHalfLifeMonths: options.halfLife ?? null,
    ...(options.drop.size > 0 ? { droppedFeatures: [...options.drop] } : {}),
    phishingFolds: options.folds,
    ridge: RIDGE,
    suspiciousFalsePositiveRate: SUSPICIOUS_FALSE_POSITIVE_RATE,
    benignWeight: best!.benignWeight,
    tuningRecallAtMalicious: recallAt(model, rows, brands, model.thresholds.malicious),
    tuningRecallAtSuspicious: recallAt(model, rows, brands, model.thresholds.suspicious),
  };
  const urlPart = fitUrlModel(
    model,
    byFold,
    urlRows(split.tuning.phishing, split.tuning.benign, split.tuning.benignUrls, recency, options.folds),
    brands,
    {
      smoothing: options.smoothing,
      minHosts: options.minHosts,
      benignWeights: list(values['url-benign-weights'], '--url-benign-weights'),
      ridges: list(values['url-ridges'], '--url-ridges'),
      drop: options.drop,
      expectedHosts: list(values['url-expected-hosts'], '--url-expected-hosts'),
      // Every candidate's model, for the forward check to read (fit.url says which candidate).
      everyCandidate: gridOut
        ? (part) => {
            const name = `url-bw${String(part.fit.benignWeight)}-ridge${String(part.fit.ridge)}.json`;
            const fit = { ...model.fit, url: part.fit };
            writeFileSync(join(gridOut, name), JSON.stringify({ ...model, url: part.url, fit }) + '\n');
          }
        : undefined,
    },
    (line) => process.stderr.write(`${line}\n`),
  );
  model.url = urlPart.url;
  model.fit.url = urlPart.fit;
  writeFileSync(values.out, JSON.stringify(model, null, 2) + '\n');
  process.stdout.write(
    `${JSON.stringify({ ...model, risk: undefined, url: { ...model.url, tables: undefined } }, null, 1)}\n`,
  );
}

function modelOf(beta: readonly number[], risk: RiskTables, months: SplitMonths): FittedModel {
  return {
    version: `jpcert-${months.tuningFirst}..${months.tuningLast}+benign-tuning-${months.forward ? 'quarter' : 'half'}`,
    bias: round(beta[0]!),
    weights: Object.fromEntries(FEATURES.map((f, i) => [f, round(beta[i + 1]!)])) as FittedModel['weights'],
    risk,
    thresholds: { suspicious: 1, malicious: 1 },
    fit: {},
  };
}

function scoreOf(model: FittedModel, row: Row, brands: ReturnType<typeof createBrandIndex>): number {
  const f = hostFeatures(row.host.url, brands, model.risk);
  if (f.official) return 0;
  return logistic(FEATURES.reduce((s, name) => s + f.values[name] * model.weights[name], model.bias));
}

function thresholdsOn(model: FittedModel, rows: readonly Row[], brands: ReturnType<typeof createBrandIndex>) {
  const benign = rows
    .filter((r) => !r.phishing)
    .map((r) => scoreOf(model, r, brands))
    .sort((a, b) => b - a);
  const above = Math.floor(benign.length * SUSPICIOUS_FALSE_POSITIVE_RATE);
  // Just above the highest benign score that must stay below the threshold.
  const nextUp = (score: number) => Math.min(1, score + 1e-9);
  return { malicious: nextUp(benign[0] ?? 0), suspicious: nextUp(benign[above] ?? 0) };
}

function recallAt(
  model: FittedModel,
  rows: readonly Row[],
  brands: ReturnType<typeof createBrandIndex>,
  threshold: number,
) {
  const phishing = rows.filter((r) => r.phishing);
  return round(phishing.filter((r) => scoreOf(model, r, brands) >= threshold).length / phishing.length);
}

await runBench('bench/web/fit.ts', main);
