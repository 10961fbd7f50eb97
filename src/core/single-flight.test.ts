import assert from 'node:assert/strict';
import { test } from 'node:test';
import { singleFlight } from './single-flight.ts';

test('a call during a run starts no second run but makes the run go round once more', async () => {
  let runs = 0;
  let release: () => void = () => {};
  const flight = singleFlight(async () => {
    runs++;
    if (runs === 1) await new Promise<void>((resolve) => (release = resolve));
    return 1;
  });
  const first = flight.run();
  const second = flight.run();
  const third = flight.run();
  release();
  assert.equal(await first, 2, 'one extra round for the calls made during the run');
  assert.equal(await second, 2);
  assert.equal(await third, 2);
  assert.equal(runs, 2);
  assert.equal(await flight.run(), 1, 'a later call starts a new run');
});

test('settled waits for a failed run without throwing', async () => {
  const flight = singleFlight(async () => {
    throw new Error('boom');
  });
  await assert.rejects(flight.run(), /boom/);
  await flight.settled();
});
