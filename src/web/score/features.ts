/**
 * The host's explainable features. Every one is computed from the name alone, so a verdict can
 * list what it rests on. The host-name verdict reads only these; features its fitting data
 * cannot teach without bias are not here: its benign corpus is bare registrable domains, so
 * paths, subdomain depth and words in subdomains would be learned as "any of it is phishing".
 * The URL verdict adds the path's features (url-features.ts), fitted against benign URLs with paths.
 * Lexical features read the registrant's own label; only a brand is looked for in subdomains too
 * (`amazon.co.jp.evil.cn`), as it is evidence wherever it stands.
 */
import type { NormalisedUrl } from '../types.ts';
import type { BrandIndex, BrandMatch } from './lexicon.ts';
import { oncePerObject } from './memo.ts';
import { isDigit, isLower } from './chars.ts';

export const FEATURES = [
  'brand_exact',
  'brand_fuzzy',
  'keywords',
  'label_length',
  'digit_ratio',
  'hyphens',
  'entropy',
  'vowel_ratio',
  'consonant_run',
  'punycode',
  'ip_host',
  'tld_risk',
  'platform_risk',
  'name_style',
] as const;
export type Feature = (typeof FEATURES)[number];
export type FeatureVector = Record<Feature, number>;

/** Risk tables the fit learned: a log-odds per public suffix, and per private (platform) suffix. */
export interface RiskTables {
  tld: Record<string, number>;
  platform: Record<string, number>;
  /** For a suffix the fitting data never had. */
  unseenTld: number;
  unseenPlatform: number;
  /** Log-odds per character bigram of the registrant's label (`^` and `$` mark its ends). */
  bigram: Record<string, number>;
}

export interface HostFeatures {
  values: FeatureVector;
  match: BrandMatch | null;
  /**
   * The brand the row names: the match's, else a short token with digits appended
   * (BrandIndex.brandBeforeDigit), which is no feature; null for an official domain (see official).
   */
  brand: string | null;
  /** The brand whose own domain this is; such a host is never flagged. */
  official: string | null;
  /** The suffix the tld_risk / platform_risk value was looked up under. */
  tld: string;
  platform: string;
}

export function hostFeatures(url: NormalisedUrl, brands: BrandIndex, risk: RiskTables): HostFeatures {
  const scan = scanHostName(url, brands, risk, newHostNameScan());
  const values = {} as FeatureVector;
  for (let i = 0; i < FEATURES.length; i++) values[FEATURES[i]!] = scan.vector[i]!;
  const { match, brand, official, tld, platform } = scan;
  return { values, match, brand, official, tld, platform };
}

/**
 * hostFeatures as the scorer reads it: the values in FEATURES order in a Float64Array and the
 * rest beside them, in one object it refills per URL. Reading a record's values by a computed
 * name (values[FEATURES[i]]) was a generic keyed load per feature per URL, and the record and
 * its wrapper two allocations per URL.
 */
export interface HostNameScan extends Omit<HostFeatures, 'values'> {
  vector: Float64Array;
}

export function newHostNameScan(): HostNameScan {
  return {
    vector: new Float64Array(FEATURES.length),
    match: null,
    brand: null,
    official: null,
    tld: '',
    platform: '',
  };
}

const F_BRAND_EXACT = FEATURES.indexOf('brand_exact');
const F_BRAND_FUZZY = FEATURES.indexOf('brand_fuzzy');
const F_KEYWORDS = FEATURES.indexOf('keywords');
const F_LABEL_LENGTH = FEATURES.indexOf('label_length');
const F_DIGIT_RATIO = FEATURES.indexOf('digit_ratio');
const F_HYPHENS = FEATURES.indexOf('hyphens');
const F_ENTROPY = FEATURES.indexOf('entropy');
const F_VOWEL_RATIO = FEATURES.indexOf('vowel_ratio');
const F_CONSONANT_RUN = FEATURES.indexOf('consonant_run');
const F_PUNYCODE = FEATURES.indexOf('punycode');
const F_IP_HOST = FEATURES.indexOf('ip_host');
export const F_TLD_RISK = FEATURES.indexOf('tld_risk');
const F_PLATFORM_RISK = FEATURES.indexOf('platform_risk');
const F_NAME_STYLE = FEATURES.indexOf('name_style');

/** Fills `out` with the host's features (see hostFeatures) and returns it. */
export function scanHostName(
  url: NormalisedUrl,
  brands: BrandIndex,
  risk: RiskTables,
  out: HostNameScan,
): HostNameScan {
  const values = out.vector;
  // A loop, not fill(): for 14 numbers the builtin call took twice as long (17 ns vs 9).
  for (let i = 0; i < values.length; i++) values[i] = 0;
  out.match = null;
  out.brand = null;
  out.official = null;
  out.tld = '';
  out.platform = '';
  if (url.hostKind !== 'domain') {
    values[F_IP_HOST] = 1;
    return out;
  }
  const host = url.host;
  const official = brands.officialBrand(host, url.registrableDomain);
  // The label the registrant chose: `evil` in evil.co.jp and in evil.pages.dev.
  const label = registrantLabel(url);
  const match = official ? null : brands.match(label, url.subdomain);
  values[F_BRAND_EXACT] = match?.how === 'exact' ? 1 : 0;
  values[F_BRAND_FUZZY] = match?.how === 'fuzzy' ? 1 : 0;
  values[F_KEYWORDS] = Math.min(3, brands.keywordCount(label));
  const length = label.length;
  values[F_LABEL_LENGTH] = length / 10;
  // One pass over the label for the counts, the longest consonant run and the entropy's tallies.
  let digits = 0;
  let hyphens = 0;
  let letters = 0;
  let vowels = 0;
  let run = 0;
  let longestRun = 0;
  let distinct = 0;
  if (entropyOrder.length < length) entropyOrder = new Uint16Array(length);
  for (let i = 0; i < length; i++) {
    const code = label.charCodeAt(i);
    if (isDigit(code)) digits++;
    else if (code === 0x2d) hyphens++;
    else if (isLower(code)) {
      letters++;
      if (VOWEL[code]) vowels++;
    }
    run = code < 128 && CONSONANT[code] ? run + 1 : 0;
    if (run > longestRun) longestRun = run;
    const seen = entropyCounts[code]!;
    if (seen === 0) entropyOrder[distinct++] = code;
    entropyCounts[code] = seen + 1;
  }
  values[F_DIGIT_RATIO] = length ? digits / length : 0;
  values[F_HYPHENS] = Math.min(6, hyphens);
  values[F_ENTROPY] = entropyOfTallies(distinct, length);
  values[F_VOWEL_RATIO] = letters ? vowels / letters : 0;
  values[F_CONSONANT_RUN] = Math.min(8, longestRun) / 4;
  values[F_PUNYCODE] = hasPunycodeLabel(host) ? 1 : 0;
  // suffixesOf without its object.
  const tld = url.privateSuffix ? lastLabel(url.publicSuffix) : url.publicSuffix;
  const platform = url.privateSuffix ? url.publicSuffix : '';
  // Runs of hosts share a suffix: the last one's risk is kept (per table, the Map hashes each new string).
  if (risk !== lastTldTables || tld !== lastTld) {
    lastTldRisk = riskOf(tldMap(risk.tld), tld, risk.unseenTld);
    lastTldTables = risk;
    lastTld = tld;
  }
  values[F_TLD_RISK] = lastTldRisk;
  values[F_PLATFORM_RISK] = platform ? riskOf(platformMap(risk.platform), platform, risk.unseenPlatform) : 0;
  values[F_NAME_STYLE] = nameStyle(label, bigramTable(risk.bigram));
  out.match = match;
  // A label without a digit has no token before one: most names skip its walk.
  out.brand =
    match !== null
      ? match.brand
      : official
        ? null
        : brands.brandBeforeDigit(digits > 0 ? label : '', url.subdomain);
  out.official = official;
  out.tld = tld;
  out.platform = platform;
  return out;
}

/** Whether a label of host is punycode (starts with `xn--`); the host-name and URL parts both read it. */
export function hasPunycodeLabel(host: string): boolean {
  // The host-name part and then the URL part ask about the same host (the same string): the last
  // answer is kept.
  if (host === lastPunycodeHost) return lastPunycode;
  // `xn--` alone first: `x` is rare in names, `.`, which the second pattern starts with, is not.
  lastPunycode = host.includes('xn--') && (host.startsWith('xn--') || host.includes('.xn--'));
  lastPunycodeHost = host;
  return lastPunycode;
}
let lastPunycodeHost = '';
let lastPunycode = false;

/**
 * table[key] ?? unseen, read through a Map made once per table: a computed-name read from a
 * large JSON object first looks the (new, per-URL) key string up in V8's table of internalised
 * strings, a Map only hashes it. Only the table's own keys count: `constructor` or `__proto__`
 * as a last label once read Object.prototype's members and scored NaN (verdict benign).
 */
function riskOf(map: Map<string, number>, key: string, unseen: number): number {
  return map.get(key) ?? unseen;
}
let lastTldTables: RiskTables | null = null;
let lastTld = '';
let lastTldRisk = 0;
const mapOf = (table: Record<string, number>) => new Map(Object.entries(table));
/** One memo per table kind, so each answers its table from its last-hit slot. */
const tldMap = oncePerObject(mapOf);
const platformMap = oncePerObject(mapOf);

function lastLabel(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

const VOWEL = new Uint8Array(128);
for (const ch of 'aeiou') VOWEL[ch.charCodeAt(0)] = 1;

/** The label's bigrams, ends marked, digits folded to `0` so `hvc39` and `zwf07` read alike. */
export function labelBigrams(label: string): string[] {
  const text = `^${label.replace(/[0-9]/g, '0')}$`;
  return Array.from({ length: text.length - 1 }, (_, i) => text.slice(i, i + 2));
}

/** Builds what hostFeatures derives from the tables ahead of the first URL. */
export function prepareRiskTables(risk: RiskTables): void {
  bigramTable(risk.bigram);
  tldMap(risk.tld);
  platformMap(risk.platform);
}

/**
 * The bigram table, made once per table: ASCII pairs in a flat array indexed by the two codes
 * (host labels are ASCII: the normaliser lets nothing else through), any other pair in a Map.
 * The flat array has a row and a column per character some ASCII bigram of the table holds, and
 * row and column 0 (all zeros) for every other one: a few dozen characters square instead of
 * 128 × 128 doubles (128 KB, read at random, one cache miss per pair), the same values.
 */
export interface BigramTable {
  /** Per ASCII code: its row and column in `pairs`, 0 for a character no ASCII bigram holds. */
  symbol: Uint8Array;
  width: number;
  pairs: Float64Array;
  other: Map<number, number>;
}
export const bigramTable = oncePerObject((source: Record<string, number>): BigramTable => {
  const symbol = new Uint8Array(128);
  let width = 1;
  const ascii: [number, number, number][] = [];
  const other = new Map<number, number>();
  for (const [bigram, value] of Object.entries(source)) {
    if (bigram.length !== 2) continue;
    const a = bigram.charCodeAt(0);
    const b = bigram.charCodeAt(1);
    if (a < 128 && b < 128) {
      if (symbol[a] === 0) symbol[a] = width++;
      if (symbol[b] === 0) symbol[b] = width++;
      ascii.push([a, b, value]);
    } else other.set(a * 0x10000 + b, value);
  }
  const pairs = new Float64Array(width * width);
  for (const [a, b, value] of ascii) pairs[symbol[a]! * width + symbol[b]!] = value;
  return { symbol, width, pairs, other };
});

/** The table's value for an ASCII pair (both codes under 128). */
export function asciiBigram(table: BigramTable, previous: number, code: number): number {
  return table.pairs[table.symbol[previous]! * table.width + table.symbol[code]!]!;
}

const CARET = 0x5e;
const DOLLAR = 0x24;

/** Mean log-odds of the label's bigrams: how much the name is written like the phishing names. */
function nameStyle(label: string, table: BigramTable): number {
  // `^label$` with digits as `0`, read pair by pair without building the string. A pair the
  // table lacks adds 0 (as the Map's `?? 0` did, so the sum is the same to the bit).
  let sum = 0;
  let previous = CARET;
  for (let i = 0; i <= label.length; i++) {
    let code = i === label.length ? DOLLAR : label.charCodeAt(i);
    if (isDigit(code) && i < label.length) code = 0x30;
    sum +=
      code < 128 && previous < 128
        ? asciiBigram(table, previous, code)
        : (table.other.get(previous * 0x10000 + code) ?? 0);
    previous = code;
  }
  return sum / (label.length + 1);
}

/** The ICANN suffix (`jp`, `co.jp`, `dev`) and, on a shared platform, its private suffix (`pages.dev`). */
export function suffixesOf(url: NormalisedUrl): { tld: string; platform: string } {
  if (url.hostKind !== 'domain') return { tld: '', platform: '' };
  if (!url.privateSuffix) return { tld: url.publicSuffix, platform: '' };
  const last = url.publicSuffix.split('.').at(-1) ?? '';
  return { tld: last, platform: url.publicSuffix };
}

export function registrantLabel(url: NormalisedUrl): string {
  // `=== null` rather than `!`: the same truthiness, without V8 speculating on a string (lexicon.ts).
  if (url.registrableDomain === null || url.registrableDomain === '') {
    const dot = url.host.indexOf('.');
    return dot < 0 ? url.host : url.host.slice(0, dot);
  }
  return url.registrableDomain.slice(0, url.registrableDomain.length - url.publicSuffix.length - 1);
}

/** Scratch for the entropy: counts per UTF-16 unit, and the units in first-seen order. */
const entropyCounts = new Uint32Array(0x10000);
let entropyOrder = new Uint16Array(64);

/**
 * -p·log2(p) summed over the tallies in entropyCounts (clearing them). Summed in first-seen
 * order, as a Map of the counts would be, so the value is the same to the bit; p·log2(p) for
 * labels of up to 63 characters (a DNS label) comes from a table made by the same expression.
 */
function entropyOfTallies(distinct: number, length: number): number {
  let entropy = 0;
  const small = length < TERM_SIZE;
  for (let k = 0; k < distinct; k++) {
    const code = entropyOrder[k]!;
    const count = entropyCounts[code]!;
    entropyCounts[code] = 0;
    if (small) entropy -= TERMS[length * TERM_SIZE + count]!;
    else {
      const p = count / length;
      entropy -= p * Math.log2(p);
    }
  }
  return entropy;
}

const TERM_SIZE = 64;
const TERMS = new Float64Array(TERM_SIZE * TERM_SIZE);
for (let length = 1; length < TERM_SIZE; length++)
  for (let count = 1; count <= length; count++) {
    const p = count / length;
    TERMS[length * TERM_SIZE + count] = p * Math.log2(p);
  }

export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  if (entropyOrder.length < text.length) entropyOrder = new Uint16Array(text.length);
  let distinct = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const seen = entropyCounts[code]!;
    if (seen === 0) entropyOrder[distinct++] = code;
    entropyCounts[code] = seen + 1;
  }
  return entropyOfTallies(distinct, text.length);
}

const CONSONANT = new Uint8Array(128);
for (const ch of 'bcdfghjklmnpqrstvwxz') CONSONANT[ch.charCodeAt(0)] = 1;
