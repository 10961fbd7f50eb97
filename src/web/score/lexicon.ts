/**
 * The brand lexicon (lexicon.json, data): which brand a host name imitates, and whether it is one
 * of the brand's own registrable domains. Matching folds confusable characters first (Cyrillic
 * а, digit 0 for o, rn for m...), so `arnaz0n` still reads as Amazon.
 */
import lexiconData from './lexicon.json' with { type: 'json' };

export interface Brand {
  key: string;
  ja: string;
  en: string;
  tokens: string[];
  official: string[];
  /** How JPCERT/CC's list names the brand. */
  descriptions: string[];
}

export interface Lexicon {
  brands: Brand[];
  confusables: Record<string, string>;
  keywords: { en: string[]; 'ja-romanised': string[] };
}

export interface BrandMatch {
  brand: string;
  token: string;
  /** Where the token was found: in the registrable domain's own label or to its left. */
  where: 'domain' | 'subdomain';
  /** 'exact' after folding, or 'fuzzy' at one edit from a token of six or more characters. */
  how: 'exact' | 'fuzzy';
}

export const LEXICON: Lexicon = lexiconData as Lexicon;

/** Tokens this short are common letter runs; they match only as a whole part of the name. */
const SHORT_TOKEN = 4;
const FUZZY_MIN = 6;

export interface BrandIndex {
  /** The brand whose official registrable domain this is (or whose official host it is under). */
  officialBrand(host: string, registrableDomain: string | null): string | null;
  match(domainLabel: string, subdomain: string): BrandMatch | null;
  keywordCount(text: string): number;
  fold(text: string): string;
  brand(key: string): Brand | undefined;
  /** The brand key JPCERT/CC's description names, if any. */
  brandOfDescription(description: string): string | null;
}

export function createBrandIndex(lexicon: Lexicon = LEXICON): BrandIndex {
  const official = new Map<string, string>();
  for (const brand of lexicon.brands) for (const domain of brand.official) official.set(domain, brand.key);
  const byDescription = new Map<string, string>();
  for (const brand of lexicon.brands)
    for (const d of brand.descriptions) byDescription.set(d.toLowerCase(), brand.key);
  const tokens = lexicon.brands
    .flatMap((brand) => brand.tokens.map((token) => ({ brand: brand.key, token })))
    .sort((a, b) => b.token.length - a.token.length);
  const confusables = Object.entries(lexicon.confusables).sort((a, b) => b[0].length - a[0].length);
  const keywords = [...lexicon.keywords.en, ...lexicon.keywords['ja-romanised']];
  // Long tokens by length: a text is searched by looking up its substrings of those lengths.
  const brandOfToken = new Map(tokens.map(({ brand, token }) => [token, brand]));
  const longLengths = [
    ...new Set(tokens.map(({ token }) => token.length).filter((n) => n > SHORT_TOKEN)),
  ].sort((a, b) => b - a);
  const findLong = (text: string): string | null => {
    for (const length of longLengths)
      for (let at = 0; at + length <= text.length; at++) {
        const piece = text.slice(at, at + length);
        if (brandOfToken.has(piece)) return piece;
      }
    return null;
  };
  const fuzzyTokens = tokens.filter(({ token }) => token.length >= FUZZY_MIN);
  const fold = (text: string) => {
    let out = /^[\x21-\x7e]*$/.test(text) ? text.toLowerCase() : text.normalize('NFKC').toLowerCase();
    for (const [from, to] of confusables) if (out.includes(from)) out = out.replaceAll(from, to);
    return out;
  };
  const find = (text: string, where: BrandMatch['where']): BrandMatch | null => {
    if (text === '') return null;
    const folded = fold(text);
    const variants = folded === text ? [text] : [text, folded];
    const parts = new Set(variants.flatMap((v) => v.split(/[.\-_]/)));
    for (const variant of variants) {
      const long = findLong(variant);
      if (long) return { brand: brandOfToken.get(long)!, token: long, where, how: 'exact' };
    }
    for (const part of parts) {
      const brand = part.length <= SHORT_TOKEN ? brandOfToken.get(part) : undefined;
      if (brand) return { brand, token: part, where, how: 'exact' };
    }
    for (const { brand, token } of fuzzyTokens)
      for (const part of parts)
        if (Math.abs(part.length - token.length) <= 1 && withinOneEdit(part, token))
          return { brand, token, where, how: 'fuzzy' };
    return null;
  };
  return {
    officialBrand(host, registrableDomain) {
      // The most specific name first: jp-bank.japanpost.jp is the bank's, japanpost.jp the post's.
      for (let name = host; ; name = name.slice(name.indexOf('.') + 1)) {
        const key = official.get(name);
        if (key) return key;
        if (name === registrableDomain || !name.includes('.')) return null;
      }
    },
    match: (domainLabel, subdomain) => find(domainLabel, 'domain') ?? find(subdomain, 'subdomain'),
    keywordCount(text) {
      const folded = fold(text);
      return keywords.reduce((n, word) => n + (folded.includes(word) ? 1 : 0), 0);
    },
    fold,
    brand: (key) => lexicon.brands.find((b) => b.key === key),
    brandOfDescription: (description) => byDescription.get(description.trim().toLowerCase()) ?? null,
  };
}

/** Whether a and b differ by at most one insertion, deletion or substitution. */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  let j = 0;
  let edits = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    if (++edits > 1) return false;
    if (a.length > b.length) i++;
    else if (a.length < b.length) j++;
    else {
      i++;
      j++;
    }
  }
  return edits + (a.length - i) + (b.length - j) <= 1;
}
