/**
 * Data sets that arrive before their template: held (bounded in count, bytes and age) and handed
 * back when the template arrives.
 */

export interface PendingSet {
  /** Domain key + template id (see PendingSets.key). */
  readonly key: string;
  /** A copy of the set's records (without the set header). */
  readonly records: Buffer;
  /** Header clock of the message the set came in, needed to resolve its times. */
  readonly exportMs: number;
  readonly sysUptime: number;
  readonly receivedMs: number;
  done: boolean;
}

export interface PendingLimits {
  maxSets: number;
  maxBytes: number;
  ttlMs: number;
}

export interface PendingEvents {
  held(): void;
  /** Dropped because of a bound: 'overflow' (count/bytes), 'too_large' or 'expired'. */
  dropped(reason: 'overflow' | 'too_large' | 'expired'): void;
}

export class PendingSets {
  private readonly byKey = new Map<string, PendingSet[]>();
  /** Arrival order; finished entries are skipped and compacted lazily. */
  private order: PendingSet[] = [];
  private head = 0;
  private liveSets = 0;
  private liveBytes = 0;

  constructor(
    private readonly limits: PendingLimits,
    private readonly events: PendingEvents,
  ) {}

  static key(domainKey: string, templateId: number): string {
    return `${domainKey}#${templateId}`;
  }

  get sets(): number {
    return this.liveSets;
  }

  get bytes(): number {
    return this.liveBytes;
  }

  /** Copies `records` and holds them; drops the oldest held sets when a bound is reached. */
  hold(key: string, records: Uint8Array, exportMs: number, sysUptime: number, receivedMs: number): void {
    if (this.limits.maxSets === 0 || records.length > this.limits.maxBytes) {
      this.events.dropped('too_large');
      return;
    }
    while (this.liveSets >= this.limits.maxSets || this.liveBytes + records.length > this.limits.maxBytes) {
      const oldest = this.oldest();
      if (!oldest) break;
      this.finish(oldest);
      this.events.dropped('overflow');
    }
    const entry: PendingSet = {
      key,
      records: Buffer.from(records),
      exportMs,
      sysUptime,
      receivedMs,
      done: false,
    };
    let list = this.byKey.get(key);
    if (!list) {
      list = [];
      this.byKey.set(key, list);
    }
    list.push(entry);
    this.order.push(entry);
    this.liveSets++;
    this.liveBytes += records.length;
    this.events.held();
  }

  /** Removes and returns the sets waiting for `key`, oldest first. */
  take(key: string): PendingSet[] {
    const list = this.byKey.get(key);
    if (!list) return [];
    this.byKey.delete(key);
    for (const entry of list) this.release(entry);
    this.compact();
    return list;
  }

  /** Drops sets older than the ttl; returns how many. */
  expire(nowMs: number): number {
    let dropped = 0;
    for (let entry = this.oldest(); entry; entry = this.oldest()) {
      if (nowMs - entry.receivedMs < this.limits.ttlMs) break;
      this.finish(entry);
      this.events.dropped('expired');
      dropped++;
    }
    return dropped;
  }

  private oldest(): PendingSet | undefined {
    while (this.head < this.order.length) {
      const entry = this.order[this.head]!;
      if (!entry.done) return entry;
      this.head++;
    }
    this.compact();
    return undefined;
  }

  private finish(entry: PendingSet): void {
    const list = this.byKey.get(entry.key);
    if (list) {
      const at = list.indexOf(entry);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) this.byKey.delete(entry.key);
    }
    this.release(entry);
  }

  private release(entry: PendingSet): void {
    if (entry.done) return;
    entry.done = true;
    this.liveSets--;
    this.liveBytes -= entry.records.length;
  }

  private compact(): void {
    // Keeps the order array from growing with finished entries.
    if (this.head > 64 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head).filter((e) => !e.done);
      this.head = 0;
    } else if (this.order.length > 4 * (this.liveSets + 16)) {
      this.order = this.order.slice(this.head).filter((e) => !e.done);
      this.head = 0;
    }
  }
}
