import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs } from './agent.ts';
import { BudgetKeeper } from './budget.ts';

const budgets = { cpuPercent: 1, rssMb: 80, hashMbPerS: 20, netBytesPerDay: 1000 };

describe('BudgetKeeper', () => {
  it('measures CPU over the window, and stretches the interval to what a tick costs, shrinking it back', () => {
    let cpuMicros = 0;
    const keeper = new BudgetKeeper(
      budgets,
      () => cpuMicros,
      () => 10 * 1024 * 1024,
    );
    keeper.sample(0);
    cpuMicros += 5_000_000; // the first tick: start-up and the first hashing, not a tick's cost
    keeper.sample(10_000);
    assert.equal(keeper.nextIntervalMs(10_000), 10_000);
    cpuMicros += 300_000; // a tick of 300 ms of CPU in 10 s
    keeper.sample(20_000);
    assert.equal(keeper.cpuPercent(), 26.5);
    // 300 ms a tick within 1 % needs 30 s between ticks.
    assert.equal(keeper.nextIntervalMs(10_000), 30_000);
    // Background hashing since the last tick counts in the window, not in what a tick costs.
    cpuMicros += 3_000_000;
    keeper.sample(30_000, true);
    assert.equal(keeper.nextIntervalMs(10_000), 30_000);
    assert.ok(keeper.cpuPercent() > 26.5);
    // Cheap ticks (20 ms) bring the moving average, and the interval, back down to the policy's.
    let t = 30_000;
    for (let i = 0; i < 12; i++) {
      cpuMicros += 20_000;
      keeper.sample((t += 30_000));
    }
    assert.equal(keeper.nextIntervalMs(10_000), 10_000);
    // A tick far over budget stretches at most 16 times.
    cpuMicros += 60_000_000;
    keeper.sample((t += 10_000));
    assert.equal(keeper.nextIntervalMs(10_000), 160_000);
    for (let until = t + 700_000; t <= until; t += 10_000) keeper.sample(t); // idle past the window
    assert.equal(keeper.cpuPercent(), 0);
  });

  it("says when memory is near its budget and when the day's bytes are spent", () => {
    let rss = 10 * 1024 * 1024;
    const keeper = new BudgetKeeper(
      budgets,
      () => 0,
      () => rss,
    );
    assert.equal(keeper.memoryPressed(), false);
    rss = 75 * 1024 * 1024;
    assert.equal(keeper.memoryPressed(), true);
    assert.equal(keeper.networkSpent(999), false);
    assert.equal(keeper.networkSpent(1000), true);
    assert.equal(keeper.hashBytesPerSecond(), 20_000_000);
  });
});

describe('backoffMs', () => {
  it('grows exponentially with full jitter up to 15 minutes', () => {
    assert.equal(
      backoffMs(0, () => 1),
      5_000,
    );
    assert.equal(
      backoffMs(3, () => 1),
      40_000,
    );
    assert.equal(
      backoffMs(30, () => 1),
      900_000,
    );
    assert.equal(
      backoffMs(3, () => 0.5),
      20_000,
    );
    assert.equal(
      backoffMs(3, () => 0),
      0,
    );
  });
});
