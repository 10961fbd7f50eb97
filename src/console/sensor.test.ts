/** The console's sensors route over HTTP: full tier only (the release rule), the statistics as stored, empty state. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { createSensorReader, type SensorTables } from '../sensor/index.ts';
import { openSensorTestDb, seedSensorCentre } from '../sensor/testing.ts';
import type { SensorsBody } from './api/types.ts';
import { startTestHub, type TestHub } from './testing.ts';

describe('console sensors API', () => {
  let hub: TestHub;
  let empty: TestHub;
  let db: Kysely<SensorTables>;
  before(async () => {
    db = await openSensorTestDb();
    await seedSensorCentre(db);
    [hub, empty] = await Promise.all([startTestHub({ sensor: createSensorReader(db) }), startTestHub()]);
  });
  after(async () => {
    await hub.close();
    await empty.close();
    await db.destroy();
  });
  const get = (base: TestHub, token: string) =>
    fetch(`${base.url}/console/api/sensors`, { headers: { authorization: `Bearer ${token}` } });

  test('a full-tier reader gets sensors per ministry, matches and connections per day, top IoCs', async () => {
    const response = await get(hub, hub.tokens.full);
    assert.equal(response.status, 200);
    const body = (await response.json()) as SensorsBody;
    assert.deepEqual(body.marking, { tier: 'full', tlp: 'amber' });
    assert.equal(body.labels.length, 30);
    assert.equal(body.labels.at(-1), new Date().toISOString().slice(0, 10));
    assert.deepEqual(
      body.organisations.map((o) => [o.org, o.sensors, o.online]),
      [
        ['mic', 2, 2],
        ['mof', 1, 1],
      ],
    );
    const mic = body.daily.filter((d) => d.org === 'mic');
    assert.equal(
      mic.reduce((n, d) => n + d.connections, 0),
      2,
    );
    assert.equal(
      mic.reduce((n, d) => n + d.matches, 0),
      2,
    );
    assert.deepEqual(body.topIocs[0], { ioc: '192.0.2.10:443', kind: 'ip-port', count: 2, orgs: 1 });
  });

  test('council and public readers are refused: per-ministry terminal data stays at the full tier', async () => {
    for (const tier of ['council', 'public'] as const)
      assert.equal((await get(hub, hub.tokens[tier])).status, 403);
  });

  test('a hub without a sensor centre answers an empty page', async () => {
    const body = (await (await get(empty, empty.tokens.full)).json()) as SensorsBody;
    assert.deepEqual([body.organisations, body.daily, body.topIocs], [[], [], []]);
  });
});
