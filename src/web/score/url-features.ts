/**
 * The URL verdict's features: what the path and query add to the host name's log-odds. The
 * URL's log-odds is the host-name model's (bias and every host reason, unchanged) plus
 * `url.bias` plus Σ weight × URL feature, so a URL verdict still lists every part it rests on.
 * The host-name verdict (name only) is kept beside it: host-level filters (RPZ, Unbound, hosts
 * files) must not block a whole host for one compromised site's path.
 *
 * Path tokens and path shapes are tables of smoothed log-odds that bench/web/fit.ts learns from
 * JPCERT/CC's tuning months against benign URLs WITH paths (tuning half only), like tld_risk.
 */
import type { NormalisedUrl, Reason } from '../types.ts';
import type { BrandIndex } from './lexicon.ts';

export const URL_FEATURES = [
  'path_token_max',
  'path_token_mean',
  'path_shape',
  'path_brand',
  'path_keywords',
  'path_depth',
  'path_length',
  'query_params',
  'root_path',
  'ip_with_path',
] as const;
export type UrlFeature = (typeof URL_FEATURES)[number];
export type UrlFeatureVector = Record<UrlFeature, number>;

export interface UrlTables {
  /** Log-odds per path token (lower case, digit runs as `0`). */
  token: Record<string, number>;
  /** Log-odds per path shape (pathShape). */
  shape: Record<string, number>;
}

/** The URL part of model.json: absent in a host-only model, whose URL verdict is the host's. */
export interface UrlModel {
  bias: number;
  weights: Record<UrlFeature, number>;
  tables: UrlTables;
  thresholds: { suspicious: number; malicious: number };
}

export interface UrlFeatures {
  values: UrlFeatureVector;
  /** The riskiest token, its brand and the shape, for the reasons. */
  token: string;
  brand: string;
  shape: string;
}

const MAX_TOKENS = 40;

/** Path and query tokens: runs of ASCII letters and digits, lower case, digit runs as `0`, two characters or more. */
export function pathTokens(path: string): string[] {
  const tokens = new Set<string>();
  const lower = path.toLowerCase();
  let start = -1;
  for (let i = 0; i <= lower.length; i++) {
    const code = i < lower.length ? lower.charCodeAt(i) : 0;
    const word = (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39);
    if (word) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start >= 2) {
      // Skip the hex pairs of percent-encoding (`%E3%81`): they are bytes, not words.
      if (!(start > 0 && lower.charCodeAt(start - 1) === 0x25 && i - start === 2))
        tokens.add(lower.slice(start, i).replace(/[0-9]+/g, '0'));
      if (tokens.size >= MAX_TOKENS) break;
    }
    start = -1;
  }
  return [...tokens];
}

/** One segment's shape: which character classes it has and a length bucket (`Aa0:8` = mixed case with digits, 5..8 long). */
function segmentShape(segment: string): string {
  if (segment === '') return '';
  const ext = /\.([a-z0-9]{1,5})$/i.exec(segment);
  if (ext) return `.${ext[1]!.toLowerCase()}`;
  let upper = false;
  let lower = false;
  let digit = false;
  let other = false;
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) upper = true;
    else if (c >= 0x61 && c <= 0x7a) lower = true;
    else if (c >= 0x30 && c <= 0x39) digit = true;
    else other = true;
  }
  const n = segment.length;
  const bucket = n <= 3 ? 3 : n <= 8 ? 8 : n <= 16 ? 16 : 99;
  return `${upper ? 'A' : ''}${lower ? 'a' : ''}${digit ? '0' : ''}${other ? '-' : ''}:${bucket}`;
}

/** The path's shape: its first two segments' shapes, `/+` when deeper, a trailing `/`, `?` and the parameter count. */
export function pathShape(path: string): string {
  const q = path.indexOf('?');
  const pathOnly = q < 0 ? path : path.slice(0, q);
  const segments = pathOnly.split('/').slice(1);
  const trailing = segments.length > 1 && segments.at(-1) === '';
  const parts = trailing ? segments.slice(0, -1) : segments;
  let shape = parts.slice(0, 2).map(segmentShape).join('/');
  if (parts.length > 2) shape += '/+';
  if (trailing) shape += '/';
  if (q >= 0) shape += `?${Math.min(3, queryParams(path.slice(q + 1)))}`;
  return `/${shape}`;
}

function queryParams(query: string): number {
  if (query === '') return 0;
  return query.split('&').filter((p) => p !== '').length;
}

export function urlFeatures(url: NormalisedUrl, brands: BrandIndex, tables: UrlTables): UrlFeatures {
  const path = url.path;
  const root = path === '/' || path === '';
  const values: UrlFeatureVector = {
    path_token_max: 0,
    path_token_mean: 0,
    path_shape: 0,
    path_brand: 0,
    path_keywords: 0,
    path_depth: 0,
    path_length: 0,
    query_params: 0,
    root_path: root ? 1 : 0,
    ip_with_path: url.hostKind !== 'domain' && !root ? 1 : 0,
  };
  const shape = pathShape(path);
  values.path_shape = tables.shape[shape] ?? 0;
  if (root) return { values, token: '', brand: '', shape };
  const tokens = pathTokens(path);
  let best = '';
  let max = -Infinity;
  let sum = 0;
  let brand = '';
  for (const token of tokens) {
    const risk = tables.token[token] ?? 0;
    sum += risk;
    if (risk > max) {
      max = risk;
      best = token;
    }
    if (!brand && token.length >= 3) {
      const match = brands.match(token, '');
      if (match?.how === 'exact') brand = match.brand;
    }
  }
  if (tokens.length > 0) {
    values.path_token_max = max;
    values.path_token_mean = sum / tokens.length;
  }
  values.path_brand = brand ? 1 : 0;
  values.path_keywords = Math.min(3, brands.keywordCount(path.toLowerCase()));
  const q = path.indexOf('?');
  const pathOnly = q < 0 ? path : path.slice(0, q);
  values.path_depth = Math.min(8, pathOnly.split('/').filter((s) => s !== '').length) / 4;
  values.path_length = Math.min(200, path.length) / 50;
  values.query_params = q < 0 ? 0 : Math.min(6, queryParams(path.slice(q + 1))) / 3;
  return { values, token: best, brand, shape };
}

/** The URL part's log-odds (without the host's) and its reasons, non-zero contributions only. */
export function urlPart(
  url: NormalisedUrl,
  brands: BrandIndex,
  model: UrlModel,
): { logOdds: number; reasons: Reason[] } {
  const f = urlFeatures(url, brands, model.tables);
  let logOdds = model.bias;
  const reasons: Reason[] = [];
  for (const feature of URL_FEATURES) {
    const value = f.values[feature];
    const contribution = value * (model.weights[feature] ?? 0);
    logOdds += contribution;
    if (contribution === 0) continue;
    reasons.push({ feature: labelOf(feature, f), value: round(value), contribution: round(contribution) });
  }
  reasons.push({ feature: 'url_bias', value: 1, contribution: round(model.bias) });
  return { logOdds, reasons };
}

function labelOf(feature: UrlFeature, f: UrlFeatures): string {
  if (feature === 'path_token_max') return `path_token_max(${f.token})`;
  if (feature === 'path_shape') return `path_shape(${f.shape})`;
  if (feature === 'path_brand') return `path_brand(${f.brand})`;
  return feature;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
