/**
 * The room's registered-domain ties (src/web/campaign/domain-ties.ts) and suffix-path ties
 * (suffix-paths.ts) replayed over the listings its own verdicts teach, URL by URL as the room
 * learns them (kit-replay.ts's `earlier-rows`, or with `byRow` false its `earlier-times`):
 *
 * - a phishing host is judged at the time its first URL was listed, by every taught row before
 *   its own in the list's order (`byRow`: its time, then its place in the list; else strictly
 *   earlier times only); its own host never counts: the memory names others only;
 * - a benign URL is flagged when, at ANY moment of the period read, the memory as it stood then
 *   would have tied it: checked at the period's start and again after every taught row of its
 *   key, registered domain or suffix path (the memory only gains members then);
 * - the room's guard counts as the room does: a URL scored benign-looking (`unjudged`) counts
 *   against its key once the key is named, and the tie holds while the named members
 *   outnumber those (outnumbersUnjudged).
 *
 * What it adds is the tie alone; the benchmark ORs it with the URL verdict and the kit paths, for
 * a URL the scorer scores near suspicious (liftableByJudged), as the room does.
 */
import {
  createDomainMemory,
  createSuffixPathMemory,
  domainTieOf,
  suffixPathKey,
  suffixPathTieOf,
  type NormalisedUrl,
  type SuffixRisk,
  type TieMemory,
} from '../../src/web/index.ts';
import type { Listing } from './data.ts';
import { byListing, listedBefore, type ListedAt } from './kit-replay.ts';

export interface DomainReplay {
  /** Per judged phishing host (the order given): whether the memory tied it. */
  phishingTied: boolean[];
  /** Per benign URL (the order given): whether the memory would have tied it at some moment. */
  benignTied: boolean[];
  /** Keys (registered domains, suffix paths) the memory held at the end. */
  domains: number;
}

export function replayDomainTies(
  taught: readonly Listing[],
  phishing: readonly ({ url: NormalisedUrl } & ListedAt)[],
  benign: readonly NormalisedUrl[],
  period: { from: string },
  options: { windowDays: number; maxDomains: number },
  unjudged: readonly Listing[] = [],
  byRow = false,
): DomainReplay {
  return replayTies(taught, phishing, benign, period, unjudged, byRow, {
    memory: () => createDomainMemory(options),
    keyOf: (url) => url.registrableDomain,
    tied: (judged, against, url, at) => domainTieOf(judged, against, url, at) !== null,
  });
}

/** The room's suffix-path ties (src/web/campaign/suffix-paths.ts), replayed as the domain ties are. */
export function replaySuffixPathTies(
  taught: readonly Listing[],
  phishing: readonly ({ url: NormalisedUrl } & ListedAt)[],
  benign: readonly NormalisedUrl[],
  period: { from: string },
  options: { windowDays: number; maxPaths: number },
  suffixRisk: SuffixRisk,
  unjudged: readonly Listing[] = [],
  byRow = false,
): DomainReplay {
  return replayTies(taught, phishing, benign, period, unjudged, byRow, {
    memory: () => createSuffixPathMemory(options, suffixRisk),
    keyOf: (url) => suffixPathKey(url, suffixRisk),
    tied: (judged, against, url, at) => suffixPathTieOf(judged, against, url, at) !== null,
  });
}

/** One kind of the room's TieMemory ties: its memory, its key, and its rule. */
interface TieKind {
  memory(): TieMemory;
  keyOf(url: NormalisedUrl): string | null;
  tied(judged: TieMemory, against: TieMemory, url: NormalisedUrl, at: Date): boolean;
}

function replayTies(
  taught: readonly Listing[],
  phishing: readonly ({ url: NormalisedUrl } & ListedAt)[],
  benign: readonly NormalisedUrl[],
  period: { from: string },
  unjudged: readonly Listing[],
  byRow: boolean,
  kind: TieKind,
): DomainReplay {
  const memory = kind.memory();
  const against = kind.memory();
  const ordered = [
    ...taught.map((listing) => ({ ...listing, against: false })),
    ...unjudged.map((listing) => ({ ...listing, against: true })),
  ].sort(byListing);
  const tiedAt = (url: NormalisedUrl, at: Date) => kind.tied(memory, against, url, at);
  const benignByKey = new Map<string, number[]>();
  benign.forEach((url, i) => {
    const key = kind.keyOf(url);
    if (key === null) return;
    const list = benignByKey.get(key) ?? [];
    list.push(i);
    benignByKey.set(key, list);
  });
  const benignTied = new Array<boolean>(benign.length).fill(false);
  const checkBenign = (indices: readonly number[], at: Date) => {
    for (const i of indices) if (!benignTied[i] && tiedAt(benign[i]!, at)) benignTied[i] = true;
  };
  const periodStart = Date.parse(`${period.from}T00:00:00+09:00`);
  let startChecked = false;
  let next = 0;
  /** Learns every row before `host`'s (null: every row left). */
  const learnBefore = (host: ListedAt | null) => {
    while (next < ordered.length && (host === null || listedBefore(ordered[next]!, host, byRow))) {
      const listing = ordered[next++]!;
      const at = new Date(listing.seenAt);
      if (listing.against) {
        if (memory.listedOn(listing.url, at) !== null) against.learn(listing.url, at);
        continue;
      }
      if (!startChecked && at.getTime() >= periodStart) {
        for (const indices of benignByKey.values()) checkBenign(indices, new Date(periodStart));
        startChecked = true;
      }
      memory.learn(listing.url, at);
      const key = kind.keyOf(listing.url);
      if (key !== null && at.getTime() >= periodStart) checkBenign(benignByKey.get(key) ?? [], at);
    }
  };
  const phishingTied = new Array<boolean>(phishing.length).fill(false);
  const judged = phishing.map((p, index) => ({ ...p, index })).sort(byListing);
  for (const host of judged) {
    learnBefore(host);
    phishingTied[host.index] = tiedAt(host.url, new Date(host.seenAt));
  }
  learnBefore(null);
  if (!startChecked) for (const indices of benignByKey.values()) checkBenign(indices, new Date(periodStart));
  return { phishingTied, benignTied, domains: memory.size };
}
