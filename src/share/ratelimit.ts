/** A token bucket per key (API token or client address), bounded in the number of keys it keeps. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token for `key`; false when the bucket is empty. */
  take(key: string): boolean {
    const t = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) {
        // Forget the oldest key: Map iterates in insertion order.
        this.buckets.delete(this.buckets.keys().next().value!);
      }
      bucket = { tokens: this.burst, at: t };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((t - bucket.at) / 1000) * this.perSecond);
      bucket.at = t;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Seconds until `key` may make a request again. */
  retryAfter(key: string): number {
    const bucket = this.buckets.get(key);
    if (!bucket || bucket.tokens >= 1) return 0;
    return Math.ceil((1 - bucket.tokens) / this.perSecond);
  }
}

/**
 * Long-lived slots (live-update streams) shared fairly: each organisation holds at most
 * `perOrganisation`, and the last `reserved` of `total` are kept for the analysis center, so no
 * other organisation, however many tokens it has, can lock it out.
 */
export class StreamSlots {
  private readonly held = new Map<string, number>();
  private used = 0;
  /** Slots held by organisations other than the analysis center. */
  private others = 0;

  constructor(
    private readonly total: number,
    private readonly perOrganisation: number,
    private readonly reserved: number,
  ) {}

  /** Takes a slot for `org`; the returned function gives it back (once), or undefined when full. */
  take(org: string, analysisCenter: boolean): (() => void) | undefined {
    const mine = this.held.get(org) ?? 0;
    if (mine >= this.perOrganisation || this.used >= this.total) return undefined;
    if (!analysisCenter && this.others >= this.total - this.reserved) return undefined;
    this.held.set(org, mine + 1);
    this.used++;
    if (!analysisCenter) this.others++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.used--;
      if (!analysisCenter) this.others--;
      const left = (this.held.get(org) ?? 1) - 1;
      if (left > 0) this.held.set(org, left);
      else this.held.delete(org);
    };
  }
}
