/**
 * The sensor centre on each store engine the CLI opens (SQLite, and PostgreSQL when
 * TSUNAGI_TEST_DATABASE_URL is set): its migrations with every room's, a token raced by three
 * enrolments (one wins), a batch, the statistics read back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import {
  createSensorCentre,
  createSensorReader,
  inviteSensor,
  SensorCentreConfig,
  type SensorTables,
} from '../sensor/index.ts';
import { seedSensorCentre, TestSensor } from '../sensor/testing.ts';
import { testEngines } from '../store/testing.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';

for (const engine of testEngines(ROOM_MIGRATIONS)) {
  test(`sensor centre on ${engine.name}`, { skip: engine.skip }, async () => {
    const store = await engine.open();
    const dir = mkdtempSync(join(tmpdir(), 'tsunagi-sensor-engine-'));
    const db = store.db as unknown as Kysely<SensorTables>;
    const centre = createSensorCentre(
      SensorCentreConfig.parse({ port: 0, pkiDir: join(dir, 'pki'), bundleDigests: ['a'.repeat(64)] }),
      { db, logger: silentLogger(), registry: new Registry() },
    );
    try {
      await centre.start();
      const url = `https://127.0.0.1:${centre.address().port}`;
      const ca = readFileSync(join(dir, 'pki', 'ca.pem'), 'utf8');
      const { token } = await inviteSensor(db, join(dir, 'pki'), 'mic', 3_600_000);
      const racers = [new TestSensor(url, ca), new TestSensor(url, ca), new TestSensor(url, ca)];
      const statuses = (await Promise.all(racers.map((s) => s.enrol(token)))).map((a) => a.status);
      assert.deepEqual(statuses.sort(), [200, 401, 401]);
      const winner = racers.find((s) => s.enrolment)!;
      const at = Date.now();
      const sent = await winner.send([
        { type: 'ioc.match', at, ioc: 'c2.example.net', kind: 'domain' },
        { type: 'ioc.match', at, ioc: 'c2.example.net', kind: 'domain' },
      ]);
      assert.equal(sent.status, 200);
      await seedSensorCentre(db);
      const reader = createSensorReader(db);
      const top = await reader.topIocs(7, 5);
      assert.deepEqual(top[0], { ioc: 'c2.example.net', kind: 'domain', count: 3, orgs: 2 });
      const orgs = await reader.organisations();
      assert.deepEqual(
        orgs.map((o) => [o.org, o.sensors]),
        [
          ['mic', 3],
          ['mof', 1],
        ],
      );
      const daily = await reader.daily(7);
      assert.equal(
        daily.reduce((n, d) => n + d.matches, 0),
        5,
      );
    } finally {
      await centre.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
