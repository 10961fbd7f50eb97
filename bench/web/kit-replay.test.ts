/**
 * The kit-path replays the benchmark's kit rows stand on: a host is judged only by listings of
 * earlier days (daily), by listings before its own listing time (URL by URL, the room's own
 * verdicts), or only by what had been published by its listing time (as published).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_KIT_PATHS, normaliseUrl } from '../../src/web/index.ts';
import type { Listing } from './data.ts';
import { replayAsPublished, replayKitPaths } from './kit-replay.ts';

const listing = (url: string, seenAt: string): Listing => ({ url: normaliseUrl(url), seenAt });
// One kit on two domains in early July (Japan's time), then a third domain on 10 July.
const listings = [
  listing('https://gtdos.cn/jkuos', '2025-07-01T10:00:00+09:00'),
  listing('https://rcmama.cn/jkuos', '2025-07-02T10:00:00+09:00'),
];
const host = { url: normaliseUrl('https://csvgcx.cn/jkuos'), seenAt: '2025-07-10T10:00:00+09:00' };
const sameDay = { url: normaliseUrl('https://qqwzx.cn/jkuos'), seenAt: '2025-07-02T18:00:00+09:00' };
const period = { from: '2025-07-01', to: '2025-07-31' };

test('daily: a host is tied by the kit listed on two other domains on earlier days, never its own day', () => {
  const replay = replayKitPaths(listings, [host, sameDay], [], period, DEFAULT_KIT_PATHS);
  assert.deepEqual(replay.phishingTied, [true, false]);
});

test('URL by URL: a host is tied by listings earlier the same day, never by one at or after its own time', () => {
  const later = { url: normaliseUrl('https://zzkwq.cn/jkuos'), seenAt: '2025-07-02T09:00:00+09:00' };
  const atOnce = { url: normaliseUrl('https://pqxlm.cn/jkuos'), seenAt: '2025-07-02T10:00:00+09:00' };
  const replay = replayKitPaths(
    listings,
    [host, sameDay, later, atOnce],
    [],
    period,
    DEFAULT_KIT_PATHS,
    'earlier-times',
  );
  // sameDay (18:00) follows both listings; later (09:00) has only the first; atOnce shares the second's minute.
  assert.deepEqual(replay.phishingTied, [true, true, false, false]);
});

test('row by row: a batch listed at one minute teaches its later rows its earlier ones, never the reverse', () => {
  const at = '2025-07-05T13:57:00+09:00';
  const batch = ['ahq', 'bkz', 'cwe', 'dpo'].map((name, row) => ({
    ...listing(`https://${name}.cn/jkuos`, at),
    row: 100 + row,
  }));
  const judged = batch.map(({ url, seenAt, row }) => ({ url, seenAt, row }));
  const rows = replayKitPaths(batch, judged, [], period, DEFAULT_KIT_PATHS, 'earlier-rows');
  // Two other domains before it: the third and fourth rows.
  assert.deepEqual(rows.phishingTied, [false, false, true, true]);
  const times = replayKitPaths(batch, judged, [], period, DEFAULT_KIT_PATHS, 'earlier-times');
  assert.deepEqual(times.phishingTied, [false, false, false, false]);
});

test('row by row: rows of earlier times teach whatever their place in the list', () => {
  const earlier = listings.map((l, i) => ({ ...l, row: 500 + i }));
  const replay = replayKitPaths(
    earlier,
    [{ ...host, row: 1 }],
    [],
    period,
    DEFAULT_KIT_PATHS,
    'earlier-rows',
  );
  assert.deepEqual(replay.phishingTied, [true]);
});

test('URL by URL: a benign URL is checked at the end of each day that touched its template, as daily', () => {
  const benign = [normaliseUrl('https://example.org/jkuos'), normaliseUrl('https://example.org/about')];
  const replay = replayKitPaths(listings, [sameDay], benign, period, DEFAULT_KIT_PATHS, 'earlier-times');
  assert.deepEqual(replay.benignTied, [true, false]);
});

test('URL by URL: benign-looking URLs seen on the path once it is named count against the tie, as the room counts them', () => {
  const seenBenign = (n: number, at: string) =>
    Array.from({ length: n }, (_, i) => listing(`https://bakery${i}.example/jkuos`, at));
  const replay = (unjudged: Listing[]) =>
    replayKitPaths(listings, [host], [], period, DEFAULT_KIT_PATHS, 'earlier-times', unjudged).phishingTied;
  assert.deepEqual(replay(seenBenign(15, '2025-07-05T10:00:00+09:00')), [true]);
  assert.deepEqual(replay(seenBenign(16, '2025-07-05T10:00:00+09:00')), [false], '8 per named domain');
  // Seen before the path was named: the room had no reason to count them.
  assert.deepEqual(replay(seenBenign(16, '2025-06-30T10:00:00+09:00')), [true]);
});

test('daily: a benign URL on the kit path counts as tied; one on another path does not', () => {
  const benign = [normaliseUrl('https://example.org/jkuos'), normaliseUrl('https://example.org/about')];
  const replay = replayKitPaths(listings, [], benign, period, DEFAULT_KIT_PATHS);
  assert.deepEqual(replay.benignTied, [true, false]);
});

test('as published: a batch published after the host was listed teaches nothing about it', () => {
  const publishedAt = (at: string) => () => Date.parse(at);
  assert.deepEqual(
    replayAsPublished(listings, [host], publishedAt('2025-08-20T16:00:00+09:00'), DEFAULT_KIT_PATHS),
    [false],
  );
  assert.deepEqual(
    replayAsPublished(listings, [host], publishedAt('2025-07-05T00:00:00+09:00'), DEFAULT_KIT_PATHS),
    [true],
  );
  // A month never published is never learnt.
  assert.deepEqual(
    replayAsPublished(listings, [host], () => undefined, DEFAULT_KIT_PATHS),
    [false],
  );
});
