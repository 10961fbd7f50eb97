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
  /** The brand whose own domain this is; such a host is never flagged. */
  official: string | null;
  /** The suffix the tld_risk / platform_risk value was looked up under. */
  tld: string;
  platform: string;
}

export function hostFeatures(url: NormalisedUrl, brands: BrandIndex, risk: RiskTables): HostFeatures {
  const values: FeatureVector = {
    brand_exact: 0,
    brand_fuzzy: 0,
    keywords: 0,
    label_length: 0,
    digit_ratio: 0,
    hyphens: 0,
    entropy: 0,
    vowel_ratio: 0,
    consonant_run: 0,
    punycode: 0,
    ip_host: 0,
    tld_risk: 0,
    platform_risk: 0,
    name_style: 0,
  };
  if (url.hostKind !== 'domain') {
    values.ip_host = 1;
    return { values, match: null, official: null, tld: '', platform: '' };
  }
  const official = brands.officialBrand(url.host, url.registrableDomain);
  // The label the registrant chose: `evil` in evil.co.jp and in evil.pages.dev.
  const label = registrantLabel(url);
  const match = official ? null : brands.match(label, url.subdomain);
  values.brand_exact = match?.how === 'exact' ? 1 : 0;
  values.brand_fuzzy = match?.how === 'fuzzy' ? 1 : 0;
  values.keywords = Math.min(3, brands.keywordCount(label));
  values.label_length = label.length / 10;
  let digits = 0;
  let hyphens = 0;
  let letters = 0;
  let vowels = 0;
  for (let i = 0; i < label.length; i++) {
    const code = label.charCodeAt(i);
    if (code >= 0x30 && code <= 0x39) digits++;
    else if (code === 0x2d) hyphens++;
    else if (code >= 0x61 && code <= 0x7a) {
      letters++;
      if (VOWEL[code]) vowels++;
    }
  }
  values.digit_ratio = label.length ? digits / label.length : 0;
  values.hyphens = Math.min(6, hyphens);
  values.entropy = shannonEntropy(label);
  values.vowel_ratio = letters ? vowels / letters : 0;
  values.consonant_run = Math.min(8, longestConsonantRun(label)) / 4;
  values.punycode = url.host.startsWith('xn--') || url.host.includes('.xn--') ? 1 : 0;
  const { tld, platform } = suffixesOf(url);
  values.tld_risk = risk.tld[tld] ?? risk.unseenTld;
  values.platform_risk = platform ? (risk.platform[platform] ?? risk.unseenPlatform) : 0;
  values.name_style = nameStyle(label, bigramMap(risk.bigram));
  return { values, match, official, tld, platform };
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
  bigramMap(risk.bigram);
}

/** The bigram table keyed by the two characters' codes, made once per table. */
const bigramMaps = new WeakMap<Record<string, number>, Map<number, number>>();
function bigramMap(table: Record<string, number>): Map<number, number> {
  let map = bigramMaps.get(table);
  if (!map) {
    map = new Map();
    for (const [bigram, value] of Object.entries(table))
      if (bigram.length === 2) map.set(bigram.charCodeAt(0) * 0x10000 + bigram.charCodeAt(1), value);
    bigramMaps.set(table, map);
  }
  return map;
}

const CARET = 0x5e;
const DOLLAR = 0x24;

/** Mean log-odds of the label's bigrams: how much the name is written like the phishing names. */
function nameStyle(label: string, table: Map<number, number>): number {
  // `^label$` with digits as `0`, read pair by pair without building the string.
  let sum = 0;
  let previous = CARET;
  for (let i = 0; i <= label.length; i++) {
    let code = i === label.length ? DOLLAR : label.charCodeAt(i);
    if (code >= 0x30 && code <= 0x39 && i < label.length) code = 0x30;
    sum += table.get(previous * 0x10000 + code) ?? 0;
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
  if (!url.registrableDomain) return url.host.split('.')[0] ?? '';
  return url.registrableDomain.slice(0, url.registrableDomain.length - url.publicSuffix.length - 1);
}

/** Scratch for shannonEntropy: counts per UTF-16 unit, and the units in first-seen order. */
const entropyCounts = new Uint32Array(0x10000);
let entropyOrder = new Uint16Array(64);

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
  // Summed in first-seen order, as a Map of the counts would be, so the value is the same to the bit.
  let entropy = 0;
  for (let k = 0; k < distinct; k++) {
    const code = entropyOrder[k]!;
    const p = entropyCounts[code]! / text.length;
    entropyCounts[code] = 0;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

const CONSONANT = new Uint8Array(128);
for (const ch of 'bcdfghjklmnpqrstvwxz') CONSONANT[ch.charCodeAt(0)] = 1;

function longestConsonantRun(text: string): number {
  let longest = 0;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    run = code < 128 && CONSONANT[code] ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  return longest;
}
