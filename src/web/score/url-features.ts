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
import { hasPunycodeLabel } from './features.ts';
import { LEXICON } from './lexicon.ts';
import { oncePerObject } from './memo.ts';
import { ReasonList } from './reason-list.ts';
import { asciiLower, isDigit, isDigitAt, isLower, isLowerOrDigit, isUpper } from './chars.ts';

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
  thresholds: { suspicious: number; malicious: number; judgedLift?: number };
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
    if (isLowerOrDigit(code)) {
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
    if (isUpper(c)) upper = true;
    else if (isLower(c)) lower = true;
    else if (isDigit(c)) digit = true;
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
const mapOf = oncePerObject((table: Record<string, number>) => new Map(Object.entries(table)));

/**
 * The features as first written (split, regular expressions, a Set of token strings, Map
 * look-ups): what the hand-written scan below must give to the bit, and what it falls back to
 * for a path it does not read (non-ASCII, no leading `/`: the normaliser gives neither).
 */
export function urlFeaturesReference(url: NormalisedUrl, tables: UrlTables): UrlFeatures {
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
    punycode_url: hasPunycodeLabel(url.host) ? 1 : 0,
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

/*
 * The hot path. The scorer calls this for every URL, so it reads the path once by hand: each
 * token is hashed as its characters come (lower-cased, digit runs as one `0`) and looked up once
 * at its end in a hash table of the token table's keys, the brands and the keywords; no token
 * string is made. (A trie walked per character was tried first: its 20k nodes did not fit in the
 * caches, and the load per character, each waiting on the last, was a tenth of the scorer's
 * time.) A token seen before in the same URL is known by a per-key stamp (keys) or a
 * comparison character by character (others); the shape is a number from the segments'
 * classes, its string and log-odds cached per number; labels are made once per token, shape and
 * brand. Results go to module scratch, read by urlFeatures, urlPart and addUrlReasons. Every
 * value is what urlFeaturesReference gives (pinned-url.test.ts, url-features.test.ts).
 */

/** Token symbols: `a`..`z` are 0..25, a digit run is 26. */
const DIGIT_SYMBOL = 26;
const IN_TOKEN_TABLE = 1;
const KEYWORD = 2;
const BRAND = 4;

interface Compiled {
  /**
   * Open addressing, linear probing: per slot (SLOT fields) the key's hash, its id (0 for an
   * empty slot, ids start at 1), its length in symbols and where its symbols start in `symbols`,
   * side by side: a probe reads one cache line before it compares symbols (the length and start
   * in a per-id array cost a second dependent cache miss per token).
   */
  slots: Int32Array;
  mask: number;
  /** The longest key, in symbols: a longer token is no key. */
  maxLength: number;
  symbols: Uint8Array;
  /** Scratch: the symbols of the token being read, up to maxLength. */
  token: Uint8Array;
  /** Per key id: IN_TOKEN_TABLE | KEYWORD | BRAND bits. */
  flags: Uint8Array;
  risk: Float64Array;
  /** Per key id: the brand of a PATH_BRANDS key, else ''. */
  brand: string[];
  /** Per key id: the key (for the best token), and its reason label once made. */
  key: string[];
  label: (string | undefined)[];
  /** `path_token_gated(key)` per key, made when first needed. */
  gatedLabel: (string | undefined)[];
  /** Per key id: the URL (scan number) that last had this token, for the distinct-token test. */
  seen: Int32Array;
  shapeTable: Map<string, number>;
  /** Shape number → index into shapeValue / shapeString / shapeLabel. */
  shapeIndex: Map<number, number>;
  /**
   * In front of shapeIndex, direct-mapped by the shape number's hash: the shape number and its
   * index (-1: empty). A Map look-up per URL (hashing the number, walking its bucket) was a
   * percent of the scorer's time; most URLs' shapes are a few hundred common ones.
   */
  shapeSlotCode: Int32Array;
  shapeSlotAt: Int32Array;
  shapeValue: number[];
  shapeString: string[];
  shapeLabel: string[];
}

const compiledOf = oncePerObject(compile);

/** Fields per slot: hash, id, length, start. */
const SLOT = 4;
const HASH_SEED = 0x811c9dc5 | 0;

/** The running hash of a token after one more symbol (FNV-1a over symbols). */
function hashStep(hash: number, symbol: number): number {
  return Math.imul(hash ^ symbol, 0x01000193);
}

function compile(tables: UrlTables): Compiled {
  // Only keys of `a`..`z` and `0` can equal a token (lower case, digit runs as `0`). One id per
  // distinct key, whichever of the three lists it is in.
  const ids = new Map<string, number>();
  const keys: string[] = [''];
  const idOf = (key: string) => {
    let id = ids.get(key);
    if (id === undefined) {
      id = keys.length;
      keys.push(key);
      ids.set(key, id);
    }
    return id;
  };
  const plain = /^[a-z0]+$/;
  const tokenKeys = Object.entries(tables.token).filter(([token]) => plain.test(token));
  const keywords = [...PATH_KEYWORDS].filter((keyword) => plain.test(keyword));
  const brands = [...PATH_BRANDS].filter(([token]) => plain.test(token));
  for (const [token] of tokenKeys) idOf(token);
  for (const keyword of keywords) idOf(keyword);
  for (const [token] of brands) idOf(token);
  const count = keys.length;
  let size = 1;
  while (size < count * 2) size *= 2;
  const symbolCount = keys.reduce((n, key) => n + key.length, 0);
  const c: Compiled = {
    slots: new Int32Array(size * SLOT),
    mask: size - 1,
    maxLength: 0,
    symbols: new Uint8Array(symbolCount),
    token: new Uint8Array(0),
    flags: new Uint8Array(count),
    risk: new Float64Array(count),
    brand: new Array<string>(count).fill(''),
    key: keys,
    label: new Array<string | undefined>(count).fill(undefined),
    gatedLabel: new Array<string | undefined>(count).fill(undefined),
    seen: new Int32Array(count),
    shapeTable: new Map(Object.entries(tables.shape)),
    shapeIndex: new Map(),
    shapeSlotCode: new Int32Array(SHAPE_SLOTS).fill(-1),
    shapeSlotAt: new Int32Array(SHAPE_SLOTS),
    shapeValue: [],
    shapeString: [],
    shapeLabel: [],
  };
  let used = 0;
  for (let id = 1; id < count; id++) {
    const key = keys[id]!;
    let hash = HASH_SEED;
    for (let i = 0; i < key.length; i++) {
      const code = key.charCodeAt(i);
      const symbol = code === 0x30 ? DIGIT_SYMBOL : code - 0x61;
      c.symbols[used + i] = symbol;
      hash = hashStep(hash, symbol);
    }
    if (key.length > c.maxLength) c.maxLength = key.length;
    let slot = hash & c.mask;
    while (c.slots[slot * SLOT + 1] !== 0) slot = (slot + 1) & c.mask;
    c.slots[slot * SLOT] = hash;
    c.slots[slot * SLOT + 1] = id;
    c.slots[slot * SLOT + 2] = key.length;
    c.slots[slot * SLOT + 3] = used;
    used += key.length;
  }
  c.token = new Uint8Array(c.maxLength);
  for (const [token, risk] of tokenKeys) {
    const id = ids.get(token)!;
    c.flags[id]! |= IN_TOKEN_TABLE;
    c.risk[id] = risk;
  }
  for (const keyword of keywords) c.flags[ids.get(keyword)!]! |= KEYWORD;
  for (const [token, brand] of brands) {
    const id = ids.get(token)!;
    c.flags[id]! |= BRAND;
    c.brand[id] = brand;
  }
  return c;
}

/** The key id of the token whose symbols are in `symbols` (hash and length given), 0 if none. */
function keyId(c: Compiled, hash: number, length: number, symbols: Uint8Array): number {
  const slots = c.slots;
  for (let slot = hash & c.mask; ; slot = (slot + 1) & c.mask) {
    const at = slot * SLOT;
    const id = slots[at + 1]!;
    if (id === 0) return 0;
    if (slots[at] !== hash || slots[at + 2] !== length) continue;
    const from = slots[at + 3]!;
    let i = 0;
    while (i < length && c.symbols[from + i] === symbols[i]) i++;
    if (i === length) return id;
  }
}

/** Builds what the URL part reads ahead of the first URL (the scorer calls it when made). */
export function prepareUrlModel(model: UrlModel): void {
  compiledOf(model.tables);
  weightsOf(model);
}

/** Per UTF-16 unit: its token symbol + 1 for `a`..`z`, `A`..`Z` and digits, else 0. */
const SYMBOL_OF = new Uint8Array(0x10000);
for (let code = 0x61; code <= 0x7a; code++) SYMBOL_OF[code] = SYMBOL_OF[code - 0x20] = code - 0x61 + 1;
for (let code = 0x30; code <= 0x39; code++) SYMBOL_OF[code] = DIGIT_SYMBOL + 1;

/** Scratch the scan fills: the feature values in URL_FEATURES order and what the reasons name. */
const scratchValues = new Float64Array(URL_FEATURES.length);
/** The best token's key id (0: none, or a token no table has), else its bounds in the path. */
let bestKey = 0;
let bestStart = 0;
let bestEnd = 0;
let foundBrand = '';
/** Index of the shape in the compiled cache, -1 when the cache is full (then shapeText holds it). */
let shapeAt = -1;
let shapeText = '';
let scanNumber = 0;
/** The distinct tokens no table has in this URL: length (as read), start and end in the path. */
const otherTokens = new Int32Array(MAX_TOKENS * 3);

const F_TOKEN_MAX = URL_FEATURES.indexOf('path_token_max');
const F_TOKEN_MEAN = URL_FEATURES.indexOf('path_token_mean');
const F_SHAPE = URL_FEATURES.indexOf('path_shape');
const F_BRAND = URL_FEATURES.indexOf('path_brand');
const F_KEYWORDS = URL_FEATURES.indexOf('path_keywords');
const F_DEPTH = URL_FEATURES.indexOf('path_depth');
const F_LENGTH = URL_FEATURES.indexOf('path_length');
const F_ROOT = URL_FEATURES.indexOf('root_path');
const F_IP = URL_FEATURES.indexOf('ip_host_url');
const F_PUNYCODE = URL_FEATURES.indexOf('punycode_url');

/** Fills the scratch for the URL; false when the path is not one the scan reads (see urlFeaturesReference). */
function scan(url: NormalisedUrl, c: Compiled): boolean {
  const path = url.path;
  const n = path.length;
  if (n === 0 || path.charCodeAt(0) !== 0x2f) return false;
  const values = scratchValues;
  // A loop, not fill(): for a few numbers the builtin call takes twice as long.
  for (let i = 0; i < values.length; i++) values[i] = 0;
  const root = n === 1;
  values[F_ROOT] = root ? 1 : 0;
  values[F_IP] = url.hostKind !== 'domain' ? 1 : 0;
  const host = url.host;
  values[F_PUNYCODE] = hasPunycodeLabel(host) ? 1 : 0;
  bestKey = 0;
  bestStart = 0;
  bestEnd = 0;
  foundBrand = '';
  // The tokens first: their scan finds a non-ASCII path (`/` is the root's only character).
  if (!root && !tokens(path, c)) return false;
  const q = path.indexOf('?');
  const depth = shapeOf(path, q < 0 ? n : q, q, c);
  values[F_SHAPE] = shapeAt >= 0 ? c.shapeValue[shapeAt]! : (c.shapeTable.get(shapeText) ?? 0);
  if (root) return true;
  values[F_DEPTH] = Math.min(8, depth) / 4;
  values[F_LENGTH] = Math.min(200, n) / 50;
  return true;
}

/**
 * The tokens' values: max and mean log-odds, the first brand, the keyword count; false on a non-ASCII path.
 * A loop per token inside the loop over the path: the characters between tokens are skipped,
 * and a token's characters are read without asking again whether a token has started (a tenth
 * faster than one loop over every character with that test).
 */
function tokens(path: string, c: Compiled): boolean {
  const flags = c.flags;
  const seen = c.seen;
  const riskOf = c.risk;
  const brandOf = c.brand;
  const stamp = ++scanNumber;
  if (stamp === 0x7fffffff) {
    seen.fill(0);
    scanNumber = 1;
  }
  const n = path.length;
  let others = 0;
  let count = 0;
  let sum = 0;
  let max = -Infinity;
  let keywords = 0;
  let brand = '';
  const maxLength = c.maxLength;
  const tokenSymbols = c.token;
  let i = 0;
  while (i < n) {
    let code = path.charCodeAt(i);
    let symbol = SYMBOL_OF[code]! - 1;
    if (symbol < 0) {
      if (code >= 0x80) return false;
      i++;
      continue;
    }
    // A token: its symbols hashed as they come, a digit run as one symbol.
    const start = i;
    let hash = HASH_SEED;
    let length = 0;
    let digit = false;
    for (;;) {
      const isDigit = symbol === DIGIT_SYMBOL;
      if (!(isDigit && digit)) {
        digit = isDigit;
        if (length < maxLength) {
          tokenSymbols[length] = symbol;
          hash = hashStep(hash, symbol);
        }
        length++;
      }
      if (++i === n) {
        code = 0;
        break;
      }
      code = path.charCodeAt(i);
      symbol = SYMBOL_OF[code]! - 1;
      if (symbol < 0) break;
    }
    if (i - start >= 2) {
      // Skip the hex pairs of percent-encoding (`%E3%81`): they are bytes, not words.
      if (!(start > 0 && path.charCodeAt(start - 1) === 0x25 && i - start === 2)) {
        let fresh: boolean;
        const at = length <= maxLength ? keyId(c, hash, length, tokenSymbols) : 0;
        if (at > 0) {
          fresh = seen[at] !== stamp;
          seen[at] = stamp;
        } else {
          fresh = true;
          for (let k = 0; k < others; k++)
            if (
              otherTokens[k * 3] === length &&
              sameToken(path, otherTokens[k * 3 + 1]!, otherTokens[k * 3 + 2]!, start, i)
            ) {
              fresh = false;
              break;
            }
          if (fresh) {
            otherTokens[others * 3] = length;
            otherTokens[others * 3 + 1] = start;
            otherTokens[others * 3 + 2] = i;
            others++;
          }
        }
        if (fresh) {
          count++;
          const risk = at > 0 ? riskOf[at]! : 0;
          sum += risk;
          if (risk > max) {
            max = risk;
            bestKey = at;
            bestStart = start;
            bestEnd = i;
          }
          // A whole token that is a brand's token; short ones (`etc`, `ana`, `au`) are common path
          // words, so only 5 characters or more.
          if (brand === '' && length >= PATH_BRAND_MIN && at > 0) brand = brandOf[at]!;
          if (at > 0 && (flags[at]! & KEYWORD) !== 0) keywords++;
        }
      }
      if (count >= MAX_TOKENS) {
        for (let k = i; k < n; k++) if (path.charCodeAt(k) >= 0x80) return false;
        break;
      }
    }
    if (code >= 0x80) return false;
    i++;
  }
  if (count > 0) {
    scratchValues[F_TOKEN_MAX] = max;
    scratchValues[F_TOKEN_MEAN] = sum / count;
  }
  foundBrand = brand;
  scratchValues[F_BRAND] = brand !== '' ? 1 : 0;
  scratchValues[F_KEYWORDS] = Math.min(3, keywords);
  return true;
}

/** Whether two runs of the path read as the same token (lower case, digit runs as one `0`). */
function sameToken(path: string, a: number, aEnd: number, b: number, bEnd: number): boolean {
  for (;;) {
    if (a === aEnd || b === bEnd) return a === aEnd && b === bEnd;
    const x = asciiLower(path.charCodeAt(a++));
    const y = asciiLower(path.charCodeAt(b++));
    const xDigit = isDigit(x);
    const yDigit = isDigit(y);
    if (xDigit !== yDigit) return false;
    if (xDigit) {
      while (a < aEnd && isDigitAt(path, a)) a++;
      while (b < bEnd && isDigitAt(path, b)) b++;
    } else if (x !== y) return false;
  }
}

/** Segment ids in a shape number: 0 empty, 1..64 classes and length bucket, NO_SEGMENT, then extensions. */
const NO_SEGMENT = 65;
const FIRST_EXTENSION = 66;
const SEGMENT_IDS = 4096;
/** An extension (1..5 letters and digits, lower case, base 37) → its segment id. */
const extensionIds = new Map<number, number>();
const SHAPE_CACHE = 50_000;
const SHAPE_SLOT_BITS = 11;
const SHAPE_SLOTS = 1 << SHAPE_SLOT_BITS;

/**
 * Sets shapeAt (or shapeText): the path's shape as pathShape gives it, through its number.
 * Returns the path's depth: its non-empty segments (each starts after a `/`).
 */
function shapeOf(path: string, pathEnd: number, q: number, c: Compiled): number {
  // The segments after the leading `/`: how many, the first two's bounds, a trailing `/`. The
  // slashes are found by indexOf (native code) rather than by reading every character; a
  // segment between two slashes (or the last slash and pathEnd) is one of depth's when not empty.
  let slashes = 1;
  let firstEnd = pathEnd;
  let secondEnd = pathEnd;
  let depth = 0;
  let previous = 0;
  for (let at = path.indexOf('/', 1); at >= 0 && at < pathEnd; at = path.indexOf('/', at + 1)) {
    if (at > previous + 1) depth++;
    if (slashes === 1) firstEnd = at;
    else if (slashes === 2) secondEnd = at;
    slashes++;
    previous = at;
  }
  if (pathEnd > previous + 1) depth++;
  const trailing = slashes > 1 && path.charCodeAt(pathEnd - 1) === 0x2f;
  const parts = trailing ? slashes - 1 : slashes;
  const first = segmentId(path, 1, firstEnd);
  const second = parts >= 2 ? segmentId(path, firstEnd + 1, secondEnd) : NO_SEGMENT;
  let query = 0;
  if (q >= 0) {
    // Non-empty runs between `&`s, up to the 3 the shape tells apart.
    let params = 0;
    for (let from = q + 1; params < 3;) {
      const amp = path.indexOf('&', from);
      const end = amp < 0 ? path.length : amp;
      if (end > from) params++;
      if (amp < 0) break;
      from = amp + 1;
    }
    query = 1 + Math.min(3, params) * 2 + (path.length - q > 24 ? 1 : 0);
  }
  if (first < 0 || second < 0) {
    shapeAt = -1;
    shapeText = pathShape(path);
    return depth;
  }
  const code =
    (((first * SEGMENT_IDS + second) * 2 + (parts > 2 ? 1 : 0)) * 2 + (trailing ? 1 : 0)) * 9 + query;
  // Shape numbers are below 2^30: Fibonacci hashing's top bits pick the slot.
  const slot = Math.imul(code, 0x9e3779b1) >>> (32 - SHAPE_SLOT_BITS);
  if (c.shapeSlotCode[slot] === code) {
    shapeAt = c.shapeSlotAt[slot]!;
    return depth;
  }
  const at = c.shapeIndex.get(code);
  if (at !== undefined) {
    c.shapeSlotCode[slot] = code;
    c.shapeSlotAt[slot] = at;
    shapeAt = at;
    return depth;
  }
  // First sight of this shape: its string as pathShape writes it, its value and its label.
  const text = pathShape(path);
  if (c.shapeIndex.size >= SHAPE_CACHE) {
    shapeAt = -1;
    shapeText = text;
    return depth;
  }
  shapeAt = c.shapeValue.length;
  c.shapeIndex.set(code, shapeAt);
  c.shapeValue.push(c.shapeTable.get(text) ?? 0);
  c.shapeString.push(text);
  c.shapeLabel.push(`path_shape(${text})`);
  return depth;
}

/** A segment's id (segmentShape's string as a number), -1 when the extensions are too many to number. */
function segmentId(path: string, start: number, end: number): number {
  if (start === end) return 0;
  // `.ext` at the end: 1..5 letters or digits after a dot.
  let run = 0;
  let key = 0;
  let scale = 1;
  while (run < 6 && end - run - 1 >= start) {
    const code = asciiLower(path.charCodeAt(end - run - 1));
    if (isDigit(code)) key += (code - 0x30 + 1) * scale;
    else if (isLower(code)) key += (code - 0x61 + 11) * scale;
    else break;
    scale *= 37;
    run++;
  }
  if (run >= 1 && run <= 5 && end - run - 1 >= start && path.charCodeAt(end - run - 1) === 0x2e) {
    let id = extensionIds.get(key);
    if (id === undefined) {
      if (FIRST_EXTENSION + extensionIds.size >= SEGMENT_IDS) return -1;
      id = FIRST_EXTENSION + extensionIds.size;
      extensionIds.set(key, id);
    }
    return id;
  }
  let classes = 0;
  for (let i = start; i < end; i++) {
    const code = path.charCodeAt(i);
    if (isUpper(code)) classes |= 8;
    else if (isLower(code)) classes |= 4;
    else if (isDigit(code)) classes |= 2;
    else classes |= 1;
  }
  const n = end - start;
  return 1 + classes * 4 + (n <= 3 ? 0 : n <= 8 ? 1 : n <= 16 ? 2 : 3);
}

/** The best token as a string (urlFeatures' `token`). */
function bestToken(path: string, c: Compiled): string {
  if (bestKey > 0) return c.key[bestKey]!;
  let token = '';
  for (let i = bestStart; i < bestEnd; i++) {
    const code = asciiLower(path.charCodeAt(i));
    if (isDigit(code)) {
      token += '0';
      while (i + 1 < bestEnd && isDigitAt(path, i + 1)) i++;
    } else token += String.fromCharCode(code);
  }
  return token;
}

/** The features of a URL's path and query (the lexicon's brands and keywords as whole tokens). */
export function urlFeatures(url: NormalisedUrl, tables: UrlTables): UrlFeatures {
  const c = compiledOf(tables);
  if (!scan(url, c)) return urlFeaturesReference(url, tables);
  const values = {} as UrlFeatureVector;
  for (let i = 0; i < URL_FEATURES.length; i++) values[URL_FEATURES[i]!] = scratchValues[i]!;
  const shape = shapeAt >= 0 ? c.shapeString[shapeAt]! : shapeText;
  return { values, token: bestToken(url.path, c), brand: foundBrand, shape };
}

/** The weights in URL_FEATURES order, per model. */
const weightsOf = oncePerObject((model: UrlModel) =>
  Float64Array.from(URL_FEATURES, (feature) => model.weights[feature] ?? 0),
);

/**
 * Fills the scratch (scan, else the reference's values) and returns the compiled tables, or
 * null when the reference gave the features (then `fallback` holds them).
 */
let fallback: UrlFeatures | null = null;
function fill(url: NormalisedUrl, tables: UrlTables): Compiled | null {
  const c = compiledOf(tables);
  if (scan(url, c)) return c;
  fallback = urlFeaturesReference(url, tables);
  for (let i = 0; i < URL_FEATURES.length; i++) scratchValues[i] = fallback.values[URL_FEATURES[i]!];
  return null;
}

const brandLabels = new Map<string, string>();

/** A URL feature's reason label (made once per token, shape and brand). */
function labelAt(feature: number, path: string, c: Compiled | null): string {
  if (c === null) return labelOf(URL_FEATURES[feature]!, fallback!);
  if (feature === F_TOKEN_MAX) {
    if (bestKey === 0) return `path_token_max(${bestToken(path, c)})`;
    let label = c.label[bestKey];
    if (label === undefined) c.label[bestKey] = label = `path_token_max(${c.key[bestKey]!})`;
    return label;
  }
  if (feature === F_SHAPE) return shapeAt >= 0 ? c.shapeLabel[shapeAt]! : `path_shape(${shapeText})`;
  if (feature === F_BRAND) {
    let label = brandLabels.get(foundBrand);
    if (label === undefined) {
      label = `path_brand(${foundBrand})`;
      brandLabels.set(foundBrand, label);
    }
    return label;
  }
  return URL_FEATURES[feature]!;
}

function labelOf(feature: UrlFeature, f: UrlFeatures): string {
  if (feature === 'path_token_max') return `path_token_max(${f.token})`;
  if (feature === 'path_shape') return `path_shape(${f.shape})`;
  if (feature === 'path_brand') return `path_brand(${f.brand})`;
  return feature;
}

/** The URL part's log-odds (without the host's) and its reasons, non-zero contributions only. */
export function urlPart(
  url: NormalisedUrl,
  model: UrlModel,
  hostBias: number,
): { logOdds: number; reasons: Reason[] } {
  const reasons = new ReasonList();
  const logOdds = urlReasons(url, model, hostBias, reasons, false, newPathTokenResult());
  return { logOdds, reasons: reasons.toArray() };
}

/** What the URL part tells the gated part (gated.ts) of the path's riskiest word. */
export interface PathTokenResult {
  /** path_token_max. */
  max: number;
  /** The gated reason's label for the word, `path_token_gated(word)`; the bare name when max is 0. */
  gatedLabel: string;
}

export function newPathTokenResult(): PathTokenResult {
  return { max: 0, gatedLabel: PATH_TOKEN_GATED };
}

const PATH_TOKEN_GATED = 'path_token_gated';

/**
 * The URL part's log-odds (without the host's), its reasons added to `reasons` (sorted by
 * |contribution|, largest first; ties after those already there, as a stable sort of the host's
 * reasons followed by the URL's would place them), and the riskiest path word in `pathToken`.
 */
export function addUrlReasons(
  url: NormalisedUrl,
  model: UrlModel,
  hostBias: number,
  reasons: ReasonList,
  pathToken: PathTokenResult,
): number {
  return urlReasons(url, model, hostBias, reasons, true, pathToken);
}

function urlReasons(
  url: NormalisedUrl,
  model: UrlModel,
  hostBias: number,
  reasons: ReasonList,
  sorted: boolean,
  pathToken: PathTokenResult,
): number {
  const c = fill(url, model.tables);
  const weights = weightsOf(model);
  let logOdds = model.bias;
  for (let i = 0; i < URL_FEATURES.length; i++) {
    const value = scratchValues[i]!;
    const contribution = value * weights[i]!;
    logOdds += contribution;
    if (contribution === 0) continue;
    const label = labelAt(i, url.path, c);
    if (sorted) reasons.add(label, round(value), round(contribution));
    else reasons.push(label, round(value), round(contribution));
  }
  const bias = round(model.bias + (model.hostWeight - 1) * hostBias);
  if (sorted) reasons.add('url_bias', 1, bias);
  else reasons.push('url_bias', 1, bias);
  const max = scratchValues[F_TOKEN_MAX]!;
  pathToken.max = max;
  // The label only for a word that counts (a zero max makes no gated reason).
  pathToken.gatedLabel = max === 0 ? PATH_TOKEN_GATED : pathTokenGatedLabel(url.path, c);
  return logOdds;
}

/** The gated reason's label for the riskiest path word of the URL just read. */
function pathTokenGatedLabel(path: string, c: Compiled | null): string {
  if (c === null) return `path_token_gated(${fallback!.token})`;
  if (bestKey === 0) return `path_token_gated(${bestToken(path, c)})`;
  let label = c.gatedLabel[bestKey];
  if (label === undefined) c.gatedLabel[bestKey] = label = `path_token_gated(${c.key[bestKey]!})`;
  return label;
}

/** The host name's reasons as they count in the URL's log-odds. */
export function scaledReasons(reasons: readonly Reason[], hostWeight: number): Reason[] {
  if (hostWeight === 1) return [...reasons];
  return reasons.map((r) => ({ ...r, contribution: round(r.contribution * hostWeight) }));
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
