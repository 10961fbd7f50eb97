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
import { scaledReasons, urlPart, type UrlModel } from './url-features.ts';

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
  url?: UrlModel;
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
  prepareRiskTables(model.risk);
  const urlModel = model.url;
  const urlThresholds = urlModel?.thresholds ?? thresholds;
  return {
    model,
    thresholds,
    urlThresholds,
    score(url) {
      const features = hostFeatures(url, brands, model.risk);
      if (features.official)
        // A rule, not a weight: the brand's own domain is never flagged.
        return scored(
          url,
          0,
          'benign',
          features.official,
          [{ feature: 'official_domain', value: url.registrableDomain ?? url.host, contribution: 0 }],
          0,
          'benign',
        );
      let logOdds = model.bias;
      const values = features.values;
      for (let i = 0; i < FEATURES.length; i++) {
        const feature = FEATURES[i]!;
        logOdds += values[feature] * (weights[feature] ?? 0);
      }
      const score = logistic(logOdds);
      const hostVerdict = verdictOf(score, thresholds);
      const reasons = reasonsOf(features, weights);
      if (!urlModel)
        return scored(url, score, hostVerdict, features.match?.brand ?? null, reasons, score, hostVerdict);
      // The URL verdict: the host name's log-odds plus the path's part, every reason listed.
      const path = urlPart(url, urlModel, model.bias);
      const urlScore = logistic(urlModel.hostWeight * logOdds + path.logOdds);
      const all = [...scaledReasons(reasons, urlModel.hostWeight), ...path.reasons].sort(
        (a, b) => Math.abs(b.contribution) - Math.abs(a.contribution),
      );
      return scored(
        url,
        urlScore,
        verdictOf(urlScore, urlThresholds),
        features.match?.brand ?? null,
        all,
        score,
        hostVerdict,
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
  hostScore: number,
  hostVerdict: Verdict,
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
      hostScore,
      hostVerdict,
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
    hostScore,
    hostVerdict,
  };
}

/** Every non-zero contribution, largest first (a stable sort: ties keep the features' order). */
function reasonsOf(features: HostFeatures, weights: Record<Feature, number>): Reason[] {
  const reasons: Reason[] = [];
  for (const feature of FEATURES) {
    const value = features.values[feature];
    const contribution = value * (weights[feature] ?? 0);
    if (contribution === 0) continue;
    reasons.push({
      feature: labelOf(feature, features),
      value: round(value),
      contribution: round(contribution),
    });
  }
  return reasons.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
}

function labelOf(feature: Feature, features: HostFeatures): string {
  if (feature === 'tld_risk') return `tld_risk(${features.tld})`;
  if (feature === 'platform_risk') return `platform_risk(${features.platform})`;
  if ((feature === 'brand_exact' || feature === 'brand_fuzzy') && features.match)
    return `${feature}(${features.match.token}@${features.match.where})`;
  return feature;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
