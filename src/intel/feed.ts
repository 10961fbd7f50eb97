/**
 * Intel's change feed: what changed, as typed events, for the STIX publisher, the console's live
 * stream and the detector's bot list (none of them polls intel).
 *
 * On one machine, every write this process commits through intel is announced right after its
 * commit, in commit order, to every subscriber, synchronously and exactly once.
 *
 * Writes this process did not announce — another process on the same store (`tsunagi import`
 * beside `tsunagi start`, a second hub replica on PostgreSQL) or a write inside a caller's
 * transaction (a TAXII POST: intel cannot see that commit) — are found by ONE catch-up query,
 * `changedSince(head)`, run every `catchUpMs` and on `kick()`. Writers stamp `modified_at` in
 * commit order under one lock (see commitClock in write.ts), so a head never passes a change
 * committed later. A version already announced here is skipped by its (id, modified_at) key.
 * The catch-up announces indicator states (added/updated/withdrawn), not single sightings.
 *
 * Scaled out on PostgreSQL, every write transaction also sends a notification (`intel_changes`,
 * scoped to the store's schema; PostgreSQL delivers it only on commit), and every process's feed
 * LISTENs and answers it with `kick()`: another replica's write is announced within a round trip,
 * the timer staying as the safety net (a lost listening connection). The notification only
 * removes the catch-up's wait, so it carries nothing.
 *
 * Scaled out over NATS (`start --nats`, `serve --nats`), the changes themselves travel too
 * (relay.ts): every change this process commits goes out on `tsunagi.intel.<kind>`
 * (`indicator.added|updated|withdrawn`, `sighting.added`) as a schema-checked JSON body, and
 * every change another process sent is announced here with `local: false` through `receive()`.
 * So hubs without a shared store hear each other, and a process without the store (a detector
 * worker following the bot list, `followRelayedChanges`) follows the feed with no polling. A
 * version reaching a feed twice (by NATS and by its catch-up on a shared store) is announced
 * once, by its (id, modified_at) key. A write inside a caller's transaction is held
 * (`expectCommit`) until the catch-up finds it committed, then announced, and sent, as this
 * process's own.
 */
import { singleFlight, type Logger } from '../core/index.ts';
import type { Indicator } from './types.ts';

/** A position in intel's commit order: the (modified_at, id) of an indicator version. */
export interface ChangeCursor {
  modifiedAt: string;
  id: string;
}

export type IndicatorChangeKind = 'indicator.added' | 'indicator.updated' | 'indicator.withdrawn';
export type ChangeKind = IndicatorChangeKind | 'sighting.added';

export interface IndicatorChange {
  kind: IndicatorChangeKind;
  /** The indicator as committed (its modifiedAt/id are the change's cursor). */
  indicator: Indicator;
  /** Where a catch-up from this change resumes. */
  cursor: ChangeCursor;
  /** Whether this process wrote it (false: found by the catch-up query). */
  local: boolean;
}

export interface SightingChange {
  kind: 'sighting.added';
  indicatorId: string;
  source: string;
  confidence: number;
  /** When the source saw it (intel's own time when the source gave none). */
  observedAt: string;
  /** The first sighting by this source of this indicator. */
  newSource: boolean;
  /** Whether this process wrote it (false: received from another process over a relay). */
  local: boolean;
}

export type IntelChange = IndicatorChange | SightingChange;
export type ChangeListener = (change: IntelChange) => void;

export interface SubscribeOptions {
  /** Replay every indicator version after this cursor first (a late subscriber catching up). */
  after?: ChangeCursor | null;
  /** Only these kinds (default all). */
  kinds?: readonly ChangeKind[];
}

export interface Subscription {
  /** Resolves once the replay from `after` has been delivered (at once without `after`). */
  readonly ready: Promise<void>;
  unsubscribe(): void;
}

export interface ChangeFeed {
  subscribe(listener: ChangeListener, options?: SubscribeOptions): Subscription;
  /** The newest committed version's cursor (undefined on an empty store): where "from now" starts. */
  head(): Promise<ChangeCursor | undefined>;
  /** Runs the catch-up for changes this process did not announce; returns how many it announced. */
  catchUp(): Promise<number>;
  /** Asks for a catch-up soon (coalesced), e.g. after a write inside a caller's transaction. */
  kick(): void;
  readonly subscribers: number;
}

/** What the feed reads: intel's commit-ordered query. */
export interface ChangeSource {
  changedSince(after: ChangeCursor | undefined, limit: number): Promise<Indicator[]>;
  newest(): Promise<ChangeCursor | undefined>;
}

const PAGE = 1000;
/**
 * Versions remembered to skip their second announcement. A catch-up forgets those it has
 * passed; a feed without one (fed by a relay only) forgets the oldest beyond this many.
 */
const MAX_REMEMBERED = 200_000;

export function cursorOf(indicator: Indicator): ChangeCursor {
  return { modifiedAt: indicator.modifiedAt, id: indicator.id };
}

/** Orders cursors as the (modified_at, id) index does. */
export function compareCursors(a: ChangeCursor, b: ChangeCursor): number {
  if (a.modifiedAt !== b.modifiedAt) return a.modifiedAt < b.modifiedAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The kind of change an indicator version is, seen on its own (for replays and catch-ups). */
export function changeKindOf(indicator: Indicator): IndicatorChangeKind {
  if (indicator.withdrawnAt !== null) return 'indicator.withdrawn';
  return indicator.createdAt === indicator.modifiedAt ? 'indicator.added' : 'indicator.updated';
}

function versionKey(indicator: Indicator): string {
  return `${indicator.modifiedAt}|${indicator.id}`;
}

interface Subscriber {
  listener: ChangeListener;
  kinds: ReadonlySet<ChangeKind> | undefined;
  /** Live changes held while the replay runs, delivered after it. */
  held: IntelChange[] | undefined;
}

export interface InternalChangeFeed extends ChangeFeed {
  /** Announces changes this process committed, in commit order. */
  publish(changes: readonly IntelChange[]): void;
  /**
   * Marks a write of this process's own (in its own transaction) as under way until the returned
   * function is called, after its changes were published or it failed. Its commit reaches the
   * store a few promise hops before `publish`; a catch-up that read it in between waits for it,
   * so the version is announced once, as this process's own.
   */
  writing(): () => void;
  /**
   * Announces a change another process committed and sent over a relay (relay.ts); false when
   * this feed had already announced that version (by its catch-up, or an earlier message).
   */
  receive(change: IntelChange): boolean;
  /**
   * Changes this process wrote inside a caller's transaction: the catch-up (asked for now)
   * announces each as this process's own once it finds it committed, with its sightings.
   */
  expectCommit(changes: readonly IntelChange[]): void;
  /**
   * Starts the catch-up: every `catchUpMs` (0: no timer) and, given `listen` (PostgreSQL's
   * notifications of committed writes), as soon as any process commits one.
   */
  start(catchUpMs: number, listen?: (onNotify: () => void) => Promise<() => Promise<void>>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The feed's subscribers: each change delivered to every one, a subscriber that asked for a replay
 * held back until its replay from the store has caught up.
 */
function createFanOut(source: ChangeSource, logger: Logger) {
  const subscribers = new Set<Subscriber>();

  function deliver(subscriber: Subscriber, change: IntelChange): void {
    if (subscriber.kinds && !subscriber.kinds.has(change.kind)) return;
    try {
      subscriber.listener(change);
    } catch (error) {
      // One subscriber's failure is its own: the others still get the change.
      logger.error({ err: error, change: change.kind }, 'intel change subscriber failed');
    }
  }

  function emit(change: IntelChange): void {
    for (const subscriber of subscribers) {
      if (subscriber.held) subscriber.held.push(change);
      else deliver(subscriber, change);
    }
  }

  async function replay(subscriber: Subscriber, after: ChangeCursor | null): Promise<void> {
    let cursor = after ?? undefined;
    for (;;) {
      const page = await source.changedSince(cursor, PAGE);
      for (const indicator of page) {
        if (!subscribers.has(subscriber)) return;
        deliver(subscriber, {
          kind: changeKindOf(indicator),
          indicator,
          cursor: cursorOf(indicator),
          local: false,
        });
      }
      if (page.length < PAGE) break;
      cursor = cursorOf(page[page.length - 1]!);
    }
    // A change committed before the replay's last read was in it; one committed after is not.
    const held = subscriber.held ?? [];
    subscriber.held = undefined;
    for (const change of held) {
      if (change.kind !== 'sighting.added' && cursor && compareCursors(change.cursor, cursor) <= 0) continue;
      deliver(subscriber, change);
    }
  }

  return {
    get size() {
      return subscribers.size;
    },
    emit,
    subscribe(listener: ChangeListener, options: SubscribeOptions = {}): Subscription {
      const subscriber: Subscriber = {
        listener,
        kinds: options.kinds ? new Set(options.kinds) : undefined,
        held: options.after !== undefined ? [] : undefined,
      };
      subscribers.add(subscriber);
      const ready =
        options.after !== undefined
          ? replay(subscriber, options.after).catch((error: unknown) => {
              subscribers.delete(subscriber);
              throw error;
            })
          : Promise.resolve();
      return {
        ready,
        unsubscribe: () => {
          subscribers.delete(subscriber);
        },
      };
    },
  };
}

/** This process's own writes under way (see InternalChangeFeed.writing). */
function createWritesUnderWay() {
  const underWay = new Set<Promise<void>>();
  return {
    begin(): () => void {
      let finish!: () => void;
      const write = new Promise<void>((resolve) => (finish = resolve));
      underWay.add(write);
      return () => {
        underWay.delete(write);
        finish();
      };
    },
    /** Resolves when every write under way now has ended (later ones are not waited for). */
    async settled(): Promise<void> {
      if (underWay.size > 0) await Promise.all([...underWay]);
    },
  };
}

export function createChangeFeed(source: ChangeSource, logger: Logger): InternalChangeFeed {
  const fanOut = createFanOut(source, logger);
  const emit = fanOut.emit;
  /** Versions announced by this process that the catch-up has not passed yet. */
  const announced = new Map<string, ChangeCursor>();
  /** This process's writes inside callers' transactions, awaiting their commit (see expect). */
  const expected = new Map<string, { change: IndicatorChange; sightings: SightingChange[] }>();
  let catchUpHead: ChangeCursor | undefined;
  const writesUnderWay = createWritesUnderWay();
  /** Set before the first catch-up reads its head: from then on, announced versions are kept. */
  let tracking = false;
  let catchUpStarted = false;
  let timer: NodeJS.Timeout | undefined;
  let stopListening: (() => Promise<void>) | undefined;

  async function catchUpOnce(): Promise<number> {
    if (!catchUpStarted) {
      // The first run only takes the head: what came before the feed started is not news.
      tracking = true;
      catchUpHead = await source.newest();
      catchUpStarted = true;
      prune();
      return 0;
    }
    let found = 0;
    for (;;) {
      const page = await source.changedSince(catchUpHead, PAGE);
      // A version of this process's own may be in the page before its write has published it:
      // the writes under way now are the only ones that can be, so wait for them (not for later ones).
      await writesUnderWay.settled();
      for (const indicator of page) {
        const key = versionKey(indicator);
        const own = expected.get(key);
        if (own) {
          // This process's write inside a caller's transaction: committed now, so announced as its own.
          expected.delete(key);
          found++;
          emit({ ...own.change, indicator, cursor: cursorOf(indicator) });
          for (const sighting of own.sightings) emit(sighting);
        } else if (!announced.has(key)) {
          found++;
          emit({ kind: changeKindOf(indicator), indicator, cursor: cursorOf(indicator), local: false });
        }
      }
      if (page.length > 0) catchUpHead = cursorOf(page[page.length - 1]!);
      prune();
      if (page.length < PAGE) return found;
    }
  }

  /**
   * Forgets announced versions the catch-up has passed: they cannot come up again; and expected
   * ones it passed without finding them (their transaction rolled back).
   */
  function prune(): void {
    if (!catchUpHead) return;
    for (const [key, cursor] of announced)
      if (compareCursors(cursor, catchUpHead) <= 0) announced.delete(key);
    for (const [key, own] of expected)
      if (compareCursors(own.change.cursor, catchUpHead) <= 0) expected.delete(key);
  }

  /** Holds the changes of a write inside a caller's transaction until the catch-up finds them committed. */
  function expect(changes: readonly IntelChange[]): void {
    let last: { change: IndicatorChange; sightings: SightingChange[] } | undefined;
    const latestOf = new Map<string, string>();
    for (const change of changes) {
      if (change.kind === 'sighting.added') {
        last?.sightings.push(change);
        continue;
      }
      // A later version in the same write replaces an earlier one (the store keeps only the last),
      // taking its sightings with it.
      const key = versionKey(change.indicator);
      const earlier = latestOf.get(change.indicator.id);
      const carried = earlier ? (expected.get(earlier)?.sightings ?? []) : [];
      if (earlier) expected.delete(earlier);
      last = { change, sightings: carried };
      expected.set(key, last);
      latestOf.set(change.indicator.id, key);
    }
  }

  function remember(indicator: Indicator, cursor: ChangeCursor): void {
    announced.set(versionKey(indicator), cursor);
    if (announced.size > MAX_REMEMBERED) announced.delete(announced.keys().next().value!);
  }

  const flight = singleFlight(catchUpOnce);
  const catchUp = (): Promise<number> => flight.run();

  const kick = () => {
    catchUp().catch((error: unknown) => logger.error({ err: error }, 'intel change catch-up failed'));
  };

  return {
    get subscribers() {
      return fanOut.size;
    },
    subscribe: fanOut.subscribe,
    head: () => source.newest(),
    catchUp,
    kick,
    publish(changes) {
      for (const change of changes) {
        // Only remembered while a catch-up runs to skip it: without one, nothing reads it back.
        if (change.kind !== 'sighting.added' && tracking) remember(change.indicator, change.cursor);
        emit(change);
      }
    },
    writing: writesUnderWay.begin,
    expectCommit(changes) {
      expect(changes);
      kick();
    },
    receive(change) {
      // A sighting is sent once, by the process that recorded it, and has no version to repeat.
      if (change.kind === 'sighting.added') {
        emit(change);
        return true;
      }
      if (announced.has(versionKey(change.indicator))) return false;
      // The catch-up passed it: announced by it, or committed before this feed started.
      if (catchUpHead && compareCursors(change.cursor, catchUpHead) <= 0) return false;
      remember(change.indicator, change.cursor);
      emit(change);
      return true;
    },
    async start(catchUpMs, listen) {
      if (catchUpMs <= 0 && !listen) return;
      await catchUp(); // takes the head
      if (listen) stopListening = await listen(kick);
      if (catchUpMs > 0) {
        timer = setInterval(kick, catchUpMs);
        timer.unref();
      }
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await stopListening?.();
      stopListening = undefined;
      await flight.settled();
    },
  };
}
