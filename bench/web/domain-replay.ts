/**
 * The room's registered-domain ties (src/web/campaign/domain-ties.ts) replayed over the listings
 * its own verdicts teach, URL by URL in time order as the room learns them (kit-replay.ts's
 * `earlier-times`):
 *
 * - a phishing host is judged at the time its first URL was listed, by every taught row listed
 *   strictly before it (its own host never counts: the memory names other hosts only);
 * - a benign URL is flagged when, at ANY moment of the period read, the memory as it stood then
 *   would have tied it: checked at the period's start and again after every taught row of its
 *   registered domain (the memory only gains hosts then);
 * - the room's guard counts as the room does: a URL scored benign-looking (`unjudged`) counts
 *   against its domain once the domain is named, and the tie holds while the named hosts
 *   outnumber those (outnumbersUnjudged).
 *
 * What it adds is the tie alone; the benchmark ORs it with the URL verdict and the kit paths, for
 * a URL the scorer scores near suspicious (liftableByJudged), as the room does.
 */
import { createDomainMemory, domainTieOf, type NormalisedUrl } from '../../src/web/index.ts';
import type { Listing } from './data.ts';

export interface DomainReplay {
  /** Per judged phishing host (the order given): whether the memory tied it to a judged domain. */
  phishingTied: boolean[];
  /** Per benign URL (the order given): whether the memory would have tied it at some moment. */
  benignTied: boolean[];
  /** Registered domains the memory held at the end. */
  domains: number;
}

export function replayDomainTies(
  taught: readonly Listing[],
  phishing: readonly { url: NormalisedUrl; seenAt: string }[],
  benign: readonly NormalisedUrl[],
  period: { from: string },
  options: { windowDays: number; maxDomains: number },
  unjudged: readonly Listing[] = [],
): DomainReplay {
  const memory = createDomainMemory(options);
  const against = createDomainMemory(options);
  const ordered = [
    ...taught.map((listing) => ({ ...listing, against: false })),
    ...unjudged.map((listing) => ({ ...listing, against: true })),
  ].sort((a, b) => Date.parse(a.seenAt) - Date.parse(b.seenAt));
  const tiedAt = (url: NormalisedUrl, at: Date) => domainTieOf(memory, against, url, at) !== null;
  const benignByDomain = new Map<string, number[]>();
  benign.forEach((url, i) => {
    if (url.registrableDomain === null) return;
    const list = benignByDomain.get(url.registrableDomain) ?? [];
    list.push(i);
    benignByDomain.set(url.registrableDomain, list);
  });
  const benignTied = new Array<boolean>(benign.length).fill(false);
  const checkBenign = (indices: readonly number[], at: Date) => {
    for (const i of indices) if (!benignTied[i] && tiedAt(benign[i]!, at)) benignTied[i] = true;
  };
  const periodStart = Date.parse(`${period.from}T00:00:00+09:00`);
  let startChecked = false;
  let next = 0;
  const learnBefore = (time: number) => {
    while (next < ordered.length && Date.parse(ordered[next]!.seenAt) < time) {
      const listing = ordered[next++]!;
      const at = new Date(listing.seenAt);
      if (listing.against) {
        if (memory.listedOn(listing.url, at) !== null) against.learn(listing.url, at);
        continue;
      }
      if (!startChecked && at.getTime() >= periodStart) {
        for (const indices of benignByDomain.values()) checkBenign(indices, new Date(periodStart));
        startChecked = true;
      }
      memory.learn(listing.url, at);
      const domain = listing.url.registrableDomain;
      if (domain !== null && at.getTime() >= periodStart) checkBenign(benignByDomain.get(domain) ?? [], at);
    }
  };
  const phishingTied = new Array<boolean>(phishing.length).fill(false);
  const judged = phishing
    .map((p, index) => ({ ...p, index, at: Date.parse(p.seenAt) }))
    .sort((a, b) => a.at - b.at);
  for (const host of judged) {
    learnBefore(host.at);
    phishingTied[host.index] = tiedAt(host.url, new Date(host.at));
  }
  learnBefore(Number.POSITIVE_INFINITY);
  if (!startChecked)
    for (const indices of benignByDomain.values()) checkBenign(indices, new Date(periodStart));
  return { phishingTied, benignTied, domains: memory.size };
}
