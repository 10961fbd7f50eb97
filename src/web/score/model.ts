/**
 * The additive (logistic) model: log-odds = bias + Σ weight × feature, probability by the
 * logistic function. Weights, risk tables and verdict thresholds come from model.json, which
 * bench/web/fit.ts writes from the tuning months only; nothing here is set by hand.
 */
import type { NormalisedUrl, Reason, ScoredUrl, Verdict } from '../types.ts';
import fittedModel from './model.json' with { type: 'json' };
import {
  FEATURES,
  hostFeatures,
  prepareRiskTables,
  type Feature,
  type HostFeatures,
  type RiskTables,
} from './features.ts';
import type { BrandIndex } from './lexicon.ts';

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
  readonly thresholds: Thresholds;
  score(url: NormalisedUrl): ScoredUrl;
}

export function createScorer(model: FittedModel, brands: BrandIndex, thresholds = model.thresholds): Scorer {
  const weights = model.weights;
  // The weights in FEATURES order, read by index in the loop below.
  const weightOf = Float64Array.from(FEATURES, (feature) => weights[feature] ?? 0);
  const labels = createReasonLabels();
  prepareRiskTables(model.risk);
  return {
    model,
    thresholds,
    score(url) {
      const features = hostFeatures(url, brands, model.risk);
      if (features.official)
        // A rule, not a weight: the brand's own domain is never flagged.
        return scored(url, 0, 'benign', features.official, [
          { feature: 'official_domain', value: url.registrableDomain ?? url.host, contribution: 0 },
        ]);
      let logOdds = model.bias;
      const values = features.values;
      for (let i = 0; i < FEATURES.length; i++) logOdds += values[FEATURES[i]!] * weightOf[i]!;
      const score = logistic(logOdds);
      return scored(
        url,
        score,
        verdictOf(score, thresholds),
        features.match?.brand ?? null,
        reasonsOf(features, weightOf, labels),
      );
    },
  };
}

/**
 * The URL's keys with the verdict, written out rather than spread (a spread of the keys cost
 * more than the whole score), in the key order the normaliser gives.
 */
function scored(
  url: NormalisedUrl,
  score: number,
  verdict: Verdict,
  brand: string | null,
  reasons: Reason[],
): ScoredUrl {
  if (url.hostKind === 'domain')
    return {
      url: url.url,
      path: url.path,
      host: url.host,
      unicodeHost: url.unicodeHost,
      hostKind: url.hostKind,
      registrableDomain: url.registrableDomain,
      publicSuffix: url.publicSuffix,
      privateSuffix: url.privateSuffix,
      subdomain: url.subdomain,
      score,
      verdict,
      brand,
      reasons,
    };
  return {
    url: url.url,
    host: url.host,
    unicodeHost: url.unicodeHost,
    hostKind: url.hostKind,
    registrableDomain: url.registrableDomain,
    publicSuffix: url.publicSuffix,
    privateSuffix: url.privateSuffix,
    subdomain: url.subdomain,
    path: url.path,
    score,
    verdict,
    brand,
    reasons,
  };
}

/** Every non-zero contribution, largest first (a stable sort: ties keep the features' order). */
function reasonsOf(features: HostFeatures, weightOf: Float64Array, labels: ReasonLabels): Reason[] {
  const reasons: Reason[] = [];
  const values = features.values;
  for (let i = 0; i < FEATURES.length; i++) {
    const feature = FEATURES[i]!;
    const value = values[feature];
    const contribution = value * weightOf[i]!;
    if (contribution === 0) continue;
    const reason = { feature: labels.of(feature, features), value: round(value), contribution: round(contribution) };
    // Insertion sort by |contribution|, largest first: stable like Array#sort and, for the
    // dozen reasons at most, cheaper than its comparator calls. Equal ones keep their order.
    const size = abs(reason.contribution);
    let at = reasons.length;
    reasons.push(reason);
    while (at > 0 && abs(reasons[at - 1]!.contribution) < size) {
      reasons[at] = reasons[at - 1]!;
      at--;
    }
    reasons[at] = reason;
  }
  return reasons;
}

const abs = Math.abs;

interface ReasonLabels {
  of(feature: Feature, features: HostFeatures): string;
}

/** A reason's feature label; the suffix ones (`tld_risk(com)`) made once per suffix. */
function createReasonLabels(): ReasonLabels {
  const tld = new Map<string, string>();
  const platform = new Map<string, string>();
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
      if (feature === 'tld_risk') return cached(tld, feature, features.tld);
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
