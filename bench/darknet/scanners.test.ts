/**
 * The darknet fingerprints against the real scanners, not only the project's generator: Debian's
 * masscan and zmap scan a /24 of a darknet inside network namespaces made here (a veth pair
 * between a scanner namespace and a sensor namespace, nothing leaves them), tcpdump captures
 * what reaches the sensor, and tsunagi's analysis of that capture must name each scanner.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { analyzeFiles, DarknetAnalyzer, DarknetConfig } from '../../src/darknet/index.ts';

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
const missing = ['ip', 'masscan', 'zmap', 'tcpdump'].filter((tool) => !has(tool));
const skip =
  process.getuid?.() !== 0
    ? 'needs root to make network namespaces'
    : missing.length > 0
      ? `${missing.join(', ')} not on PATH (Debian packages iproute2, masscan, zmap, tcpdump)`
      : false;

const SCANNER_NS = `tsunagi-scan-${process.pid}`;
const SENSOR_NS = `tsunagi-sensor-${process.pid}`;
const SCANNER_IP = '198.18.0.1';
const TARGETS = '198.18.1.0/24';

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr || result.error}`);
  return result.stdout;
}
const inNs = (ns: string, command: string, args: string[]) =>
  run('ip', ['netns', 'exec', ns, command, ...args]);

/** Captures on the sensor's interface while `scan` runs; returns the analysis of the capture. */
async function captureScan(dir: string, name: string, scan: () => void) {
  const file = join(dir, `${name}.pcap`);
  const tcpdump = spawn(
    'ip',
    ['netns', 'exec', SENSOR_NS, 'tcpdump', '-i', 'veth-sensor', '-U', '-w', file, 'ip'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  tcpdump.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  for (let i = 0; i < 100 && !stderr.includes('listening on'); i++) await sleep(50);
  scan();
  await sleep(300);
  tcpdump.kill('SIGINT');
  await new Promise((resolve) => tcpdump.once('exit', resolve));
  const analyzer = new DarknetAnalyzer(DarknetConfig.parse({ prefixes: ['198.18.1.0/24'] }));
  const result = await analyzeFiles([file], analyzer);
  analyzer.finish();
  return { packets: result.packets, source: analyzer.sources().find((s) => s.ip === SCANNER_IP) };
}

describe('fingerprints of the real masscan and zmap', { skip }, () => {
  let dir: string;
  let sensorMac: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsunagi-scanners-'));
    run('ip', ['netns', 'add', SCANNER_NS]);
    run('ip', ['netns', 'add', SENSOR_NS]);
    run('ip', [
      'link',
      'add',
      'veth-scan',
      'netns',
      SCANNER_NS,
      'type',
      'veth',
      'peer',
      'veth-sensor',
      'netns',
      SENSOR_NS,
    ]);
    inNs(SCANNER_NS, 'ip', ['addr', 'add', `${SCANNER_IP}/16`, 'dev', 'veth-scan']);
    inNs(SCANNER_NS, 'ip', ['link', 'set', 'veth-scan', 'up']);
    inNs(SENSOR_NS, 'ip', ['link', 'set', 'veth-sensor', 'up']);
    sensorMac = inNs(SENSOR_NS, 'cat', ['/sys/class/net/veth-sensor/address']).trim();
  });

  after(() => {
    spawnSync('ip', ['netns', 'del', SCANNER_NS]);
    spawnSync('ip', ['netns', 'del', SENSOR_NS]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('masscan SYNs are fingerprinted masscan', async () => {
    const { packets, source } = await captureScan(dir, 'masscan', () =>
      inNs(SCANNER_NS, 'masscan', [
        TARGETS,
        '-p23,2323',
        '--rate',
        '2000',
        '--adapter',
        'veth-scan',
        '--adapter-ip',
        SCANNER_IP,
        '--router-mac',
        sensorMac,
        '--wait',
        '0',
      ]),
    );
    assert.equal(packets, 512, 'one SYN per address and port');
    assert.ok(source, 'the scanner is a source');
    assert.equal(source.fingerprint, 'masscan');
    assert.equal(source.probes, 512);
  });

  test('zmap SYNs are fingerprinted zmap', async () => {
    // zmap's own blocklist holds 198.18.0.0/15 (benchmark addresses): an empty one here.
    const blocklist = join(dir, 'blocklist.conf');
    writeFileSync(blocklist, '');
    const { packets, source } = await captureScan(dir, 'zmap', () =>
      inNs(SCANNER_NS, 'zmap', [
        '-p',
        '23',
        '-i',
        'veth-scan',
        '-S',
        SCANNER_IP,
        '-G',
        sensorMac,
        '-r',
        '500',
        '-b',
        blocklist,
        '-c',
        '1',
        '-q',
        '-o',
        '/dev/null',
        TARGETS,
      ]),
    );
    assert.equal(packets, 256, 'one SYN per address');
    assert.ok(source, 'the scanner is a source');
    assert.equal(source.fingerprint, 'zmap');
    assert.equal(source.probes, 256);
  });
});
