/**
 * The centre resolves listed domains with its own resolver and ships the answers in the signed
 * IoC list: a real Unbound on 127.0.0.1 answers from local-data, the centre points its resolver
 * at it, and a terminal reads the list over mutual TLS. Skipped with one line without unbound
 * (Debian package unbound).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createLogger } from '../core/index.ts';
import { createSensorCentre, inviteSensor, SensorCentreConfig, type SensorCentre } from './index.ts';
import { createSensorMetrics } from './metrics.ts';
import { IocListBody, SENSOR_PATHS, verifyDocument } from './protocol.ts';
import { createDomainResolver } from './resolve.ts';
import { openSensorTestDb, TestSensor } from './testing.ts';

const unboundMissing = ['unbound', 'unbound-checkconf'].filter(
  (tool) => spawnSync('which', [tool]).status !== 0,
);
const skip = unboundMissing.length > 0 && `needs ${unboundMissing.join(', ')} (Debian package unbound)`;
const lab = mkdtempSync(join(tmpdir(), 'tsunagi-sensor-resolve-'));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Unbound on 127.0.0.1:port answering example.test. from local-data, nothing else. */
async function startUnbound(): Promise<{ server: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const conf = join(lab, 'unbound.conf');
  writeFileSync(
    conf,
    `server:\n  interface: 127.0.0.1\n  port: ${port}\n  do-ip6: no\n  username: ""\n  chroot: ""\n` +
      `  directory: "${lab}"\n  pidfile: "${lab}/unbound.pid"\n  use-syslog: no\n  logfile: ""\n  verbosity: 0\n` +
      `  num-threads: 1\n  access-control: 127.0.0.0/8 allow\n  module-config: "iterator"\n` +
      `  local-zone: "example.test." static\n` +
      `  local-data: "c2.example.test. 60 IN A 127.0.0.66"\n` +
      `  local-data: "c2.example.test. 60 IN AAAA 2001:db8:0:0::66"\n` +
      `  local-data: "v4only.example.test. 60 IN A 127.0.0.67"\n` +
      `remote-control:\n  control-enable: no\n`,
  );
  const check = spawnSync('unbound-checkconf', [conf], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr + check.stdout);
  const child: ChildProcess = spawn('unbound', ['-d', '-c', conf], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  const probe = new Resolver({ timeout: 200, tries: 1 });
  probe.setServers([`127.0.0.1:${port}`]);
  for (let i = 0; i < 100; i++) {
    try {
      await probe.resolve4('c2.example.test');
      return { server: `127.0.0.1:${port}`, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop();
  throw new Error('unbound did not answer');
}

async function counter(registry: Registry, outcome: string): Promise<number> {
  const metric = await registry.getSingleMetric('tsunagi_sensor_domain_resolutions_total')?.get();
  return metric?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe('listed domains resolved by the centre', { skip }, () => {
  let unbound: Awaited<ReturnType<typeof startUnbound>>;
  before(async () => {
    unbound = await startUnbound();
  });
  after(async () => {
    await unbound?.stop();
    rmSync(lab, { recursive: true, force: true });
  });

  it("ships each listed domain's addresses, and when they were resolved, in the signed list", async () => {
    const db = await openSensorTestDb();
    const registry = new Registry();
    const config = SensorCentreConfig.parse({
      host: '127.0.0.1',
      port: 0,
      pkiDir: join(lab, 'pki'),
      bundleDigests: ['a'.repeat(64)],
      resolvers: [unbound.server],
    });
    const centre: SensorCentre = createSensorCentre(config, {
      db,
      registry,
      logger: createLogger({ level: 'silent' }),
      iocSource: async () => ({
        ipPorts: [],
        domains: ['C2.Example.Test.', 'v4only.example.test', 'nx.example.test'],
      }),
    });
    const before = Date.now();
    await centre.start();
    try {
      await centre.refreshIocs();
      const sensor = new TestSensor(`https://127.0.0.1:${centre.address().port}`, readCa(lab));
      assert.equal(
        (await sensor.enrol((await inviteSensor(db, join(lab, 'pki'), 'mic', 60_000)).token)).status,
        200,
      );
      const answer = await sensor.get(SENSOR_PATHS.iocs);
      const list = verifyDocument(answer.body, sensor.enrolment!.policyPublicKeyPem, IocListBody);
      assert.deepEqual(list.domains, ['c2.example.test', 'nx.example.test', 'v4only.example.test']);
      assert.deepEqual(
        list.resolved.map((r) => [r.domain, r.addresses]),
        [
          ['c2.example.test', ['127.0.0.66', '2001:db8::66']],
          ['v4only.example.test', ['127.0.0.67']],
        ],
      );
      for (const r of list.resolved) assert.ok(r.resolvedAt >= before && r.resolvedAt <= Date.now());
      assert.equal(await counter(registry, 'no-address'), 1);
    } finally {
      await centre.stop();
      await db.destroy();
    }
  });

  it('looks a name up again only after refreshMs, and keeps the last answer when the resolver fails', async () => {
    const registry = new Registry();
    let now = 1_000_000;
    const resolver = createDomainResolver(
      { servers: [unbound.server], timeoutMs: 300, refreshMs: 60_000, concurrency: 4, maxPerRefresh: 10 },
      { metrics: createSensorMetrics(registry), now: () => new Date(now) },
    );
    const first = await resolver.resolve(['c2.example.test']);
    assert.deepEqual(first, [
      { domain: 'c2.example.test', addresses: ['127.0.0.66', '2001:db8::66'], resolvedAt: now },
    ]);
    now += 30_000;
    await resolver.resolve(['c2.example.test']);
    assert.equal(await counter(registry, 'addresses'), 1, 'looked up again within refreshMs');
    await unbound.stop();
    now += 60_000;
    const kept = await resolver.resolve(['c2.example.test']);
    assert.equal(await counter(registry, 'failed'), 1);
    assert.deepEqual(kept, first, 'the last answer, with its own time, stays');
    // A domain no longer listed is forgotten.
    assert.deepEqual(await resolver.resolve([]), []);
    assert.deepEqual(resolver.known(['c2.example.test']), []);
  });
});

function readCa(dir: string): string {
  return readFileSync(join(dir, 'pki', 'ca.pem'), 'utf8');
}
