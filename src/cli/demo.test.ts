import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateScenario } from '../scenario/index.ts';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));

test('demo replays NetFlow over loopback through collector, detector and hub, and the C&C list is exported', () => {
  // A --data directory that is not there yet: the demo makes it, as start does.
  const data = join(mkdtempSync(join(tmpdir(), 'tsunagi-demo-test-')), 'data');
  const demo = spawnSync(
    BIN,
    [
      'demo',
      '--exit-when-done',
      '--data',
      data,
      '--hub',
      '127.0.0.1:0',
      '--hours',
      '3',
      '--subscribers',
      '300',
      '--rate',
      '60000',
    ],
    { encoding: 'utf8', timeout: 180_000 },
  );
  assert.equal(demo.status, 0, demo.stderr);
  // The demo's scenario (seed 1 by default), generated here on its own: its truth is the answer key.
  const scenario = generateScenario({ seed: 1, hours: 3, subscribers: 300, startMs: Date.now() });
  for (const _ of scenario.batches());
  const truth = new Set(scenario.truth.c2.map((c) => `${c.ip}:${c.port}`));
  assert.equal(truth.size, 4, 'the scenario holds four C&C servers');
  const [, publishedText, ofText] = /C&C published (\d+) of (\d+) in the scenario/.exec(demo.stderr) ?? [];
  const published = Number(publishedText);
  assert.equal(Number(ofText), truth.size, demo.stderr);
  assert.ok(published >= 1 && published <= truth.size, demo.stderr);
  assert.match(demo.stderr, /full +Demo Analysis Center +tsg_[A-Za-z0-9_-]{43}/);
  // start's own OSINT round read the demo's two advisories from its feed on loopback.
  assert.match(
    demo.stderr,
    /OSINT: 2 advisories read from the demo feed, \d+ indicators, [1-9]\d* intel sightings/,
  );
  // It says how to make the daily report of what it showed, and that command works on its data.
  const [, reportArgs] =
    /report: \S+ (report daily --lang ja --data \S+ --out report\.html)/.exec(demo.stderr) ?? [];
  assert.ok(reportArgs, demo.stderr);
  const html = join(data, 'report.html');
  const report = spawnSync(BIN, [...reportArgs.split(' ').slice(0, -1), html], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(report.status, 0, report.stderr);
  assert.match(readFileSync(html, 'utf8'), /<html lang="ja"/);

  // What the detector published reached the hub's store: the council-tier C&C list holds it,
  // as ip,port,proto rows with no timestamps.
  const exported = spawnSync(BIN, ['export', 'c2', '--format', 'txt', '--tier', 'full', '--data', data], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(exported.status, 0, exported.stderr);
  const lines = exported.stdout.split('\n').filter((line) => line && !line.startsWith('#'));
  // Published candidates whose evidence expired by the end of the replay are withdrawn.
  assert.ok(lines.length >= 1 && lines.length <= published, exported.stdout);
  // Every exported server is one of the scenario's C&C servers: no false positive reaches the list.
  for (const line of lines) assert.ok(truth.has(line), `${line} is not a C&C server of the scenario`);

  // Purpose limitation: nothing the demo wrote holds a raw flow (no subscriber address appears
  // beside a flow time); the only flow-derived state on disk is per-destination aggregates.
  const files = readdirSync(data, { recursive: true }).map(String);
  assert.ok(files.some((f) => f.startsWith('detect')));
  const detectState = files.filter((f) => f.startsWith('detect') && f.endsWith('.json'));
  for (const file of detectState) {
    const text = readFileSync(join(data, file), 'utf8');
    assert.doesNotMatch(text, /198\.1[89]\.\d+\.\d+/, `${file} holds a subscriber address`);
  }
});
