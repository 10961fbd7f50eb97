/**
 * The URL verdict's features: what the path and query add to the host name's log-odds. The
 * URL's log-odds is `hostWeight` × the host-name model's (its bias and every host reason, each
 * scaled) plus `url.bias` plus Σ weight × URL feature, so a URL verdict still lists every part
 * it rests on (the scaled host bias and url.bias together as the reason `url_bias`, so the
 * model's bias plus the reasons is the URL's log-odds).
 * The host-name verdict (name only) is kept beside it: host-level filters (RPZ, Unbound, hosts
 * files) must not block a whole host for one compromised site's path.
 *
 * Path tokens and path shapes are tables of smoothed log-odds that bench/web/fit.ts learns from
 * JPCERT/CC's tuning months against benign URLs WITH paths (tuning half only), like tld_risk.
 */
import type { NormalisedUrl, Reason } from '../types.ts';
import { LEXICON } from './lexicon.ts';

export const URL_FEATURES = [
  'path_token_max',
  'path_token_mean',
  'path_shape',
  'path_brand',
  'path_keywords',
  'path_depth',
  'path_length',
  'root_path',
  'ip_host_url',
  'punycode_url',
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
  /** What the host name's log-odds (bias and contributions) counts for in the URL's. */
  hostWeight: number;
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
const PATH_BRAND_MIN = 5;
/** The lexicon's brand tokens of PATH_BRAND_MIN characters or more, plain letters and digits, to their brand. */
const PATH_BRANDS = new Map<string, string>();
for (const b of LEXICON.brands)
  for (const token of b.tokens)
    if (token.length >= PATH_BRAND_MIN && /^[a-z0-9]+$/.test(token) && !PATH_BRANDS.has(token))
      PATH_BRANDS.set(token.replace(/[0-9]+/g, '0'), b.key);

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

/** The path's shape: its first two segments' shapes, `/+` when deeper, a trailing `/`, `?` with the parameter count and length. */
export function pathShape(path: string): string {
  const q = path.indexOf('?');
  const pathOnly = q < 0 ? path : path.slice(0, q);
  const segments = pathOnly.split('/').slice(1);
  const trailing = segments.length > 1 && segments.at(-1) === '';
  const parts = trailing ? segments.slice(0, -1) : segments;
  let shape = parts.slice(0, 2).map(segmentShape).join('/');
  if (parts.length > 2) shape += '/+';
  if (trailing) shape += '/';
  // The query: its parameter count, and `L` when it is long (search words, tracking) rather than one short code.
  if (q >= 0) shape += `?${Math.min(3, queryParams(path.slice(q + 1)))}${path.length - q > 24 ? 'L' : ''}`;
  return `/${shape}`;
}

function queryParams(query: string): number {
  if (query === '') return 0;
  return query.split('&').filter((p) => p !== '').length;
}

/** The lexicon's keywords (en and ja-romanised), each a whole path token. */
const PATH_KEYWORDS = new Set([...LEXICON.keywords.en, ...LEXICON.keywords['ja-romanised']]);

/** A table as a Map, made once per table (a large JSON object is slow to look keys up in). */
const maps = new WeakMap<Record<string, number>, Map<string, number>>();
function mapOf(table: Record<string, number>): Map<string, number> {
  let map = maps.get(table);
  if (!map) {
    map = new Map(Object.entries(table));
    maps.set(table, map);
  }
  return map;
}

/** The features of a URL's path and query (the lexicon's brands and keywords as whole tokens). */
export function urlFeatures(url: NormalisedUrl, tables: UrlTables): UrlFeatures {
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
    root_path: root ? 1 : 0,
    // The host-name model learned IP and punycode hosts from lists that have none benign; the URL
    // data has some, so the URL part may correct for them (either sign).
    ip_host_url: url.hostKind !== 'domain' ? 1 : 0,
    punycode_url: url.host.startsWith('xn--') || url.host.includes('.xn--') ? 1 : 0,
  };
  const shape = pathShape(path);
  values.path_shape = mapOf(tables.shape).get(shape) ?? 0;
  if (root) return { values, token: '', brand: '', shape };
  const tokens = pathTokens(path);
  let best = '';
  let max = -Infinity;
  let sum = 0;
  let brand = '';
  let keywords = 0;
  const tokenRisk = mapOf(tables.token);
  for (const token of tokens) {
    const risk = tokenRisk.get(token) ?? 0;
    sum += risk;
    if (risk > max) {
      max = risk;
      best = token;
    }
    // A whole token that is a brand's token; short ones (`etc`, `ana`, `au`) are common path
    // words, so only 5 characters or more.
    if (!brand && token.length >= PATH_BRAND_MIN) brand = PATH_BRANDS.get(token) ?? '';
    if (PATH_KEYWORDS.has(token)) keywords++;
  }
  if (tokens.length > 0) {
    values.path_token_max = max;
    values.path_token_mean = sum / tokens.length;
  }
  values.path_brand = brand ? 1 : 0;
  values.path_keywords = Math.min(3, keywords);
  const q = path.indexOf('?');
  const pathOnly = q < 0 ? path : path.slice(0, q);
  values.path_depth = Math.min(8, pathOnly.split('/').filter((s) => s !== '').length) / 4;
  values.path_length = Math.min(200, path.length) / 50;
  return { values, token: best, brand, shape };
}

/** The URL part's log-odds (without the host's) and its reasons, non-zero contributions only. */
export function urlPart(
  url: NormalisedUrl,
  model: UrlModel,
  hostBias: number,
): { logOdds: number; reasons: Reason[] } {
  const f = urlFeatures(url, model.tables);
  let logOdds = model.bias;
  const reasons: Reason[] = [];
  for (const feature of URL_FEATURES) {
    const value = f.values[feature];
    const contribution = value * (model.weights[feature] ?? 0);
    logOdds += contribution;
    if (contribution === 0) continue;
    reasons.push({ feature: labelOf(feature, f), value: round(value), contribution: round(contribution) });
  }
  reasons.push({
    feature: 'url_bias',
    value: 1,
    contribution: round(model.bias + (model.hostWeight - 1) * hostBias),
  });
  return { logOdds, reasons };
}

function labelOf(feature: UrlFeature, f: UrlFeatures): string {
  if (feature === 'path_token_max') return `path_token_max(${f.token})`;
  if (feature === 'path_shape') return `path_shape(${f.shape})`;
  if (feature === 'path_brand') return `path_brand(${f.brand})`;
  return feature;
}

/** The host name's reasons as they count in the URL's log-odds. */
export function scaledReasons(reasons: readonly Reason[], hostWeight: number): Reason[] {
  if (hostWeight === 1) return [...reasons];
  return reasons.map((r) => ({ ...r, contribution: round(r.contribution * hostWeight) }));
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
