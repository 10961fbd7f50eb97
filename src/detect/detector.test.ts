/** Behaviour of the detector on hand-made flows and on a generated scenario. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluate, generateScenario } from '../scenario/index.ts';
import { createDetector, protoName, type Candidate } from './index.ts';
import { batchOf, browsing, homes, T0, type Row } from './testing.ts';

const SUBS = ['198.18.0.0/15'];
const C2 = '203.0.113.50';
const BOTS = ['198.18.0.1', '198.18.0.2', '198.18.0.3', '198.18.0.4', '198.18.0.5', '198.18.0.6'];

/** Each bot contacts `server:port` every `periodMs` (+-5 %) for `rounds` rounds, both directions. */
function periodicContacts(
  bots: string[],
  server: string,
  port: number,
  rounds: number,
  periodMs = 60_000,
  startMs = T0,
): Row[] {
  const rows: Row[] = [];
  for (let r = 0; r < rounds; r++) {
    bots.forEach((bot, k) => {
      const t = startMs + r * periodMs + k * 1000 + ((r * 7 + k * 13) % 10) * 300;
      rows.push({ t, src: bot, dst: server, sport: 40000 + k, dport: port });
      rows.push({ t: t + 1, src: server, dst: bot, sport: port, dport: 40000 + k, packets: 5, bytes: 700 });
    });
  }
  return rows.sort((a, b) => a.t - b.t);
}

function collect() {
  const published: Candidate[] = [];
  const withdrawn: Candidate[] = [];
  return {
    published,
    withdrawn,
    deps: { onPublish: (c: Candidate) => published.push(c), onWithdraw: (c: Candidate) => withdrawn.push(c) },
  };
}

describe('detector on hand-made flows', () => {
  test('publishes a destination that several bots reach periodically, with evidence', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: SUBS }, deps);
    det.setBots(BOTS);
    det.ingest(batchOf(periodicContacts(BOTS, C2, 4444, 12)));
    assert.equal(published.length, 1);
    const c = published[0]!;
    assert.equal(c.ip, C2);
    assert.equal(c.port, 4444);
    assert.equal(c.proto, 6);
    assert.ok(c.confidence >= 60 && c.confidence <= 100, `confidence ${c.confidence}`);
    assert.equal(c.evidence.bots, 6);
    assert.equal(c.evidence.clients, 0);
    assert.ok(c.evidence.periodicity > 0.8, `periodicity ${c.evidence.periodicity}`);
    assert.equal(c.evidence.periodicBots, 6, 'each bot has enough intervals of its own');
    assert.equal(c.evidence.returningShare, 1);
    assert.equal(c.evidence.scanPort, false);
    const rows = det.shareableRows();
    assert.deepEqual(Object.keys(rows[0]!).sort(), ['confidence', 'family', 'ip', 'port', 'proto']);
    assert.deepEqual(rows[0], {
      ip: C2,
      port: 4444,
      proto: 'tcp',
      confidence: det.candidates()[0]!.confidence,
      family: '',
    });
  });

  test('a single bot never publishes, however periodic', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: SUBS }, deps);
    det.setBots(BOTS);
    det.ingest(batchOf(periodicContacts(BOTS.slice(0, 1), C2, 4444, 30)));
    assert.equal(published.length, 0);
    assert.equal(det.detector.table.size, 1);
  });

  test('scanning (SYN-only, one packet) is not evidence but teaches the scan ports', () => {
    const { published, deps } = collect();
    const det = createDetector(
      { subscriberPrefixes: SUBS, scanPorts: { static: [], minFlows: 50, minShare: 0.01 } },
      deps,
    );
    det.setBots(BOTS);
    const rows: Row[] = [];
    for (let r = 0; r < 40; r++) {
      for (const [k, bot] of BOTS.entries()) {
        rows.push({
          t: T0 + r * 60_000 + k,
          src: bot,
          dst: C2,
          sport: 50000 + r,
          dport: 7547,
          flags: 0x02,
          packets: 1,
          bytes: 40,
        });
      }
    }
    det.ingest(batchOf(rows));
    assert.equal(published.length, 0);
    assert.equal(det.detector.table.size, 0, 'scan flows create no state');
    assert.equal(det.stats.scanFlows, 240);
    assert.ok(det.detector.isScanPort(7547, 6));
    assert.ok(!det.detector.isScanPort(4444, 6));
  });

  test('a C&C server on a port the bots scan is still found: the port is shown, not penalised', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: SUBS }, deps);
    det.setBots(BOTS);
    det.ingest(batchOf(periodicContacts(BOTS, C2, 23, 12)));
    assert.equal(published.length, 1);
    assert.equal(published[0]?.evidence.scanPort, true);
  });

  test('many uninfected clients make a destination non-exclusive (CDN, NTP, DNS)', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: SUBS }, deps);
    det.setBots(BOTS);
    const rows = periodicContacts(BOTS, C2, 123, 12, 60_000).map((r) => ({
      ...r,
      proto: 17,
      packets: 3,
      bytes: 228,
    }));
    for (let r = 0; r < 12; r++) {
      for (let c = 0; c < 40; c++) {
        const client = `198.18.${1 + c}.${1 + (r % 200)}`;
        rows.push({
          t: T0 + r * 60_000 + 500 + c,
          src: client,
          dst: C2,
          sport: 123,
          dport: 123,
          proto: 17,
          packets: 1,
          bytes: 76,
        });
      }
    }
    rows.sort((a, b) => a.t - b.t);
    det.ingest(batchOf(rows));
    assert.equal(published.length, 0);
    const c = det.detector.exportState()[0]!;
    assert.ok(c.clients > 300, `clients ${c.clients}`);
  });

  test('the reply direction alone (server to bot) is recognised: external side is the non-subscriber', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: SUBS }, deps);
    det.setBots(BOTS);
    const replies = periodicContacts(BOTS, C2, 5353, 12).filter((r) => r.src === C2);
    det.ingest(batchOf(replies.map((r) => ({ ...r, proto: 17, packets: 1, bytes: 120 }))));
    assert.equal(published.length, 1);
    assert.equal(published[0]!.port, 5353);
    assert.equal(protoName(published[0]!.proto), 'udp');
  });

  test('without subscriber prefixes, the external side is the one that is not a known bot', () => {
    const { published, deps } = collect();
    const det = createDetector({}, deps);
    det.setBots(BOTS);
    const rows = periodicContacts(BOTS, C2, 4444, 12);
    // P2P between bots: both sides known bots, never a candidate.
    rows.push(...periodicContacts(BOTS.slice(1), BOTS[0]!, 31337, 12));
    rows.sort((a, b) => a.t - b.t);
    det.ingest(batchOf(rows));
    assert.deepEqual(
      published.map((c) => `${c.ip}:${c.port}`),
      [`${C2}:4444`],
    );
    assert.ok(det.stats.externalIsBot > 0);
  });
});

describe('detector on hand-made flows', () => {
  test('IPv6: a bot is its home prefix (/56), whatever privacy address it uses', () => {
    // Before homes, every privacy address of one home counted as another bot.
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: ['2001:db8:1::/48'] }, deps);
    det.setBots(['2001:db8:1:100::1', '2001:db8:1:200::/56', '2001:db8:1:3000::/52']);
    const rounds = (addresses: string[], startMs: number) =>
      periodicContacts(addresses, '2001:db8:ff::50', 8443, 6, 60_000, startMs);
    // Hour one and hour two: each home has a new privacy address (and the first an unlisted one).
    det.ingest(
      batchOf(
        rounds(
          ['2001:db8:1:100::a1', '2001:db8:1:200::b1', '2001:db8:1:3000::c1', '2001:db8:1:3100::d1'],
          T0,
        ),
      ),
    );
    det.ingest(
      batchOf(
        rounds(
          ['2001:db8:1:100:9::a2', '2001:db8:1:2ff::b2', '2001:db8:1:30ff::c2', '2001:db8:1:31ff::d2'],
          T0 + 360_000,
        ),
      ),
    );
    assert.equal(published.length, 1);
    assert.equal(published[0]!.ip, '2001:db8:ff::50');
    assert.equal(det.candidates()[0]!.evidence.bots, 4, 'four homes, eight addresses');
  });

  test('IPv6: addresses of one home are one bot, never several', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: ['2001:db8:1::/48'] }, deps);
    det.setBots(['2001:db8:1:100::1']);
    det.ingest(
      batchOf(
        periodicContacts(
          ['2001:db8:1:100::1', '2001:db8:1:100::2', '2001:db8:1:1ff::3'],
          '2001:db8:ff::50',
          8443,
          12,
        ),
      ),
    );
    assert.equal(published.length, 0, 'one home is one bot: minBots is not met');
    assert.equal(det.detector.exportState()[0]!.bots, 1);
  });

  test('allowlisted CIDRs and ASNs are never tracked', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'detect-asn-'));
    writeFileSync(join(dir, 'asn.csv'), 'prefix,asn\n192.0.2.0/24,64500\n');
    const { published, deps } = collect();
    const det = createDetector(
      {
        subscriberPrefixes: SUBS,
        allowlistPrefixes: ['203.0.113.0/24'],
        allowlistAsns: [64500],
        asnFile: join(dir, 'asn.csv'),
      },
      deps,
    );
    await det.start();
    det.setBots(BOTS);
    det.ingest(
      batchOf(
        [...periodicContacts(BOTS, C2, 4444, 12), ...periodicContacts(BOTS, '192.0.2.77', 4444, 12)].sort(
          (a, b) => a.t - b.t,
        ),
      ),
    );
    assert.equal(published.length, 0);
    assert.equal(det.detector.table.size, 0);
    assert.ok(det.stats.allowlisted > 0);
    await det.stop();
  });

  test('withdraws when the evidence expires, and the bot list can be swapped while running', () => {
    const { published, withdrawn, deps } = collect();
    const det = createDetector({ subscriberPrefixes: SUBS, expiryMs: 600_000 }, deps);
    det.setBots([]);
    det.ingest(batchOf(periodicContacts(BOTS, C2, 4444, 12)));
    assert.equal(published.length, 0, 'no bots known yet');
    const swap = det.setBots([...BOTS, 'not-an-address']);
    assert.deepEqual(swap.rejected, ['not-an-address']);
    det.ingest(batchOf(periodicContacts(BOTS, C2, 4444, 12, 60_000, T0 + 3_600_000)));
    assert.equal(published.length, 1);
    det.tick(T0 + 3_600_000 + 12 * 60_000 + 300_000);
    assert.equal(withdrawn.length, 0, 'still within expiry');
    det.tick(T0 + 3_600_000 + 12 * 60_000 + 700_000);
    assert.equal(withdrawn.length, 1);
    assert.equal(withdrawn[0]!.key, published[0]!.key);
    assert.equal(det.detector.table.size, 0);
    assert.deepEqual(det.shareableRows(), []);
  });

  test('state is bounded: past maxKeys the least useful keys are evicted and counted', () => {
    const { published, deps } = collect();
    const det = createDetector({ subscriberPrefixes: SUBS, maxKeys: 64, memoryLimitMb: 0 }, deps);
    det.setBots(BOTS);
    det.ingest(batchOf(periodicContacts(BOTS, C2, 4444, 12)));
    assert.equal(published.length, 1);
    // One bot touching 5000 distinct destinations (one each): noise that must not grow state.
    const noise: Row[] = [];
    for (let k = 0; k < 5000; k++) {
      noise.push({
        t: T0 + 800_000 + k,
        src: BOTS[k % 6]!,
        dst: `100.64.${k >> 8}.${k & 255}`,
        sport: 40000,
        dport: 443,
      });
    }
    det.ingest(batchOf(noise));
    assert.ok(det.detector.table.size <= 64);
    assert.ok(det.stats.evicted >= 5000 - 64);
    assert.deepEqual(
      det.candidates().map((c) => c.ip),
      [C2],
      'the published key survives eviction',
    );
  });

  test('the family map names a candidate', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'detect-family-'));
    writeFileSync(join(dir, 'families.csv'), 'ip,port,proto,family\n,4444,tcp,mirai\n');
    const det = createDetector({ subscriberPrefixes: SUBS, familyFile: join(dir, 'families.csv') });
    await det.start();
    det.setBots(BOTS);
    det.ingest(batchOf(periodicContacts(BOTS, C2, 4444, 12)));
    assert.equal(det.shareableRows()[0]?.family, 'mirai');
  });
});

describe('detector on a generated scenario', () => {
  test('finds the detectable C&C servers and none of the traps', () => {
    const scenario = generateScenario({ seed: 7, subscribers: 400, hours: 6, botFraction: 0.08 });
    const published: { ip: string; port: number; proto: string }[] = [];
    const det = createDetector(
      { subscriberPrefixes: scenario.truth.subscriberPrefixes },
      { onPublish: (c) => published.push({ ip: c.ip, port: c.port, proto: protoName(c.proto) }) },
    );
    det.setBots(scenario.truth.botList);
    let lastTick = 0;
    for (const batch of scenario.batches()) {
      det.ingest(batch);
      if (det.detector.clockMs - lastTick >= 60_000) {
        det.tick();
        lastTick = det.detector.clockMs;
      }
    }
    const result = evaluate(published, scenario.truth);
    assert.ok(result.detectable >= 3, `scenario holds ${result.detectable} detectable C&C servers`);
    assert.equal(result.detectableRecall, 1, `missed: ${JSON.stringify(result.missed)}`);
    assert.deepEqual(result.trapsHit, []);
    assert.equal(result.falsePositives, 0, `unexpected: ${JSON.stringify(result.unexpected)}`);
  });
});

describe('detector state across a restart', () => {
  test('restored evidence is judged against the saved population, not an empty one', () => {
    const listed = homes(16, 0);
    const clean = homes(40, 100);
    const rows = [
      ...periodicContacts(listed.slice(0, 4), C2, 4444, 12),
      ...browsing([...listed, ...clean], ['192.0.2.80', '192.0.2.81', '192.0.2.82'], 1),
    ];
    const first = createDetector({ subscriberPrefixes: SUBS }, collect().deps);
    first.setBots(listed);
    first.ingest(batchOf(rows));
    const before = first.detector.explain(C2, 6)!;
    assert.ok(before.evidence.botHomes >= 12, `bot homes ${before.evidence.botHomes}`);
    assert.ok(before.evidence.cleanHomes >= 30, `clean homes ${before.evidence.cleanHomes}`);
    const state = first.detector.exportState();
    const population = first.detector.exportPopulation();
    assert.ok(!JSON.stringify(population).includes('198.18.'), 'only counts are saved');

    const second = createDetector({ subscriberPrefixes: SUBS }, collect().deps);
    second.setBots(listed);
    second.detector.importState(state, T0 + 13 * 60_000, population);
    const after = second.detector.explain(C2, 6)!;
    assert.equal(after.evidence.botHomes, before.evidence.botHomes);
    assert.equal(after.evidence.cleanHomes, before.evidence.cleanHomes);
    assert.ok(
      after.confidence <= before.confidence + 5,
      `${after.confidence} after, ${before.confidence} before`,
    );
  });

  test('a restored C&C server keeps the family of its bots (bot addresses are not saved)', () => {
    const bots = BOTS.map((bot) => `${bot},mirai`);
    const first = createDetector({ subscriberPrefixes: SUBS }, collect().deps);
    first.setBots(['bot,family', ...bots]);
    first.ingest(batchOf(periodicContacts(BOTS, C2, 4444, 12)));
    assert.equal(first.shareableRows()[0]?.family, 'mirai');
    const state = first.detector.exportState();
    const saved = state.find((a) => a.ip === C2)!;
    assert.equal(saved.family, 'mirai');
    assert.ok(!JSON.stringify(state).includes('198.18.'), 'no subscriber address is saved');

    const { published, deps } = collect();
    const second = createDetector({ subscriberPrefixes: SUBS }, deps);
    second.setBots(['bot,family', ...bots]);
    assert.equal(second.detector.importState(state, T0 + 13 * 60_000), state.length);
    assert.equal(published.length, 1, 'the restored aggregate is published again');
    assert.equal(published[0]!.family, 'mirai');
    assert.equal(second.shareableRows()[0]?.family, 'mirai');
    assert.equal(second.detector.exportState().find((a) => a.ip === C2)?.family, 'mirai');
  });
});
