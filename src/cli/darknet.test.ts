/** `tsunagi darknet analyze` end to end: hosts.csv, stats.csv and the bot list from a synthetic capture. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { SyntheticDarknet } from '../darknet/index.ts';
import { main } from './main.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-darknet-cli-'));

describe('CLI', () => {
  test('tsunagi darknet analyze writes hosts.csv, stats.csv and the bot list', async () => {
    const synthetic = new SyntheticDarknet({ seed: 11, noise: 20 });
    const capture = join(dir, 'in.pcap');
    writeFileSync(capture, synthetic.toPcap());
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    stdout.on('data', (d) => (out += d));
    stderr.resume();
    const hosts = join(dir, 'hosts.csv');
    const stats = join(dir, 'stats.csv');
    const bots = join(dir, 'bots.csv');
    const code = await main(
      [
        'darknet',
        'analyze',
        capture,
        '--prefix',
        '198.18.0.0/16',
        '--hosts',
        hosts,
        '--stats',
        stats,
        '--bots',
        bots,
      ],
      {
        stdout,
        stderr,
        env: {},
        interactive: false,
      },
    );
    assert.equal(code, 0);
    assert.match(out, /sources: \d+ \(infected 25,/);
    const hostLines = readFileSync(hosts, 'utf8').trim().split('\n');
    assert.equal(hostLines[0], 'ip,class,fingerprint,packets,ports');
    assert.equal(hostLines.length - 1, synthetic.truth.size);
    assert.match(
      readFileSync(stats, 'utf8'),
      /^granularity,start,protocol,port,packets,sources\n5m,2025-01-15T00:00:00.000Z,/,
    );
    const botList = readFileSync(bots, 'utf8').trim().split('\n');
    assert.equal(botList[0], 'ip');
    assert.equal(botList.length - 1, 25);
    const bad = await main(['darknet', 'analyze', capture], { stdout, stderr, env: {}, interactive: false });
    assert.equal(bad, 2);
  });
});
