import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { encodeIpfixFlows } from '../flow/index.ts';
import { CORPUS } from '../flow/testing.ts';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));

function run(args: string[]) {
  return spawnSync(BIN, args, { encoding: 'utf8', timeout: 60_000 });
}

/** Starts a long-running command and resolves when stderr matches `ready`. */
function startUntil(args: string[], ready: RegExp) {
  const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const readyPromise = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready: ${stderr}`)), 30_000);
    child.stderr.on('data', (d) => {
      stderr += d;
      if (ready.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, ready: readyPromise, exited, output: () => ({ stderr, stdout }) };
}

describe('tsunagi CLI', () => {
  test('help exits 0 and lists the commands', () => {
    const result = run(['--help']);
    assert.equal(result.status, 0);
    for (const command of ['start', 'collect', 'flows'])
      assert.match(result.stdout, new RegExp(`\\b${command}\\b`));
  });

  test('bad usage exits 2 with a message on stderr', () => {
    const unknown = run(['no-such-command']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command/);
    const badFormat = run(['flows', 'decode', '--format', 'xml', 'x']);
    assert.equal(badFormat.status, 2);
    assert.equal(badFormat.stderr.trim().split('\n').length, 1);
  });

  test('a missing or wrong input file exits 2 with one line', () => {
    const missing = run(['flows', 'decode', '/nonexistent/file.pcap']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^tsunagi: \/nonexistent\/file\.pcap: cannot open/);
    const dir = mkdtempSync(join(tmpdir(), 'tsunagi-cli-'));
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, 'definitely not netflow');
    const garbage = run(['flows', 'decode', junk]);
    assert.equal(garbage.status, 2);
    assert.match(garbage.stderr, /no flow record could be decoded/);
  });

  test('flows decode prints the CSV contract and JSON lines', () => {
    const csv = run(['flows', 'decode', join(CORPUS, 'telegraf/netflow_v5_example/netflow_v5.bin')]);
    assert.equal(csv.status, 0, csv.stderr);
    const lines = csv.stdout.trim().split('\n');
    assert.equal(
      lines[0],
      'exporter,version,start_ms,end_ms,src,dst,src_port,dst_port,proto,tcp_flags,packets,bytes,sampling_rate',
    );
    assert.ok(lines.length > 2);
    assert.ok(lines.slice(1).every((line) => line.split(',').length === 13 && line.split(',')[1] === '5'));
    const jsonl = run([
      'flows',
      'decode',
      '--raw',
      '--format',
      'jsonl',
      join(CORPUS, 'telegraf/netflow_v5_example/netflow_v5.bin'),
    ]);
    assert.equal(jsonl.status, 0);
    const records = jsonl.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(records.length, lines.length - 1);
    assert.equal(records[0].version, '5');
  });

  test('templates learned from one file apply to the next', () => {
    const tpl = join(CORPUS, 'logstash/netflow9_test_cisco_asa_1_tpl.dat');
    const data = join(CORPUS, 'logstash/netflow9_test_cisco_asa_1_data.dat');
    const together = run(['flows', 'decode', tpl, data]);
    assert.equal(together.status, 0);
    assert.ok(together.stdout.trim().split('\n').length > 1);
    const dataAlone = run(['flows', 'decode', data]);
    assert.equal(dataAlone.status, 2, 'data without its template decodes to nothing');
  });

  test('collect receives live flows, prints a rate line and stops cleanly on SIGINT', async () => {
    const probe = createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', () => resolve()));
    const port = probe.address().port;
    probe.close();
    const collect = startUntil(
      ['collect', '--listen', `127.0.0.1:${port}`, '--interval', '0.2'],
      /listening on/,
    );
    await collect.ready;
    const sender = createSocket('udp4');
    const flows = Array.from({ length: 10 }, (_, i) => ({
      src: `10.1.1.${i}`,
      dst: '203.0.113.5',
      srcPort: 1000 + i,
      dstPort: 8080,
      proto: 6,
      packets: 3,
      bytes: 300,
      startMs: 1_700_000_000_000,
      endMs: 1_700_000_000_500,
    }));
    await new Promise((resolve) =>
      sender.send(encodeIpfixFlows(flows, { exportTime: 1_700_000_001 }), port, '127.0.0.1', resolve),
    );
    sender.close();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(collect.output().stderr)), 20_000);
      const check = setInterval(() => {
        if (/flows 10\b/.test(collect.output().stderr)) {
          clearInterval(check);
          clearTimeout(timer);
          resolve();
        }
      }, 50);
    });
    collect.child.kill('SIGINT');
    assert.equal(await collect.exited, 0);
    assert.match(collect.output().stderr, /flows\/s .* packets\/s .* errors 0 +drops \d+/);
    assert.match(collect.output().stderr, /stopped by SIGINT: 10 flows from 1 packets/);
  });

  test('start runs on embedded defaults in a data directory and stops on SIGTERM', async () => {
    const data = mkdtempSync(join(tmpdir(), 'tsunagi-start-'));
    const started = startUntil(
      [
        'start',
        '--data',
        data,
        '--listen',
        '127.0.0.1:0',
        '--hub',
        '127.0.0.1:0',
        '--metrics',
        '127.0.0.1:0',
      ],
      /tsunagi is running/,
    );
    await started.ready;
    started.child.kill('SIGTERM');
    assert.equal(await started.exited, 0);
  });
});
