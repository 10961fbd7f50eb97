/** The object key: a 53-bit hash of collection and object id (the migration that adds it is share's). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { objectKey } from './object-key.ts';

test('object keys are 53-bit, differ by collection and object, and are stable', () => {
  const a = objectKey('6cd54954-09f2-43dc-bd3a-dc18678b18c7', 'indicator--1');
  assert.ok(Number.isSafeInteger(a) && a >= 0 && a < 2 ** 53);
  assert.equal(objectKey('6cd54954-09f2-43dc-bd3a-dc18678b18c7', 'indicator--1'), a);
  assert.notEqual(objectKey('4ffda6f5-357f-4d90-bd10-e979998326ed', 'indicator--1'), a);
  assert.notEqual(objectKey('6cd54954-09f2-43dc-bd3a-dc18678b18c7', 'indicator--2'), a);
  // cyrb53("abc indicator--1"), the published algorithm over the joined text.
  assert.equal(objectKey('abc', 'indicator--1'), 2983303823331783);
  assert.notEqual(objectKey('abc', 'x--ü日本'), objectKey('abc', 'x--u日本'));
});
