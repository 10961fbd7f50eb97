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
import { plainObjectType } from '../plain-object.ts';
import { PlainReason } from './memo.ts';
import { addGated, type GatedModel } from './gated.ts';
import { HostReasons, ReasonList } from './reason-list.ts';
import { addHostContext, type HostContextModel, type SubTokenResult } from './host-context.ts';
import { addUrlReasons, newPathTokenResult, prepareUrlModel, type UrlModel } from './url-features.ts';

export interface Thresholds {
  suspicious: number;
  malicious: number;
  /**
   * The URL verdict's floor for a tie on the room's own verdicts (kit-paths.ts, liftableByJudged):
   * above all but JUDGED_LIFT_FALSE_POSITIVE_RATE of the tuning benign rows, never above
   * `suspicious`; a model without it lifts only a suspicious URL.
   */
  judgedLift?: number;
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
  // The URL's reasons as they are gathered, made into objects once (reason-list.ts).
  const reasons = new ReasonList();
  // What the URL part tells the gated part of the path's riskiest word.
  const pathToken = newPathTokenResult();
  // Feeds list a host's URLs one after another (a fifth of the benchmark's rows follow one on the
  // same host): the host's part, its scan, log-odds and reasons with the host context's, is kept
  // for the last host and replayed while the next URL's host keys are the same.
  const last = newHostMemo();
  return {
    model,
    thresholds,
    urlThresholds,
    score(url) {
      const sameHost = last.url !== null && sameHostKeys(url, last.url);
      if (!sameHost) {
        last.url = null;
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
        reasons.clear();
        hostReasons(features, weightOf, labels, 1, reasons);
        return scored(url, score, hostVerdict, features.brand, reasons.toArray(), score, hostVerdict);
      }
      // The URL verdict: the host name's log-odds plus the host context's and the path's parts,
      // every reason listed: the host's scaled, then the context's and the path's inserted, in
      // the order a stable sort of all three (host, context, path) gives.
      if (sameHost && last.hasReasons) reasons.replay(last.reasons);
      else {
        reasons.clear();
        hostReasons(features, weightOf, labels, urlModel.hostWeight, reasons);
        last.subTokenMax = 0;
        last.subTokenGatedLabel = SUB_TOKEN_GATED;
        last.contextLogOdds = urlModel.context
          ? addHostContext(url, features, urlModel.context, model.risk.bigram, reasons, last)
          : null;
        rememberHost(url, last, true);
        reasons.keep(last.reasons);
      }
      // Summed host, path, context: the order the model was fitted and benchmarked in.
      let urlLogOdds =
        urlModel.hostWeight * logOdds + addUrlReasons(url, urlModel, model.bias, reasons, pathToken);
      if (last.contextLogOdds !== null) urlLogOdds += last.contextLogOdds;
      // The path's and the subdomain's riskiest words again, gated by the host name's log-odds.
      if (urlModel.gated)
        urlLogOdds += addGated(
          logOdds,
          pathToken.max,
          last.subTokenMax,
          urlModel.gated,
          reasons,
          pathToken.gatedLabel,
          last.subTokenGatedLabel,
        );
      const urlScore = logistic(urlLogOdds);
      return scored(
        url,
        urlScore,
        verdictOf(urlScore, urlThresholds),
        features.brand,
        reasons.toArray(),
        score,
        hostVerdict,
      );
    },
  };
}

const SUB_TOKEN_GATED = 'sub_token_gated';

/**
 * The last host a scorer read: its keys (the URL it came with: every key scanHostName and
 * addHostContext read is compared), its host-name log-odds, score and verdict, and, once a URL
 * verdict was made for it, its reasons up to the host context's (replayed into each URL's list),
 * the context's log-odds and what the gated part reads of the context (addHostContext writes
 * subTokenMax and subTokenGatedLabel here).
 */
interface HostMemo extends SubTokenResult {
  /** The URL whose host this is; null when no host is kept. */
  url: NormalisedUrl | null;
  /** The host name's log-odds, score and verdict. */
  logOdds: number;
  score: number;
  hostVerdict: Verdict;
  hasReasons: boolean;
  reasons: HostReasons;
  contextLogOdds: number | null;
}

function newHostMemo(): HostMemo {
  return {
    url: null,
    logOdds: 0,
    score: 0,
    hostVerdict: 'benign',
    hasReasons: false,
    reasons: new HostReasons(),
    contextLogOdds: null,
    subTokenMax: 0,
    subTokenGatedLabel: SUB_TOKEN_GATED,
  };
}

function sameHostKeys(url: NormalisedUrl, last: NormalisedUrl): boolean {
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
  last.url = url;
  last.hasReasons = hasReasons;
}

/**
 * The URL's keys with the verdict, in the key order the normaliser gives.
 *
 * Rows are built by assignment to `new PlainRow()` (plain-object.ts), not as literals:
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
  // A domain's keys come with the path second, an IP address's with it last (normalise.ts).
  const domain = url.hostKind === 'domain';
  row.url = url.url;
  if (domain) row.path = url.path;
  row.host = url.host;
  row.unicodeHost = url.unicodeHost;
  row.hostKind = url.hostKind;
  row.registrableDomain = url.registrableDomain;
  row.publicSuffix = url.publicSuffix;
  row.privateSuffix = url.privateSuffix;
  row.subdomain = url.subdomain;
  if (!domain) row.path = url.path;
  row.score = score;
  row.verdict = verdict;
  row.brand = brand;
  row.reasons = reasons;
  row.hostScore = hostScore;
  row.hostVerdict = hostVerdict;
  return row;
}

/**
 * Every non-zero contribution of the host name's features into `reasons`, largest first (a
 * stable sort: ties keep the features' order). With a hostWeight, each contribution is scaled as
 * the URL verdict counts it (the rounded one times hostWeight, rounded: url-features.ts
 * scaledReasons) and the order is what sorting by the contributions and then, stably, by the
 * scaled ones gives: scaled size first, then the unscaled size, then the features' order.
 */
function hostReasons(
  features: HostNameScan,
  weightOf: Float64Array,
  labels: ReasonLabels,
  hostWeight: number,
  reasons: ReasonList,
): void {
  const values = features.vector;
  for (let i = 0; i < FEATURES.length; i++) {
    const value = values[i]!;
    const contribution = value * weightOf[i]!;
    if (contribution === 0) continue;
    const rounded = round(contribution);
    reasons.addHost(
      labels.of(FEATURES[i]!, features),
      round(value),
      hostWeight === 1 ? rounded : round(rounded * hostWeight),
      abs(rounded),
    );
  }
}
const abs = Math.abs;

function officialReasons(url: NormalisedUrl): Reason[] {
  const reason = new PlainReason() as Reason;
  reason.feature = 'official_domain';
  reason.value = url.registrableDomain ?? url.host;
  reason.contribution = 0;
  // A copy by the builtin, which (unlike a literal) is never pretenured (see `scored`).
  officialScratch.push(reason);
  const out = officialScratch.slice();
  officialScratch.length = 0;
  return out;
}
const officialScratch: Reason[] = [];

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
