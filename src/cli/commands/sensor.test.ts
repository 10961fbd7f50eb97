/**
 * `tsunagi sensor` through the CLI: invite prints a token, serve runs the centre on a data
 * directory whose intel knows a C&C server; a terminal enrols, reports a connection to it, and the
 * sighting of `sensor:<org>` is in intel; list, revoke and ioc add; bad input exits 2.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { IocListBody, SENSOR_PATHS, verifyDocument } from '../../sensor/index.ts';
import { TestSensor } from '../../sensor/testing.ts';
import { captureCli, runCli as run } from '../test-cli.ts';
import { withCliIntel } from '../testing.ts';
import { runSensorServe } from './sensor.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-sensor-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'centre');
const BUNDLE = 'a'.repeat(64);

async function recordC2(ip: string, port: number) {
  await withCliIntel(data, (intel) =>
    intel.recordSighting({
      type: 'c2',
      value: ip,
      port,
      proto: 'tcp',
      source: 'isp-a-detector',
      confidence: 90,
    }),
  );
}

test('invite, serve, enrol, report a C&C connection: a sighting of sensor:<org>; list, revoke, ioc add', async () => {
  const invited = await run(['sensor', 'invite', '--org', 'mic', '--data', data, '--ttl', '2h']);
  assert.equal(invited.code, 0, invited.stderr);
  const token = invited.stdout.trim();
  assert.match(token, /^tsi1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}\.[0-9a-f]{64}$/);
  await recordC2('192.0.2.77', 8080);
  assert.equal((await run(['sensor', 'ioc', 'add', '--sha256', 'C'.repeat(64), '--data', data])).code, 0);

  const { ctx, stderr: err } = captureCli();
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const serving = runSensorServe(
    { listen: '127.0.0.1:0', data, bundleDigest: [BUNDLE], name: [] },
    ctx,
    () => stopped,
  );
  while (!/centre on (https:\S+)/.test(err())) await new Promise((r) => setTimeout(r, 50));
  const url = /centre on (https:\S+)/.exec(err())![1]!;
  try {
    const sensor = new TestSensor(url, readFileSync(join(data, 'sensor-pki', 'ca.pem'), 'utf8'));
    assert.equal((await sensor.enrol(token, BUNDLE)).status, 200);
    const iocs = verifyDocument(
      (await sensor.get(SENSOR_PATHS.iocs)).body,
      sensor.enrolment!.policyPublicKeyPem,
      IocListBody,
    );
    assert.deepEqual(iocs.ipPorts, ['192.0.2.77:8080']);
    assert.deepEqual(iocs.sha256, ['c'.repeat(64)]);
    const at = Date.now();
    const sent = await sensor.send([
      {
        type: 'socket.open',
        at,
        pid: 99,
        proto: 'tcp',
        local: '10.0.0.5:41000',
        remote: '192.0.2.77:8080',
        state: 'ESTABLISHED',
      },
    ]);
    assert.equal(sent.status, 200);
  } finally {
    stop();
    await serving;
  }

  await withCliIntel(data, async (intel) => {
    const c2 = await intel.get({ kind: 'c2', value: '192.0.2.77', port: 8080, proto: 'tcp' });
    const sources = (await intel.sightings(c2!.id)).map((s) => s.source).sort();
    assert.deepEqual(sources, ['isp-a-detector', 'sensor:mic']);
  });

  const listed = await run(['sensor', 'list', '--data', data]);
  assert.equal(listed.code, 0);
  const [, line] = listed.stdout.trim().split('\n');
  const [id, org, hostname, lastSeen, seq, state] = line!.split('\t');
  assert.deepEqual([org, hostname, seq, state], ['mic', 'terminal-1', '1', 'active']);
  assert.notEqual(lastSeen, '-');
  assert.equal((await run(['sensor', 'revoke', id!.slice(0, 10), '--data', data])).code, 0);
  assert.match((await run(['sensor', 'list', '--data', data])).stdout, /\trevoked\n$/);
});

test('bad input is one line and exit 2', async () => {
  for (const argv of [
    ['sensor', 'invite', '--data', data],
    ['sensor', 'invite', '--org', 'mic', '--ttl', '5y', '--data', data],
    ['sensor', 'revoke', 'zz', '--data', data],
    ['sensor', 'ioc', 'add', '--sha256', 'abc', '--data', data],
    ['sensor', 'list', '--data', join(dir, 'missing')],
    ['sensor', 'serve', '--listen', 'nonsense'],
  ]) {
    const result = await run(argv);
    assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
});
