import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitMonths, TUNING_LAST_MONTH } from './data.ts';
import { dropped } from './fit-url.ts';
import { monthsBefore, recencyWeights } from './fitting.ts';

const host = (name: string, month?: string) => ({ url: { host: name }, month });

test('monthsBefore counts whole months across a year end', () => {
  assert.equal(monthsBefore('2025-03', '2025-03'), 0);
  assert.equal(monthsBefore('2024-12', '2025-03'), 3);
  assert.equal(monthsBefore('2024-01', '2025-06'), 17);
});

test('recency weights halve every half-life and average 1', () => {
  const hosts = [host('a', '2025-03'), host('b', '2024-09'), host('c', '2024-03')];
  const w = recencyWeights(hosts, '2025-03', 6);
  assert.ok(Math.abs((w.get('a')! + w.get('b')! + w.get('c')!) / 3 - 1) < 1e-12);
  assert.ok(Math.abs(w.get('b')! / w.get('a')! - 0.5) < 1e-12);
  assert.ok(Math.abs(w.get('c')! / w.get('a')! - 0.25) < 1e-12);
});

test('without a half-life every host weighs 1, and a host without a month is refused with one', () => {
  const w = recencyWeights([host('a', '2025-03'), host('b')], '2025-03', undefined);
  assert.deepEqual([...w.values()], [1, 1]);
  assert.throws(() => recencyWeights([host('b')], '2025-03', 6), /no month/);
});

test('the split flags: a forward check ends before the last tuning month, a fit never after it', () => {
  assert.deepEqual(splitMonths({}), {
    tuningFirst: '2024-01',
    tuningLast: TUNING_LAST_MONTH,
    forward: false,
  });
  assert.deepEqual(splitMonths({ 'tuning-last-month': '2025-03', forward: true }), {
    tuningFirst: '2024-01',
    tuningLast: '2025-03',
    forward: true,
  });
  assert.throws(() => splitMonths({ forward: true }), /forward check/);
  assert.throws(() => splitMonths({ 'tuning-last-month': '2025-07' }), /issue #18/);
  assert.throws(() => splitMonths({ 'tuning-last-month': '2025-13' }), /not a month/);
  assert.throws(
    () => splitMonths({ 'tuning-first-month': '2025-04', 'tuning-last-month': '2025-03' }),
    /end before/,
  );
});

test('--drop takes the fitted features of either part, never the host name the URL part rests on', () => {
  assert.deepEqual([...dropped(undefined)], []);
  assert.deepEqual(
    [...dropped('tld_risk,path_token_gated,label_cv')],
    ['tld_risk', 'path_token_gated', 'label_cv'],
  );
  assert.throws(() => dropped('host_name'), /host_name/);
  assert.throws(() => dropped('no_such_feature'), /no_such_feature/);
});
