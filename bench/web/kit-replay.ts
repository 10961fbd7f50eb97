/**
 * The kit-path memory (src/web/campaign/kit-paths.ts) replayed over JPCERT/CC's list in time
 * order, as a room fed confirmed listings the day they are confirmed (`web ingest --source jpcert`,
 * or any source in `web.kitPaths.sources`) would hold it; JPCERT/CC's listing times stand in for
 * that feed's (its public repository itself is published in batches, months late):
 *
 * - a phishing host is judged at the time its first URL was listed, by a memory taught every row
 *   listed on EARLIER days (Japan's calendar, the list's own): never its own day's batch, never a
 *   later one;
 * - a benign URL is flagged when, at ANY moment of the period read, the memory as it stood then
 *   would have tied it to a kit: it is checked against the memory once at the period's start and
 *   again after every day whose listings touched its path's template (the memory only gains ties
 *   on those days; the window only takes them away).
 *
 * What the memory adds is the tie alone (`ties`); the benchmark ORs it with the URL verdict.
 */
import {
  createKitPathMemory,
  kitPathTemplate,
  outnumbersUnjudged,
  type KitPathOptions,
  type NormalisedUrl,
} from '../../src/web/index.ts';
import type { Listing } from './data.ts';

const JST_MS = 9 * 3_600_000;
/** The list's day of a time: its date in Japan. */
const dayOf = (iso: string) => new Date(Date.parse(iso) + JST_MS).toISOString().slice(0, 10);

export interface KitReplay {
  /** Per judged phishing host (the order given): whether the memory tied it to a kit. */
  phishingTied: boolean[];
  /** Per benign URL (the order given): whether the memory would have tied it at some moment. */
  benignTied: boolean[];
  /** Kit paths the memory held at the end. */
  paths: number;
}

/**
 * What a judged host's memory holds: every row of EARLIER days (a feed delivered daily); every
 * row listed before the host's own listing time; or every row before the host's own in the list's
 * order (`earlier-rows`: its time, then its place in the list), as the room's own verdicts are
 * learnt: `web ingest` scores a batch one URL after the other and learns each before the next, so
 * a campaign JPCERT/CC listed at one minute teaches its later rows its earlier ones, as it would
 * in a room that met those hosts one by one.
 */
export type KitReplayTeaching = 'earlier-days' | 'earlier-times' | 'earlier-rows';

/** A listing's place in time, and in the list among those of its time (no row: before them). */
export interface ListedAt {
  seenAt: string;
  row?: number;
}

/** Whether `a` came before `b`: by time, or for `earlier-rows` by time and then row. */
export function listedBefore(a: ListedAt, b: ListedAt, byRow: boolean): boolean {
  const at = Date.parse(a.seenAt);
  const bt = Date.parse(b.seenAt);
  return at < bt || (byRow && at === bt && (a.row ?? -1) < (b.row ?? -1));
}

/** Oldest first by time, then row (Array.sort is stable: rows without one keep their order). */
export const byListing = (a: ListedAt, b: ListedAt) =>
  Date.parse(a.seenAt) - Date.parse(b.seenAt) || (a.row ?? -1) - (b.row ?? -1);

export function replayKitPaths(
  listings: readonly Listing[],
  phishing: readonly ({ url: NormalisedUrl } & ListedAt)[],
  benign: readonly NormalisedUrl[],
  period: { from: string; to: string },
  options: KitPathOptions,
  teaching: KitReplayTeaching = 'earlier-days',
  /**
   * URLs the room saw with a benign verdict (the own-verdict replay): each counts against a tie
   * on its path once the memory names the path, as the room counts it (outnumbersUnjudged).
   */
  unjudged: readonly Listing[] = [],
): KitReplay {
  const memory = createKitPathMemory(options);
  const against = createKitPathMemory(options);
  const ordered = [
    ...listings.map((listing) => ({ ...listing, against: false })),
    ...unjudged.map((listing) => ({ ...listing, against: true })),
  ].sort(byListing);
  /** The room's tie: the memory's, while its domains outnumber those seen benign on the path. */
  const tiedAt = (url: NormalisedUrl, at: Date) => {
    const match = memory.match(url, at);
    return match !== null && outnumbersUnjudged(match, against.listedOn(url, at)?.domains.length ?? 0);
  };
  const judged = phishing.map((p, index) => ({ ...p, index, day: dayOf(p.seenAt) })).sort(byListing);
  const phishingTied = new Array<boolean>(phishing.length).fill(false);
  const benignTied = new Array<boolean>(benign.length).fill(false);
  const benignByTemplate = new Map<string, number[]>();
  benign.forEach((url, i) => {
    const template = kitPathTemplate(url, options.commonWords);
    if (template === null) return;
    const list = benignByTemplate.get(template) ?? [];
    list.push(i);
    benignByTemplate.set(template, list);
  });
  const checkBenign = (indices: Iterable<number>, at: Date) => {
    for (const i of indices) if (!benignTied[i] && tiedAt(benign[i]!, at)) benignTied[i] = true;
  };

  let next = 0;
  let startChecked = false;
  /** The day being taught and the templates its listings touched so far. */
  let teachingDay = '';
  const touched = new Set<string>();
  /** The benign URLs on the templates a day touched, checked at its end (the memory gains only then). */
  const closeDay = () => {
    if (teachingDay >= period.from && teachingDay <= period.to) {
      const end = new Date(Date.parse(`${teachingDay}T23:59:59+09:00`));
      for (const template of touched) checkBenign(benignByTemplate.get(template) ?? [], end);
    }
    touched.clear();
    teachingDay = '';
  };
  /** Teaches listings in time order while `before` holds; benign URLs are checked from the period's start on. */
  const learnWhile = (before: (listing: Listing) => boolean) => {
    while (next < ordered.length && before(ordered[next]!)) {
      const listing = ordered[next++]!;
      if (listing.against) {
        // As the room: counted only once its own verdicts name the path.
        const at = new Date(listing.seenAt);
        if (memory.listedOn(listing.url, at) !== null) against.learn(listing.url, at);
        continue;
      }
      const listingDay = dayOf(listing.seenAt);
      if (listingDay !== teachingDay) closeDay();
      teachingDay = listingDay;
      if (!startChecked && listingDay >= period.from) {
        checkBenign([...benignByTemplate.values()].flat(), new Date(`${period.from}T00:00:00+09:00`));
        startChecked = true;
      }
      memory.learn(listing.url, new Date(listing.seenAt));
      const template = kitPathTemplate(listing.url, options.commonWords);
      if (template !== null) touched.add(template);
    }
  };
  /** Teaches every listing of days before `day`. */
  const learnBefore = (day: string) => {
    learnWhile((listing) => dayOf(listing.seenAt) < day);
    if (teachingDay !== '' && teachingDay < day) closeDay();
  };
  for (const host of judged) {
    learnBefore(host.day);
    if (teaching !== 'earlier-days')
      learnWhile((listing) => listedBefore(listing, host, teaching === 'earlier-rows'));
    phishingTied[host.index] = tiedAt(host.url, new Date(host.seenAt));
  }
  // The rest of the period, for the benign URLs.
  const after = new Date(Date.parse(`${period.to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  learnBefore(after);
  closeDay();
  if (!startChecked)
    checkBenign([...benignByTemplate.values()].flat(), new Date(`${period.from}T00:00:00+09:00`));
  return { phishingTied, benignTied, paths: memory.size };
}

/**
 * The same memory taught only what the list had PUBLISHED by each host's listing time
 * (`publishedAt` of a listing, ms; JPCERT/CC's public repository adds months in batches): what a
 * room reading only that repository would have held. Phishing hosts only: this memory at any
 * moment holds a subset of the daily replay's (a listing is published after it is listed), so its
 * benign ties are a subset of that replay's.
 */
export function replayAsPublished(
  listings: readonly Listing[],
  phishing: readonly { url: NormalisedUrl; seenAt: string }[],
  publishedAt: (listing: Listing) => number | undefined,
  options: KitPathOptions,
): boolean[] {
  const memory = createKitPathMemory(options);
  const ordered = listings
    .map((listing) => ({ listing, at: publishedAt(listing) }))
    .filter((l): l is { listing: Listing; at: number } => l.at !== undefined)
    .sort((a, b) => a.at - b.at);
  const judged = phishing
    .map((p, index) => ({ ...p, index }))
    .sort((a, b) => Date.parse(a.seenAt) - Date.parse(b.seenAt));
  const tied = new Array<boolean>(phishing.length).fill(false);
  let next = 0;
  for (const host of judged) {
    const at = Date.parse(host.seenAt);
    while (next < ordered.length && ordered[next]!.at <= at) {
      const { listing } = ordered[next++]!;
      memory.learn(listing.url, new Date(listing.seenAt));
    }
    tied[host.index] = memory.match(host.url, new Date(host.seenAt)) !== null;
  }
  return tied;
}
