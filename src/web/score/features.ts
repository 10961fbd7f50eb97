/**
 * The host's explainable features. Every one is computed from the name alone, so a verdict can
 * list what it rests on. The fitted model (model.json) reads only these; features the fitting
 * data cannot teach without bias are not here: the benign corpus is bare registrable domains, so
 * paths, subdomain depth and words in subdomains would be learned as "any of it is phishing".
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

const VOWELS = /[aeiou]/g;
const LETTERS = /[a-z]/g;

export function hostFeatures(url: NormalisedUrl, brands: BrandIndex, risk: RiskTables): HostFeatures {
  const values = Object.fromEntries(FEATURES.map((f) => [f, 0])) as FeatureVector;
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
  values.digit_ratio = label.length ? (label.match(/\d/g)?.length ?? 0) / label.length : 0;
  values.hyphens = Math.min(6, label.split('-').length - 1);
  values.entropy = shannonEntropy(label);
  const letters = label.match(LETTERS)?.length ?? 0;
  values.vowel_ratio = letters ? (label.match(VOWELS)?.length ?? 0) / letters : 0;
  values.consonant_run = Math.min(8, longestConsonantRun(label)) / 4;
  values.punycode = url.host.split('.').some((part) => part.startsWith('xn--')) ? 1 : 0;
  const { tld, platform } = suffixesOf(url);
  values.tld_risk = risk.tld[tld] ?? risk.unseenTld;
  values.platform_risk = platform ? (risk.platform[platform] ?? risk.unseenPlatform) : 0;
  values.name_style = nameStyle(label, risk.bigram);
  return { values, match, official, tld, platform };
}

/** The label's bigrams, ends marked, digits folded to `0` so `hvc39` and `zwf07` read alike. */
export function labelBigrams(label: string): string[] {
  const text = `^${label.replace(/[0-9]/g, '0')}$`;
  return Array.from({ length: text.length - 1 }, (_, i) => text.slice(i, i + 2));
}

/** Mean log-odds of the label's bigrams: how much the name is written like the phishing names. */
function nameStyle(label: string, table: Record<string, number>): number {
  const text = `^${label.replace(/[0-9]/g, '0')}$`;
  let sum = 0;
  for (let i = 0; i + 2 <= text.length; i++) sum += table[text.slice(i, i + 2)] ?? 0;
  return sum / (text.length - 1);
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

export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  let entropy = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
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
