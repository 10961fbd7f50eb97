/** The seeded scenario: each traffic family has the shape its truth claims. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type FlowBatch, ipv4FromString, ipv4ToString, ipv6ToString, PrefixSet } from '../core/index.ts';
import { DecoderConfig, createFlowDecoder, replayFiles } from '../flow/index.ts';
import {
  PacketSampler,
  Rng,
  drawParams,
  generateSeededScenario,
  scorePublications,
  writeExportPcap,
  type ScenarioParams,
  type SeededScenario,
} from './index.ts';
import { AddressPlan } from './seeded/plan.ts';

const SMALL = { subscribers: 200, hours: 3 };

/** Every row of a scenario as plain objects (small scenarios only). */
function rows(scenario: SeededScenario) {
  const out: {
    t: number;
    end: number;
    v: number;
    src: string;
    dst: string;
    sport: number;
    dport: number;
    proto: number;
    flags: number;
    packets: number;
    bytes: number;
  }[] = [];
  for (const b of scenario.batches())
    for (let i = 0; i < b.length; i++) {
      const v6 = b.ipVersion[i] === 6;
      out.push({
        t: b.startMs[i]!,
        end: b.endMs[i]!,
        v: b.ipVersion[i]!,
        src: v6 ? ipv6ToString(b.src6, i * 16) : ipv4ToString(b.src4[i]!),
        dst: v6 ? ipv6ToString(b.dst6, i * 16) : ipv4ToString(b.dst4[i]!),
        sport: b.srcPort[i]!,
        dport: b.dstPort[i]!,
        proto: b.proto[i]!,
        flags: b.tcpFlags[i]!,
        packets: b.packets[i]!,
        bytes: b.bytes[i]!,
      });
    }
  return out;
}

function digest(batches: Iterable<FlowBatch>): string {
  const h = createHash('sha256');
  for (const b of batches) {
    h.update(new Uint8Array(b.startMs.buffer, 0, b.length * 8));
    h.update(new Uint8Array(b.src4.buffer, 0, b.length * 4));
    h.update(b.src6.subarray(0, b.length * 16));
    h.update(new Uint8Array(b.srcPort.buffer, 0, b.length * 2));
    h.update(new Uint8Array(b.packets.buffer, 0, b.length * 8));
  }
  return h.digest('hex');
}

function withPlan(seed: number, plan: Partial<ScenarioParams['plan']>): Partial<ScenarioParams> {
  const p = drawParams(seed);
  return { plan: { ...p.plan, ...plan } };
}

describe('seeded scenario', () => {
  test('same seed, same day and parameters; other seeds draw other parameters', () => {
    const a = digest(generateSeededScenario({ ...SMALL, seed: 11 }).batches());
    const b = digest(generateSeededScenario({ ...SMALL, seed: 11 }).batches());
    const c = digest(generateSeededScenario({ ...SMALL, seed: 12 }).batches());
    assert.equal(a, b);
    assert.notEqual(a, c);
    const plans = new Set<string>();
    const shares = [];
    for (let seed = 1; seed <= 40; seed++) {
      const p = drawParams(seed);
      plans.add(p.plan.v4);
      shares.push(p.cameraInfectedShare);
      const kinds = new Set(p.c2.map((f) => f.kind));
      for (const kind of ['periodic', 'long-lived', 'fast-flux', 'beacon'])
        assert.ok(kinds.has(kind as never), kind);
      assert.ok(p.p2p.length >= 1);
    }
    assert.deepEqual([...plans].sort(), ['dedicated', 'ds-lite', 'map-e']);
    assert.ok(Math.min(...shares) < 0.15 && Math.max(...shares) > 0.6, `camera infected shares ${shares}`);
  });

  test('time-ordered flows; C&C contacts come only from infected homes; truth complete', () => {
    const s = generateSeededScenario({ ...SMALL, seed: 5 });
    const all = rows(s);
    const t = s.truth;
    for (let i = 1; i < all.length; i++) assert.ok(all[i]!.t >= all[i - 1]!.t, 'time-ordered');
    assert.ok(all.every((r) => r.end >= r.t && r.t >= t.startMs && r.t < t.endMs));
    assert.equal(t.flows, all.length);
    const servers = new Set(t.c2.map((c) => `${c.ip}|${c.port}`));
    const infected = new Set(t.infected.map((h) => h.ip));
    const subscribers = new PrefixSet(t.subscriberPrefixes);
    assert.ok(t.subscriberPrefixes.length === 2, 'this seed has native IPv6');
    let contacts = 0;
    for (const r of all) {
      if (!servers.has(`${r.dst}|${r.dport}`)) continue;
      contacts++;
      if (r.v === 4) assert.ok(infected.has(r.src), `C&C contact from ${r.src}`);
      else assert.ok(subscribers.hasText(r.src), `IPv6 C&C contact from ${r.src}`);
    }
    assert.ok(contacts > 50, `contacts ${contacts}`);
    assert.ok(t.c2.every((c) => c.firstContactMs >= c.fromMs && c.lastContactMs < c.toMs + 1 && c.bots > 0));
    assert.ok(t.traps.length > 50 && t.p2pPeers.length > 0 && t.botList.length > 0);
  });

  test('C&C servers sit on any port, service and scan ports included', () => {
    const ports = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const s = generateSeededScenario({ seed, subscribers: 60, hours: 1 });
      for (const _ of s.batches());
      for (const c of s.truth.c2) ports.add(c.port);
    }
    const service = [23, 53, 80, 443, 2323, 5555, 7547, 8080, 8443, 6881, 123].filter((p) => ports.has(p));
    assert.ok(service.length >= 3, `service ports used: ${service}`);
  });

  for (const kind of ['map-e', 'ds-lite'] as const) {
    test(`${kind}: homes on one address have disjoint port sets, and their traffic keeps to them`, () => {
      const plan = new AddressPlan(
        {
          v4: kind,
          psidLength: 4,
          psidOffset: kind === 'map-e' ? 6 : 0,
          v6: 'none',
          bareSharedShare: 0.2,
          v6PrefixShare: 0.5,
        },
        64,
        1,
        new Rng(1),
      );
      const rng = new Rng(2);
      const owner = new Map<string, number>();
      for (let h = 0; h < plan.homes; h++) {
        for (let k = 0; k < 300; k++) {
          const port = plan.sourcePort(h, rng);
          assert.ok(port >= 1024, `port ${port} below 1024`);
          assert.equal(plan.homeAt(plan.v4[h]!, port), h);
          const key = `${plan.v4[h]}:${port}`;
          assert.ok((owner.get(key) ?? h) === h, `port ${key} in two homes' sets`);
          owner.set(key, h);
        }
      }
      assert.equal(new Set(plan.v4).size, 64 / plan.homesPerAddress);

      const s = generateSeededScenario(
        { ...SMALL, seed: 21 },
        withPlan(21, { v4: kind, psidLength: 4, psidOffset: kind === 'map-e' ? 6 : 0 }),
      );
      const pool = new PrefixSet([s.truth.addressPlan.v4Prefix]);
      const flows = rows(s).filter((r) => r.v === 4 && pool.hasText(r.src));
      assert.ok(flows.length > 1000);
      const shared = new AddressPlan(s.truth.params.plan, SMALL.subscribers, 21, new Rng(21));
      for (const r of flows)
        assert.ok(shared.homeAt(ipv4FromString(r.src), r.sport) >= 0, `${r.src}:${r.sport} owned by no home`);
      // The bot list names shared addresses as ip:port of a port the bot owns, or bare.
      const listed = s.truth.botList.filter((b) => /^\d+\.\d+\.\d+\.\d+:\d+$/.test(b));
      assert.ok(listed.length > 0);
      const infected = new Set(s.truth.infected.map((h) => h.ip));
      for (const entry of listed) {
        const [ip, port] = entry.split(':');
        assert.ok(infected.has(ip!) && shared.homeAt(ipv4FromString(ip!), Number(port)) >= 0, entry);
      }
    });
  }

  test('IPv6 homes: flows from privacy addresses inside the home prefix that change every hour', () => {
    const s = generateSeededScenario({ subscribers: 100, hours: 3, seed: 8 }, withPlan(8, { v6: 56 }));
    const all = rows(s);
    const home = new PrefixSet(['2001:db8::/32']);
    const v6 = all.filter((r) => r.v === 6 && home.hasText(r.src));
    assert.ok(v6.length > 100, `IPv6 flows ${v6.length}`);
    const addressesByHour = new Map<number, Set<string>>();
    for (const r of v6) {
      const hour = Math.floor(r.t / 3_600_000);
      if (!addressesByHour.has(hour)) addressesByHour.set(hour, new Set());
      addressesByHour.get(hour)!.add(r.src);
    }
    const hours = [...addressesByHour.values()];
    assert.ok(hours.length >= 2);
    const overlap = [...hours[0]!].filter((a) => hours[1]!.has(a)).length;
    assert.equal(overlap, 0, 'privacy addresses change on the hour');
    assert.ok(
      s.truth.botList.some((b) => b.endsWith('/56')) ||
        s.truth.botList.some((b) => b.startsWith('2001:db8:')),
    );
  });
});

describe('seeded scenario', () => {
  test('packet sampling keeps about 1/N of packets, drops flows with none, multiplies counts', () => {
    const s = generateSeededScenario({ ...SMALL, seed: 3 });
    const sampler = new PacketSampler(10, 3);
    let packetsIn = 0;
    let packetsOut = 0;
    let onePacketIn = 0;
    let onePacketOut = 0;
    for (const b of s.batches()) {
      for (let i = 0; i < b.length; i++) {
        packetsIn += b.packets[i]!;
        if (b.packets[i] === 1) onePacketIn++;
      }
      const out = sampler.sample(b);
      for (let i = 0; i < out.length; i++) {
        assert.equal(out.samplingRate[i], 10);
        assert.equal(out.packets[i]! % 10, 0);
        assert.ok(out.packets[i]! >= 10 && out.bytes[i]! >= out.packets[i]!);
        packetsOut += out.packets[i]!;
      }
    }
    for (const b of generateSeededScenario({ ...SMALL, seed: 3 }).batches()) {
      const out = new PacketSampler(10, 3).sample(b);
      for (let i = 0; i < out.length; i++) if (out.packets[i] === 10) onePacketOut++;
    }
    assert.ok(Math.abs(packetsOut / packetsIn - 1) < 0.05, `packets ${packetsOut} vs ${packetsIn}`);
    assert.ok(sampler.flowsOut < sampler.flowsIn * 0.5, `flows ${sampler.flowsOut} of ${sampler.flowsIn}`);
    assert.ok(onePacketOut > 0 && onePacketOut < onePacketIn);
  });

  test('fast-flux servers move every 10-30 min to new high ports, sometimes to new addresses', () => {
    const s = generateSeededScenario({ subscribers: 300, hours: 6, seed: 4 });
    for (const _ of s.batches());
    const flux = s.truth.c2.filter((c) => c.kind === 'fast-flux').sort((a, b) => a.fromMs - b.fromMs);
    assert.ok(flux.length >= 10, `fast-flux servers ${flux.length}`);
    const inner = flux.slice(1, -1);
    for (const c of inner) {
      const minutes = (c.toMs - c.fromMs) / 60_000;
      assert.ok(minutes >= 10 && minutes <= 30, `lived ${minutes} min`);
      assert.ok(c.port >= 10000);
    }
    const addresses = new Set(flux.map((c) => c.ip));
    assert.ok(
      addresses.size > 1 && addresses.size < flux.length,
      `addresses ${addresses.size} for ${flux.length}`,
    );
  });

  test('long-lived C&C: one 5-tuple exported every 60 s; beacons: 2-5 bots every 10 min ± 30 %', () => {
    const s = generateSeededScenario({ subscribers: 300, hours: 3, seed: 6 });
    const all = rows(s);
    const longLived = new Set(
      s.truth.c2.filter((c) => c.kind === 'long-lived').map((c) => `${c.ip}|${c.port}`),
    );
    const byTuple = new Map<string, number[]>();
    for (const r of all) {
      if (!longLived.has(`${r.dst}|${r.dport}`)) continue;
      const key = `${r.src}|${r.sport}|${r.dst}|${r.dport}`;
      if (!byTuple.has(key)) byTuple.set(key, []);
      byTuple.get(key)!.push(r.t);
    }
    const long = [...byTuple.values()].filter((times) => times.length >= 5);
    assert.ok(long.length > 0, 'connections exported repeatedly');
    for (const times of long)
      for (let i = 1; i < times.length; i++) assert.equal(times[i]! - times[i - 1]!, 60_000);
    const beacons = s.truth.c2.filter((c) => c.kind === 'beacon');
    assert.ok(beacons.length > 0);
    for (const b of beacons) {
      assert.ok(b.bots >= 2 && b.bots <= 5, `beacon bots ${b.bots}`);
      assert.equal(b.periodMs, 600_000);
    }
  });

  test('P2P peers: each external peer reached by 5-17 bots, each a few times, never one bot repeatedly', () => {
    // Dedicated addresses, so that one address is one bot.
    const s = generateSeededScenario(
      { subscribers: 600, hours: 6, seed: 9 },
      {
        ...withPlan(9, { v4: 'dedicated', psidLength: 0, psidOffset: 0 }),
        cameraInfectedShare: 0.6,
        cameraFraction: 0.3,
      },
    );
    const all = rows(s);
    const external = s.truth.p2pPeers.filter((p) => !p.internal);
    assert.ok(external.length > 20);
    const peerKeys = new Set(external.map((p) => `${p.ip}|${p.port}`));
    const contacts = new Map<string, Map<string, number>>();
    for (const r of all) {
      const key = `${r.dst}|${r.dport}`;
      if (!peerKeys.has(key)) continue;
      if (!contacts.has(key)) contacts.set(key, new Map());
      const bots = contacts.get(key)!;
      bots.set(r.src, (bots.get(r.src) ?? 0) + 1);
    }
    for (const p of external) {
      const bots = contacts.get(`${p.ip}|${p.port}`)!;
      assert.equal(bots.size, p.bots);
      assert.ok(p.bots <= 17, `peer reached by ${p.bots}`);
      for (const n of bots.values()) assert.ok(n <= 3, `one bot ${n} times`);
    }
    assert.ok(external.filter((p) => p.bots >= 5).length > external.length / 2);
  });

  test('device cloud: every camera heartbeats on a fixed period whether infected or not', () => {
    const s = generateSeededScenario(
      { subscribers: 300, hours: 2, seed: 10 },
      { ...withPlan(10, { v4: 'dedicated', psidLength: 0, psidOffset: 0 }), cameraInfectedShare: 0.7 },
    );
    const all = rows(s);
    const clouds = new Set(s.truth.traps.filter((t) => t.kind === 'device-cloud').map((t) => t.ip));
    const callers = new Set(all.filter((r) => clouds.has(r.dst)).map((r) => r.src));
    const cameras = s.truth.infected.filter((h) => h.camera);
    assert.ok(cameras.length > 10);
    for (const c of cameras) assert.ok(callers.has(c.ip), `infected camera ${c.ip} calls the cloud`);
    assert.ok(callers.size > cameras.length, 'clean cameras call it too');
  });

  test('research scanners probe every public address, and homes answer them', () => {
    const s = generateSeededScenario(
      { subscribers: 150, hours: 8, seed: 12 },
      withPlan(12, { v4: 'dedicated', psidLength: 0, psidOffset: 0 }),
    );
    const all = rows(s);
    const scanners = new Set(s.truth.traps.filter((t) => t.kind === 'research-scanner').map((t) => t.ip));
    if (scanners.size === 0) return; // this seed's scanners all use random source ports
    const probed = new Set(all.filter((r) => scanners.has(r.src)).map((r) => r.dst));
    assert.ok(probed.size >= 150, `probed ${probed.size}`);
    assert.ok(
      all.some((r) => scanners.has(r.dst) && r.flags === 0x12),
      'some home answers',
    );
  });
});

describe('seeded scenario', () => {
  test('score: exact C&C and fast-flux addresses count; traps and peers do not', () => {
    const s = generateSeededScenario({ subscribers: 300, hours: 4, seed: 2 });
    for (const _ of s.batches());
    const t = s.truth;
    const flux = t.c2.find((c) => c.kind === 'fast-flux')!;
    const real = t.c2.find((c) => c.kind === 'periodic')!;
    const trap = t.traps.find((x) => x.kind === 'dns')!;
    const peer = t.p2pPeers[0]!;
    const score = scorePublications(
      [
        { ip: real.ip, port: real.port, proto: real.proto, confidence: 95, family: real.family },
        { ip: flux.ip, port: 0, proto: flux.proto, confidence: 72, family: 'mirai' },
        { ip: trap.ip, port: trap.port, proto: trap.proto, confidence: 61 },
        { ip: peer.ip, port: peer.port, proto: 'udp', confidence: 55 },
      ],
      t,
    );
    assert.equal(score.published, 4);
    assert.equal(score.correct, 2);
    assert.deepEqual(score.falseByKind, { dns: 1, 'p2p-peer': 1 });
    assert.equal(score.bands['90-100']!.correct, 1);
    assert.deepEqual(score.families, { named: 2, right: 1 });
    assert.ok(score.units.some((u) => u.kind === 'fast-flux' && u.key === flux.ip && u.found));
  });

  for (const format of ['v9', 'ipfix'] as const) {
    test(`${format}: IPv6 rows and a 1:10 sampling rate survive export and collection`, async () => {
      const s = generateSeededScenario({ subscribers: 80, hours: 0.5, seed: 8 }, withPlan(8, { v6: 64 }));
      const sampler = new PacketSampler(10, 8);
      const batches = [...s.batches()].map((b) => sampler.sample(b));
      const expected = batches.flatMap((b) =>
        Array.from({ length: b.length }, (_, i) =>
          [b.ipVersion[i], b.srcPort[i], b.packets[i], b.bytes[i], b.samplingRate[i]].join(),
        ),
      );
      assert.ok(batches.some((b) => b.ipVersion.subarray(0, b.length).includes(6)));
      const path = join(mkdtempSync(join(tmpdir(), 'seeded-pcap-')), 'flows.pcap');
      await writeExportPcap(batches, path, { format });
      const decoded: string[] = [];
      const summary = await replayFiles([path], createFlowDecoder(DecoderConfig.parse({})), (b) => {
        for (let i = 0; i < b.length; i++)
          decoded.push([b.ipVersion[i], b.srcPort[i], b.packets[i], b.bytes[i], b.samplingRate[i]].join());
      });
      assert.deepEqual(summary.errors, {});
      assert.equal(decoded.length, expected.length);
      // Bytes are rounded to whole sampled bytes; packets and rates come back exactly.
      const strip = (row: string) =>
        row
          .split(',')
          .filter((_, i) => i !== 3)
          .join();
      // Each message holds its IPv4 records before its IPv6 ones: compare as multisets.
      assert.deepEqual(decoded.map(strip).sort(), expected.map(strip).sort());
    });
  }
});
