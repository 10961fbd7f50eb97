import assert from 'node:assert/strict';
import { test } from 'node:test';
import { f1Of, leaderOf } from './leader.ts';

test('the leader is decided on exact F1: equal at two decimals is not a tie, equal fractions are', () => {
  // 1000/1050 = 0.9524 against 1000/1051 = 0.9515: both print 0.95.
  const ahead = { tp: 500, fp: 50, fn: 0 };
  const behind = { tp: 500, fp: 50, fn: 1 };
  assert.equal(f1Of(ahead).toFixed(2), f1Of(behind).toFixed(2));
  assert.equal(
    leaderOf([
      ['tsunagi', behind],
      ['ioc-finder', ahead],
    ]),
    'ioc-finder',
  );
  // 2·2/(2·2+1+1) = 4/6 and 2·4/(2·4+2+2) = 8/12: different counts, the same F1.
  assert.equal(
    leaderOf([
      ['tsunagi', { tp: 2, fp: 1, fn: 1 }],
      ['iocextract', { tp: 4, fp: 2, fn: 2 }],
      ['ioc-finder', { tp: 1, fp: 3, fn: 0 }],
    ]),
    'tie (tsunagi, iocextract)',
  );
});

test('a tool without the type takes no part; nothing to find and nothing reported is a perfect score', () => {
  assert.equal(
    leaderOf([
      ['tsunagi', { tp: 1, fp: 1, fn: 0 }],
      ['iocextract', undefined],
      ['ioc-finder', { tp: 1, fp: 1, fn: 0 }],
    ]),
    'tie (tsunagi, ioc-finder)',
  );
  assert.equal(
    leaderOf([
      ['tsunagi', { tp: 0, fp: 0, fn: 0 }],
      ['ioc-finder', { tp: 0, fp: 1, fn: 0 }],
    ]),
    'tsunagi',
  );
  assert.equal(leaderOf([['iocextract', undefined]]), '—');
});
