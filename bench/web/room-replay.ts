/**
 * The room itself over the evaluation months, the check on the own-verdict replays
 * (kit-replay.ts, domain-replay.ts): a new room (the shipped model, `web.kitPaths` as shipped:
 * its own verdicts, no confirmed source; a SQLite store in memory) sees the benign rows at the
 * period's start, then each month's listings in the list's order (time, then place) as one
 * `proxy-log` source, the way `web ingest` reads a file, then the benign rows again at the
 * month's end. A phishing host counts caught when its first URL's verdict was malicious as it was
 * ingested; a benign row counts flagged when any of its verdicts was.
 */
import { Registry } from 'prom-client';
import { silentLogger } from '../../src/core/index.ts';
import {
  createWeb,
  WebConfig,
  type FittedModel,
  type NormalisedUrl,
  type ScoredUrl,
} from '../../src/web/index.ts';
import { webMemoryDb } from '../../src/web/testing.ts';
import type { Listing } from './data.ts';
import { byListing } from './kit-replay.ts';

export interface RoomReplay {
  /** Per phishing host (the order given): its first URL's verdict was malicious. */
  phishingCaught: boolean[];
  /** Per benign URL (the order given): one of its verdicts was malicious. */
  benignFlagged: boolean[];
}

export async function replayInRoom(
  /** The months read, oldest first, each with its file's listings. */
  months: readonly { month: string; listings: readonly Listing[] }[],
  /** Each host's first listing: the row its verdict is read at. */
  phishing: readonly { row?: number }[],
  benign: readonly NormalisedUrl[],
  model?: FittedModel,
): Promise<RoomReplay> {
  const db = await webMemoryDb();
  try {
    const web = createWeb(WebConfig.parse({}), {
      logger: silentLogger(),
      registry: new Registry(),
      db,
      ...(model ? { model } : {}),
    });
    /** Ingests `urls` as one source, handing each one's verdict to `verdict` in their order. */
    const ingest = async (
      urls: readonly string[],
      at: (i: number) => string,
      source: string,
      verdict: (i: number, scored: ScoredUrl) => void,
    ) => {
      let i = 0;
      const result = await web.ingest(
        urls.map((url, j) => ({ url, seenAt: at(j) })),
        source,
        (batch) => {
          for (const scored of batch) verdict(i++, scored);
        },
      );
      // A row skipped as bad would shift every verdict after it onto the wrong row.
      if (result.bad > 0) throw new Error(`the room skipped ${result.bad} rows of ${source}`);
    };
    const benignFlagged = new Array<boolean>(benign.length).fill(false);
    const seeBenign = (at: Date) =>
      ingest(
        benign.map((url) => url.url),
        () => at.toISOString(),
        'benign-seen',
        (i, scored) => {
          if (scored.verdict === 'malicious') benignFlagged[i] = true;
        },
      );
    const verdictOfRow = new Map<number, ScoredUrl>();
    await seeBenign(monthStart(months[0]!.month));
    for (const { month, listings } of months) {
      const rows = [...listings].sort(byListing);
      await ingest(
        rows.map((l) => l.url.url),
        (i) => rows[i]!.seenAt,
        'proxy-log',
        (i, scored) => verdictOfRow.set(rows[i]!.row ?? -1, scored),
      );
      await seeBenign(new Date(monthStart(nextMonth(month)).getTime() - 1));
    }
    return {
      phishingCaught: phishing.map((h) => verdictOfRow.get(h.row ?? -1)?.verdict === 'malicious'),
      benignFlagged,
    };
  } finally {
    await db.destroy();
  }
}

/** A month's first moment in Japan, the list's own calendar. */
const monthStart = (month: string) => new Date(`${month}-01T00:00:00+09:00`);
function nextMonth(month: string): string {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${year + 1}-01` : `${year}-${String(m + 1).padStart(2, '0')}`;
}
