/** Sensor observations become full-tier, TLP:AMBER sightings; intel's indicators become the sensors' IoC list. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../core/index.ts';
import { withIntel } from '../testing.ts';
import {
  createSensorIntake,
  iocListFromIndicators,
  iocListFromIntel,
  sightingsFromSensorObservations,
} from './index.ts';

test('IP:PORT and domain observations are sightings of sensor:<org>, tier full, TLP:AMBER; hashes are not', async () => {
  await withIntel(async (intel) => {
    await intel.start();
    const intake = createSensorIntake(intel, { logger: silentLogger() });
    intake.record([
      { org: 'mic', kind: 'ip-port', ioc: '192.0.2.10:443', proto: 'tcp' },
      { org: 'mof', kind: 'ip-port', ioc: '[2001:db8::66]:8443' },
      { org: 'mic', kind: 'domain', ioc: 'c2.example.net' },
      { org: 'mic', kind: 'sha256', ioc: 'a'.repeat(64) },
    ]);
    await intake.settled();
    const c2 = await intel.get({ kind: 'c2', value: '192.0.2.10', port: 443, proto: 'tcp' });
    assert.ok(c2);
    assert.equal(c2.tier, 'full');
    assert.equal(c2.tlp, 'amber');
    assert.deepEqual(
      (await intel.sightings(c2.id)).map((s) => s.source),
      ['sensor:mic'],
    );
    assert.ok(await intel.get({ kind: 'c2', value: '2001:db8::66', port: 8443, proto: 'tcp' }));
    assert.ok(await intel.get({ kind: 'domain', value: 'c2.example.net' }));

    await intel.recordSightings([
      { type: 'url', value: 'http://drop.example.org/x.sh', source: 'feed', confidence: 80 },
      { type: 'bot', value: '198.51.100.9', source: 'darknet', confidence: 70 },
    ]);
    assert.deepEqual(await iocListFromIntel(intel), {
      ipPorts: ['192.0.2.10:443', '[2001:db8::66]:8443'],
      domains: ['c2.example.net', 'drop.example.org'],
    });
    await intel.stop();
  });
});

test('malformed observations and port-less C&C are left out', () => {
  assert.deepEqual(sightingsFromSensorObservations([{ org: 'x', kind: 'ip-port', ioc: 'nonsense' }]), []);
  assert.deepEqual(
    iocListFromIndicators([
      { kind: 'c2', value: '203.0.113.1', port: 0 },
      { kind: 'url', value: 'http://203.0.113.2/a', port: 0 },
    ]),
    { ipPorts: [], domains: [] },
  );
});
