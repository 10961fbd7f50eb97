/** `tsunagi scenario generate`: profiles, --start, --sampling, the bot list CSV and bad options. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DecoderConfig, createFlowDecoder, replayFiles } from '../flow/index.ts';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));
const run = (args: string[]) =>
  spawnSync(BIN, ['scenario', 'generate', ...args], { encoding: 'utf8', timeout: 120_000 });

test('seeded scenario ending now, sampled 1:10: the pcap states the rate and the truth the times', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-scenario-'));
  const [pcap, truth, bots] = ['flows.pcap', 'truth.json', 'bots.csv'].map((f) => join(dir, f));
  const before = Date.now();
  const r = run([
    '--out',
    pcap!,
    '--truth',
    truth!,
    '--bots',
    bots!,
    '--hours',
    '0.5',
    '--subscribers',
    '100',
    '--start',
    'now',
    '--sampling',
    '10',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /detect with --subscribers \S+/);
  const t = JSON.parse(readFileSync(truth!, 'utf8'));
  assert.equal(t.profile, 'seeded');
  assert.ok(Math.abs(t.endMs - before) < 60_000, `stream ends ${t.endMs}, now ${before}`);
  assert.match(readFileSync(bots!, 'utf8'), /^bot,family\n/);
  const rates = new Set<number>();
  let records = 0;
  const summary = await replayFiles([pcap!], createFlowDecoder(DecoderConfig.parse({})), (b) => {
    records += b.length;
    for (let i = 0; i < b.length; i++) rates.add(b.samplingRate[i]!);
  });
  assert.deepEqual(summary.errors, {});
  assert.ok(records > 100);
  assert.deepEqual([...rates], [10]);
});

test('classic profile at an ISO start: bots with their families, flows and packets; bad options exit 2 with one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-scenario-'));
  const truth = join(dir, 'truth.json');
  const bots = join(dir, 'bots.csv');
  const ok = run([
    '--out',
    join(dir, 'a.pcap'),
    '--packets',
    join(dir, 'packets.pcap'),
    '--bots',
    bots,
    '--truth',
    truth,
    '--profile',
    'classic',
    '--hours',
    '0.2',
    '--subscribers',
    '50',
    '--start',
    '2026-12-01T00:00:00Z',
  ]);
  assert.equal(ok.status, 0, ok.stderr);
  const t = JSON.parse(readFileSync(truth, 'utf8'));
  assert.equal(t.startMs, Date.UTC(2026, 11, 1));
  const [header, ...lines] = readFileSync(bots, 'utf8').trim().split('\n');
  assert.equal(header, 'bot,family');
  assert.deepEqual(
    lines,
    t.botList.map((bot: string) => `${bot},${t.botFamilies[bot]}`),
  );
  assert.ok(
    lines.every((line) => /^[\d.]+,family-[a-z]$/.test(line)),
    lines.join('\n'),
  );
  const flows = /(\d+) flows in \d+ ipfix packets/.exec(ok.stderr);
  const packets = /(\d+) flows as (\d+) packets/.exec(ok.stderr);
  assert.ok(flows && packets, ok.stderr);
  assert.equal(packets[1], flows[1], 'the same day in both files');
  assert.equal(readFileSync(join(dir, 'packets.pcap')).readUInt32LE(0), 0xa1b2c3d4);
  const neither = spawnSync(BIN, ['scenario', 'generate', '--hours', '0.1'], { encoding: 'utf8' });
  assert.equal(neither.status, 2);
  assert.match(neither.stderr, /--out FILE or --packets FILE/);
  for (const bad of [
    ['--start', 'yesterday'],
    ['--sampling', '0'],
    ['--profile', 'other'],
    ['--bot-fraction', '0.1'],
    ['--hours', 'x'],
  ]) {
    const r = run(['--out', join(dir, 'b.pcap'), ...bad]);
    assert.equal(r.status, 2, `${bad.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
