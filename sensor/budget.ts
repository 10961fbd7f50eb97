/**
 * The budgets the sensor holds itself to (from the signed policy): CPU over a 5-minute window
 * (measured with process.cpuUsage; above budget the scan interval stretches, well below it
 * shrinks back), resident memory (near the limit the caches are dropped), hashing rate (the
 * hasher's token bucket) and bytes sent a day (past it only essential events go out).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { PolicyBody } from '../src/sensor/protocol.ts';

export const CPU_WINDOW_MS = 5 * 60 * 1000;
/** The interval never stretches beyond this many times the policy's. */
const MAX_STRETCH = 16;
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

  /** Records the CPU used so far; call once a scan. */
  sample(now = performance.now()): void {
    this.samples.push({ at: now, cpuMicros: this.cpuUsage() });
    while (this.samples.length > 2 && this.samples[1]!.at <= now - CPU_WINDOW_MS) this.samples.shift();
  }

  /** Percent of one core used over the window (up to 5 minutes) the samples cover. */
  cpuPercent(): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at <= first.at) return 0;
    return ((last.cpuMicros - first.cpuMicros) / 1000 / (last.at - first.at)) * 100;
  }

  /** Adjusts the stretch from the CPU measured; returns the interval to wait before the next scan. */
  nextIntervalMs(policyIntervalMs: number): number {
    const cpu = this.cpuPercent();
    if (cpu > this.budgets.cpuPercent) this.stretch = Math.min(MAX_STRETCH, this.stretch * 1.5);
    else if (cpu < this.budgets.cpuPercent / 2) this.stretch = Math.max(1, this.stretch / 1.25);
    return Math.round(policyIntervalMs * this.stretch);
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
