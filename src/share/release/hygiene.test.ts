/** The release rule for hygiene survey results: sector aggregates are public, per-organisation results council AMBER. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HYGIENE_MARKINGS, markingAllows, release, tierReader, type Reader } from './index.ts';

const outcome = (level: 'sector' | 'organisation', reader: Reader) =>
  release({ type: 'hygiene', level }, reader);

test('sector aggregates reach every reader that may read, marked TLP:CLEAR', () => {
  for (const tier of ['full', 'council', 'public'] as const)
    assert.deepEqual(outcome('sector', tierReader(tier)), {
      outcome: 'allow',
      copy: { tier: 'public', tlp: 'clear' },
    });
});

test('per-organisation results reach full and council readers under TLP:AMBER, never public notice', () => {
  for (const tier of ['full', 'council'] as const)
    assert.deepEqual(outcome('organisation', tierReader(tier)), {
      outcome: 'allow',
      copy: { tier: 'council', tlp: 'amber' },
    });
  const denied = outcome('organisation', tierReader('public'));
  assert.equal(denied.outcome, 'deny');
  assert.match(denied.outcome === 'deny' ? denied.reason : '', /council under TLP:AMBER/);
});

test('a token without the read scope reads neither', () => {
  const noRead = { ...tierReader('full'), canRead: false };
  assert.equal(outcome('sector', noRead).outcome, 'deny');
  assert.equal(outcome('organisation', noRead).outcome, 'deny');
});

test('the hygiene markings follow the one marking rule (no tier gets what its clearance forbids)', () => {
  for (const tier of ['full', 'council', 'public'] as const)
    for (const level of ['sector', 'organisation'] as const) {
      const m = HYGIENE_MARKINGS[level];
      assert.equal(
        outcome(level, tierReader(tier)).outcome === 'allow',
        markingAllows({ tier }, m.tier, m.tlp),
      );
    }
});
