/**
 * The URL verdict's host-context features: how the whole host is put together, which the
 * host-name model (features.ts) cannot learn from its benign corpus of bare registrable domains.
 * They are fitted with the URL part (bench/web/fit-url.ts), whose benign side has hosts with
 * subdomains and URLs with paths, and added to the URL's log-odds like the path features.
 *
 * - `sub_token_max` / `sub_token_mean`: a learned table of smoothed log-odds per subdomain token
 *   (like the path tokens: lower case, digit runs as `0`), so `co`, `jp`, `login` in
 *   `eki.co.jp-login.example.top` count as what they are in the tuning data;
 * - `host_shape`: a learned table per shape of the whole host: subdomain depth, the subdomain's
 *   character classes and length, and the suffix's risk band (the host model's tld_risk,
 *   platform hosts apart), e.g. `1:a-:16,tld+`;
 * - `brand_place`: a learned table per place of the lexicon brand: in the registrant's label as
 *   the whole label (`aeon.co`) or a part of it (`aeon-card.top`), or in a subdomain, exact or
 *   fuzzy, by the same risk band, so a brand on a risky suffix and a brand as a .com's whole
 *   name get weights of their own;
 * - `sub_style`: how the subdomain is written, by the host model's bigram table (name_style):
 *   the highest mean bigram log-odds among its labels, so a random-letter subdomain reads as one;
 *
 * An IP host has none of them: the host name's ip_host and the URL part's ip_host_url speak for it.
 * A leading `www` label is not part of the subdomain here: it is the conventional alias of the
 * site itself, and the benign host lists carry bare names only.
 */
import type { NormalisedUrl, Reason } from '../types.ts';
import { registrantLabel, type HostFeatures } from './features.ts';

export const HOST_CONTEXT_FEATURES = [
  'sub_token_max',
  'sub_token_mean',
  'host_shape',
  'brand_place',
  'sub_style',
] as const;
export type HostContextFeature = (typeof HOST_CONTEXT_FEATURES)[number];
export type HostContextVector = Record<HostContextFeature, number>;

export interface HostContextTables {
  /** Log-odds per subdomain token. */
  subToken: Record<string, number>;
  /** Log-odds per host shape (hostShape). */
  shape: Record<string, number>;
  /** Log-odds per brand place (brandPlace). */
  brand: Record<string, number>;
}

/** The host-context part of model.json's URL part. */
export interface HostContextModel {
  weights: Record<HostContextFeature, number>;
  tables: HostContextTables;
}

export interface HostContext {
  values: HostContextVector;
  /** The riskiest subdomain token, the host's shape and the brand's place, for the reasons. */
  token: string;
  shape: string;
  place: string;
}

const MAX_TOKENS = 16;
const DIGIT = /[0-9]/;
const DIGITS = /[0-9]+/g;

/** The subdomain without a leading `www` label. */
export function siteSubdomain(url: NormalisedUrl): string {
  const sub = url.subdomain;
  if (sub === 'www') return '';
  if (sub.startsWith('www.')) return sub.slice(4);
  return sub;
}

/** Subdomain tokens: runs of ASCII letters and digits, lower case, digit runs as `0`, two characters or more. */
export function subdomainTokens(sub: string): string[] {
  const tokens: string[] = [];
  let start = -1;
  for (let i = 0; i <= sub.length; i++) {
    const code = i < sub.length ? sub.charCodeAt(i) : 0;
    const word = (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39);
    if (word) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start >= 2) {
      const text = sub.slice(start, i);
      const token = DIGIT.test(text) ? text.replace(DIGITS, '0') : text;
      if (!tokens.includes(token)) tokens.push(token);
      if (tokens.length >= MAX_TOKENS) break;
    }
    start = -1;
  }
  return tokens;
}

/** The suffix's risk band: a platform's tenant, or the host model's tld_risk above 1, above 0, or not. */
export function riskBand(host: HostFeatures): string {
  if (host.platform !== '') return 'plat';
  const risk = host.values.tld_risk;
  return risk > 1 ? 'tld++' : risk > 0 ? 'tld+' : 'tld-';
}

/** The whole host's shape: subdomain depth (3 for deeper), its character classes and length bucket, the risk band. */
export function hostShape(sub: string, band: string): string {
  if (sub === '') return `0,${band}`;
  let depth = 1;
  let letter = false;
  let digit = false;
  let hyphen = false;
  for (let i = 0; i < sub.length; i++) {
    const c = sub.charCodeAt(i);
    if (c === 0x2e) depth++;
    else if (c >= 0x30 && c <= 0x39) digit = true;
    else if (c === 0x2d || c === 0x5f) hyphen = true;
    else letter = true;
  }
  const n = sub.length;
  const bucket = n <= 4 ? 4 : n <= 8 ? 8 : n <= 16 ? 16 : n <= 32 ? 32 : 99;
  return `${Math.min(3, depth)}:${letter ? 'a' : ''}${digit ? '0' : ''}${hyphen ? '-' : ''}:${bucket},${band}`;
}

/** Where the lexicon's brand stands: `label=` (the whole label), `label~` (part of it), `sub`; exact or fuzzy; the risk band. */
export function brandPlace(host: HostFeatures, label: string, band: string): string {
  const match = host.match;
  if (match === null) return '';
  let where: string = match.where;
  if (match.where === 'domain') where = label === match.token ? 'label=' : 'label~';
  return `${where}:${match.how},${band}`;
}

/** A table as a Map, made once per table. */
const maps = new WeakMap<Record<string, number>, Map<string, number>>();
function mapOf(table: Record<string, number>): Map<string, number> {
  // The scorer asks for the same three tables every URL.
  if (table === lastTables[0]) return lastMaps[0]!;
  if (table === lastTables[1]) return lastMaps[1]!;
  if (table === lastTables[2]) return lastMaps[2]!;
  let map = maps.get(table);
  if (!map) {
    map = new Map(Object.entries(table));
    maps.set(table, map);
  }
  lastTables.unshift(table);
  lastTables.length = 3;
  lastMaps.unshift(map);
  lastMaps.length = 3;
  return map;
}
const lastTables: (Record<string, number> | undefined)[] = [];
const lastMaps: (Map<string, number> | undefined)[] = [];

/** The host-context features of a scored host (its host features already computed). */
export function hostContext(
  url: NormalisedUrl,
  host: HostFeatures,
  tables: HostContextTables,
  bigram: Record<string, number>,
): HostContext {
  const values: HostContextVector = {
    sub_token_max: 0,
    sub_token_mean: 0,
    host_shape: 0,
    brand_place: 0,
    sub_style: 0,
  };
  if (url.hostKind !== 'domain') return { values, token: '', shape: '', place: '' };
  const band = riskBand(host);
  const sub = siteSubdomain(url);
  const shape = hostShape(sub, band);
  values.host_shape = mapOf(tables.shape).get(shape) ?? 0;
  const place = brandPlace(host, registrantLabel(url), band);
  if (place !== '') values.brand_place = mapOf(tables.brand).get(place) ?? 0;
  let token = '';
  if (sub !== '') {
    values.sub_style = subStyle(sub, bigram);
    const tokens = subdomainTokens(sub);
    const risk = mapOf(tables.subToken);
    let max = -Infinity;
    let sum = 0;
    for (const t of tokens) {
      const r = risk.get(t) ?? 0;
      sum += r;
      if (r > max) {
        max = r;
        token = t;
      }
    }
    if (tokens.length > 0) {
      values.sub_token_max = max;
      values.sub_token_mean = sum / tokens.length;
    }
  }
  return { values, token, shape, place };
}

/** The highest mean bigram log-odds among the subdomain's labels (`^label$`, digits as `0`). */
export function subStyle(sub: string, bigram: Record<string, number>): number {
  const table = asciiBigrams(bigram);
  let best = -Infinity;
  let sum = 0;
  let pairs = 0;
  let previous = CARET;
  // Label by label, pair by pair, by character code: `^` opens a label, `$` closes it at a dot.
  for (let i = 0; i <= sub.length; i++) {
    const end = i === sub.length || sub.charCodeAt(i) === 0x2e;
    let code = end ? DOLLAR : sub.charCodeAt(i);
    if (code >= 0x30 && code <= 0x39) code = 0x30;
    if (end && previous === CARET) continue;
    sum += code < 128 && previous < 128 ? table[previous * 128 + code]! : 0;
    pairs++;
    if (end) {
      const style = sum / pairs;
      if (style > best) best = style;
      sum = 0;
      pairs = 0;
      previous = CARET;
    } else previous = code;
  }
  return best === -Infinity ? 0 : best;
}

const CARET = 0x5e;
const DOLLAR = 0x24;
/** The bigram table as a flat array over ASCII pairs, made once per table (labels are ASCII). */
const bigramArrays = new WeakMap<Record<string, number>, Float64Array>();
function asciiBigrams(source: Record<string, number>): Float64Array {
  let table = bigramArrays.get(source);
  if (!table) {
    table = new Float64Array(128 * 128);
    for (const [pair, value] of Object.entries(source)) {
      if (pair.length !== 2) continue;
      const a = pair.charCodeAt(0);
      const b = pair.charCodeAt(1);
      if (a < 128 && b < 128) table[a * 128 + b] = value;
    }
    bigramArrays.set(source, table);
  }
  return table;
}

/** The host-context part's log-odds and its reasons, non-zero contributions only. */
export function hostContextPart(
  url: NormalisedUrl,
  host: HostFeatures,
  model: HostContextModel,
  bigram: Record<string, number>,
): { logOdds: number; reasons: Reason[] } {
  const c = hostContext(url, host, model.tables, bigram);
  let logOdds = 0;
  const reasons: Reason[] = [];
  for (const feature of HOST_CONTEXT_FEATURES) {
    const value = c.values[feature];
    const contribution = value * (model.weights[feature] ?? 0);
    logOdds += contribution;
    if (contribution === 0) continue;
    // Built from `{}` by assignment, as model.ts builds its rows (V8 pretenures literals' sites).
    const reason = {} as Reason;
    reason.feature = labelOf(feature, c);
    reason.value = round(value);
    reason.contribution = round(contribution);
    reasons.push(reason);
  }
  return { logOdds, reasons };
}

/** Reason labels, made once per key and feature (bounded: a long-running intake sees no end of tokens). */
const tokenLabels = new Map<string, string>();
const shapeLabels = new Map<string, string>();
const placeLabels = new Map<string, string>();
function cachedLabel(map: Map<string, string>, feature: string, key: string): string {
  let label = map.get(key);
  if (label === undefined) {
    label = `${feature}(${key})`;
    if (map.size < 10_000) map.set(key, label);
  }
  return label;
}

function labelOf(feature: HostContextFeature, c: HostContext): string {
  if (feature === 'sub_token_max') return cachedLabel(tokenLabels, feature, c.token);
  if (feature === 'host_shape') return cachedLabel(shapeLabels, feature, c.shape);
  if (feature === 'brand_place') return cachedLabel(placeLabels, feature, c.place);
  return feature;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
