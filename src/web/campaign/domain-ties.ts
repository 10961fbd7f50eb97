/**
 * Registered-domain ties: a throw-away domain often carries one phishing host after another
 * (`www.amazon.co.jp.zqvmk.cn`, then `smbc-card.zqvmk.cn` a week later), each listed apart. So
 * a host the room has not judged yet, under a registered domain on whose OTHER hosts the room's
 * own verdicts stood near suspicious or worse within the window, is that domain's next one.
 *
 * The evidence is the room's own (kit-path-intake.ts asks this memory only with
 * `kitPaths.ownVerdicts`), and the hosts are one registrant's, so it is held to more than a judged
 * kit path (two other domains on a rare path, taught from the judgedLift floor up):
 *
 * - DOMAIN_MIN_HOSTS (2) other hosts judged, not one: an honest organisation's hosts on a TLD the
 *   model finds risky (`english.news.cn`, `m.weibo.cn`, a news site's language subdomains) are
 *   misjudged one at a time, and one must not lift the rest;
 * - never the domain's own site (its apex or `www`): a misjudged subdomain must not take the
 *   organisation's main site with it, and a throw-away domain's phishing is on its other names;
 * - only a URL the scorer judged suspicious or worse names its domain (teachesDomain): two benign
 *   sites of one domain that both merely score near suspicious (numbered regional subdomains on
 *   .ru) must not lift each other;
 * - it lifts only a URL the scorer already scores near suspicious (liftableByJudged);
 * - and only while the room saw fewer than UNJUDGED_PER_JUDGED hosts scored benign per judged one
 *   under the domain: a platform the public suffix list does not know (a hosting company's
 *   customer names under its own domain) is no attacker's domain.
 *
 * The registered domain is tldts's with private suffixes, so `*.pages.dev` sites are each their
 * own domain already.
 */
import type { NormalisedUrl, ScoredUrl } from '../types.ts';
import { isKitPathTie, makeRoom, outnumbersUnjudged } from './kit-paths.ts';

/** A URL that names its registered domain: judged suspicious or worse by the scorer itself, not by a tie. */
export function teachesDomain(scored: Pick<ScoredUrl, 'verdict' | 'reasons'>): boolean {
  return scored.verdict !== 'benign' && !isKitPathTie(scored);
}

export interface DomainTieOptions {
  /** How long a verdict counts, days (the kit paths' window). */
  windowDays: number;
  /** Registered domains remembered at most; past it, those not judged within the window go first. */
  maxDomains: number;
}

/**
 * A memory of who was judged under a key within the window: the registered-domain ties' (key a
 * registered domain, members its sites) and the suffix-path ties' (suffix-paths.ts: key a risky
 * suffix and a path, members registered domains).
 */
export interface TieMemory {
  /** A URL the room judged (or, for the guard's count, saw benign), at the time it saw it. */
  learn(url: NormalisedUrl, at: Date): void;
  /**
   * The other members under this URL's key learnt within the window before `at`, however few;
   * null for a URL without a key or a key not remembered.
   */
  listedOn(url: NormalisedUrl, at: Date): { key: string; members: string[] } | null;
  clear(): void;
  /** Keys remembered. */
  readonly size: number;
}

/** The registered-domain ties' memory: key a URL's registered domain, members its sites (siteOf). */
export type DomainMemory = TieMemory;

/** How a TieMemory keys a URL (null: no key) and names it among the key's members. */
export interface TieKeys {
  keyOf(url: NormalisedUrl): string | null;
  memberOf(url: NormalisedUrl): string;
}

const REGISTERED_DOMAIN: TieKeys = {
  keyOf: (url) => url.registrableDomain,
  memberOf: (url) => siteOf(url.host),
};

const DAY_MS = 86_400_000;

/** Other hosts of the registered domain that must have been judged (see the header). */
export const DOMAIN_MIN_HOSTS = 2;

/**
 * The domain tie of a URL, in one place for the room and the benchmark that replays it: the
 * other hosts of its registered domain `judged` holds within the window, when there are
 * DOMAIN_MIN_HOSTS or more and they outnumber the hosts `seenBenign` holds under it (a hosting
 * company's own domain is none); never for the domain's own site.
 */
export function domainTieOf(
  judged: DomainMemory,
  seenBenign: DomainMemory,
  url: NormalisedUrl,
  at: Date,
): { domain: string; hosts: number } | null {
  // Never the domain's own site: a misjudged host of an honest organisation (`english.news.cn`)
  // must not take its main site (`www.news.cn`) with it; a throw-away domain's phishing hosts are
  // its other names.
  if (url.registrableDomain === null || siteOf(url.host) === url.registrableDomain) return null;
  const tie = tieOf(judged, seenBenign, url, at, DOMAIN_MIN_HOSTS);
  return tie && { domain: tie.key, hosts: tie.members };
}

/**
 * The one rule of a TieMemory's tie: at least `minMembers` other members `judged` holds under the
 * URL's key within the window, outnumbering those `seenBenign` holds there (outnumbersUnjudged).
 */
export function tieOf(
  judged: TieMemory,
  seenBenign: TieMemory,
  url: NormalisedUrl,
  at: Date,
  minMembers: number,
): { key: string; members: number } | null {
  const named = judged.listedOn(url, at);
  if (!named || named.members.length < minMembers) return null;
  const benign = seenBenign.listedOn(url, at)?.members.length ?? 0;
  return outnumbersUnjudged({ domains: named.members.length }, benign)
    ? { key: named.key, members: named.members.length }
    : null;
}

/** A host as a site: `www.example.cn` is `example.cn`'s conventional alias, not another host. */
export function siteOf(host: string): string {
  return host.startsWith('www.') ? host.slice(4) : host;
}

export function createDomainMemory(options: DomainTieOptions): DomainMemory {
  return createTieMemory({ windowDays: options.windowDays, maxKeys: options.maxDomains }, REGISTERED_DOMAIN);
}

export function createTieMemory(options: { windowDays: number; maxKeys: number }, keys: TieKeys): TieMemory {
  const windowMs = options.windowDays * DAY_MS;
  /** key -> member -> when it was last learnt, ms. */
  const entries = new Map<string, Map<string, number>>();

  return {
    learn(url, at) {
      const key = keys.keyOf(url);
      const time = at.getTime();
      if (key === null || !Number.isFinite(time)) return;
      let members = entries.get(key);
      if (!members) {
        if (entries.size >= options.maxKeys) makeRoom(entries, time - windowMs, options.maxKeys);
        entries.set(key, (members = new Map()));
      }
      const member = keys.memberOf(url);
      members.set(member, Math.max(members.get(member) ?? time, time));
    },
    listedOn(url, at) {
      const key = keys.keyOf(url);
      const members = key === null ? undefined : entries.get(key);
      if (!members) return null;
      const now = at.getTime();
      const own = keys.memberOf(url);
      const others: string[] = [];
      // Learnt within the window before `at`: a verdict from the future says nothing yet.
      for (const [member, learnt] of members)
        if (member !== own && learnt <= now && now - learnt <= windowMs) others.push(member);
      return { key: key!, members: others };
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
