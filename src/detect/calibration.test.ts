import assert from 'node:assert/strict';
import { test } from 'node:test';
import fitted from './calibration.json' with { type: 'json' };
import { Calibration, CalibrationFile, shippedCalibration } from './calibration.ts';

test('the shipped calibration parses and never falls as the raw score rises', () => {
  CalibrationFile.parse(fitted);
  for (const sampled of [false, true]) {
    let last = 0;
    for (let raw = 0; raw <= 100; raw++) {
      const c = shippedCalibration.confidence(raw, sampled);
      assert.ok(c >= last && c <= 100, `raw ${raw}: ${c} after ${last}`);
      last = c;
    }
  }
});

test('a step curve maps each raw score to the probability of the step it falls in', () => {
  const calibration = new Calibration({
    format: 'tsunagi-detect-calibration',
    version: 1,
    fitted: 'test',
    unsampled: [
      [0, 0],
      [60, 0.7],
      [80, 0.95],
    ],
    sampled: [
      [0, 0.1],
      [50, 0.5],
    ],
  });
  assert.equal(calibration.confidence(59, false), 0);
  assert.equal(calibration.confidence(60, false), 70);
  assert.equal(calibration.confidence(79.4, false), 70);
  assert.equal(calibration.confidence(100, false), 95);
  assert.equal(calibration.confidence(10, true), 10);
  assert.equal(calibration.confidence(99, true), 50);
  assert.equal(calibration.confidence(-5, true), 10);
});
