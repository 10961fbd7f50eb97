/**
 * The shapes real C&C traffic and its look-alikes take (issue #14), one test each: P2P peers,
 * vendor clouds, long-lived sessions, fast flux, low-rate beacons, service ports, research
 * scanners, packet sampling, shared IPv4 homes (MAP-E), family, determinism.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDetector } from './index.ts';
import { HomeResolver, parseSharedRule } from './homes.ts';
import { parseBotList } from './lists.ts';
import {
  MID_SESSION,
  MINUTE,
  SYN_ONLY,
  T0,
  UDP,
  batchOf,
  beacons,
  browsing,
  collect,
  homes,
  seeded,
  type Row,
} from './testing.ts';

const SUBS = ['198.18.0.0/15'];
const SITES = Array.from({ length: 20 }, (_, k) => `192.0.2.${10 + k}`);
const CLEAN = homes(300, 1000);
const C2 = '203.0.113.50';

describe('traffic shapes', () => {
  test('P2P botnet (Mozi-like): peers many bots each touch a few times are peers, never C&C', () => {
    const { published, peers, deps } = collect();
    const det = createDetector({ subscriberPrefixes: SUBS }, deps);
    const bots = homes(30);
    det.setBots(bots.map((b) => `${b},mozi`));
    const random = seeded(11);
    const peerAddresses = Array.from({ length: 60 }, (_, k) => ({
      ip: `100.${64 + (k % 50)}.${k}.${7 + k}`,
      port: 10000 + Math.floor(random() * 50000),
    }));
    const rows: Row[] = browsing(CLEAN, SITES, 2);
    // Each bot talks to 20 random peers, one to three times each at random moments (DHT).
    for (const bot of bots) {
      for (let k = 0; k < 20; k++) {
        const peer = peerAddresses[Math.floor(random() * peerAddresses.length)]!;
        const times = 1 + Math.floor(random() * 3);
        for (let n = 0; n < times; n++) {
          const t = T0 + random() * 2 * 3_600_000;
          rows.push({
            t,
            src: bot,
            dst: peer.ip,
            sport: 6881,
            dport: peer.port,
            proto: UDP,
            packets: 1,
            bytes: 180,
          });
          rows.push({
            t: t + 50,
            src: peer.ip,
            dst: bot,
            sport: peer.port,
            dport: 6881,
            proto: UDP,
            packets: 1,
            bytes: 220,
          });
        }
      }
    }
    det.ingest(batchOf(rows));
    det.tick(T0 + 2 * 3_600_000);
    assert.deepEqual(
      published.map((c) => `${c.ip}:${c.port} ${c.confidence}`),
      [],
      'no peer is a C&C server',
    );
    assert.ok(peers.length >= 20, `peers reported: ${peers.length}`);
    for (const peer of peers) {
      assert.equal(peer.internal, false);
      assert.equal(peer.family, 'mozi');
      assert.ok(peer.evidence.p2pShare >= 0.3);
      assert.ok(peerAddresses.some((p) => p.ip === peer.ip));
    }
    assert.deepEqual(det.shareableRows(), []);
  });

  test('vendor cloud every camera uses, 60-85 % of cameras infected: never exclusive', () => {
    for (const infectedShare of [0.6, 0.85]) {
      const { published, deps } = collect();
      const det = createDetector({ subscriberPrefixes: SUBS }, deps);
      const cameras = homes(100, 2000);
      const infected = cameras.slice(0, Math.round(infectedShare * 100));
      det.setBots(infected);
      const rows = [
        ...browsing(CLEAN, SITES, 2),
        ...beacons(cameras, '198.51.100.80', 8883, 120, { periodMs: MINUTE }),
      ];
      det.ingest(batchOf(rows));
      det.tick(T0 + 2 * 3_600_000);
      assert.deepEqual(published, [], `${infectedShare * 100} % infected: the cloud was published`);
      const state = det.detector.exportState().find((a) => a.ip === '198.51.100.80')!;
      const clean = 100 - infected.length;
      // Exact up to 16 clean homes, a sketch past them.
      if (clean <= 16) assert.equal(state.clients, clean, 'clean cameras counted exactly');
      else
        assert.ok(
          Math.abs(state.clients - clean) <= 0.15 * clean,
          `clean cameras ${state.clients} of ${clean}`,
        );
    }
  });

  test('long-lived connections exported every active timeout: held sessions, a strong signal', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: SUBS }, deps);
    const bots = homes(4);
    det.setBots(bots);
    const rows: Row[] = browsing(CLEAN, SITES, 1);
    bots.forEach((bot, k) => {
      for (let r = 0; r < 60; r++) {
        // One 5-tuple, one record a minute, no SYN after the first: one session, not 60 beacons.
        const t = T0 + k * 7000 + r * MINUTE;
        const flags = r === 0 ? 0x1a : MID_SESSION;
        rows.push({
          t,
          src: bot,
          dst: C2,
          sport: 51000 + k,
          dport: 8080,
          flags,
          packets: 4,
          bytes: 300,
          durationMs: MINUTE - 10,
        });
      }
    });
    det.ingest(batchOf(rows));
    det.tick(T0 + 3_600_000);
    assert.equal(published.length, 1);
    const evidence = det.candidates()[0]!.evidence;
    assert.equal(evidence.heldSessions, 4);
    assert.equal(evidence.periodicBots, 0, 'records of one session are not periodic beacons');
    assert.ok(evidence.contactsPerBot <= 1.01, `contacts per bot ${evidence.contactsPerBot}`);
  });
});

describe('traffic shapes', () => {
  test('fast flux: the server moves to a new random high port every 10 minutes, evidence stays', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: SUBS }, deps);
    const bots = homes(4);
    det.setBots(bots);
    const random = seeded(5);
    const ports = Array.from({ length: 18 }, () => 10000 + Math.floor(random() * 50000));
    const rows: Row[] = browsing(CLEAN, SITES, 3);
    for (const row of beacons(bots, C2, 0, 36, { periodMs: 5 * MINUTE, jitter: 0.1 }))
      rows.push({ ...row, dport: ports[Math.floor((row.t - T0) / (10 * MINUTE))]! });
    det.ingest(batchOf(rows));
    det.tick(T0 + 3 * 3_600_000);
    assert.ok(published.length >= 1, 'published');
    const last = det.candidates()[0]!;
    assert.equal(last.ip, C2);
    assert.ok(last.evidence.ports >= 10, `port moves seen: ${last.evidence.ports}`);
    assert.ok(last.evidence.periodicBots >= 2, 'each bot keeps its own intervals across ports');
    const lastPort = rows
      .filter((r) => r.dst === C2)
      .sort((a, b) => a.t - b.t)
      .at(-1)!.dport;
    assert.equal(last.port, lastPort, 'the published key follows the server to its current port');
  });

  test('low-rate beacons (every 10 min +- 30 %) from three bots are found', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: SUBS }, deps);
    const bots = homes(3);
    det.setBots(bots);
    const rows = [
      ...browsing(CLEAN, SITES, 3),
      ...beacons(bots, C2, 40443, 18, { periodMs: 10 * MINUTE, jitter: 0.3 }),
    ];
    det.ingest(batchOf(rows));
    det.tick(T0 + 3 * 3_600_000);
    assert.equal(published.length, 1);
    assert.equal(published[0]!.ip, C2);
  });

  test('service ports: a C&C on 443 is found; a resolver every home uses on 53 is not', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: SUBS }, deps);
    const bots = homes(5);
    det.setBots(bots);
    const resolver = '192.0.2.53';
    const rows: Row[] = [
      ...browsing(CLEAN, SITES, 2),
      ...beacons(bots, C2, 443, 60, { periodMs: 2 * MINUTE }),
      ...beacons([...bots, ...CLEAN], resolver, 53, 24, { periodMs: 5 * MINUTE, proto: UDP }).map((r) => ({
        ...r,
        packets: 2,
        bytes: 160,
      })),
    ];
    // The resolver answers (reply direction) too.
    for (const r of rows.filter((row) => row.dst === resolver))
      rows.push({ ...r, t: r.t + 20, src: resolver, dst: r.src, sport: 53, dport: r.sport });
    det.ingest(batchOf(rows));
    det.tick(T0 + 2 * 3_600_000);
    assert.deepEqual(
      published.map((c) => `${c.ip}:${c.port}`),
      [`${C2}:443`],
    );
  });

  test('a research scanner that probes every subscriber and gets answers is never a C&C', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: SUBS }, deps);
    const bots = homes(20);
    det.setBots(bots);
    const scanner = '198.51.100.200';
    const rows: Row[] = browsing(CLEAN, SITES, 2);
    for (let sweep = 0; sweep < 12; sweep++) {
      for (const [k, home] of [...bots, ...CLEAN].entries()) {
        const t = T0 + sweep * 10 * MINUTE + k * 100;
        // The scanner initiates from one high port; the subscribers' services answer.
        rows.push({ t, src: scanner, dst: home, sport: 61000, dport: 80, packets: 3, bytes: 180 });
        rows.push({ t: t + 30, src: home, dst: scanner, sport: 80, dport: 61000, packets: 3, bytes: 900 });
      }
    }
    det.ingest(batchOf(rows));
    det.tick(T0 + 2 * 3_600_000);
    assert.deepEqual(published, []);
    assert.ok(det.stats.inbound > 0, 'probes recognised as initiated outside');
  });

  test('packet sampling: a sampled SYN stands for ~N packets yet is still a scan; sampled C&C contact counts', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: SUBS }, deps);
    const bots = homes(4);
    det.setBots(bots);
    const rate = 10;
    const rows: Row[] = [];
    for (const [k, bot] of bots.entries())
      for (let n = 0; n < 100; n++)
        rows.push({
          t: T0 + n * 1000 + k,
          src: bot,
          dst: `100.70.${k}.${n + 1}`,
          sport: 40000 + n,
          dport: 23,
          flags: SYN_ONLY,
          packets: rate,
          bytes: 40 * rate,
          samplingRate: rate,
        });
    // C&C exchanges of ~20 packets, each seen (at 1:10) as one or two sampled packets.
    for (const r of beacons(bots, C2, 7777, 40, { periodMs: 2 * MINUTE }))
      rows.push({ ...r, packets: rate * 2, bytes: rate * 2 * 120, samplingRate: rate });
    det.ingest(batchOf([...rows, ...browsing(CLEAN, SITES, 2)]));
    det.tick(T0 + 90 * MINUTE);
    assert.equal(det.stats.scanFlows, 400, 'sampled SYN-only flows are scans, not unanswered contacts');
    assert.equal(published.length, 1);
    assert.equal(det.candidates()[0]!.evidence.samplingRate, rate);
  });

  test('the C&C server gets the majority family of its bots, with the share as evidence', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: SUBS }, deps);
    const bots = homes(5);
    det.setBots(
      parseBotList(`bot,family\n${bots.map((b, k) => `${b},${k < 4 ? 'mirai' : 'gafgyt'}`).join('\n')}\n`)
        .entries,
    );
    det.ingest(batchOf([...browsing(CLEAN, SITES, 1), ...beacons(bots, C2, 4444, 30)]));
    det.tick(T0 + 3_600_000);
    assert.equal(published[0]?.family, 'mirai');
    assert.equal(det.candidates()[0]!.evidence.familyShare, 0.8);
  });
});

describe('traffic shapes', () => {
  test('determinism: the same input always gives the same list and the same state', () => {
    const run = () => {
      const det = createDetector({ subscriberPrefixes: SUBS });
      det.setBots(homes(6));
      const rows = [
        ...browsing(CLEAN, SITES, 2),
        ...beacons(homes(6), C2, 4444, 40),
        ...beacons(CLEAN, SITES[0]!, 443, 3),
      ];
      det.ingest(batchOf(rows));
      det.tick(T0 + 2 * 3_600_000);
      return JSON.stringify({ list: det.shareableRows(), state: det.detector.exportState() });
    };
    assert.equal(run(), run());
  });
});

describe('shared IPv4 homes (MAP-E)', () => {
  const POOL = '100.80.0.0/24';
  const RULE = parseSharedRule('map-e', `${POOL},psid-len=4,offset=6`);
  /** A port of PSID `psid` under offset 6, length 4 (6 low bits free). */
  const portOf = (psid: number, n: number) => (1 << 10) | (psid << 6) | (n & 63);
  const SHARED = '100.80.0.5';

  test('the PSID of a port follows RFC 7597 (offset, length)', () => {
    const homes = new HomeResolver([RULE], 56);
    assert.equal(homes.psid4(0x64500005, portOf(3, 17)), 3);
    assert.equal(homes.psid4(0x64500005, portOf(15, 0)), 15);
    assert.equal(homes.psid4(0xc0000201, 4242), -1, 'outside the pool: a dedicated address');
    assert.notEqual(homes.homeHash4(0x64500005, portOf(3, 1)), homes.homeHash4(0x64500005, portOf(4, 1)));
    assert.equal(homes.homeHash4(0x64500005, portOf(3, 1)), homes.homeHash4(0x64500005, portOf(3, 60)));
  });

  /** The bot home (PSID 3) beacons to C2; its 15 neighbours (other PSIDs) browse a site every 2 min. */
  function sharedAddressDay(): Row[] {
    const rows: Row[] = [];
    for (const r of beacons([SHARED], C2, 4444, 40, { periodMs: 2 * MINUTE }))
      rows.push({ ...r, sport: portOf(3, r.sport) });
    const other = '100.80.0.9';
    for (const r of beacons([other], C2, 4444, 40, { periodMs: 2 * MINUTE, seed: 9 }))
      rows.push({ ...r, sport: portOf(7, r.sport) });
    for (let psid = 0; psid < 16; psid++) {
      if (psid === 3) continue;
      for (const r of beacons([SHARED], '192.0.2.99', 443, 40, { periodMs: 2 * MINUTE, seed: psid + 20 }))
        rows.push({ ...r, sport: portOf(psid, r.sport) });
    }
    return rows;
  }

  test('a bot listed as address:port is its home only; its neighbours stay clean', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: [...SUBS, POOL], sharedAddressRules: [RULE] }, deps);
    det.setBots([`${SHARED}:${portOf(3, 5)}`, `100.80.0.9:${portOf(7, 5)}`]);
    det.ingest(batchOf([...browsing(CLEAN, SITES, 2), ...sharedAddressDay()]));
    det.tick(T0 + 2 * 3_600_000);
    assert.deepEqual(
      published.map((c) => c.ip),
      [C2],
      'the C&C server is found, the neighbours’ site is not',
    );
    const site = det.detector.exportState().find((a) => a.ip === '192.0.2.99');
    assert.equal(site, undefined, 'no bot reached the neighbours’ site');
  });

  test('a home on a bare shared address that scans the bots’ ports is the bot; its neighbours stay clean', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: [...SUBS, POOL], sharedAddressRules: [RULE] }, deps);
    det.setBots([SHARED, '100.80.0.9']);
    // The infected homes (PSID 3 and 7) probe telnet before they beacon; no neighbour scans.
    const scans: Row[] = [];
    for (let k = 0; k < 8; k++)
      for (const [ip, psid] of [
        [SHARED, 3],
        ['100.80.0.9', 7],
      ] as const)
        scans.push({
          t: T0 - 20 * MINUTE + k * 1000,
          src: ip,
          dst: `203.0.113.${k + 1}`,
          sport: portOf(psid, k),
          dport: 23,
          flags: SYN_ONLY,
          packets: 1,
          bytes: 40,
        });
    det.ingest(batchOf([...scans, ...browsing(CLEAN, SITES, 2), ...sharedAddressDay()]));
    det.tick(T0 + 2 * 3_600_000);
    assert.deepEqual(
      published.map((c) => c.ip),
      [C2],
      'the C&C server is found through the inferred bots, the neighbours’ site is not',
    );
    assert.ok(det.stats.inferredBot > 0);
    assert.equal(
      det.detector.exportState().find((a) => a.ip === '192.0.2.99'),
      undefined,
      'no neighbour counted as a bot',
    );
  });

  test('a bare shared address marks no home: neither the neighbours’ site nor anything else', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: [...SUBS, POOL], sharedAddressRules: [RULE] }, deps);
    det.setBots([SHARED]);
    det.ingest(batchOf([...browsing(CLEAN, SITES, 2), ...sharedAddressDay()]));
    det.tick(T0 + 2 * 3_600_000);
    assert.deepEqual(published, []);
    assert.ok(det.stats.ambiguous > 0);
  });
});
