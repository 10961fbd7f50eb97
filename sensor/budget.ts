/**
 * The budgets the sensor holds itself to (from the signed policy): CPU over a 5-minute window
 * (measured with process.cpuUsage; the scan interval stretches so that what a tick costs stays
 * within the budget, and shrinks back when ticks get cheaper), resident memory (near the limit the caches are dropped), hashing rate (the
 * hasher's token bucket) and bytes sent a day (past it only essential events go out).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { PolicyBody } from '../src/sensor/protocol.ts';

export const CPU_WINDOW_MS = 5 * 60 * 1000;
/** The interval never stretches beyond this many times the policy's. */
const MAX_STRETCH = 16;
/** Weight of the newest tick in the moving average of a tick's CPU. */
const TICK_COST_ALPHA = 0.3;
/** Above this share of the memory budget, caches are trimmed and the heap collected. */
const RSS_PRESSURE = 0.9;

/**
 * A full garbage collection on demand, without starting node with --expose-gc: the flag set at
 * run time exposes `gc` to contexts made afterwards. Used only when memory nears its budget.
 */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

interface CpuSample {
  at: number;
  cpuMicros: number;
}

export class BudgetKeeper {
  private samples: CpuSample[] = [];
  /** The factor the policy's scan interval is multiplied by. */
  stretch = 1;
  /** Moving average of the CPU (ms) one tick costs: what sets the interval. */
  private tickCostMs: number | undefined;
  memoryPressureEvents = 0;

  constructor(
    private budgets: PolicyBody['budgets'],
    private readonly cpuUsage: () => number = () => {
      const usage = process.cpuUsage();
      return usage.user + usage.system;
    },
    private readonly rssBytes: () => number = () => process.memoryUsage.rss(),
  ) {}

  setBudgets(budgets: PolicyBody['budgets']): void {
    this.budgets = budgets;
  }

  get limits(): PolicyBody['budgets'] {
    return this.budgets;
  }

  /**
   * Records the CPU used so far; call once a scan. `hashedSince` says executables were hashed in
   * the background since the last call: that CPU counts in the 5-minute average, but it is not
   * what a tick costs (the hashing has its own rate budget), so it does not stretch the interval.
   */
  sample(now = performance.now(), hashedSince = false): void {
    const cpuMicros = this.cpuUsage();
    const previous = this.samples.at(-1);
    // The first tick is the baseline (start-up): a one-off that counts in the 5-minute average
    // but says nothing of what the next ticks will cost.
    if (previous && this.samples.length >= 2 && !hashedSince) {
      const tickMs = (cpuMicros - previous.cpuMicros) / 1000;
      this.tickCostMs =
        this.tickCostMs === undefined
          ? tickMs
          : this.tickCostMs + TICK_COST_ALPHA * (tickMs - this.tickCostMs);
    }
    this.samples.push({ at: now, cpuMicros });
    while (this.samples.length > 2 && this.samples[1]!.at <= now - CPU_WINDOW_MS) this.samples.shift();
  }

  /** Percent of one core used over the window (up to 5 minutes) the samples cover. */
  cpuPercent(): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at <= first.at) return 0;
    return ((last.cpuMicros - first.cpuMicros) / 1000 / (last.at - first.at)) * 100;
  }

  /**
   * The wait before the next scan: long enough that a tick's CPU (a moving average, so one
   * burst of hashing does not stretch the interval for five minutes) stays within the budget,
   * never shorter than the policy's interval nor longer than MAX_STRETCH times it.
   */
  nextIntervalMs(policyIntervalMs: number): number {
    const needed = (this.tickCostMs ?? 0) / (this.budgets.cpuPercent / 100);
    const interval = Math.min(policyIntervalMs * MAX_STRETCH, Math.max(policyIntervalMs, needed));
    this.stretch = interval / policyIntervalMs;
    return Math.round(interval);
  }

  rssMb(): number {
    return this.rssBytes() / (1024 * 1024);
  }

  /** True (and counted) when memory is near the budget: the caller drops its caches. */
  memoryPressed(): boolean {
    const pressed = this.rssMb() > this.budgets.rssMb * RSS_PRESSURE;
    if (pressed) this.memoryPressureEvents++;
    return pressed;
  }

  hashBytesPerSecond(): number {
    // Megabytes of 10^6 bytes: the stricter reading of "20 MB/s".
    return this.budgets.hashMbPerS * 1_000_000;
  }

  /** True when the day's bytes are spent: only essential events go out for the rest of the day. */
  networkSpent(sentBytesToday: number): boolean {
    return sentBytesToday >= this.budgets.netBytesPerDay;
  }
}
