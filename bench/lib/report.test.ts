import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  busyCaveat,
  commandLine,
  markdownTable,
  PREAMBLE,
  publishReport,
  renderReport,
  replaceSection,
  type Report,
} from './report.ts';

const report = (title: string, caveats: string[] = []): Report => ({
  title,
  command: 'npm run bench:x -- --runs 3',
  method: 'Both sides do the same work.',
  started: new Date('2026-12-05T09:00:00Z'),
  loadBefore: { loadavg1: 1.5, cpuPressure: 12.25 },
  loadAfter: { loadavg1: 2, cpuPressure: null },
  tables: [markdownTable(['tool', 'ms'], [['a', 1]], ['l', 'r'])],
  caveats,
});

test('a rendered section carries the command, start, commit, load and caveats', () => {
  const text = renderReport(report('X', ['one peer only']));
  assert.match(text, /^## X\n/);
  assert.match(text, /`npm run bench:x -- --runs 3` — run 2026-12-05 09:00 UTC/);
  assert.match(text, /on commit [0-9a-f]{7,}|on commit unknown/);
  assert.match(text, /load 1\.50, CPU pressure 12\.3% before, load 2\.00, no PSI after/);
  assert.match(text, /\| tool \| ms \|\n\| --- \| ---: \|\n\| a \| 1 \|/);
  assert.match(text, /Caveats:\n\n- one peer only\n/);
});

test('the busy caveat follows the load figures, not a sentence written in advance', () => {
  const quiet = { loadavg1: 0.4, cpuPressure: 3 };
  assert.deepEqual(busyCaveat(quiet, quiet, 2), []);
  assert.deepEqual(busyCaveat(quiet, { loadavg1: 0.4, cpuPressure: null }, 2), []);
  assert.match(busyCaveat(quiet, { loadavg1: 3.1, cpuPressure: 10 }, 2)[0]!, /load up to 3\.10 on 2 cores/);
  assert.match(busyCaveat({ loadavg1: 1, cpuPressure: 40 }, quiet, 8)[0]!, /CPU pressure up to 40\.0%/);
});

test('replaceSection replaces only its own section and keeps the others in place', () => {
  const start = `${PREAMBLE}\n## A\n\nold a\n\n## B\n\nold b\n\n## C\n\nold c\n`;
  const replaced = replaceSection(start, 'B', '## B\n\nnew b\n');
  assert.equal(replaced, `${PREAMBLE}\n## A\n\nold a\n\n## B\n\nnew b\n\n## C\n\nold c\n`);
  const last = replaceSection(start, 'C', '## C\n\nnew c\n');
  assert.equal(last, `${PREAMBLE}\n## A\n\nold a\n\n## B\n\nold b\n\n## C\n\nnew c\n`);
  const added = replaceSection(start, 'D', '## D\n\nd\n');
  assert.ok(added.endsWith('old c\n\n## D\n\nd\n'));
  // "## B" must not match a heading that only starts with it.
  const prefixed = replaceSection(`${PREAMBLE}\n## Bx\n\nkeep\n`, 'B', '## B\n\nb\n');
  assert.match(prefixed, /## Bx\n\nkeep\n\n## B\n\nb\n/);
});

test('hand-written text before the first section is replaced by the preamble', () => {
  const replaced = replaceSection('# Benchmarks\n\nhand text\n\n## A\n\na\n', 'A', '## A\n\nnew\n');
  assert.equal(replaced, `${PREAMBLE}\n## A\n\nnew\n`);
  assert.equal(replaceSection('', 'A', '## A\n\na'), `${PREAMBLE}\n## A\n\na\n`);
});

test('publishReport writes exactly the section it prints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'report-test-'));
  try {
    const file = join(dir, 'B.md');
    writeFileSync(file, `${PREAMBLE}\n## Other\n\nkept\n`);
    const section = publishReport(report('Mine', ['c']), file);
    const written = readFileSync(file, 'utf8');
    assert.match(written, /## Other\n\nkept\n/);
    // prettier may re-align the table; the prose lines must be there verbatim.
    for (const line of section.split('\n').filter((l) => l && !l.startsWith('|')))
      assert.ok(written.includes(line), line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('commandLine quotes what a shell would split', () => {
  assert.equal(commandLine('bench:flow', ['--runs', '3']), 'npm run bench:flow -- --runs 3');
  assert.equal(commandLine('bench:flow', []), 'npm run bench:flow');
  assert.equal(commandLine('bench:x', ['a b', "it's"]), `npm run bench:x -- 'a b' 'it'\\''s'`);
});
