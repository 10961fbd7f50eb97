/** A token bucket: `take(n)` resolves once n tokens (bytes) may be spent at `ratePerSecond`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private ratePerSecond: number,
    private readonly burst = ratePerSecond,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  setRate(ratePerSecond: number): void {
    this.refill();
    this.ratePerSecond = ratePerSecond;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }

  /** Waits until `n` tokens are there and spends them (n above the burst is spent on credit). */
  async take(n: number): Promise<void> {
    this.refill();
    this.tokens -= n;
    if (this.tokens < 0) await this.sleep((-this.tokens / this.ratePerSecond) * 1000);
  }
}
