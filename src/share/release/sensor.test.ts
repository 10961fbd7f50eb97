/** The release rule for endpoint sensor results: per-ministry views only at the full tier, TLP:AMBER. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { markingAllows, release, SENSOR_MARKINGS, tierReader } from './index.ts';

test('per-ministry sensor results reach the full tier only, marked TLP:AMBER', () => {
  assert.deepEqual(release({ type: 'sensor', level: 'organisation' }, tierReader('full')), {
    outcome: 'allow',
    copy: { tier: 'full', tlp: 'amber' },
  });
  for (const tier of ['council', 'public'] as const) {
    const denied = release({ type: 'sensor', level: 'organisation' }, tierReader(tier));
    assert.equal(denied.outcome, 'deny');
    assert.match(denied.outcome === 'deny' ? denied.reason : '', /tier full under TLP:AMBER/);
  }
  const noRead = { ...tierReader('full'), canRead: false };
  assert.equal(release({ type: 'sensor', level: 'organisation' }, noRead).outcome, 'deny');
});

test('the sensor marking follows the one marking rule', () => {
  for (const tier of ['full', 'council', 'public'] as const) {
    const m = SENSOR_MARKINGS.organisation;
    assert.equal(
      release({ type: 'sensor', level: 'organisation' }, tierReader(tier)).outcome === 'allow',
      markingAllows({ tier }, m.tier, m.tlp),
    );
  }
});
