/**
 * Kit paths: a phishing kit is deployed on one throw-away domain after another under the same
 * path (`https://gtdos.cn/jkuos`, `https://rcmama.cn/jkuos`; `/ja/client/3210000?origin=10` on
 * `jpja-theviewa00.com` and `driectjp-jeopi00.com`). The name changes every day; the path often
 * does not. So a URL whose path a confirmed list (JPCERT/CC's, ingested as source `jpcert`, or the
 * room's own takedown requests once sent) named on at least `minDomains` OTHER registered domains
 * in the last `windowDays` days is a kit's new home, whatever its name looks like.
 *
 * A path counts only when it is the kit's own: its template (digits as 0, query values as *,
 * lower case) must hold a word that is neither English (word-list's dictionary) nor a word benign
 * sites use in their paths (common-path-words.json, from the benign URLs the model was fitted
 * on). `/login.php`, `/sitemap/` and `/wp-admin/` never tie two sites, `/jkuos` and `/saxaw` do.
 *
 * The memory is a room's runtime state, not a fitted table: what a confirmed source listed,
 * forgotten after the window. A room may also keep its own URL verdicts near suspicious or worse
 * (the scorer's own score, never a tie's raise; teachesAsJudged); a tie that needs those is
 * marked `judged`, not `confirmed`, so a reader can tell a list's word from the room's own.
 */
import { parse as parseDomain } from 'tldts';
import { officialBrandOf } from '../score/lexicon.ts';
import { englishWords } from '../score/words.ts';
import type { Thresholds } from '../score/model.ts';
import type { NormalisedUrl, ScoredUrl } from '../types.ts';
import COMMON_PATH_WORDS from './common-path-words.json' with { type: 'json' };

export interface KitPathOptions {
  /** Other registered domains a confirmed source listed the path on (2: a kit seen twice). */
  minDomains: number;
  /** How long a listing counts, days (kits move on within weeks). */
  windowDays: number;
  /** Paths remembered at most; past it, those not listed within the window are forgotten first. */
  maxPaths: number;
  /**
   * Words benign sites use in paths; absent, the shipped common-path-words.json (the benchmark's
   * tuning check passes one made from half the benign URLs, to count false ties on the other).
   */
  commonWords?: ReadonlySet<string>;
}

export const DEFAULT_KIT_PATHS: KitPathOptions = { minDomains: 2, windowDays: 30, maxPaths: 200_000 };

/**
 * What the other domains' listings were: `confirmed` when a confirmed source or a sent takedown
 * request named enough of them, `judged` when the room's own malicious verdicts were needed.
 */
export type KitPathBasis = 'confirmed' | 'judged';

/** Why a URL was tied to a kit: its path's template and how many other domains it was listed on. */
export interface KitPathMatch {
  template: string;
  domains: number;
  basis: KitPathBasis;
}

export interface KitPathMemory {
  /** A URL a confirmed source listed, at the time it listed it. */
  learn(url: NormalisedUrl, listedAt: Date): void;
  /** The kit this URL's path belongs to, judged at `at`; null when none. */
  match(url: NormalisedUrl, at: Date): KitPathMatch | null;
  /**
   * The other registered domains this URL's path template was listed on within the window
   * before `at`, however few; null when the template is not remembered. What `matchAcross`
   * joins when two memories are asked together.
   */
  listedOn(url: NormalisedUrl, at: Date): { template: string; domains: string[] } | null;
  /**
   * Whether listedOn could find this URL's path: false, for nearly every URL, when the first
   * characters of its template are no remembered one's (no template is built); true says
   * nothing yet. What the room asks every scored URL before a match.
   */
  mayList(url: NormalisedUrl): boolean;
  /**
   * Forgets every path, the memory object kept: a memory cannot unlearn one domain, so its owner
   * relearns what still holds (the takedowns memory when a request is withdrawn).
   */
  clear(): void;
  /** Paths remembered. */
  readonly size: number;
}

const DAY_MS = 86_400_000;
/** Shorter runs of letters are too often abbreviations to tell a kit from a site. */
const MIN_WORD = 3;

const COMMON_WORDS: ReadonlySet<string> = new Set<string>(COMMON_PATH_WORDS.words);

/**
 * The path's template (`/ja/client/0?origin=*`) when it holds a word of the kit's own; null for a
 * bare host, a page at `/`, and paths of plain words.
 */
export function kitPathTemplate(
  url: NormalisedUrl,
  commonWords: ReadonlySet<string> = COMMON_WORDS,
): string | null {
  const template = pathTemplate(url.path);
  if (template === null || namesAnotherSite(url.path)) return null;
  const words = englishWords();
  for (const word of template.split(/[^a-z]+/))
    if (word.length >= MIN_WORD && !words.has(word) && !commonWords.has(word)) return template;
  return null;
}

/**
 * Whether the path's first segment is another site's host name (`/madamasr.com/`,
 * `/www.eki-net.com/`) that is no lexicon brand's: a mirror's or a proxy's path, which names the
 * site it serves. Mirrors of one news site on a platform's tenants (`*.appspot.com`) share it as a
 * kit's copies share theirs, and a kit's word test cannot tell them apart. A phishing proxy names
 * the brand it imitates, whose official host it is; that path stays a kit's.
 */
function namesAnotherSite(path: string): boolean {
  let end = 1;
  while (end < path.length) {
    const c = path.charCodeAt(end);
    if (c === 0x2f /* / */ || c === 0x3f /* ? */ || c === 0x23 /* # */) break;
    end++;
  }
  const segment = path.slice(1, end).toLowerCase();
  // Most first segments hold no dot, or a file's extension: only a name under a public suffix is a host.
  if (!segment.includes('.')) return false;
  const parsed = parseDomain(segment, HOST_SEGMENT);
  if (parsed.domain === null || parsed.isIcann !== true || parsed.hostname !== segment) return false;
  return officialBrandOf(segment, parsed.domain) === null;
}
const HOST_SEGMENT = {
  allowPrivateDomains: false,
  extractHostname: false,
  validateHostname: true,
  detectIp: false,
};

/**
 * The words of these paths (runs of letters, lower case, MIN_WORD or longer) that English lacks:
 * how common-path-words.json is made from benign URLs (bench/web/path-words.ts, kit-check.ts),
 * by the same split kitPathTemplate judges a template with.
 */
export function nonEnglishPathWords(paths: Iterable<string>): Set<string> {
  const english = englishWords();
  const found = new Set<string>();
  for (const path of paths)
    for (const word of path.toLowerCase().split(/[^a-z]+/))
      if (word.length >= MIN_WORD && !english.has(word)) found.add(word);
  return found;
}

/**
 * The template of any path but the top page, kit or not: what a remembered kit is looked up by.
 * One pass by hand, not three regular expressions: every URL scored against the memory pays it.
 */
export function pathTemplate(path: string): string | null {
  if (path === '' || path === '/') return null;
  // Most paths need no rewrite at all (no digit, capital or =): they are their own template.
  let first = 0;
  while (first < path.length) {
    const c = path.charCodeAt(first);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 61 || c >= 128) break;
    first++;
  }
  if (first === path.length) return path;
  // The characters kept as they are are copied a run at a time (one slice per rewrite, not one
  // string per character): every URL whose path a memory remembers builds its template here.
  let out = '';
  let copied = 0;
  let i = first;
  while (i < path.length) {
    const c = path.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      // A run of digits is one 0.
      out += `${path.slice(copied, i)}0`;
      while (i < path.length && path.charCodeAt(i) >= 48 && path.charCodeAt(i) <= 57) i++;
      copied = i;
    } else if (c === 61) {
      // A value, up to the next &, is *.
      out += `${path.slice(copied, i)}=*`;
      while (i < path.length && path.charCodeAt(i) !== 38) i++;
      copied = i;
    } else if ((c >= 65 && c <= 90) || c >= 128) {
      out += path.slice(copied, i) + (c < 128 ? String.fromCharCode(c + 32) : path[i]!.toLowerCase());
      i++;
      copied = i;
    } else i++;
  }
  return out + path.slice(copied);
}

/** The template's characters the memory's second test hashes: long paths cost no more. */
const HASHED_CHARS = 48;
/**
 * The template's characters the memory's first test hashes. Nearly every scored URL is on no
 * kit and stops here: on the benchmark's URLs, one in thirteen shares its first 8 template
 * characters with a month of kit paths (one in nineteen its first 48), and hashing 8 instead of
 * up to 48 was most of the lookup's cost.
 */
const PREFIX_CHARS = 8;

/**
 * FNV-1a of the first `chars` characters of pathTemplate(path), without building it (0 for the
 * top page): the memory's tests, so a URL on no remembered kit, nearly every URL, allocates
 * nothing and reads at most a few dozen characters.
 */
export function pathTemplateHash(path: string, chars = HASHED_CHARS): number {
  if (path === '' || path === '/') return 0;
  let hash = 0x811c9dc5;
  let hashed = 0;
  let i = 0;
  while (i < path.length && hashed < chars) {
    const c = path.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      hash = Math.imul(hash ^ 48, 0x01000193);
      hashed++;
      i++;
      while (i < path.length && path.charCodeAt(i) >= 48 && path.charCodeAt(i) <= 57) i++;
    } else if (c === 61) {
      hash = Math.imul(hash ^ 61, 0x01000193);
      if (++hashed < chars) {
        hash = Math.imul(hash ^ 42, 0x01000193);
        hashed++;
      }
      i++;
      while (i < path.length && path.charCodeAt(i) !== 38) i++;
    } else if (c < 128) {
      hash = Math.imul(hash ^ (c >= 65 && c <= 90 ? c + 32 : c), 0x01000193);
      hashed++;
      i++;
    } else return hashString(pathTemplate(path)!, chars);
  }
  return hash >>> 0;
}

function hashString(text: string, chars = HASHED_CHARS): number {
  let hash = 0x811c9dc5;
  const end = Math.min(text.length, chars);
  for (let i = 0; i < end; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * The URL last looked up, with its path's hashes and template as far as they were needed: the
 * room asks two memories (listings, takedowns) about each URL, and the second reads them from
 * here. Known by the URL object (a pointer comparison: comparing the path strings themselves
 * went to the runtime whenever two paths had the same length) and its path, so a URL whose path
 * was changed is looked up afresh.
 */
const lookup = {
  url: null as NormalisedUrl | null,
  path: '',
  prefixHash: 0,
  hash: undefined as number | undefined,
  template: undefined as string | null | undefined,
};

function lookingUp(url: NormalisedUrl) {
  if (url !== lookup.url || url.path !== lookup.path) {
    lookup.url = url;
    lookup.path = url.path;
    lookup.prefixHash = pathTemplateHash(url.path, PREFIX_CHARS);
    lookup.hash = undefined;
    lookup.template = undefined;
  }
  return lookup;
}

/**
 * A set of prefix hashes as a bitmap indexed by their low bits: one load and no boxing per URL
 * (a Set of uint32 hashes boxes half of them). A false positive only costs the second test.
 */
class PrefixFilter {
  private bits: Int32Array;
  private mask: number;
  constructor(count: number) {
    // About 16 bits per hash: a few percent of false positives.
    let size = 4096;
    while (size < count * 16) size *= 2;
    this.bits = new Int32Array(size >>> 5);
    this.mask = size - 1;
  }
  /** Whether the filter is too small for this many hashes (then it is rebuilt larger). */
  full(count: number): boolean {
    return count * 16 > this.mask + 1;
  }
  add(hash: number): void {
    const bit = hash & this.mask;
    this.bits[bit >>> 5]! |= 1 << (bit & 31);
  }
  has(hash: number): boolean {
    const bit = hash & this.mask;
    return (this.bits[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }
}

/**
 * Makes room in a full memory (key -> member -> when it was last learnt, ms): the members learnt
 * before `cutoff` go, and a key left with none; still full, the oldest keys go (a Map keeps
 * insertion order). The kit paths' and the registered domains' memories (domain-ties.ts) share it.
 */
export function makeRoom(entries: Map<string, Map<string, number>>, cutoff: number, max: number): void {
  for (const [key, members] of entries) {
    for (const [member, learnt] of members) if (learnt < cutoff) members.delete(member);
    if (members.size === 0) entries.delete(key);
  }
  for (const oldest of entries.keys()) {
    if (entries.size < max) break;
    entries.delete(oldest);
  }
}

export function createKitPathMemory(options: KitPathOptions = DEFAULT_KIT_PATHS): KitPathMemory {
  const windowMs = options.windowDays * DAY_MS;
  const commonWords = options.commonWords ?? COMMON_WORDS;
  const templateOf = (url: NormalisedUrl) => kitPathTemplate(url, commonWords);
  /** template -> registered domain (or host) -> when it was last listed, ms. */
  const paths = new Map<string, Map<string, number>>();
  /**
   * pathTemplateHash of every remembered template's first PREFIX_CHARS and HASHED_CHARS
   * characters (rebuilt when paths are forgotten or the filter fills).
   */
  let prefixes = new PrefixFilter(0);
  /** As int32 (`| 0`): a Set looks a small integer up faster than a uint32 it has to box. */
  let hashes = new Set<number>();
  const domainOf = (url: NormalisedUrl) => url.registrableDomain ?? url.host;

  const rehash = () => {
    prefixes = new PrefixFilter(paths.size);
    hashes = new Set();
    for (const template of paths.keys()) {
      prefixes.add(hashString(template, PREFIX_CHARS));
      hashes.add(hashString(template) | 0);
    }
  };

  const listedOn = (url: NormalisedUrl, at: Date) => {
    // Only kit templates are ever remembered, so the lookup needs no word check; and a path
    // whose template's hashes are no remembered one's is no kit, without building the template.
    const looked = lookingUp(url);
    if (!prefixes.has(looked.prefixHash)) return null;
    if (looked.hash === undefined) looked.hash = pathTemplateHash(url.path) | 0;
    if (!hashes.has(looked.hash)) return null;
    if (looked.template === undefined) looked.template = pathTemplate(url.path);
    const template = looked.template;
    if (template === null) return null;
    const domains = paths.get(template);
    if (!domains) return null;
    const now = at.getTime();
    const own = domainOf(url);
    const others: string[] = [];
    // Listed within the window before `at`: a listing from the future says nothing yet.
    for (const [domain, listed] of domains)
      if (domain !== own && listed <= now && now - listed <= windowMs) others.push(domain);
    return { template, domains: others };
  };

  return {
    learn(url, listedAt) {
      const template = templateOf(url);
      if (template === null) return;
      const at = listedAt.getTime();
      if (!Number.isFinite(at)) return;
      let domains = paths.get(template);
      if (!domains) {
        if (paths.size >= options.maxPaths) {
          makeRoom(paths, at - windowMs, options.maxPaths);
          rehash();
        }
        paths.set(template, (domains = new Map()));
        if (prefixes.full(paths.size)) rehash();
        else {
          prefixes.add(hashString(template, PREFIX_CHARS));
          hashes.add(hashString(template) | 0);
        }
      }
      const domain = domainOf(url);
      domains.set(domain, Math.max(domains.get(domain) ?? at, at));
    },
    match(url, at) {
      const listed = listedOn(url, at);
      return listed && listed.domains.length >= options.minDomains
        ? { template: listed.template, domains: listed.domains.length, basis: 'confirmed' as const }
        : null;
    },
    listedOn,
    mayList: (url) => paths.size > 0 && prefixes.has(lookingUp(url).prefixHash),
    clear() {
      paths.clear();
      rehash();
    },
    get size() {
      return paths.size;
    },
  };
}

/**
 * The kit of this URL's path as several memories hold it together (the room's listings and its
 * takedown confirmations, then its own verdicts): a domain two of them listed counts once. The
 * confirmed memories are asked first; the judged ones only add what they lack, so a tie the
 * confirmed ones make alone is never marked judged.
 */
export function matchAcross(
  memories: readonly KitPathMemory[],
  url: NormalisedUrl,
  at: Date,
  minDomains: number,
  judged: readonly KitPathMemory[] = NO_MEMORIES,
): KitPathMatch | null {
  // Every scored URL asks: nothing is allocated unless a memory remembers the URL's template,
  // and the path is hashed once for all of them (lookingUp).
  const confirmed = joinListed(memories, url, at, null);
  if (confirmed && domainCount(confirmed) >= minDomains)
    return { template: confirmed.template, domains: domainCount(confirmed), basis: 'confirmed' };
  const found = joinListed(judged, url, at, confirmed);
  return found && domainCount(found) >= minDomains
    ? { template: found.template, domains: domainCount(found), basis: 'judged' }
    : null;
}

/** No memories to ask, without an array per call. */
export const NO_MEMORIES: readonly KitPathMemory[] = [];

/**
 * The other domains memories listed a template on: the first memory's list as it gave it (one
 * memory's domains are distinct already), a set only once a second memory adds its own.
 */
interface Listed {
  template: string;
  first: string[];
  joined: Set<string> | null;
}

const domainCount = (listed: Listed) => (listed.joined === null ? listed.first.length : listed.joined.size);

/** The other domains these memories listed the URL's template on, added to `found`. */
function joinListed(
  memories: readonly KitPathMemory[],
  url: NormalisedUrl,
  at: Date,
  found: Listed | null,
): Listed | null {
  for (let i = 0; i < memories.length; i++) {
    const memory = memories[i]!;
    if (memory.size === 0) continue;
    const listed = memory.listedOn(url, at);
    if (!listed) continue;
    if (found === null) found = { template: listed.template, first: listed.domains, joined: null };
    else {
      found.joined ??= new Set(found.first);
      for (const domain of listed.domains) found.joined.add(domain);
    }
  }
  return found;
}

/** The reason's name: `kit_path` for a confirmed tie, `kit_path_judged` when the room's verdicts were needed. */
const REASON_OF: Record<KitPathBasis, string> = { confirmed: 'kit_path', judged: 'kit_path_judged' };
/**
 * The reason of a registered-domain tie (domain-ties.ts): the room's own verdicts on other hosts
 * of the URL's registered domain, so always judged.
 */
const DOMAIN_REASON = 'domain_judged';
/** The reason of a suffix-path tie (suffix-paths.ts): the room's own verdicts too, so judged. */
const SUFFIX_PATH_REASON = 'suffix_path_judged';

/** `=`, `;`, `,` and parentheses would split a reason key (`feature=contribution;...`): escaped. */
const escapeArgument = (argument: string) =>
  argument.replace(/[=;,()%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A reason key's argument as escapeArgument wrote it, read back (`%3D` is `=`): for explanations and readers. */
export function unescapeArgument(argument: string): string {
  return argument.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export function kitPathReasonKey(template: string, basis: KitPathBasis = 'confirmed'): string {
  return `${REASON_OF[basis]}(${escapeArgument(template)})`;
}

export function domainTieReasonKey(domain: string): string {
  return `${DOMAIN_REASON}(${escapeArgument(domain)})`;
}

export function suffixPathReasonKey(key: string): string {
  return `${SUFFIX_PATH_REASON}(${escapeArgument(key)})`;
}

const logit = (p: number) => {
  const q = Math.min(Math.max(p, 1e-12), 1 - 1e-12);
  return Math.log(q / (1 - q));
};

/**
 * The URL verdict of a URL on a kit's path: malicious, its score raised to the malicious threshold
 * when below it, and the raise listed first among the reasons as `kit_path(template)` or
 * `kit_path_judged(template)` (match.basis; its value
 * the other domains the path was listed on). The host-name verdict stays: a path does not make
 * the whole host the kit's.
 */
export function withKitPath(scored: ScoredUrl, match: KitPathMatch, maliciousThreshold: number): ScoredUrl {
  return withTie(scored, kitPathReasonKey(match.template, match.basis), match.domains, maliciousThreshold);
}

/**
 * The same for a registered-domain tie: `domain_judged(domain)`, its value the other hosts of the
 * domain the room judged.
 */
export function withDomainTie(
  scored: ScoredUrl,
  match: { domain: string; hosts: number },
  maliciousThreshold: number,
): ScoredUrl {
  return withTie(scored, domainTieReasonKey(match.domain), match.hosts, maliciousThreshold);
}

/**
 * The same for a suffix-path tie: `suffix_path_judged(suffix path)`, its value the other
 * registered domains the room judged on it.
 */
export function withSuffixPathTie(
  scored: ScoredUrl,
  match: { key: string; domains: number },
  maliciousThreshold: number,
): ScoredUrl {
  return withTie(scored, suffixPathReasonKey(match.key), match.domains, maliciousThreshold);
}

function withTie(scored: ScoredUrl, feature: string, value: number, maliciousThreshold: number): ScoredUrl {
  if (scored.verdict === 'malicious') return scored;
  const score = Math.max(scored.score, maliciousThreshold);
  return {
    ...scored,
    score,
    verdict: 'malicious',
    reasons: [
      { feature, value, contribution: Number((logit(score) - logit(scored.score)).toFixed(4)) },
      ...scored.reasons,
    ],
  };
}

/**
 * Whether a scored URL's verdict was made malicious by a tie: a kit path (withKitPath lists it
 * first), a registered domain (withDomainTie) or a suffix path (withSuffixPathTie).
 */
export function isKitPathTie(scored: Pick<ScoredUrl, 'reasons'>): boolean {
  return kitPathTieBasis(scored) !== null;
}

/**
 * What a tie stood on (the first reason, named by REASON_OF, DOMAIN_REASON or SUFFIX_PATH_REASON), or null for no
 * tie: what the store keeps in `kit_tie`, so a tie's raise never teaches (scoreBeforeTie).
 */
export function kitPathTieBasis(scored: Pick<ScoredUrl, 'reasons'>): KitPathBasis | null {
  const first = scored.reasons[0]?.feature;
  if (first?.startsWith(`${REASON_OF.confirmed}(`)) return 'confirmed';
  if (
    first?.startsWith(`${REASON_OF.judged}(`) ||
    first?.startsWith(`${DOMAIN_REASON}(`) ||
    first?.startsWith(`${SUFFIX_PATH_REASON}(`)
  )
    return 'judged';
  return null;
}

/**
 * The scorer's own score of a URL, before a tie raised it (withTie lists the raise first, as a
 * log-odds contribution kept to 4 decimals): what a stored tied URL teaches by.
 */
export function scoreBeforeTie(scored: Pick<ScoredUrl, 'score' | 'reasons'>): number {
  if (!isKitPathTie(scored)) return scored.score;
  const own = logit(scored.score) - scored.reasons[0]!.contribution;
  return 1 / (1 + Math.exp(-own));
}

/** Whether the tie was a registered domain's (withDomainTie), not a kit path's. */
export function isDomainTie(scored: Pick<ScoredUrl, 'reasons'>): boolean {
  return scored.reasons[0]?.feature.startsWith(`${DOMAIN_REASON}(`) === true;
}

/** Whether the tie was a suffix path's (withSuffixPathTie). */
export function isSuffixPathTie(scored: Pick<ScoredUrl, 'reasons'>): boolean {
  return scored.reasons[0]?.feature.startsWith(`${SUFFIX_PATH_REASON}(`) === true;
}

/** The suffix path (`duckdns.org /select`) a suffix-path tie stood on, as its reason names it; null for any other. */
export function suffixPathOfTie(scored: Pick<ScoredUrl, 'reasons'>): string | null {
  if (!isSuffixPathTie(scored)) return null;
  const feature = scored.reasons[0]!.feature;
  return unescapeArgument(feature.slice(SUFFIX_PATH_REASON.length + 1, -1));
}

/**
 * The room's own verdicts as kit-path evidence (`kitPaths.ownVerdicts`), in one place for the
 * room and the benchmarks that replay it. One floor serves both ways: the model's `judgedLift`
 * (above all but 2e-3 of the tuning benign rows; `suspicious` when the model has none).
 */
export function judgedFloor(thresholds: Pick<Thresholds, 'suspicious' | 'judgedLift'>): number {
  return thresholds.judgedLift ?? thresholds.suspicious;
}

/**
 * A URL the scorer itself scores near suspicious or worse (at the floor) teaches, never a tie's
 * raise (the room passes the verdict before its ties; a stored tie, scoreBeforeTie). Near
 * suspicious, not only suspicious: most kit hosts the room missed scored just under suspicious,
 * and a tie still needs two other domains on the same rare path.
 */
export function teachesAsJudged(
  scored: Pick<ScoredUrl, 'verdict' | 'score' | 'reasons'>,
  thresholds: Pick<Thresholds, 'suspicious' | 'judgedLift'>,
): boolean {
  return (scored.verdict !== 'benign' || scored.score >= judgedFloor(thresholds)) && !isKitPathTie(scored);
}

/**
 * …and such evidence lifts only a URL the scorer already finds near suspicious (at the same
 * floor), never a plainly benign-looking one.
 */
export function liftableByJudged(
  scored: Pick<ScoredUrl, 'verdict' | 'score'>,
  thresholds: Pick<Thresholds, 'suspicious' | 'judgedLift'>,
): boolean {
  return scored.verdict !== 'malicious' && scored.score >= judgedFloor(thresholds);
}

/**
 * Benign-looking domains a judged kit path may be seen on per domain named on it before the room
 * stops trusting its own word for it. Kits have many: a fold-B kit's hosts were mostly scored
 * benign, and 4 cost 4 points of a month's recall there, 8 none on fold A and 0.2 mean on B
 * (bench/web/README.md).
 */
export const UNJUDGED_PER_JUDGED = 8;

/**
 * …and a tie on them holds only while the room saw the path on fewer than UNJUDGED_PER_JUDGED
 * benign-looking domains per domain named on it (`countsAsUnjudged`, learnt once the path is
 * judged, and read back from the store at start). A vendor's path on thousands of sites, two of
 * them misjudged, is no kit. Asked of a judged tie only: a confirmed source's word stands.
 */
export function outnumbersUnjudged(match: Pick<KitPathMatch, 'domains'>, unjudgedDomains: number): boolean {
  return unjudgedDomains < UNJUDGED_PER_JUDGED * match.domains;
}

/**
 * A URL the room saw that counts against a judged tie on its path (outnumbersUnjudged): one the
 * scorer finds plainly benign-looking, below the floor, after every tie.
 */
export function countsAsUnjudged(
  scored: Pick<ScoredUrl, 'verdict' | 'score'>,
  thresholds: Pick<Thresholds, 'suspicious' | 'judgedLift'>,
): boolean {
  return scored.verdict === 'benign' && scored.score < judgedFloor(thresholds);
}
