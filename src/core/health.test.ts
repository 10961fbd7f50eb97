import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ComponentHealth, HealthBoard, healthLevel, type ProcessHealth } from './health.ts';

const component = (handled: number, dropped: number): ComponentHealth => ({
  component: 'collector',
  level: healthLevel(dropped),
  handled,
  dropped,
  counters: { flows: handled, kernelDrops: dropped },
});
const report = (id: string, at: number, handled: number, dropped: number): ProcessHealth => ({
  role: 'collect',
  id,
  at,
  intervalMs: 1000,
  components: [component(handled, dropped)],
});

test('healthLevel: any drop is a loss; a warning only when asked', () => {
  assert.equal(healthLevel(0), 'ok');
  assert.equal(healthLevel(0, true), 'warning');
  assert.equal(healthLevel(1, false), 'loss');
  assert.equal(healthLevel(3, true), 'loss');
});

test('HealthBoard: a loss anywhere, silent processes as stale, rates per second without negatives', () => {
  const board = new HealthBoard({ historySize: 3 });
  let local = component(0, 0);
  board.addLocal('start', 'here', 1000, [() => local]);
  board.receive(report('a', 10_000, 100, 0));
  board.sample(10_000);
  assert.equal(board.read(10_000).loss, false);

  local = component(1000, 0);
  board.receive(report('a', 12_000, 2100, 50));
  board.receive(report('a', 11_000, 999_999, 0)); // older than what the board has: ignored
  board.sample(12_000);
  const read = board.read(12_000);
  assert.equal(read.loss, true);
  assert.deepEqual(read.history, [{ at: 12_000, handledPerSecond: 1500, droppedPerSecond: 25 }]);
  assert.deepEqual(
    read.processes.map((p) => [p.role, p.id, p.stale]),
    [
      ['collect', 'a', false],
      ['start', 'here', false],
    ],
  );

  // Silent for more than three intervals: "no report", and out of the rates (never negative).
  const later = board.read(15_001);
  assert.equal(later.processes.find((p) => p.id === 'a')!.stale, true);
  board.sample(15_001);
  assert.equal(board.read(15_001).history.at(-1)!.handledPerSecond, 0);
  board.sample(16_000);
  board.sample(17_000);
  assert.equal(board.read(17_000).history.length, 3, 'history is bounded');
});
