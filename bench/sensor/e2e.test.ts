/**
 * End to end, against the real centre (`tsunagi sensor serve`) and the real bundle:
 *
 * 1. On loopback: a sensor enrols, runs one scan with child_process patched to throw (it starts
 *    no shell and no child process), and its batch is accepted on the centre's chain.
 * 2. In network namespaces (root with CAP_NET_ADMIN; skipped with one line otherwise): three
 *    sensors of three ministries, each in its own namespace behind a veth pair to the host,
 *    enrol with one centre and report; only the namespace with a connection to the planted C&C
 *    matches it, and the centre records the sighting of `sensor:<ministry>` that the console reads.
 */
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildBundle,
  centreView,
  invite,
  sensorOnce,
  startCentre,
  startProcess,
  startSensor,
  stopProcess,
  type Centre,
} from './lab.ts';

const work = mkdtempSync(join(tmpdir(), 'tsunagi-sensor-e2e-'));
const children: ChildProcess[] = [];
let bundle = '';
let digest = '';

before(async () => {
  ({ bundle, digest } = await buildBundle(join(work, 'bundle')));
});
after(async () => {
  for (const child of children) await stopProcess(child);
  rmSync(work, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a sensor on loopback', () => {
  let centre: Centre;
  before(async () => {
    centre = await startCentre({
      dataDir: join(work, 'centre-loopback'),
      listen: '127.0.0.1:0',
      bundleDigests: [digest],
      plantedC2: [{ ip: '192.0.2.55', port: 443 }],
    });
    children.push(centre.process);
  });
  after(async () => centre && (await centre.stop()));

  it('enrols, and sends its first batch while child_process throws on any use', async () => {
    const state = join(work, 'loopback-state');
    const token = await invite(centre, 'mext');
    const enrolled = await sensorOnce(bundle, [
      'enroll',
      '--center',
      centre.url,
      '--token',
      token,
      '--state',
      state,
    ]);
    assert.match(enrolled, /^enrolled: sensor [0-9a-f]{64} at https:/);
    // A used token does not enrol a second sensor.
    const again = await sensorOnce(bundle, [
      'enroll',
      '--center',
      centre.url,
      '--token',
      token,
      '--state',
      join(work, 'other'),
    ]).catch((error: { code?: number; stderr?: string }) => error);
    assert.equal((again as { code?: number }).code, 1);
    assert.equal((again as { stderr: string }).stderr.trim().split('\n').length, 1);

    const patch = join(work, 'no-child-process.mjs');
    writeFileSync(
      patch,
      `import cp from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  cp[name] = () => { throw new Error('the sensor called child_process.' + name); };
}
syncBuiltinESMExports();
`,
    );
    const output = execFileSync(
      process.execPath,
      ['--import', patch, bundle, 'run', '--once', '--state', state],
      {
        encoding: 'utf8',
      },
    );
    assert.match(output, /^one scan: \d+ processes, \d+ sockets, 0 IoC matches, spool 0 events/);
    const log = readFileSync(join(state, 'sent.log'), 'utf8');
    assert.match(log, /sent batch seq=1 events=\d+ .*process\.start=\d+/);
    assert.ok(!/cmdline|commandLine/.test(log));
    const view = await centreView(centre);
    assert.equal(view.sensors.length, 1);
    assert.equal(view.sensors[0]!.org, 'mext');
    assert.equal(view.sensors[0]!.lastSeq, 1);
    // A restart resumes the chain from the state: the next batch is seq 2 on the centre's head.
    await sensorOnce(bundle, ['run', '--once', '--state', state]);
    assert.equal((await centreView(centre)).sensors[0]!.lastSeq, 2);
    const status = await sensorOnce(bundle, ['status', '--state', state]);
    assert.match(status, /chain: seq 2 /);
  });

  it('keeps its events on disk while the centre is down, and sends them on the same chain when it is back', async () => {
    const state = join(work, 'loopback-state');
    await centre.stop();
    const offline = await sensorOnce(bundle, ['run', '--once', '--state', state]).catch(
      (error: { code?: number; stdout?: string }) => error,
    );
    assert.equal((offline as { code?: number }).code, 1);
    assert.match((offline as { stdout: string }).stdout, /a batch unsent/);
    assert.match(await sensorOnce(bundle, ['status', '--state', state]), /a batch in flight/);
    await centre.restart();
    children.push(centre.process);
    assert.match(await sensorOnce(bundle, ['run', '--once', '--state', state]), /spool 0 events/);
    const view = await centreView(centre);
    assert.ok(view.sensors[0]!.lastSeq >= 3, `the centre's last seq is ${view.sensors[0]!.lastSeq}`);
    const log = readFileSync(join(state, 'sent.log'), 'utf8');
    const seqs = [...log.matchAll(/sent batch seq=(\d+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
    );
  });
});

/** Whether this process may make network namespaces (root with CAP_NET_ADMIN and iproute2 present). */
function netnsUnavailable(): string | false {
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync('/usr/sbin/ip') && !existsSync('/sbin/ip') && !existsSync('/usr/bin/ip'))
    return 'no iproute2';
  const probe = `tsaprobe${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    return false;
  } catch {
    return 'no CAP_NET_ADMIN (ip netns add failed)';
  }
}

const unavailable = netnsUnavailable();
if (unavailable) console.log(`# sensors in network namespaces skipped: ${unavailable}`);

/**
 * A 10.N.0.0/16 no interface of this machine has an address in: a run killed before its cleanup
 * leaves its namespaces' host ends up with their addresses, which a fixed net would collide with.
 */
function freeNet(): number {
  const inUse = unavailable ? '' : execFileSync('ip', ['-o', 'addr', 'show'], { encoding: 'utf8' });
  for (let k = 0; k < 55; k++) {
    const net = 200 + ((process.pid + k) % 55);
    if (!inUse.includes(` 10.${net}.`)) return net;
  }
  throw new Error('no free 10.200-254.0.0/16 for the test namespaces');
}

describe('sensors in network namespaces', { skip: unavailable || false }, () => {
  const tag = (process.pid % 46656).toString(36);
  const net = freeNet();
  const spaces = [1, 2, 3].map((i) => ({
    netns: `tsa${tag}-${i}`,
    host: `ts${tag}h${i}`,
    inner: `ts${tag}n${i}`,
    hostIp: `10.${net}.${i}.1`,
    innerIp: `10.${net}.${i}.2`,
    org: ['mof', 'mic', 'moj'][i - 1]!,
    state: join(work, `ns-state-${i}`),
  }));
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let centre: Centre;

  before(async () => {
    for (const space of spaces) {
      ip('netns', 'add', space.netns);
      ip('link', 'add', space.host, 'type', 'veth', 'peer', 'name', space.inner);
      ip('link', 'set', space.inner, 'netns', space.netns);
      ip('addr', 'add', `${space.hostIp}/30`, 'dev', space.host);
      ip('link', 'set', space.host, 'up');
      ip('-n', space.netns, 'addr', 'add', `${space.innerIp}/30`, 'dev', space.inner);
      ip('-n', space.netns, 'link', 'set', space.inner, 'up');
      ip('-n', space.netns, 'link', 'set', 'lo', 'up');
    }
    centre = await startCentre({
      dataDir: join(work, 'centre-netns'),
      listen: '0.0.0.0:0',
      bundleDigests: [digest],
      names: spaces.map((s) => s.hostIp),
      // A C&C that only the first namespace's terminal talks to (on its own loopback).
      plantedC2: [{ ip: '127.0.0.66', port: 4444 }],
    });
    children.push(centre.process);
  });

  after(async () => {
    if (centre) await centre.stop();
    for (const space of spaces) {
      // Deleting the namespace deletes the veth pair with it.
      try {
        ip('netns', 'del', space.netns);
      } catch {
        // never made
      }
    }
  });

  it('enrol, report, and only the terminal that talks to the planted C&C matches it', async () => {
    const port = new URL(centre.url).port;
    for (const space of spaces) {
      const token = await invite(centre, space.org);
      const center = `https://${space.hostIp}:${port}`;
      const out = await sensorOnce(
        bundle,
        ['enroll', '--center', center, '--token', token, '--state', space.state],
        space.netns,
      );
      assert.match(out, /^enrolled: sensor [0-9a-f]{64}/);
    }
    // The "bot": a process in the first namespace holding a connection to 127.0.0.66:4444 there.
    const bot = `const net = require('node:net');
net.createServer(() => {}).listen(4444, '127.0.0.66', () => net.connect(4444, '127.0.0.66'));
setTimeout(() => process.exit(0), 600000);`;
    children.push(startProcess([process.execPath, '-e', bot], spaces[0]!.netns));
    for (const space of spaces) {
      children.push(
        startSensor(
          bundle,
          [
            'run',
            '--state',
            space.state,
            '--scan-interval',
            '1000',
            '--send-interval',
            '2000',
            '--refresh-interval',
            '5000',
          ],
          space.netns,
        ),
      );
    }
    const view = await until('three sensors reporting and the sighting of sensor:mof', async () => {
      const current = await centreView(centre);
      const reporting = current.sensors.filter((s) => s.lastSeq >= 1).length;
      // The centre answers a batch just before the sensor writes it to its log.
      const logged = spaces.every((s) => existsSync(join(s.state, 'sent.log')));
      return reporting === 3 && logged && current.sightings.some((s) => s.source === 'sensor:mof')
        ? current
        : undefined;
    });
    assert.deepEqual(
      view.sightings.map((s) => [s.source, s.value, s.port]),
      [['sensor:mof', '127.0.0.66', 4444]],
    );
    assert.deepEqual(
      view.topIocs.map((t) => [t.ioc, t.kind, t.orgs]),
      [['127.0.0.66:4444', 'ip-port', 1]],
    );
    assert.deepEqual(view.sensors.map((s) => s.org).sort(), ['mic', 'mof', 'moj']);
    const logs = spaces.map((s) => readFileSync(join(s.state, 'sent.log'), 'utf8'));
    assert.match(logs[0]!, /ioc\.match ioc=127\.0\.0\.66:4444 kind=ip-port pid=\d+ exe=\S*node/);
    assert.ok(!logs[1]!.includes('ioc.match') && !logs[2]!.includes('ioc.match'));
  });
});
