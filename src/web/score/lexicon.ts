/**
 * The brand lexicon (lexicon.json, data): which brand a host name imitates, and whether it is one
 * of the brand's own registrable domains. Matching folds confusable characters first (Cyrillic
 * а, digit 0 for o, rn for m...), so `arnaz0n` still reads as Amazon.
 */
import lexiconData from './lexicon.json' with { type: 'json' };
import { isDigit, isUpper } from './chars.ts';

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
  /**
   * The brand of a short token that starts a part of the name and is followed by a digit
   * (`smbc102`, `jcb1`), in the label, else in the subdomain; null if none. It names the brand of
   * a row that match() finds none for, and is no feature (see findShortBeforeDigit).
   */
  brandBeforeDigit(domainLabel: string, subdomain: string): string | null;
  keywordCount(text: string): number;
  fold(text: string): string;
  brand(key: string): Brand | undefined;
  /** The brand key JPCERT/CC's description names, if any. */
  brandOfDescription(description: string): string | null;
}

export function createBrandIndex(lexicon: Lexicon = LEXICON): BrandIndex {
  const byDescription = new Map<string, string>();
  for (const brand of lexicon.brands)
    for (const d of brand.descriptions) byDescription.set(d.toLowerCase(), brand.key);
  const brandByKey = new Map(lexicon.brands.map((brand) => [brand.key, brand]));
  // Longest first: the longest token found wins, and the fuzzy pass tries long tokens first.
  const tokens = lexicon.brands
    .flatMap((brand) => brand.tokens.map((token) => ({ brand: brand.key, token })))
    .sort((a, b) => b.token.length - a.token.length);
  const fuzzyTokens = tokens.filter(({ token }) => token.length >= FUZZY_MIN);
  const fold = createFolder(lexicon.confusables);
  // The scorer folds the label for the brand, the subdomain too when the label has none, then
  // the label again for the keywords: the last two texts are kept.
  let lastText = '';
  let lastFolded = '';
  let olderText = '';
  let olderFolded = '';
  const foldOnce = (text: string) => {
    if (text === lastText) return lastFolded;
    if (text === olderText) return olderFolded;
    olderText = lastText;
    olderFolded = lastFolded;
    lastText = text;
    lastFolded = fold(text);
    return lastFolded;
  };

  // One pass over the text for each (an automaton), not a trie walk from every position.
  const tokenScanner = createWordScanner(tokens.map(({ token }) => token));
  const keywordScanner = createWordScanner([...lexicon.keywords.en, ...lexicon.keywords['ja-romanised']]);
  /** The longest token (over SHORT_TOKEN characters) anywhere in text, leftmost of equals; -1 if none. */
  const findLong = (text: string): number => tokenScanner.longest(text, SHORT_TOKEN + 1);
  // A part within one edit of a token shares its first two or its last two characters (the
  // edit is on the other side: parts are 5 characters or longer), so only those are tried.
  // Indexed by the pair's two ASCII codes (asciiPair) rather than a Map of pairKey: an array read
  // instead of hashing a number, twice per part. Tokens are ASCII (createWordScanner refuses others), so
  // a pair with any other character has no candidate.
  const fuzzyByFirst = new Array<number[] | undefined>(128 * 128).fill(undefined);
  const fuzzyByLast = new Array<number[] | undefined>(128 * 128).fill(undefined);
  fuzzyTokens.forEach(({ token }, index) => {
    const first = asciiPair(token, 0);
    const last = asciiPair(token, token.length - 2);
    fuzzyByFirst[first] = [...(fuzzyByFirst[first] ?? []), index];
    fuzzyByLast[last] = [...(fuzzyByLast[last] ?? []), index];
  });
  const fuzzyIn = (
    candidates: number[] | undefined,
    text: string,
    start: number,
    end: number,
    found: number,
  ) => {
    if (!candidates) return found;
    for (const index of candidates) {
      if (found >= 0 && index >= found) break;
      const token = fuzzyTokens[index]!.token;
      if (withinOneEditAt(text, start, end, token) && !isTokenLessFirst(text, start, end, token))
        return index;
    }
    return found;
  };
  /**
   * One walk over text's parts (between `.`, `-`, `_`): a short token that is a whole part (the
   * walk stops at it, as the caller then needs no fuzzy match), else the first fuzzy token (in
   * the list's order) within one edit of a part, or `found`. Returned as one number: a short
   * token's index i as -2 - i (shortPartOf), a fuzzy token's index as itself, -1 for neither. A
   * part that is itself a keyword (account, support, secure...) is a common word, not a misspelt
   * brand: one edit from `account` is docomo's `daccount`, from `secure` nothing.
   */
  const findShortPartOrFuzzy = (text: string, found: number): number => {
    let start = 0;
    for (let i = 0; i <= text.length; i++) {
      if (i < text.length && !isSeparator(text.charCodeAt(i))) continue;
      const length = i - start;
      if (length <= SHORT_TOKEN) {
        const short = tokenScanner.exact(text, start, i);
        if (short >= 0) return -2 - short;
      }
      if (length >= FUZZY_MIN - 1 && keywordScanner.exact(text, start, i) < 0) {
        const first = asciiPair(text, start);
        const last = asciiPair(text, i - 2);
        if (first >= 0) found = fuzzyIn(fuzzyByFirst[first], text, start, i, found);
        if (last >= 0) found = fuzzyIn(fuzzyByLast[last], text, start, i, found);
      }
      start = i + 1;
    }
    return found;
  };
  /**
   * A short token that is a part's leading letters up to its first digit (`smbc` of `smbc102`,
   * `kddi` of `kddi2tb`): phishing names append digits to a brand. Only the leading letters, and
   * in the name as written (`224u` folds to `22au`): on the tuning hosts a token among digits was
   * mostly a random name's letters (`c0y7au`, `9v64sbi0`), one after digits a benign site's
   * (`w3line`, `6line`). As a feature (brand_exact, brand_place) it changed the forward check's
   * recall by a few hosts of thousands, the worst month not at all, so it names the row's brand
   * only (bench/web/README.md). The index into tokens, -1 if none.
   */
  const findShortBeforeDigit = (text: string): number => {
    let start = 0;
    let firstDigit = -1;
    for (let i = 0; i <= text.length; i++) {
      const code = i < text.length ? text.charCodeAt(i) : 0x2e;
      if (isSeparator(code)) {
        if (firstDigit > start && firstDigit - start <= SHORT_TOKEN) {
          const short = tokenScanner.exact(text, start, firstDigit);
          if (short >= 0) return short;
        }
        start = i + 1;
        firstDigit = -1;
      } else if (firstDigit < 0 && isDigit(code)) firstDigit = i;
    }
    return -1;
  };
  const find = (text: string, where: BrandMatch['where']): BrandMatch | null => {
    if (text === '') return null;
    const folded = foldOnce(text);
    const same = folded === text;
    let long = findLong(text);
    if (long < 0 && !same) long = findLong(folded);
    if (long >= 0) return { brand: tokens[long]!.brand, token: tokens[long]!.token, where, how: 'exact' };
    // A whole short part, then a fuzzy one: text's first, then folded's.
    let found = findShortPartOrFuzzy(text, -1);
    if (found >= -1 && !same) found = findShortPartOrFuzzy(folded, found);
    const short = shortPartOf(found);
    if (short >= 0) return { brand: tokens[short]!.brand, token: tokens[short]!.token, where, how: 'exact' };
    if (found >= 0)
      return { brand: fuzzyTokens[found]!.brand, token: fuzzyTokens[found]!.token, where, how: 'fuzzy' };
    return null;
  };
  return {
    officialBrand: officialIndex(lexicon),
    match: (domainLabel, subdomain) => find(domainLabel, 'domain') ?? find(subdomain, 'subdomain'),
    brandBeforeDigit: (domainLabel, subdomain) => {
      let found = findShortBeforeDigit(domainLabel);
      if (found < 0 && subdomain !== '') found = findShortBeforeDigit(subdomain);
      return found >= 0 ? tokens[found]!.brand : null;
    },
    // Each keyword counts once however often it occurs.
    keywordCount: (text) => keywordScanner.distinct(foldOnce(text)),
    fold,
    brand: (key) => brandByKey.get(key),
    brandOfDescription: (description) => byDescription.get(description.trim().toLowerCase()) ?? null,
  };
}

let shippedOfficial: BrandIndex['officialBrand'] | undefined;
/** BrandIndex.officialBrand over the shipped lexicon, made once, without the rest of an index. */
export function officialBrandOf(host: string, registrableDomain: string | null): string | null {
  shippedOfficial ??= officialIndex(LEXICON);
  return shippedOfficial(host, registrableDomain);
}

/** BrandIndex.officialBrand over the lexicon's official domains. */
function officialIndex(lexicon: Lexicon): BrandIndex['officialBrand'] {
  const official = new Map<string, string>();
  for (const brand of lexicon.brands) for (const domain of brand.official) official.set(domain, brand.key);
  // Every name an official domain ends with, from a dot on (`japanpost.jp`, `jp` for `jp-bank.japanpost.jp`).
  const officialTails = new Set<string>();
  for (const domain of official.keys())
    for (let tail = domain; ; tail = tail.slice(tail.indexOf('.') + 1)) {
      officialTails.add(tail);
      if (!tail.includes('.')) break;
    }
  // Each tail's length and first character: most registrable domains share neither pair with a
  // tail, and are then known not to be one without hashing them for the Set.
  const tailShapes = new Uint8Array(TAIL_SHAPES);
  for (const tail of officialTails) tailShapes[tailShape(tail)] = 1;
  return (host, registrableDomain) => {
    // The names tried below all end with the registrable domain (when the host does): none is
    // official unless it is an official domain's tail, which most are not; one look-up then.
    if (
      registrableDomain !== null &&
      (tailShapes[tailShape(registrableDomain)] === 0 || !officialTails.has(registrableDomain)) &&
      endsWithName(host, registrableDomain)
    )
      return null;
    // The most specific name first: jp-bank.japanpost.jp is the bank's, japanpost.jp the post's.
    for (let name = host; ; name = name.slice(name.indexOf('.') + 1)) {
      const key = official.get(name);
      if (key) return key;
      // Null tested apart: a string comparison that meets null sends V8's optimised code back to
      // the interpreter (the first host without a registrable domain would cost a recompile).
      if ((registrableDomain !== null && name === registrableDomain) || !name.includes('.')) return null;
    }
  };
}

/** A name's length (up to 255) and first character's low 7 bits, as an index under TAIL_SHAPES. */
const TAIL_SHAPES = 256 * 128;
function tailShape(name: string): number {
  return (Math.min(name.length, 255) << 7) | (name.charCodeAt(0) & 0x7f);
}

/** Whether name is host or a dot-separated tail of it. */
function endsWithName(host: string, name: string): boolean {
  return (
    host.endsWith(name) &&
    (host.length === name.length || host.charCodeAt(host.length - name.length - 1) === 0x2e)
  );
}

/** findShortPartOrFuzzy's short token index, -1 when it found none. */
function shortPartOf(found: number): number {
  return found <= -2 ? -2 - found : -1;
}

function isSeparator(code: number): boolean {
  return code === 0x2e || code === 0x2d || code === 0x5f;
}

/** The two characters at `at` as an index under 128 × 128, or -1 when either is not ASCII. */
function asciiPair(text: string, at: number): number {
  const a = text.charCodeAt(at);
  const b = text.charCodeAt(at + 1);
  return a < 128 && b < 128 ? a * 128 + b : -1;
}

function pairKey(text: string, at: number): number {
  return text.charCodeAt(at) * 0x10000 + text.charCodeAt(at + 1);
}

/**
 * Words found in a text in one pass (an Aho–Corasick automaton over the words' characters), for
 * what a trie walked from every position of the text answers:
 *
 * - `longest(text, min)`: the longest word of `min` characters or more anywhere in text, the
 *   leftmost of equals (the one that ends first), as its index in `words`; -1 if none;
 * - `distinct(text)`: how many different words occur in text;
 * - `exact(text, from, end)`: the word that is exactly text[from..end], -1 if none.
 *
 * A word listed twice counts as its first index. lexicon.test.ts checks
 * both against a search by indexOf on the lexicon and on random texts.
 */
export interface WordScanner {
  longest(text: string, min: number): number;
  distinct(text: string): number;
  exact(text: string, from: number, end: number): number;
}

export function createWordScanner(words: readonly string[]): WordScanner {
  // Characters the words hold, numbered from 1; every other one (non-ASCII too) is 0, on which
  // the automaton goes back to its root, since no word holds it.
  const symbolOf = new Uint8Array(128);
  let symbols = 1;
  for (const word of words)
    for (let i = 0; i < word.length; i++) {
      const code = word.charCodeAt(i);
      if (code >= 128) throw new Error(`lexicon entry is not ASCII: ${word}`);
      if (symbolOf[code] === 0) symbolOf[code] = symbols++;
    }
  // The trie first: children per node and symbol, the word ending at a node (first index kept).
  const child: number[] = [];
  const wordOf: number[] = [-1];
  const depth: number[] = [0];
  for (let s = 0; s < symbols; s++) child.push(0);
  words.forEach((word, index) => {
    let node = 0;
    for (let i = 0; i < word.length; i++) {
      const symbol = symbolOf[word.charCodeAt(i)]!;
      let next = child[node * symbols + symbol]!;
      if (next === 0) {
        next = wordOf.length;
        wordOf.push(-1);
        depth.push(depth[node]! + 1);
        for (let s = 0; s < symbols; s++) child.push(0);
        child[node * symbols + symbol] = next;
      }
      node = next;
    }
    if (wordOf[node] === -1) wordOf[node] = index;
  });
  const nodes = wordOf.length;
  const trie = Int32Array.from(child);
  const wordAt = Int32Array.from(wordOf);
  // Breadth first: each node's failure link (the longest proper suffix that is a trie node), its
  // transitions completed through it, the longest word ending there and the next shorter one.
  const delta = Int32Array.from(child);
  const fail = new Int32Array(nodes);
  const longestWord = new Int32Array(nodes).fill(-1);
  const longestLength = new Int32Array(nodes);
  const shorter = new Int32Array(nodes).fill(-1);
  const queue: number[] = [];
  for (let s = 1; s < symbols; s++) if (delta[s]! !== 0) queue.push(delta[s]!);
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    const suffix = fail[node]!;
    // Words ending at this node: its own (the longest), then those of its failure link.
    const inherited = wordOf[suffix]! >= 0 ? suffix : shorter[suffix]!;
    shorter[node] = inherited;
    if (wordOf[node]! >= 0) {
      longestWord[node] = wordOf[node]!;
      longestLength[node] = depth[node]!;
    } else {
      longestWord[node] = longestWord[suffix]!;
      longestLength[node] = longestLength[suffix]!;
    }
    for (let s = 1; s < symbols; s++) {
      const next = delta[node * symbols + s]!;
      if (next === 0) delta[node * symbols + s] = delta[suffix * symbols + s]!;
      else {
        fail[next] = node === 0 ? 0 : delta[suffix * symbols + s]!;
        queue.push(next);
      }
    }
  }
  // `shorter` links a node to the nearest proper suffix where a word ends; its own word is wordOf.
  const seen = new Uint32Array(words.length);
  let stamp = 0;
  const step = (state: number, code: number) => (code < 128 ? delta[state * symbols + symbolOf[code]!]! : 0);
  return {
    longest(text, min) {
      let best = -1;
      let bestLength = min - 1;
      let state = 0;
      for (let i = 0; i < text.length; i++) {
        state = step(state, text.charCodeAt(i));
        // Strictly longer only: of two equals, the one that ended first (started first) stays.
        if (longestLength[state]! > bestLength) {
          bestLength = longestLength[state]!;
          best = longestWord[state]!;
        }
      }
      return best;
    },
    exact(text, from, end) {
      let node = 0;
      for (let i = from; i < end; i++) {
        const code = text.charCodeAt(i);
        node = code < 128 ? trie[node * symbols + symbolOf[code]!]! : 0;
        // Symbol 0 (a character no word holds) has no child anywhere.
        if (node === 0) return -1;
      }
      return node > 0 ? wordAt[node]! : -1;
    },
    distinct(text) {
      stamp = (stamp + 1) >>> 0 || 1;
      let count = 0;
      let state = 0;
      for (let i = 0; i < text.length; i++) {
        state = step(state, text.charCodeAt(i));
        for (let node = wordOf[state]! >= 0 ? state : shorter[state]!; node > 0; node = shorter[node]!) {
          const index = wordOf[node]!;
          if (seen[index] !== stamp) {
            seen[index] = stamp;
            count++;
          }
        }
      }
      return count;
    },
  };
}

/**
 * Folding: lower case (NFKC first for non-ASCII), then each confusable replaced, longest first.
 * Most names hold none of them; one scan for their first characters (and, for two-character
 * ones, the pair) skips the replacing.
 */
function createFolder(confusables: Record<string, string>): (text: string) => string {
  const ordered = Object.entries(confusables).sort((a, b) => b[0].length - a[0].length);
  // Flags per UTF-16 unit: 1 starts a confusable by itself, 2 may start a two-character one.
  const starts = new Uint8Array(0x10000);
  const pairs = new Set<number>();
  for (const [from] of ordered) {
    const first = from.charCodeAt(0);
    if (from.length === 2) {
      starts[first]! |= 2;
      pairs.add(first * 0x10000 + from.charCodeAt(1));
    } else starts[first]! |= 1;
  }
  const mayHold = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      const flags = starts[code]!;
      if (flags === 0) continue;
      if (flags & 1) return true;
      if (i + 1 < text.length && pairs.has(code * 0x10000 + text.charCodeAt(i + 1))) return true;
    }
    return false;
  };
  const seen = new Uint32Array(0x10000);
  let stamp = 0;
  /** Printable ASCII with no upper-case letter and no confusable: folding would change nothing. */
  const unchanged = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code < 0x21 || code > 0x7e || isUpper(code)) return false;
      const flags = starts[code]!;
      if (flags === 0) continue;
      if (flags & 1) return false;
      if (i + 1 < text.length && pairs.has(code * 0x10000 + text.charCodeAt(i + 1))) return false;
    }
    return true;
  };
  // For lower-case printable ASCII, the ordered replacements (pairs first, being longer) come to
  // one left-to-right pass when no pair yields a character any confusable holds, no single one
  // yields a character another single one replaces (no chains), and no pair ends with a character
  // another pair starts with (no overlaps): true of the lexicon's, checked here. Host names with
  // a digit or `rn`, `vv`, `cl` then skip the replaceAll round per confusable.
  const singleTo: (string | undefined)[] = new Array<string | undefined>(128).fill(undefined);
  const pairTo = new Map<number, string>();
  const asciiFroms = ordered.filter(([from]) => isPrintableAscii(from));
  const pairs2 = asciiFroms.filter(([from]) => from.length === 2).map(([from]) => from);
  const singles = new Set(asciiFroms.filter(([from]) => from.length === 1).map(([from]) => from));
  const fromChars = new Set(asciiFroms.flatMap(([from]) => [...from]));
  const onePass = asciiFroms.every(([from, to]) =>
    from.length === 1
      ? ![...to].some((ch) => singles.has(ch))
      : from.length === 2 &&
        ![...to].some((ch) => fromChars.has(ch)) &&
        pairs2.every((other) => other === from || other[0] !== from[1]),
  );
  for (const [from, to] of asciiFroms)
    if (from.length === 1) singleTo[from.charCodeAt(0)] = to;
    else pairTo.set(pairKey(from, 0), to);
  const foldAsciiLower = (text: string): string => {
    let out = '';
    let copied = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      const flags = starts[code]!;
      if (flags === 0) continue;
      let to: string | undefined;
      let width = 1;
      if (flags & 2 && i + 1 < text.length) {
        to = pairTo.get(code * 0x10000 + text.charCodeAt(i + 1));
        if (to !== undefined) width = 2;
      }
      if (to === undefined) to = singleTo[code];
      if (to === undefined) continue;
      out += text.slice(copied, i) + to;
      i += width - 1;
      copied = i + 1;
    }
    return copied === 0 ? text : out + text.slice(copied);
  };
  return (text) => {
    // Host names are lower-case ASCII already: most need neither toLowerCase nor a replacement.
    if (unchanged(text)) return text;
    if (onePass && isAsciiLowerPrintable(text)) return foldAsciiLower(text);
    let out = isPrintableAscii(text) ? text.toLowerCase() : text.normalize('NFKC').toLowerCase();
    if (!mayHold(out)) return out;
    // Replacements in order, each only when its first character is in the text: the units seen
    // (stamped, so nothing is cleared) are the text's and every replacement's, a superset of
    // what the text holds at each step, so no replacement that applies is skipped.
    stamp = (stamp + 1) >>> 0 || 1;
    for (let i = 0; i < out.length; i++) seen[out.charCodeAt(i)] = stamp;
    for (const [from, to] of ordered) {
      if ((from.length > 0 && seen[from.charCodeAt(0)] !== stamp) || !out.includes(from)) continue;
      out = out.replaceAll(from, to);
      for (let i = 0; i < to.length; i++) seen[to.charCodeAt(i)] = stamp;
    }
    return out;
  };
}

function isAsciiLowerPrintable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x21 || code > 0x7e || isUpper(code)) return false;
  }
  return true;
}

function isPrintableAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) return false;
  }
  return true;
}

/** withinOneEdit(text.slice(start, end), token) without the slice. */
function withinOneEditAt(text: string, start: number, end: number, token: string): boolean {
  const length = end - start;
  if (Math.abs(length - token.length) > 1) return false;
  let i = start;
  let j = 0;
  let edits = 0;
  while (i < end && j < token.length) {
    if (text.charCodeAt(i) === token.charCodeAt(j)) {
      i++;
      j++;
      continue;
    }
    if (++edits > 1) return false;
    if (length > token.length) i++;
    else if (length < token.length) j++;
    else {
      i++;
      j++;
    }
  }
  return edits + (end - i) + (token.length - j) <= 1;
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

/**
 * Whether text[start, end) is token without its first letter (`cloud` of `icloud`, `mobile` of
 * `ymobile`) in a label that is not punycode: such a part is an ordinary word, not a misspelt
 * brand. On the tuning data, parts of this shape were 13 phishing hosts (mostly `cloud` on hosting
 * platforms) to 7 benign, the two sets' own proportion, where fuzzy matches as a whole were 570 to
 * 19. In punycode (`xn--mazon-…` for а-mazon with a Cyrillic а) the missing letter is the
 * look-alike character itself, moved out of the ASCII part: that stays a match.
 */
function isTokenLessFirst(text: string, start: number, end: number, token: string): boolean {
  if (end - start !== token.length - 1 || !text.startsWith(token.slice(1), start)) return false;
  const labelStart = text.lastIndexOf('.', start - 1) + 1;
  return !text.startsWith('xn--', labelStart);
}
