/** The fast sketch paths (word-wise merge, sparse-then-dense port sketches) give exactly what plain dense sketches give. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { hllAdd, hllCount, hllMerge, hllMergeWords, mix32 } from '../core/index.ts';
import { loadNativeDarknet } from './native/index.ts';
import {
  BUCKET_MS,
  formatStatsBatch,
  formatStatsRow,
  PortStats,
  PROTOCOL_NAMES,
  type PortStatsOptions,
  type StatsRow,
  type StatsRowBatch,
} from './stats.ts';

/** Port statistics with the default surge settings, collecting their rows (and calling `onRows`). */
function collectingStats(onRows?: PortStatsOptions['onRows']): { rows: StatsRow[]; stats: PortStats } {
  const rows: StatsRow[] = [];
  const stats = new PortStats({
    surgeFactor: 5,
    surgeMinSources: 10,
    surgeWarmupBuckets: 12,
    baselineAlpha: 0.1,
    onRow: (r) => rows.push(r),
    onRows,
  });
  return { rows, stats };
}

describe('sketch fast paths', () => {
  test('hllMergeWords is a register-wise max, like hllMerge', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 64, maxLength: 64, max: 127 }),
        fc.uint8Array({ minLength: 64, maxLength: 64, max: 127 }),
        (a, b) => {
          const expected = Uint8Array.from(a);
          hllMerge(expected, 0, b, 0, 64);
          const target = Uint8Array.from(a);
          hllMergeWords(new Uint32Array(target.buffer), 0, new Uint32Array(Uint8Array.from(b).buffer), 0, 16);
          assert.deepEqual(target, expected);
        },
      ),
      { numRuns: 500, seed: 3 },
    );
  });

  test('packets after finish start new buckets from empty layers; the total keeps counting', () => {
    const { rows, stats } = collectingStats();
    const t0 = Date.UTC(2025, 0, 15, 10, 0, 0);
    for (let i = 0; i < 50; i++) stats.add(0, 23, mix32(i), t0 + i);
    stats.finish();
    rows.length = 0;
    for (let i = 0; i < 7; i++) stats.add(0, 23, mix32(1000 + i), t0 + 2 * 3600_000 + i);
    stats.finish();
    const port23 = (granularity: string) =>
      rows.filter((r) => r.granularity === granularity && r.port === 23).map((r) => r.packets);
    assert.deepEqual(port23('5m'), [7]);
    assert.deepEqual(port23('1h'), [7]);
    assert.deepEqual(port23('1d'), [7]);
    assert.deepEqual(port23('total'), [57]);
  });

  test('onRows gets the rows onRow gets, a layer at a time; formatStatsBatch writes their CSV lines', () => {
    const batches: { granularity: string; start: number; length: number; csv: string[] }[] = [];
    const { rows, stats } = collectingStats((batch: StatsRowBatch) => {
      const csv: string[] = [];
      // A tiny chunk size: the lines must come out whole and in order whatever the chunking.
      formatStatsBatch(batch, (text) => csv.push(text), 40);
      batches.push({ granularity: batch.granularity, start: batch.start, length: batch.length, csv });
    });
    const t0 = Date.UTC(2025, 0, 15, 10, 0, 0);
    for (let i = 0; i < 3000; i++)
      stats.add(i % 4, (i * 7919) % 70_000 > 65535 ? -1 : (i * 7919) % 65536, mix32(i), t0 + i * 4000);
    stats.finish();
    assert.ok(batches.length >= 4 && rows.length > 3000);
    assert.ok(batches.some((b) => b.granularity === '1h') && batches.at(-1)!.granularity === 'total');
    assert.equal(
      batches.reduce((n, b) => n + b.length, 0),
      rows.length,
    );
    assert.equal(batches.map((b) => b.csv.join('')).join(''), rows.map(formatStatsRow).join(''));
    for (const b of batches)
      for (const chunk of b.csv.slice(0, -1)) assert.ok(chunk.endsWith('\n') && chunk.length >= 40);
  });

  const native = loadNativeDarknet().binding;
  const cases = [
    { name: 'merged into hours and days', spanMs: 3 * 3600_000, native: undefined },
    { name: 'one bucket: the run total is that bucket', spanMs: BUCKET_MS - 1, native: undefined },
    ...(native
      ? [
          { name: 'merged into hours and days, measured in C', spanMs: 3 * 3600_000, native },
          { name: 'one bucket, measured in C', spanMs: BUCKET_MS - 1, native },
        ]
      : []),
  ];
  for (const { name, spanMs, native } of cases)
    test(`port statistics (sparse sketches that turn dense, ${name}; all ports too) match dense sketches`, () => {
      // Ports with 1 to 300 distinct sources, spread over buckets in three hours of two days.
      const t0 = Date.UTC(2025, 0, 15, 22, 0, 0);
      const events: [number, number, number][] = []; // port, source hash, time
      const random = (() => {
        let state = 99;
        return () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
      })();
      const portSources = [1, 2, 3, 4, 5, 6, 9, 17, 40, 300];
      for (let k = 0; k < portSources.length; k++) {
        for (let n = 0; n < portSources[k]! * 3; n++) {
          const source = random() % portSources[k]!;
          events.push([1000 + k, mix32(source * 7919 + k), t0 + (random() % spanMs)]);
        }
      }
      // Packets without a port (fragments) count only under all ports, which also count every
      // port's sources.
      for (let n = 0; n < 60; n++)
        events.push([-1, mix32(50_000 + (random() % 30)), t0 + (random() % spanMs)]);
      events.sort((a, b) => a[2] - b[2]);
      const { rows, stats } = collectingStats();
      if (native) stats.useNative(native);
      // Reference: one plain 64-register sketch per (granularity, start, port).
      const reference = new Map<string, { regs: Uint8Array; packets: number }>();
      const startOf = (granularity: string, t: number) =>
        granularity === '5m'
          ? Math.floor(t / BUCKET_MS) * BUCKET_MS
          : granularity === '1h'
            ? Math.floor(t / 3600_000) * 3600_000
            : granularity === '1d'
              ? Math.floor(t / 86_400_000) * 86_400_000
              : 0;
      for (const [port, hash, t] of events) {
        stats.add(0, port, hash, t);
        for (const granularity of ['5m', '1h', '1d', 'total']) {
          for (const column of port >= 0 ? [port, -1] : [-1]) {
            const key = `${granularity}/${startOf(granularity, t)}/${column}`;
            const entry = reference.get(key) ?? { regs: new Uint8Array(64), packets: 0 };
            hllAdd(entry.regs, 0, 6, hash);
            entry.packets++;
            reference.set(key, entry);
          }
        }
      }
      stats.finish();
      const portRows = rows.filter((r) => r.protocol === PROTOCOL_NAMES[0]);
      assert.equal(portRows.length, reference.size);
      assert.ok(portRows.filter((r) => r.port < 0).length >= 4, 'all-ports rows of every granularity');
      let dense = 0;
      for (const row of portRows) {
        const entry = reference.get(`${row.granularity}/${row.start}/${row.port}`);
        assert.ok(entry, `unexpected row ${JSON.stringify(row)}`);
        assert.equal(row.packets, entry.packets);
        const expected = hllCount(entry.regs, 0, 6);
        assert.equal(row.sources, expected, `sources of ${JSON.stringify(row)}`);
        if (entry.regs.filter((r) => r > 0).length > 8) dense++;
      }
      assert.ok(dense > 10, 'some sketches went dense');
    });
});
