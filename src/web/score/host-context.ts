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
 *   character classes (letters as `w` when its labels are English words) and length, and the
 *   suffix's risk band (the host model's tld_risk, platform hosts apart), e.g. `1:a-:16,tld+`;
 * - `brand_place`: a learned table per place of the lexicon brand: in the registrant's label as
 *   the whole label (`aeon.co`) or a part of it (`aeon-card.top`), or in a subdomain, exact or
 *   fuzzy, by the same risk band, so a brand on a risky suffix and a brand as a .com's whole
 *   name get weights of their own;
 * - `sub_style`: how the subdomain is written, by the host model's bigram table (name_style):
 *   the highest mean bigram log-odds among its labels, so a random-letter subdomain reads as one;
 * - `label_shape`: a learned table per shape of the registrant's label on its suffix: its length
 *   (16 for longer), its character classes (`w`: one English word) and the suffix itself (the
 *   platform's on a shared one), e.g. `7:a:com`: the host-name model's label_length is one slope
 *   for every suffix, while a 5..8-letter .com and a 5..8-letter .cn read differently in the
 *   tuning data;
 * - `label_cv`: the mean log-odds of the label's consonant/vowel trigrams (`C`, `V`, `D` for a
 *   digit, `-` for anything else, `^` and `$` at the ends), learned from the URL rows' hosts, so a
 *   name that cannot be said (`uwkxplw`) reads apart from one that can, whatever its letters;
 *
 * English words (word-list) stand apart in both shapes because the tuning data sets them apart:
 * of hosts with a subdomain past `www`, 3 % of JPCERT/CC's have one of English words against 25 to
 * 58 % of the top sites', ESDAUNG's and the test lists' (ISCX-URL-2016's 275 have none), and 1 %
 * of its registrant labels are one word against 4 to 16 % of each benign set's.
 *
 * An IP host has none of them: the host name's ip_host and the URL part's ip_host_url speak for it.
 * A leading `www` label is not part of the subdomain here: it is the conventional alias of the
 * site itself, and the benign host lists carry bare names only.
 */
import type { NormalisedUrl, Reason } from '../types.ts';
import {
  asciiBigram,
  bigramTable,
  F_TLD_RISK,
  registrantLabel,
  type BigramTable,
  type HostFeatures,
  type HostNameScan,
} from './features.ts';
import { oncePerObject, PlainReason } from './memo.ts';
import type { ReasonList } from './reason-list.ts';
import { isDigit, isLower, isLowerOrDigit } from './chars.ts';
import { allEnglishWords, englishWords } from './words.ts';

export const HOST_CONTEXT_FEATURES = [
  'sub_token_max',
  'sub_token_mean',
  'host_shape',
  'brand_place',
  'sub_style',
  'label_shape',
  'label_cv',
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
  /** Log-odds per registrant label shape (labelShape); absent in a model fitted before it. */
  labelShape?: Record<string, number>;
  /** Log-odds per consonant/vowel trigram of the registrant label (labelCvTrigrams); absent likewise. */
  labelCv?: Record<string, number>;
}

/** The host-context part of model.json's URL part. */
export interface HostContextModel {
  weights: Record<HostContextFeature, number>;
  tables: HostContextTables;
}

export interface HostContext {
  values: HostContextVector;
  /** The riskiest subdomain token, the host's shape, the brand's place and the label's shape, for the reasons. */
  token: string;
  shape: string;
  place: string;
  labelShape: string;
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
    if (isLowerOrDigit(code)) {
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

/**
 * The whole host's shape: subdomain depth (3 for deeper), its character classes and length
 * bucket, the risk band. Letters are `w` when every label is an English word, else `a`.
 */
export function hostShape(sub: string, band: string, words = true): string {
  if (sub === '') return `0,${band}`;
  let depth = 1;
  let letter = false;
  let digit = false;
  let hyphen = false;
  for (let i = 0; i < sub.length; i++) {
    const c = sub.charCodeAt(i);
    if (c === 0x2e) depth++;
    else if (isDigit(c)) digit = true;
    else if (c === 0x2d || c === 0x5f) hyphen = true;
    else letter = true;
  }
  const n = sub.length;
  const bucket = n <= 4 ? 4 : n <= 8 ? 8 : n <= 16 ? 16 : n <= 32 ? 32 : 99;
  const letters = !letter ? '' : !words || digit || hyphen || !allEnglishWords(sub, MIN_SUB_WORD) ? 'a' : 'w';
  return `${Math.min(3, depth)}:${letters}${digit ? '0' : ''}${hyphen ? '-' : ''}:${bucket},${band}`;
}

/**
 * Whether a model's shapes tell English words apart (`w`): one fitted before they did reads words
 * as letters (`a`), so its tables keep their meaning.
 */
export const readsWords = oncePerObject(
  (tables: HostContextTables) =>
    Object.keys(tables.shape).some((k) => /^\d:[^:]*w/.test(k)) ||
    Object.keys(tables.labelShape ?? {}).some((k) => /^\d+:[^:]*w[^:]*:/.test(k)),
);

/**
 * Shorter words than these are too often a random name's chance (`abc`, `xyz`): a subdomain's
 * labels (`mirror`, `english`, `api`) and a registrant label (`news`) are read as words from here.
 */
const MIN_SUB_WORD = 3;
const MIN_LABEL_WORD = 4;

/** Where the lexicon's brand stands: `label=` (the whole label), `label~` (part of it), `sub`; exact or fuzzy; the risk band. */
export function brandPlace(host: HostFeatures, label: string, band: string): string {
  const match = host.match;
  if (match === null) return '';
  let where: string = match.where;
  if (match.where === 'domain') where = label === match.token ? 'label=' : 'label~';
  return `${where}:${match.how},${band}`;
}

/** The longest label length labelShape tells apart. */
const LABEL_SHAPE_LENGTH = 16;

/**
 * The registrant label's shape: length (16 for longer), classes (`a` letters, `w` one English word
 * that is not the lexicon brand the host matched, `0` digits, `-` hyphens), suffix.
 */
export function labelShape(
  url: NormalisedUrl,
  host: Pick<HostFeatures, 'tld' | 'platform' | 'match'>,
  words = true,
): string {
  const label = registrantLabel(url);
  let letter = false;
  let digit = false;
  let hyphen = false;
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (isLower(c)) letter = true;
    else if (isDigit(c)) digit = true;
    else if (c === 0x2d) hyphen = true;
  }
  const word =
    words &&
    letter &&
    !digit &&
    !hyphen &&
    host.match?.where !== 'domain' &&
    label.length >= MIN_LABEL_WORD &&
    englishWords().has(label);
  const classes = `${letter ? (word ? 'w' : 'a') : ''}${digit ? '0' : ''}${hyphen ? '-' : ''}`;
  return `${Math.min(LABEL_SHAPE_LENGTH, label.length)}:${classes}:${host.platform !== '' ? host.platform : host.tld}`;
}

/** The label as consonants and vowels: `C`, `V` (a e i o u), `D` for a digit, `-` for anything else. */
function consonantsAndVowels(label: string): string {
  let text = '';
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    text += isDigit(c) ? 'D' : isLower(c) ? (VOWEL_CODE[c - 0x61] ? 'V' : 'C') : '-';
  }
  return text;
}
const VOWEL_CODE = Uint8Array.from('abcdefghijklmnopqrstuvwxyz', (ch) => ('aeiou'.includes(ch) ? 1 : 0));

/** The registrant label's consonant/vowel trigrams, `^` and `$` at its ends, one per position (repeats kept). */
export function labelCvTrigrams(url: NormalisedUrl): string[] {
  const text = `^${consonantsAndVowels(registrantLabel(url))}$`;
  const grams: string[] = [];
  for (let i = 0; i + 3 <= text.length; i++) grams.push(text.slice(i, i + 3));
  return grams;
}

/** A table as a Map, made once per table; one memo per table kind, each answering its last hit. */
const asMap = (table: Record<string, number>) => new Map(Object.entries(table));
const subTokenMap = oncePerObject(asMap);
const shapeMap = oncePerObject(asMap);
const brandMap = oncePerObject(asMap);
const labelShapeMap = oncePerObject(asMap);
const labelCvMap = oncePerObject(asMap);
const NO_TABLE: Record<string, number> = {};

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
    label_shape: 0,
    label_cv: 0,
  };
  if (url.hostKind !== 'domain') return { values, token: '', shape: '', place: '', labelShape: '' };
  const band = riskBand(host);
  const sub = siteSubdomain(url);
  const words = readsWords(tables);
  const shape = hostShape(sub, band, words);
  values.host_shape = shapeMap(tables.shape).get(shape) ?? 0;
  const place = brandPlace(host, registrantLabel(url), band);
  if (place !== '') values.brand_place = brandMap(tables.brand).get(place) ?? 0;
  let token = '';
  if (sub !== '') {
    values.sub_style = subStyle(sub, bigram);
    const tokens = subdomainTokens(sub);
    const risk = subTokenMap(tables.subToken);
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
  const label = labelShape(url, host, words);
  values.label_shape = labelShapeMap(tables.labelShape ?? NO_TABLE).get(label) ?? 0;
  const grams = labelCvTrigrams(url);
  if (grams.length > 0) {
    const cv = labelCvMap(tables.labelCv ?? NO_TABLE);
    let sum = 0;
    for (const gram of grams) sum += cv.get(gram) ?? 0;
    values.label_cv = sum / grams.length;
  }
  return { values, token, shape, place, labelShape: label };
}

/** The highest mean bigram log-odds among the subdomain's labels (`^label$`, digits as `0`). */
export function subStyle(sub: string, bigram: Record<string, number>): number {
  return subStyleFrom(sub, 0, bigramTable(bigram));
}

const CARET = 0x5e;
const DOLLAR = 0x24;

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
    // Built by assignment to new PlainReason(), as model.ts builds its rows (V8 pretenures literals' sites).
    const reason = new PlainReason() as Reason;
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
const labelShapeLabels = new Map<string, string>();
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
  if (feature === 'label_shape') return cachedLabel(labelShapeLabels, feature, c.labelShape);
  return feature;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** What the host context tells the gated part (gated.ts) of the subdomain's riskiest word. */
export interface SubTokenResult {
  /** sub_token_max (0 for none). */
  subTokenMax: number;
  /** The gated reason's label for the word, `sub_token_gated(word)`, else the bare name. */
  subTokenGatedLabel: string;
}

/**
 * The hot path: hostContextPart's log-odds with its reasons added straight to the URL's sorted
 * reasons, the same numbers and reasons in the same order, without the per-URL strings, arrays
 * and records: the subdomain's tokens are walked in a trie of the token table (digit runs as one
 * `0`), the shape and the brand's place are indices into tables of weights and labels made once
 * per model, and a leading `www.` is skipped by offset. The subdomain's riskiest word goes to `out`.
 */
export function addHostContext(
  url: NormalisedUrl,
  host: HostNameScan,
  model: HostContextModel,
  bigram: Record<string, number>,
  reasons: ReasonList,
  out: SubTokenResult,
): number {
  out.subTokenMax = 0;
  out.subTokenGatedLabel = 'sub_token_gated';
  if (url.hostKind !== 'domain') return 0;
  const c = compiledOf(model);
  const full = url.subdomain;
  const from = full === 'www' ? 3 : full.startsWith('www.') ? 4 : 0;
  const tldRisk = host.vector[F_TLD_RISK]!;
  const band = host.platform !== '' ? 0 : tldRisk > 1 ? 1 : tldRisk > 0 ? 2 : 3;
  // sub_token_max, sub_token_mean, then host_shape, brand_place, sub_style: the features' order.
  let tokenMax = 0;
  let tokenMean = 0;
  let tokenId = -1;
  let style = 0;
  if (from < full.length) {
    style = subStyleFrom(full, from, bigramTable(bigram));
    const n = scanTokens(full, from, c);
    if (n > 0) {
      let max = -Infinity;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const id = scratchIds[i]!;
        const r = id >= 0 ? c.tokenValue[id]! : 0;
        sum += r;
        if (r > max) {
          max = r;
          tokenId = id;
        }
      }
      tokenMax = max;
      tokenMean = sum / n;
      out.subTokenMax = max;
      if (tokenId >= 0) out.subTokenGatedLabel = c.tokenGatedLabel[tokenId]!;
    }
  }
  const shape = shapeIndex(full, from, band, c.words);
  const placeAt = placeIndex(url, host, band);
  let logOdds = 0;
  logOdds += addReason(reasons, tokenMax, c.weights[0]!, tokenId >= 0 ? c.tokenLabel[tokenId]! : null, 0);
  logOdds += addReason(reasons, tokenMean, c.weights[1]!, 'sub_token_mean', 1);
  logOdds += addReason(reasons, c.shapeValue[shape]!, c.weights[2]!, c.shapeLabel[shape]!, 2);
  const place = placeAt < 0 ? 0 : c.placeValue[placeAt]!;
  logOdds += addReason(reasons, place, c.weights[3]!, placeAt < 0 ? null : c.placeLabel[placeAt]!, 3);
  logOdds += addReason(reasons, style, c.weights[4]!, 'sub_style', 4);
  return addLabelReasons(url, host, c, reasons, logOdds);
}

/**
 * label_shape and label_cv on the hot path: the registrant label read in place (registrantLabel's
 * bounds, no slice), its shape an index into its suffix's row of values, its consonant/vowel
 * trigrams indices into a 6×6×6 table, summed in the order labelCvTrigrams gives them; added
 * to the context's log-odds so far one by one, as hostContextPart adds them.
 */
function addLabelReasons(
  url: NormalisedUrl,
  host: HostNameScan,
  c: Compiled,
  reasons: ReasonList,
  logOddsSoFar: number,
): number {
  const rd = url.registrableDomain;
  let text: string;
  let end: number;
  if (rd === null || rd === '') {
    text = url.host;
    const dot = text.indexOf('.');
    end = dot < 0 ? text.length : dot;
  } else {
    text = rd;
    end = rd.length - url.publicSuffix.length - 1;
  }
  let classes = 0;
  let sum = 0;
  // The last two symbols as one index (first × 6 + second), `^` then the label's first symbol.
  let window = CV_START * 6;
  const cv = c.cvValue;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    const symbol = code < 128 ? CV_OF[code]! : CV_OTHER;
    classes |= code < 128 ? CLASS_OF[code]! : 0;
    // From the second character on, the trigram ending here (the first only completes `^x`).
    if (i > 0) sum += cv[window * 6 + symbol]!;
    window = (window % 6) * 6 + symbol;
  }
  const grams = end;
  if (end > 0) sum += cv[window * 6 + CV_END]!;
  const suffix = host.platform !== '' ? host.platform : host.tld;
  // Most hosts in a run share a few suffixes: the last one's row is kept beside the Map.
  let row: LabelShapeRow | undefined;
  if (suffix === c.lastSuffix) row = c.lastRow;
  else {
    row = c.labelShapeRow.get(suffix);
    c.lastSuffix = suffix;
    c.lastRow = row;
  }
  let logOdds = logOddsSoFar;
  if (row !== undefined && c.weights[5]! !== 0) {
    // The dictionary is asked only where a label shape can weigh in: a suffix with a row.
    if (
      classes === 1 &&
      c.words &&
      end >= MIN_LABEL_WORD &&
      host.match?.where !== 'domain' &&
      englishWords().has(text, 0, end)
    )
      classes |= CLASS_WORD;
    const at = Math.min(LABEL_SHAPE_LENGTH, end) * CLASS_KINDS + classes;
    const value = row.value[at]!;
    if (value !== 0) {
      let label = row.label[at];
      if (label === undefined) row.label[at] = label = `label_shape(${labelShapeKey(at, suffix)})`;
      logOdds += addReason(reasons, value, c.weights[5]!, label, 5);
    }
  }
  logOdds += addReason(reasons, grams > 0 ? sum / grams : 0, c.weights[6]!, 'label_cv', 6);
  return logOdds;
}

/** Consonant/vowel trigram symbols: `^`, `$`, `C`, `V`, `D`, `-`. */
const CV_START = 0;
const CV_END = 1;
const CV_CONSONANT = 2;
const CV_VOWEL = 3;
const CV_DIGIT = 4;
const CV_OTHER = 5;
const CV_SYMBOLS = '^$CVD-';
/**
 * Per ASCII code: its consonant/vowel symbol and its labelShape class bit (1 letter, 2 digit, 4
 * hyphen); CLASS_WORD is set after the scan, on letters only that are English words.
 */
const CV_OF = new Uint8Array(128).fill(CV_OTHER);
const CLASS_OF = new Uint8Array(128);
for (let code = 0x61; code <= 0x7a; code++) {
  CV_OF[code] = VOWEL_CODE[code - 0x61] ? CV_VOWEL : CV_CONSONANT;
  CLASS_OF[code] = 1;
}
for (let code = 0x30; code <= 0x39; code++) {
  CV_OF[code] = CV_DIGIT;
  CLASS_OF[code] = 2;
}
CLASS_OF[0x2d] = 4;
const CLASS_WORD = 8;
/** Class bit sets an index tells apart: letters, digits, hyphens, words. */
const CLASS_KINDS = 16;

/** The classes as hostShape and labelShape write them: `w` (words) or `a` (letters), `0`, `-`. */
function classKey(bits: number): string {
  return `${bits & CLASS_WORD ? 'w' : bits & 1 ? 'a' : ''}${bits & 2 ? '0' : ''}${bits & 4 ? '-' : ''}`;
}

/** labelShape's key for a row index (length × CLASS_KINDS + class bits) on a suffix. */
function labelShapeKey(at: number, suffix: string): string {
  return `${Math.floor(at / CLASS_KINDS)}:${classKey(at % CLASS_KINDS)}:${suffix}`;
}

/** Per suffix: label_shape's value per index (length × CLASS_KINDS + class bits) and its reason label once made. */
interface LabelShapeRow {
  value: Float64Array;
  label: (string | undefined)[];
}

function addReason(
  reasons: ReasonList,
  value: number,
  weight: number,
  label: string | null,
  feature: number,
): number {
  const contribution = value * weight;
  if (contribution === 0) return contribution;
  // A token's label for a token the table lacks (value 0) is never needed: its contribution is 0.
  reasons.add(label ?? HOST_CONTEXT_FEATURES[feature]!, round(value), round(contribution));
  return contribution;
}

interface Compiled {
  weights: Float64Array;
  /** readsWords of the model's tables. */
  words: boolean;
  /** Trie over [a-z0-9]: child node per character (0: none), token id per node (-1: none). */
  child: Int32Array;
  tokenAt: Int32Array;
  tokenValue: Float64Array;
  tokenLabel: string[];
  tokenGatedLabel: string[];
  shapeValue: Float64Array;
  shapeLabel: string[];
  placeValue: Float64Array;
  placeLabel: string[];
  labelShapeRow: Map<string, LabelShapeRow>;
  lastSuffix: string;
  lastRow: LabelShapeRow | undefined;
  cvValue: Float64Array;
}

const BANDS = ['plat', 'tld++', 'tld+', 'tld-'];
const BUCKETS = [4, 8, 16, 32, 99];
const PLACES = ['label=', 'label~', 'subdomain'];
const compiledOf = oncePerObject(compile);

function compile(model: HostContextModel): Compiled {
  const weights = new Float64Array(HOST_CONTEXT_FEATURES.length);
  HOST_CONTEXT_FEATURES.forEach((f, i) => (weights[i] = model.weights[f] ?? 0));
  const keys = Object.keys(model.tables.subToken).filter((k) => /^(?:[a-z]|0(?!0))+$/.test(k));
  let nodes = 1;
  const child = new Int32Array((keys.reduce((n, k) => n + k.length, 0) + 1) * 36);
  const tokenAt = new Int32Array(child.length / 36).fill(-1);
  const tokenValue = new Float64Array(keys.length);
  const tokenLabel: string[] = [];
  const tokenGatedLabel: string[] = [];
  keys.forEach((key, id) => {
    let node = 0;
    for (let i = 0; i < key.length; i++) {
      const slot = node * 36 + charSlot(key.charCodeAt(i));
      if (child[slot] === 0) child[slot] = nodes++;
      node = child[slot]!;
    }
    tokenAt[node] = id;
    tokenValue[id] = model.tables.subToken[key]!;
    tokenLabel.push(`sub_token_max(${key})`);
    tokenGatedLabel.push(`sub_token_gated(${key})`);
  });
  const bands = BANDS.length;
  const shapeValue = new Float64Array(4 * CLASS_KINDS * 5 * bands);
  const shapeLabel: string[] = [];
  for (let depth = 0; depth < 4; depth++)
    for (let classes = 0; classes < CLASS_KINDS; classes++)
      for (let bucket = 0; bucket < 5; bucket++)
        for (let band = 0; band < bands; band++) {
          const b = BANDS[band]!;
          const shape = depth === 0 ? `0,${b}` : `${depth}:${classKey(classes)}:${BUCKETS[bucket]},${b}`;
          const at = ((depth * CLASS_KINDS + classes) * 5 + bucket) * bands + band;
          shapeValue[at] = shapeMap(model.tables.shape).get(shape) ?? 0;
          shapeLabel[at] = `host_shape(${shape})`;
        }
  const placeValue = new Float64Array(3 * 2 * 4);
  const placeLabel: string[] = [];
  for (let where = 0; where < 3; where++)
    for (let how = 0; how < 2; how++)
      for (let band = 0; band < 4; band++) {
        const place = `${PLACES[where]}:${how === 0 ? 'exact' : 'fuzzy'},${BANDS[band]}`;
        const at = (where * 2 + how) * 4 + band;
        placeValue[at] = brandMap(model.tables.brand).get(place) ?? 0;
        placeLabel[at] = `brand_place(${place})`;
      }
  const labelShapeRow = new Map<string, LabelShapeRow>();
  for (const [key, value] of Object.entries(model.tables.labelShape ?? {})) {
    const first = key.indexOf(':');
    const second = key.indexOf(':', first + 1);
    const length = Number(key.slice(0, first));
    const classes = key.slice(first + 1, second);
    const suffix = key.slice(second + 1);
    const bits =
      (classes.includes('a') ? 1 : 0) |
      (classes.includes('w') ? 1 | CLASS_WORD : 0) |
      (classes.includes('0') ? 2 : 0) |
      (classes.includes('-') ? 4 : 0);
    let row = labelShapeRow.get(suffix);
    if (row === undefined) {
      row = { value: new Float64Array((LABEL_SHAPE_LENGTH + 1) * CLASS_KINDS), label: [] };
      labelShapeRow.set(suffix, row);
    }
    const at = length * CLASS_KINDS + bits;
    if (length >= 0 && length <= LABEL_SHAPE_LENGTH && labelShapeKey(at, suffix) === key)
      row.value[at] = value;
  }
  const cvValue = new Float64Array(6 * 6 * 6);
  for (const [gram, value] of Object.entries(model.tables.labelCv ?? {})) {
    const at = [...gram].map((ch) => CV_SYMBOLS.indexOf(ch));
    if (at.length === 3 && at.every((i) => i >= 0)) cvValue[(at[0]! * 6 + at[1]!) * 6 + at[2]!] = value;
  }
  return {
    words: readsWords(model.tables),
    labelShapeRow,
    lastSuffix: '',
    lastRow: undefined,
    cvValue,
    weights,
    child,
    tokenAt,
    tokenValue,
    tokenLabel,
    tokenGatedLabel,
    shapeValue,
    shapeLabel,
    placeValue,
    placeLabel,
  };
}

/** [a-z] to 0..25, [0-9] to 26..35 (any digit run is one `0`). */
function charSlot(code: number): number {
  return code >= 0x61 ? code - 0x61 : 26 + code - 0x30;
}

/** Token ids (-1: not in the table) and ranges of the subdomain's unique tokens, as subdomainTokens gives them. */
const scratchIds = new Int32Array(MAX_TOKENS);
const scratchStart = new Int32Array(MAX_TOKENS);
const scratchEnd = new Int32Array(MAX_TOKENS);

function scanTokens(sub: string, from: number, c: Compiled): number {
  let n = 0;
  let start = -1;
  for (let i = from; i <= sub.length; i++) {
    const code = i < sub.length ? sub.charCodeAt(i) : 0;
    if (isLowerOrDigit(code)) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start >= 2) {
      let seen = false;
      for (let k = 0; k < n && !seen; k++) seen = sameToken(sub, scratchStart[k]!, scratchEnd[k]!, start, i);
      if (!seen) {
        scratchIds[n] = lookup(sub, start, i, c);
        scratchStart[n] = start;
        scratchEnd[n] = i;
        n++;
        if (n >= MAX_TOKENS) break;
      }
    }
    start = -1;
  }
  return n;
}

/** The token's id in the trie, digit runs walked as one `0`. */
function lookup(sub: string, start: number, end: number, c: Compiled): number {
  let node = 0;
  for (let i = start; i < end; i++) {
    const code = sub.charCodeAt(i);
    if (code <= 0x39 && i > start && sub.charCodeAt(i - 1) <= 0x39) continue;
    node = c.child[node * 36 + (code <= 0x39 ? 26 : code - 0x61)]!;
    if (node === 0) return -1;
  }
  return c.tokenAt[node]!;
}

/** Whether two ranges are the same token once digit runs are one `0`. */
function sameToken(sub: string, a: number, aEnd: number, b: number, bEnd: number): boolean {
  while (a < aEnd && b < bEnd) {
    const x = sub.charCodeAt(a);
    const y = sub.charCodeAt(b);
    if (x <= 0x39) {
      if (y > 0x39) return false;
      while (a < aEnd && sub.charCodeAt(a) <= 0x39) a++;
      while (b < bEnd && sub.charCodeAt(b) <= 0x39) b++;
      continue;
    }
    if (x !== y) return false;
    a++;
    b++;
  }
  return a === aEnd && b === bEnd;
}

/** hostShape's index: depth, character classes, length bucket, band. */
function shapeIndex(sub: string, from: number, band: number, words: boolean): number {
  if (from >= sub.length) return band;
  let depth = 1;
  let classes = 0;
  for (let i = from; i < sub.length; i++) {
    const c = sub.charCodeAt(i);
    if (c === 0x2e) depth++;
    else if (isDigit(c)) classes |= 2;
    else if (c === 0x2d || c === 0x5f) classes |= 4;
    else classes |= 1;
  }
  if (classes === 1 && words && allEnglishWords(sub, MIN_SUB_WORD, from)) classes |= CLASS_WORD;
  const n = sub.length - from;
  const bucket = n <= 4 ? 0 : n <= 8 ? 1 : n <= 16 ? 2 : n <= 32 ? 3 : 4;
  return (((depth > 3 ? 3 : depth) * CLASS_KINDS + classes) * 5 + bucket) * BANDS.length + band;
}

/** brandPlace's index, or -1 without a brand. */
function placeIndex(url: NormalisedUrl, host: HostNameScan, band: number): number {
  const match = host.match;
  if (match === null) return -1;
  const where = match.where === 'domain' ? (registrantLabel(url) === match.token ? 0 : 1) : 2;
  return (where * 2 + (match.how === 'exact' ? 0 : 1)) * 4 + band;
}

/** subStyle from an offset (the subdomain past a leading `www.`). */
function subStyleFrom(sub: string, from: number, table: BigramTable): number {
  let best = -Infinity;
  let sum = 0;
  let pairs = 0;
  let previous = CARET;
  // Label by label, pair by pair, by character code: `^` opens a label, `$` closes it at a dot.
  for (let i = from; i <= sub.length; i++) {
    const end = i === sub.length || sub.charCodeAt(i) === 0x2e;
    let code = end ? DOLLAR : sub.charCodeAt(i);
    if (isDigit(code)) code = 0x30;
    if (end && previous === CARET) continue;
    sum += code < 128 && previous < 128 ? asciiBigram(table, previous, code) : 0;
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
