import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs } from './agent.ts';
import { BudgetKeeper } from './budget.ts';

const budgets = { cpuPercent: 1, rssMb: 80, hashMbPerS: 20, netBytesPerDay: 1000 };

describe('BudgetKeeper', () => {
  it('measures CPU over the window and stretches the interval above budget, shrinking it back below', () => {
    let cpuMicros = 0;
    const keeper = new BudgetKeeper(
      budgets,
      () => cpuMicros,
      () => 10 * 1024 * 1024,
    );
    keeper.sample(0);
    cpuMicros += 300_000; // 300 ms of CPU in 10 s: 3 %
    keeper.sample(10_000);
    assert.equal(keeper.cpuPercent(), 3);
    assert.equal(keeper.nextIntervalMs(10_000), 15_000);
    assert.equal(keeper.nextIntervalMs(10_000), 22_500);
    for (let t = 20_000; t <= 700_000; t += 10_000) keeper.sample(t); // idle for longer than the window
    assert.equal(keeper.cpuPercent(), 0);
    for (let i = 0; i < 10; i++) keeper.nextIntervalMs(10_000);
    assert.equal(keeper.nextIntervalMs(10_000), 10_000);
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
