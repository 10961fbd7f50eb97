/**
 * The bot list intel hands the detector: every active bot indicator at or above a confidence,
 * loaded once and then kept by the change feed (no polling). A bot leaves the list when it is
 * withdrawn, falls below the confidence, or expires (a timer at the next expiry: expiry is the
 * one change no write announces).
 */
import type { ChangeFeed, IndicatorChange } from './feed.ts';
import type { ListQuery } from './read.ts';
import type { Indicator } from './types.ts';

export interface BotFollowerOptions {
  minConfidence: number;
  /** Changes arriving within this are applied together (one setBots for a burst). */
  coalesceMs?: number;
  /** Most bots followed (the rest are left out, oldest ids first kept). */
  maxBots?: number;
  now?: () => number;
}

export interface BotFollower {
  /** Loads the list, hands it over, and follows changes from then on. */
  start(): Promise<void>;
  stop(): void;
  /** The bots as last handed over. */
  current(): readonly string[];
  /** Hands over the list now if changes are waiting (tests; the timer does it otherwise). */
  flush(): void;
}

interface BotSource {
  /**
   * The bots already in intel; a follower without intel's store (a feed followed over NATS,
   * `followRelayedChanges`) has none and starts from the changes alone.
   */
  list?(query: ListQuery): Promise<{ items: Indicator[]; next?: string }>;
  readonly changes: ChangeFeed;
}

export function followBots(
  intel: BotSource,
  options: BotFollowerOptions,
  onBots: (bots: readonly string[]) => void,
): BotFollower {
  const now = options.now ?? Date.now;
  const maxBots = options.maxBots ?? 1_000_000;
  const coalesceMs = options.coalesceMs ?? 250;
  /** Bot address → when it expires (ms). */
  const bots = new Map<string, number>();
  let handed: readonly string[] = [];
  let pending: NodeJS.Timeout | undefined;
  let expiry: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  const qualifies = (i: Indicator) =>
    i.kind === 'bot' && i.withdrawnAt === null && i.confidence >= options.minConfidence;

  function apply(change: IndicatorChange): void {
    const indicator = change.indicator;
    if (qualifies(indicator)) {
      if (bots.size < maxBots || bots.has(indicator.value))
        bots.set(indicator.value, Date.parse(indicator.expiresAt));
    } else bots.delete(indicator.value);
    schedule();
  }

  function schedule(): void {
    pending ??= setTimeout(flush, coalesceMs);
  }

  function flush(): void {
    if (pending) clearTimeout(pending);
    pending = undefined;
    const t = now();
    let next = Infinity;
    const list: string[] = [];
    for (const [bot, expiresAt] of bots) {
      if (expiresAt <= t) bots.delete(bot);
      else {
        list.push(bot);
        next = Math.min(next, expiresAt);
      }
    }
    handed = list;
    onBots(list);
    if (expiry) clearTimeout(expiry);
    expiry = undefined;
    // setTimeout holds at most 2^31-1 ms; a later expiry is looked at again then.
    if (next !== Infinity && unsubscribe) {
      expiry = setTimeout(flush, Math.min(next - t + 1, 2 ** 31 - 1));
      expiry.unref();
    }
  }

  return {
    async start() {
      // Subscribe first, so a change committed while the list loads is not missed.
      const held: IndicatorChange[] = [];
      let loading = true;
      const subscription = intel.changes.subscribe(
        (change) => {
          if (change.kind === 'sighting.added' || change.indicator.kind !== 'bot') return;
          if (loading) held.push(change);
          else apply(change);
        },
        { kinds: ['indicator.added', 'indicator.updated', 'indicator.withdrawn'] },
      );
      unsubscribe = subscription.unsubscribe;
      let cursor: string | undefined;
      if (intel.list)
        do {
          const page = await intel.list({
            kinds: ['bot'],
            minConfidence: options.minConfidence,
            limit: 1000,
            ...(cursor ? { cursor } : {}),
          });
          for (const i of page.items) bots.set(i.value, Date.parse(i.expiresAt));
          cursor = page.next;
        } while (cursor && bots.size < maxBots);
      loading = false;
      for (const change of held) apply(change);
      flush();
    },
    stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      if (pending) clearTimeout(pending);
      if (expiry) clearTimeout(expiry);
      pending = expiry = undefined;
    },
    current: () => handed,
    flush,
  };
}
