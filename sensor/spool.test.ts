import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { SensorEvent } from '../src/sensor/protocol.ts';
import { Spool } from './spool.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-spool-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ends = (from: number, n: number): SensorEvent[] =>
  Array.from({ length: n }, (_, i) => ({ type: 'process.end', at: 1, pid: from + i }));

describe('Spool', () => {
  it('gives back whole segments, oldest first, up to a batch size', () => {
    const spool = new Spool(join(dir, 'a'), 1e6);
    spool.append(ends(0, 5), 3);
    spool.append(ends(100, 2), 3);
    assert.equal(spool.events, 7);
    const first = spool.peek(4);
    assert.deepEqual(
      first.events.map((e) => e.type === 'process.end' && e.pid),
      [0, 1, 2],
    );
    spool.remove(first.segments);
    assert.equal(spool.peek(10).events.length, 4);
  });

  it('drops the oldest events when full and counts them, so loss shows', () => {
    const spool = new Spool(join(dir, 'b'), 600);
    for (let i = 0; i < 20; i++) spool.append(ends(i * 10, 5), 5);
    assert.ok(spool.bytes <= 600, `spool holds ${spool.bytes} bytes`);
    assert.equal(spool.droppedEvents + spool.events, 100);
    assert.ok(spool.droppedEvents > 0);
    const oldest = spool.peek(5).events[0];
    assert.equal(oldest?.type === 'process.end' && oldest.pid, (spool.droppedEvents / 5) * 10);
  });

  it('finds its segments again after a restart, and numbers new ones after them', () => {
    const path = join(dir, 'c');
    const before = new Spool(path, 1e6);
    before.append(ends(0, 2), 10);
    const after_ = new Spool(path, 1e6);
    assert.equal(after_.events, 2);
    after_.append(ends(2, 1), 10);
    assert.deepEqual(
      after_.peek(10).events.map((e) => e.type === 'process.end' && e.pid),
      [0, 1, 2],
    );
  });
});
