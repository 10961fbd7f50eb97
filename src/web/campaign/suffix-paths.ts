/**
 * Suffix-path ties: a campaign that registers one throw-away name after another often keeps one
 * path of plain words on them all (`/select` on name after name of duckdns.org, `/jp/` on
 * .tokyo names). A plain word is no kit path (kit-paths.ts wants a word of the kit's own), but
 * together with a suffix the fitted model found riskier than even it is a campaign's mark.
 *
 * So a URL the scorer already scores near suspicious (liftableByJudged) is made malicious
 * (`suffix_path_judged(suffix path)`) when the room's own verdicts judged suspicious or worse
 * (teachesDomain) SUFFIX_PATH_MIN_DOMAINS other registered domains under the same suffix and path
 * within the window, while those outnumber the domains it scored benign there
 * (outnumbersUnjudged). Held to more than a kit path, whose words are rare already:
 *
 * - named by a suspicious verdict or worse, not from the floor: honest `.org` sites with a `/jp/`
 *   page score near suspicious, and three of them must not lift a fourth;
 * - three other domains, not two;
 * - only a suffix whose fitted risk is above even (`.tokyo`, `duckdns.org`, not `.com` or
 *   `.jp`, where `/jp/` is a thousand honest sites' language page);
 * - never the top page: `/` is every site's.
 *
 * Chosen on the forward check's tuning folds only (bench/web/README.md).
 */
import type { RiskTables } from '../score/features.ts';
import type { NormalisedUrl } from '../types.ts';
import { createTieMemory, tieOf, type TieMemory } from './domain-ties.ts';
import { pathTemplate } from './kit-paths.ts';

/** Other registered domains a suffix path must have been judged on. */
export const SUFFIX_PATH_MIN_DOMAINS = 3;

/** The fitted log-odds of a URL's suffix: its platform's when the suffix is a private one, else its TLD's. */
export type SuffixRisk = (url: NormalisedUrl) => number;

export function suffixRiskOf(
  risk: Pick<RiskTables, 'tld' | 'platform' | 'unseenTld' | 'unseenPlatform'>,
): SuffixRisk {
  const tlds = new Map(Object.entries(risk.tld));
  const platforms = new Map(Object.entries(risk.platform));
  return (url) =>
    url.privateSuffix
      ? (platforms.get(url.publicSuffix) ?? risk.unseenPlatform)
      : (tlds.get(url.publicSuffix) ?? risk.unseenTld);
}

/**
 * The key of a URL's suffix path (`duckdns.org /select`), or null: no registered domain (an
 * address), the top page, or a suffix not riskier than even.
 */
export function suffixPathKey(url: NormalisedUrl, suffixRisk: SuffixRisk): string | null {
  if (url.registrableDomain === null || !(suffixRisk(url) > 0)) return null;
  const template = pathTemplate(url.path);
  return template === null ? null : `${url.publicSuffix} ${template}`;
}

export interface SuffixPathOptions {
  /** How long a verdict counts, days (the kit paths' window). */
  windowDays: number;
  /** Suffix paths remembered at most; past it, those not judged within the window go first. */
  maxPaths: number;
}

/** Key a URL's suffix path, members the registered domains judged (or seen benign) on it. */
export function createSuffixPathMemory(options: SuffixPathOptions, suffixRisk: SuffixRisk): TieMemory {
  return createTieMemory(
    { windowDays: options.windowDays, maxKeys: options.maxPaths },
    { keyOf: (url) => suffixPathKey(url, suffixRisk), memberOf: (url) => url.registrableDomain ?? url.host },
  );
}

/**
 * The suffix-path tie of a URL, in one place for the room and the benchmark that replays it: the
 * other registered domains `judged` holds on its suffix path within the window, when they are at
 * least SUFFIX_PATH_MIN_DOMAINS and outnumber the ones `seenBenign` holds there.
 */
export function suffixPathTieOf(
  judged: TieMemory,
  seenBenign: TieMemory,
  url: NormalisedUrl,
  at: Date,
): { key: string; domains: number } | null {
  const tie = tieOf(judged, seenBenign, url, at, SUFFIX_PATH_MIN_DOMAINS);
  return tie && { key: tie.key, domains: tie.members };
}
