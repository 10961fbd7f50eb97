/**
 * The room itself replayed over listings: a batch listed at one minute, ingested row by row, ties
 * its later rows to the earlier ones, as the own-verdict replay counts them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseUrl } from '../../src/web/index.ts';
import type { Listing } from './data.ts';
import { replayInRoom } from './room-replay.ts';

test('a batch under one registered domain: its first rows are judged alone, the rest tied to them', async () => {
  const at = '2025-07-14T13:57:00+09:00';
  // Scored suspicious or malicious by the shipped model (the first two suspicious, the third
  // malicious, the fourth suspicious), all on one domain: a tie needs two other hosts judged.
  const paths = ['a.qwpzrtk.net/jp', 'bq.qwpzrtk.net/jp/', 'cz.qwpzrtk.net/jp', 'ew.qwpzrtk.net/jp'];
  const listings: Listing[] = paths.map((path, i) => ({
    url: normaliseUrl(`https://${path}`),
    seenAt: at,
    row: 10 + i,
  }));
  const benign = ['https://www.example.org/about', 'https://qwpzrtk-shop.example/'].map((u) =>
    normaliseUrl(u),
  );
  const room = await replayInRoom([{ month: '2025-07', listings }], listings, benign);
  assert.deepEqual(room.phishingCaught, [false, false, true, true]);
  assert.deepEqual(room.benignFlagged, [false, false]);
  // The rows' order is the list's, not the order given: reversed, the same rows are caught.
  const reversed = await replayInRoom(
    [{ month: '2025-07', listings: [...listings].reverse() }],
    listings,
    benign,
  );
  assert.deepEqual(reversed.phishingCaught, [false, false, true, true]);
});
