/**
 * The own-verdict replays of the registered-domain and suffix-path ties: a host is judged by the
 * rows before it, strictly by time or by time and then its place in the list (a batch of one
 * listing time read one URL after the other, as `web ingest` reads it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseUrl } from '../../src/web/index.ts';
import { replayDomainTies, replaySuffixPathTies } from './domain-replay.ts';

const at = '2025-05-12T13:57:00+09:00';
const period = { from: '2025-05-01' };
/** One campaign's hosts under one registered domain, listed in one batch. */
const batch = ['a', 'ag', 'ah', 'aia'].map((label, i) => ({
  url: normaliseUrl(`https://${label}.owusnf.net/www.example.co.jp`),
  seenAt: at,
  row: 40 + i,
}));
const options = { windowDays: 30, maxDomains: 1000 };

test('domains, row by row: a batch teaches its later rows, never its earlier ones or a row its own', () => {
  const replay = replayDomainTies(batch, batch, [], period, options, [], true);
  // Two other hosts judged before it (DOMAIN_MIN_HOSTS): the third row on.
  assert.deepEqual(replay.phishingTied, [false, false, true, true]);
});

test('domains, by time: no row of a batch teaches another', () => {
  const replay = replayDomainTies(batch, batch, [], period, options, [], false);
  assert.deepEqual(replay.phishingTied, [false, false, false, false]);
});

test('domains, row by row: hosts scored benign under the domain still count against the tie', () => {
  // Eight benign-looking hosts per judged one, seen after the domain was named and before the
  // fourth row: the tie no longer holds.
  const benignLooking = Array.from({ length: 24 }, (_, i) => ({
    url: normaliseUrl(`https://shop${i}.owusnf.net/`),
    seenAt: at,
    row: 42,
  }));
  const taught = batch.slice(0, 3);
  const replay = (against: number) =>
    replayDomainTies(taught, [batch[3]!], [], period, options, benignLooking.slice(0, against), true)
      .phishingTied;
  assert.deepEqual(replay(23), [true]);
  assert.deepEqual(replay(24), [false]);
});

test('suffix paths, row by row: three other domains of a batch on a risky suffix and path tie the fourth', () => {
  const hosts = ['qzvbn', 'wkrtp', 'mnbvc', 'lkjhg'].map((label, i) => ({
    url: normaliseUrl(`https://${label}.duckdns.org/select`),
    seenAt: at,
    row: 7 + i,
  }));
  const risky = () => 1;
  const options = { windowDays: 30, maxPaths: 1000 };
  const rows = replaySuffixPathTies(hosts, hosts, [], period, options, risky, [], true);
  assert.deepEqual(rows.phishingTied, [false, false, false, true]);
  const times = replaySuffixPathTies(hosts, hosts, [], period, options, risky, [], false);
  assert.deepEqual(times.phishingTied, [false, false, false, false]);
});
