/**
 * The additive (logistic) model: log-odds = bias + Σ weight × feature, probability by the
 * logistic function. Weights, risk tables and verdict thresholds come from model.json, which
 * bench/web/fit.ts writes from the tuning months only; nothing here is set by hand.
 */
import type { NormalisedUrl, Reason, ScoredUrl, Verdict } from '../types.ts';
import fittedModel from './model.json' with { type: 'json' };
import {
  FEATURES,
  newHostNameScan,
  prepareRiskTables,
  scanHostName,
  type Feature,
  type HostNameScan,
  type RiskTables,
} from './features.ts';
import type { BrandIndex } from './lexicon.ts';
import { PlainReason, plainObjectType } from './memo.ts';
import { addGated, type GatedModel } from './gated.ts';
import {
  addHostContext,
  lastSubTokenGatedLabel,
  lastSubTokenMax,
  type HostContextModel,
} from './host-context.ts';
import {
  addUrlReasons,
  lastPathTokenGatedLabel,
  lastPathTokenMax,
  prepareUrlModel,
  type UrlModel,
} from './url-features.ts';

export interface Thresholds {
  suspicious: number;
  malicious: number;
}

export interface FittedModel {
  /** Names the fit (its data split and date), stored beside every verdict. */
  version: string;
  bias: number;
  weights: Record<Feature, number>;
  risk: RiskTables;
  thresholds: Thresholds;
  /** How the fit went: what it was fitted on, for the README and the benchmark. */
  fit: Record<string, unknown>;
  /** The URL verdict's path and query part (url-features.ts); absent, the URL verdict is the host name's. */
  url?: UrlModel & {
    /** The host-context features (host-context.ts); absent, the URL part has none. */
    context?: HostContextModel;
    /** The gated features (gated.ts); absent, the URL part has none. */
    gated?: GatedModel;
  };
}

export const FITTED_MODEL = fittedModel as unknown as FittedModel;

export function verdictOf(score: number, thresholds: Thresholds): Verdict {
  return score >= thresholds.malicious
    ? 'malicious'
    : score >= thresholds.suspicious
      ? 'suspicious'
      : 'benign';
}

export function logistic(logOdds: number): number {
  return 1 / (1 + Math.exp(-logOdds));
}

export interface Scorer {
  readonly model: FittedModel;
  /** The host-name verdict's thresholds. */
  readonly thresholds: Thresholds;
  /** The URL verdict's (the model's URL part's, else the host name's). */
  readonly urlThresholds: Thresholds;
  score(url: NormalisedUrl): ScoredUrl;
}

export function createScorer(model: FittedModel, brands: BrandIndex, thresholds = model.thresholds): Scorer {
  const weights = model.weights;
  // The weights in FEATURES order, read by index in the loop below.
  const weightOf = Float64Array.from(FEATURES, (feature) => weights[feature] ?? 0);
  const labels = createReasonLabels();
  prepareRiskTables(model.risk);
  const urlModel = model.url;
  if (urlModel) prepareUrlModel(urlModel);
  const urlThresholds = urlModel?.thresholds ?? thresholds;
  // Refilled per URL: score() reads it before it returns and keeps nothing of it but strings.
  const scan = newHostNameScan();
  // Feeds list a host's URLs one after another (a fifth of the benchmark's rows follow one on the
  // same host): the host's part, its scan, log-odds and reasons with the host context's, is kept
  // for the last host and replayed while the next URL's host keys are the same.
  const last = newHostMemo();
  const gatedLabels = { path: lastPathTokenGatedLabel, sub: () => last.subTokenGatedLabel };
  return {
    model,
    thresholds,
    urlThresholds,
    score(url) {
      const sameHost = last.valid && sameHostKeys(url, last);
      if (!sameHost) {
        last.valid = false;
        scanHostName(url, brands, model.risk, scan);
      }
      const features = scan;
      if (features.official) {
        if (!sameHost) rememberHost(url, last, false);
        // A rule, not a weight: the brand's own domain is never flagged.
        return scored(url, 0, 'benign', features.official, officialReasons(url), 0, 'benign');
      }
      let logOdds: number;
      if (sameHost) logOdds = last.logOdds;
      else {
        logOdds = model.bias;
        const values = features.vector;
        for (let i = 0; i < FEATURES.length; i++) logOdds += values[i]! * weightOf[i]!;
        last.logOdds = logOdds;
        last.score = logistic(logOdds);
        last.hostVerdict = verdictOf(last.score, thresholds);
      }
      const score = last.score;
      const hostVerdict = last.hostVerdict;
      if (!urlModel) {
        if (!sameHost) rememberHost(url, last, false);
        const reasons = reasonsOf(features, weightOf, labels);
        return scored(url, score, hostVerdict, features.match?.brand ?? null, reasons, score, hostVerdict);
      }
      // The URL verdict: the host name's log-odds plus the host context's and the path's parts,
      // every reason listed: the host's scaled, then the context's and the path's inserted, in
      // the order a stable sort of all three (host, context, path) gives.
      let reasons: Reason[];
      let contextLogOdds: number | null = null;
      if (sameHost && last.hasReasons) {
        reasons = replayReasons(last);
        contextLogOdds = last.contextLogOdds;
      } else {
        reasons = sortedReasons(features, weightOf, labels, urlModel.hostWeight);
        if (urlModel.context) {
          contextLogOdds = addHostContext(url, features, urlModel.context, model.risk.bigram, reasons);
        }
        rememberHost(url, last, true);
        rememberReasons(last, reasons, contextLogOdds, lastSubTokenMax(), lastSubTokenGatedLabel());
      }
      // Summed host, path, context: the order the model was fitted and benchmarked in.
      let urlLogOdds = urlModel.hostWeight * logOdds + addUrlReasons(url, urlModel, model.bias, reasons);
      if (contextLogOdds !== null) urlLogOdds += contextLogOdds;
      // The path's and the subdomain's riskiest words again, gated by the host name's log-odds.
      if (urlModel.gated)
        urlLogOdds += addGated(
          logOdds,
          lastPathTokenMax(),
          urlModel.context ? last.subTokenMax : 0,
          urlModel.gated,
          reasons,
          gatedLabels,
        );
      const urlScore = logistic(urlLogOdds);
      return scored(
        url,
        urlScore,
        verdictOf(urlScore, urlThresholds),
        features.match?.brand ?? null,
        copyOut(reasons),
        score,
        hostVerdict,
      );
    },
  };
}

/**
 * The last host a scorer read: its keys (every one scanHostName and addHostContext read), its
 * host-name log-odds, score and verdict, and, once a URL verdict was made for it, its reasons up
 * to the host context's as plain values (rows handed out own their reason objects; replaying
 * makes new ones), the context's log-odds and what the gated part reads of the context.
 */
interface HostMemo {
  valid: boolean;
  host: string;
  hostKind: NormalisedUrl['hostKind'];
  registrableDomain: string | null;
  publicSuffix: string;
  privateSuffix: boolean;
  subdomain: string;
  /** The host name's log-odds, score and verdict. */
  logOdds: number;
  score: number;
  hostVerdict: Verdict;
  hasReasons: boolean;
  size: number;
  feature: string[];
  value: (number | string)[];
  contribution: Float64Array;
  contextLogOdds: number | null;
  subTokenMax: number;
  subTokenGatedLabel: string;
}

function newHostMemo(): HostMemo {
  return {
    valid: false,
    host: '',
    hostKind: 'domain',
    registrableDomain: null,
    publicSuffix: '',
    privateSuffix: false,
    subdomain: '',
    logOdds: 0,
    score: 0,
    hostVerdict: 'benign',
    hasReasons: false,
    size: 0,
    feature: [],
    value: [],
    contribution: new Float64Array(32),
    contextLogOdds: null,
    subTokenMax: 0,
    subTokenGatedLabel: '',
  };
}

function sameHostKeys(url: NormalisedUrl, last: HostMemo): boolean {
  return (
    url.host === last.host &&
    url.hostKind === last.hostKind &&
    url.publicSuffix === last.publicSuffix &&
    url.privateSuffix === last.privateSuffix &&
    url.subdomain === last.subdomain &&
    // Null tested apart (lexicon.ts officialIndex: a string comparison meeting null deoptimises).
    (url.registrableDomain === null
      ? last.registrableDomain === null
      : last.registrableDomain !== null && url.registrableDomain === last.registrableDomain)
  );
}

function rememberHost(url: NormalisedUrl, last: HostMemo, hasReasons: boolean): void {
  last.valid = true;
  last.host = url.host;
  last.hostKind = url.hostKind;
  last.registrableDomain = url.registrableDomain;
  last.publicSuffix = url.publicSuffix;
  last.privateSuffix = url.privateSuffix;
  last.subdomain = url.subdomain;
  last.hasReasons = hasReasons;
}

function rememberReasons(
  last: HostMemo,
  reasons: readonly Reason[],
  contextLogOdds: number | null,
  subTokenMax: number,
  subTokenGatedLabel: string,
): void {
  const size = reasons.length;
  if (last.contribution.length < size) last.contribution = new Float64Array(size * 2);
  for (let i = 0; i < size; i++) {
    const reason = reasons[i]!;
    last.feature[i] = reason.feature;
    last.value[i] = reason.value;
    last.contribution[i] = reason.contribution;
  }
  last.size = size;
  last.contextLogOdds = contextLogOdds;
  last.subTokenMax = subTokenMax;
  last.subTokenGatedLabel = subTokenGatedLabel;
}

/** The remembered reasons as new objects in reasonScratch, in their order. */
function replayReasons(last: HostMemo): Reason[] {
  const reasons = reasonScratch;
  reasons.length = 0;
  for (let i = 0; i < last.size; i++) {
    const reason = new PlainReason() as Reason;
    reason.feature = last.feature[i]!;
    reason.value = last.value[i]!;
    reason.contribution = last.contribution[i]!;
    reasons.push(reason);
  }
  return reasons;
}

/**
 * The URL's keys with the verdict, in the key order the normaliser gives.
 *
 * Rows are built by assignment to `new PlainRow()` (memo.ts plainObjectType), not as literals:
 * V8 pretenures a literal's allocation site once it sees the site's objects outlive young
 * collections (an intake batch awaiting its store transaction, the benchmark's kept first pass),
 * and from then on every row is allocated in the old generation, where the young strings and
 * reasons it points to survive each scavenge and fill the old generation for the next full
 * collection: scoring then ran at a third of its speed. `new` leaves no allocation site, so rows
 * stay young, and a row is one allocation sized to its fields (`{}` grows a side array).
 */
const PlainRow = plainObjectType();

function scored(
  url: NormalisedUrl,
  score: number,
  verdict: Verdict,
  brand: string | null,
  reasons: Reason[],
  hostScore: number,
  hostVerdict: Verdict,
): ScoredUrl {
  const row = new PlainRow() as ScoredUrl;
  if (url.hostKind === 'domain') {
    row.url = url.url;
    row.path = url.path;
    row.host = url.host;
    row.unicodeHost = url.unicodeHost;
    row.hostKind = url.hostKind;
    row.registrableDomain = url.registrableDomain;
    row.publicSuffix = url.publicSuffix;
    row.privateSuffix = url.privateSuffix;
    row.subdomain = url.subdomain;
  } else {
    row.url = url.url;
    row.host = url.host;
    row.unicodeHost = url.unicodeHost;
    row.hostKind = url.hostKind;
    row.registrableDomain = url.registrableDomain;
    row.publicSuffix = url.publicSuffix;
    row.privateSuffix = url.privateSuffix;
    row.subdomain = url.subdomain;
    row.path = url.path;
  }
  row.score = score;
  row.verdict = verdict;
  row.brand = brand;
  row.reasons = reasons;
  row.hostScore = hostScore;
  row.hostVerdict = hostVerdict;
  return row;
}

/** Where reasonsOf sorts the reasons before copying them out (see `scored` on literals). */
const reasonScratch: Reason[] = [];

/** Every non-zero contribution, largest first (a stable sort: ties keep the features' order). */
function reasonsOf(features: HostNameScan, weightOf: Float64Array, labels: ReasonLabels): Reason[] {
  return copyOut(sortedReasons(features, weightOf, labels));
}

/** A copy by the builtin, which (unlike a literal) is never pretenured; the scratch is emptied. */
function copyOut(reasons: Reason[]): Reason[] {
  const out = reasons.slice();
  reasons.length = 0;
  return out;
}

/** sortedReasons' scratch: each placed reason's |contribution| before scaling, by position. */
const unscaledSize = new Float64Array(FEATURES.length);

/**
 * The reasons in reasonScratch, sorted; the caller copies them out (copyOut). With a hostWeight,
 * each contribution is scaled as the URL verdict counts it (the rounded one times hostWeight,
 * rounded: url-features.ts scaledReasons) and the order is what sorting by the contributions and
 * then, stably, by the scaled ones gives: scaled size first, then the unscaled size, then the
 * features' order. One insertion sort instead of two passes (scaleReasonsInPlace).
 */
function sortedReasons(
  features: HostNameScan,
  weightOf: Float64Array,
  labels: ReasonLabels,
  hostWeight = 1,
): Reason[] {
  const reasons = reasonScratch;
  reasons.length = 0;
  const values = features.vector;
  for (let i = 0; i < FEATURES.length; i++) {
    const feature = FEATURES[i]!;
    const value = values[i]!;
    const contribution = value * weightOf[i]!;
    if (contribution === 0) continue;
    const reason = new PlainReason() as Reason;
    reason.feature = labels.of(feature, features);
    reason.value = round(value);
    const rounded = round(contribution);
    reason.contribution = hostWeight === 1 ? rounded : round(rounded * hostWeight);
    // Insertion sort, largest first: stable like Array#sort and, for the dozen reasons at most,
    // cheaper than its comparator calls. Equal in both sizes, they keep the features' order.
    const size = abs(reason.contribution);
    const unscaled = abs(rounded);
    let at = reasons.length;
    reasons.push(reason);
    for (; at > 0; at--) {
      const other = abs(reasons[at - 1]!.contribution);
      if (!(other < size || (other === size && unscaledSize[at - 1]! < unscaled))) break;
      reasons[at] = reasons[at - 1]!;
      unscaledSize[at] = unscaledSize[at - 1]!;
    }
    reasons[at] = reason;
    unscaledSize[at] = unscaled;
  }
  return reasons;
}
const abs = Math.abs;

function officialReasons(url: NormalisedUrl): Reason[] {
  const reason = new PlainReason() as Reason;
  reason.feature = 'official_domain';
  reason.value = url.registrableDomain ?? url.host;
  reason.contribution = 0;
  reasonScratch.length = 0;
  reasonScratch.push(reason);
  const out = reasonScratch.slice();
  reasonScratch.length = 0;
  return out;
}

interface ReasonLabels {
  of(feature: Feature, features: HostNameScan): string;
}

/** A reason's feature label; the suffix ones (`tld_risk(com)`) made once per suffix. */
function createReasonLabels(): ReasonLabels {
  const tld = new Map<string, string>();
  const platform = new Map<string, string>();
  let lastTld = '';
  let lastTldLabel = '';
  const cached = (map: Map<string, string>, feature: string, suffix: string) => {
    let label = map.get(suffix);
    if (label === undefined) {
      label = `${feature}(${suffix})`;
      // Bounded: suffixes are a few thousand at most, but a long-running intake sees no end of names.
      if (map.size < 10_000) map.set(suffix, label);
    }
    return label;
  };
  return {
    of(feature, features) {
      if (feature === 'tld_risk') {
        // Runs of hosts share a suffix: the last label is kept beside the Map.
        if (features.tld !== lastTld || lastTldLabel === '') {
          lastTldLabel = cached(tld, feature, features.tld);
          lastTld = features.tld;
        }
        return lastTldLabel;
      }
      if (feature === 'platform_risk') return cached(platform, feature, features.platform);
      if ((feature === 'brand_exact' || feature === 'brand_fuzzy') && features.match)
        return `${feature}(${features.match.token}@${features.match.where})`;
      return feature;
    },
  };
}
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
