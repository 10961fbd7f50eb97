/**
 * The scenario generator: a seeded, deterministic day of an ISP's border traffic as flow
 * records, with a labelled truth. Households sit behind home routers (one public address each,
 * so an infected device shares its address with the family's browsing), and the day holds web
 * traffic to popular services, DNS, NTP, IoT cameras calling their vendor cloud, online games,
 * bot scanning, a P2P botnet whose peers are bots themselves, and C&C servers that live a few
 * hours and migrate. Flows come out time-ordered in FlowBatches, one time slice at a time.
 */
import { FlowBatch, FlowVersion, ipv4ToString, parsePrefix } from '../core/index.ts';
import { ScenarioOptions } from './config.ts';
import { Rng } from './rng.ts';

export const SCENARIO_EXPORTER = '192.0.2.1';

const TCP = 6;
const UDP = 17;
const FLAGS_SESSION = 0x1b; // FIN SYN PSH ACK: a whole TCP exchange in one record
const FLAGS_SYN = 0x02;
const FLAGS_SYNACK = 0x12;
const SCAN_PORTS = [23, 2323, 5555, 37215, 52869, 8080];
const SCAN_CDF = cdfOf([60, 15, 10, 8, 4, 3]);
const AVOID_PORTS = new Set([...SCAN_PORTS, 53, 123, 8883, 27015]);

export interface C2Truth {
  ip: string;
  port: number;
  proto: 'tcp' | 'udp';
  family: string;
  /** The server's life; contact happens inside it. */
  fromMs: number;
  toMs: number;
  /** First bot contact in the flow stream (what publication delay is measured from); 0 if none. */
  firstContactMs: number;
  /** The family's contact period (each contact jittered around it). */
  periodMs: number;
  /** Distinct bots that contacted it, and those of them in the bot list. */
  bots: number;
  knownBots: number;
}

export interface TrapTruth {
  ip: string;
  port: number;
  proto: 'tcp' | 'udp';
  kind: 'popular' | 'dns' | 'ntp' | 'vendor-cloud' | 'game' | 'p2p-peer';
}

export interface ScenarioTruth {
  seed: number;
  startMs: number;
  endMs: number;
  subscriberPrefixes: string[];
  /** Filled while the flows are generated (firstContactMs, bots): read it after the last batch. */
  c2: C2Truth[];
  /** Infected households in the bot list, and those not in it. */
  botList: string[];
  unknownBots: string[];
  /** The malware family of each infected household (listed or not), by address. */
  botFamilies: Record<string, string>;
  traps: TrapTruth[];
  flows: number;
}

export interface Scenario {
  readonly options: ScenarioOptions;
  readonly truth: ScenarioTruth;
  /** Time-ordered batches (each a fresh FlowBatch the consumer owns). Iterate once. */
  batches(): Generator<FlowBatch, void, undefined>;
}

function cdfOf(weights: number[]): Float64Array {
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf = new Float64Array(weights.length);
  let running = 0;
  weights.forEach((w, i) => (cdf[i] = running += w / total));
  cdf[cdf.length - 1] = 1;
  return cdf;
}

interface Server {
  ip: number;
  port: number;
  proto: number;
  from: number;
  to: number;
  firstContact: number;
  bots: Set<number>;
}

/** Builds a scenario; nothing is generated until batches() is iterated. */
export function generateScenario(input: Partial<ScenarioOptions> = {}): Scenario {
  const o = ScenarioOptions.parse(input);
  const rng = new Rng(o.seed);
  const start = o.startMs;
  const end = start + Math.round(o.hours * 3_600_000);
  const subnet = parsePrefix(o.subscriberPrefix);
  if (subnet.family !== 4) throw new Error('subscriberPrefix must be an IPv4 CIDR');
  const subnetSize = 2 ** (32 - subnet.bits);
  if (o.subscribers > subnetSize - 2)
    throw new Error(`subscriberPrefix ${subnet.text} holds fewer than ${o.subscribers} addresses`);

  // External addresses: distinct, outside the subscriber network.
  const usedExternal = new Set<number>();
  const external = (): number => {
    for (;;) {
      const ip = ((rng.int(1, 197) << 24) | rng.int(0, 0xffffff)) >>> 0;
      if ((ip & subnet.mask4) >>> 0 !== subnet.network4 && !usedExternal.has(ip)) {
        usedExternal.add(ip);
        return ip;
      }
    }
  };
  const highPort = (): number => {
    for (;;) {
      const port = rng.chance(0.15) ? (rng.chance(0.5) ? 443 : 80) : rng.int(1024, 65535);
      if (!AVOID_PORTS.has(port)) return port;
    }
  };

  // Households.
  const n = o.subscribers;
  const home = new Uint32Array(n);
  {
    const picked = new Set<number>();
    for (let h = 0; h < n; h++) {
      let offset: number;
      do offset = rng.int(1, subnetSize - 2);
      while (picked.has(offset));
      picked.add(offset);
      home[h] = (subnet.network4 + offset) >>> 0;
    }
  }
  const botKind = new Uint8Array(n); // 0 clean, 1 C&C botnet, 2 P2P botnet
  const botFamily = new Uint8Array(n);
  const botKnown = new Uint8Array(n);
  const camera = new Uint8Array(n);
  const gamerServer = new Int16Array(n).fill(-1);
  const gamerFromH = new Float64Array(n);
  for (let h = 0; h < n; h++) {
    if (rng.chance(o.botFraction)) {
      botKind[h] = rng.chance(o.p2pFraction) ? 2 : 1;
      botFamily[h] = rng.int(0, o.families - 1);
      botKnown[h] = rng.chance(o.botListCoverage) ? 1 : 0;
      camera[h] = rng.chance(0.6) ? 1 : 0;
    } else camera[h] = rng.chance(o.cameraFraction) ? 1 : 0;
    if (o.gameServers > 0 && rng.chance(o.gamerFraction * 8)) {
      gamerServer[h] = rng.int(0, o.gameServers - 1);
      gamerFromH[h] = rng.uniform(0, 24);
    }
  }

  // Services.
  const popular = Array.from({ length: o.popularServices }, () => ({
    ip: external(),
    port: rng.chance(0.8) ? 443 : 80,
  }));
  const popularCdf = cdfOf(popular.map((_, k) => 1 / (k + 1)));
  const dnsServers = [external(), external(), external(), external()];
  const ntpServers = [external(), external(), external(), external()];
  const vendorCloud = [external(), external()];
  const games = Array.from({ length: o.gameServers }, () => external());

  // C&C servers per family, migrating over the day.
  const familyNames = Array.from({ length: o.families }, (_, f) => `family-${String.fromCharCode(97 + f)}`);
  const familyPeriod = familyNames.map(() => rng.uniform(o.c2PeriodS[0], o.c2PeriodS[1]) * 1000);
  const familyProto = familyNames.map((_, f) => (f % 3 === 2 ? UDP : TCP));
  const servers: Server[][] = familyNames.map((_, f) => {
    const list: Server[] = [];
    const lifeMs = () => rng.uniform(o.c2LifetimeHours[0], o.c2LifetimeHours[1]) * 3_600_000;
    let t = start - rng.uniform(0, 1) * lifeMs();
    while (t < end) {
      const life = lifeMs();
      list.push({
        ip: external(),
        port: highPort(),
        proto: familyProto[f]!,
        from: t,
        to: t + life,
        firstContact: 0,
        bots: new Set(),
      });
      t += life;
    }
    return list;
  });

  // P2P peers: each P2P bot listens on its own UDP port and knows a few other peers.
  const p2p = [...home.keys()].filter((h) => botKind[h] === 2);
  const p2pPort = new Uint16Array(n);
  const PEERS = 6;
  const peers = new Int32Array(n * PEERS).fill(-1);
  for (const h of p2p) {
    p2pPort[h] = rng.int(10000, 60000);
    for (let k = 0; k < PEERS && p2p.length > 1; k++) {
      let peer: number;
      do peer = p2p[rng.int(0, p2p.length - 1)]!;
      while (peer === h);
      peers[h * PEERS + k] = peer;
    }
  }

  const hourMs = 3_600_000;
  const webRate = o.webPerHour / hourMs;
  const dnsRate = o.dnsPerHour / hourMs;
  const scanRate = o.scanPerMinute / 60_000;
  const nextWeb = new Float64Array(n);
  const nextDns = new Float64Array(n);
  const nextNtp = new Float64Array(n);
  const nextCamera = new Float64Array(n);
  const nextBot = new Float64Array(n);
  const nextScan = new Float64Array(n);
  const nextGame = new Float64Array(n);
  const dnsOf = new Uint8Array(n);
  const ntpOf = new Uint8Array(n);
  const cloudOf = new Uint8Array(n);
  for (let h = 0; h < n; h++) {
    nextWeb[h] = start + (webRate > 0 ? rng.exponential(webRate) : Infinity);
    nextDns[h] = start + (dnsRate > 0 ? rng.exponential(dnsRate) : Infinity);
    nextNtp[h] = start + rng.uniform(0, o.ntpPeriodS * 1000);
    nextCamera[h] = camera[h] ? start + rng.uniform(0, o.cameraHeartbeatS * 1000) : Infinity;
    nextBot[h] =
      botKind[h] === 1
        ? start + rng.uniform(0, familyPeriod[botFamily[h]!]!)
        : botKind[h] === 2
          ? start + rng.uniform(0, 120_000)
          : Infinity;
    nextScan[h] = botKind[h] && scanRate > 0 ? start + rng.exponential(scanRate) : Infinity;
    nextGame[h] = gamerServer[h]! >= 0 ? start + rng.uniform(0, 60_000) : Infinity;
    dnsOf[h] = rng.chance(0.8) ? rng.int(0, 1) : rng.int(2, 3);
    ntpOf[h] = rng.int(0, 3);
    cloudOf[h] = rng.int(0, 1);
  }

  const truth: ScenarioTruth = {
    seed: o.seed,
    startMs: start,
    endMs: end,
    subscriberPrefixes: [subnet.text],
    c2: [],
    botList: [],
    unknownBots: [],
    botFamilies: {},
    traps: [],
    flows: 0,
  };
  for (let h = 0; h < n; h++) {
    if (!botKind[h]) continue;
    const ip = ipv4ToString(home[h]!);
    (botKnown[h] ? truth.botList : truth.unknownBots).push(ip);
    truth.botFamilies[ip] = familyNames[botFamily[h]!]!;
  }
  const trap = (ip: number, port: number, proto: number, kind: TrapTruth['kind']) =>
    truth.traps.push({ ip: ipv4ToString(ip), port, proto: proto === TCP ? 'tcp' : 'udp', kind });
  popular.slice(0, 30).forEach((s) => trap(s.ip, s.port, TCP, 'popular'));
  dnsServers.forEach((ip) => trap(ip, 53, UDP, 'dns'));
  ntpServers.forEach((ip) => trap(ip, 123, UDP, 'ntp'));
  vendorCloud.forEach((ip) => trap(ip, 8883, TCP, 'vendor-cloud'));
  games.forEach((ip) => trap(ip, 27015, UDP, 'game'));
  for (const h of p2p) trap(home[h]!, p2pPort[h]!, UDP, 'p2p-peer');

  // Staging columns for one slice; grown when a slice holds more.
  let cap = 1 << 14;
  let sStart = new Float64Array(cap);
  let sDur = new Float64Array(cap);
  let sSrc = new Uint32Array(cap);
  let sDst = new Uint32Array(cap);
  let sSport = new Uint16Array(cap);
  let sDport = new Uint16Array(cap);
  let sProto = new Uint8Array(cap);
  let sFlags = new Uint8Array(cap);
  let sPackets = new Float64Array(cap);
  let sBytes = new Float64Array(cap);
  let count = 0;
  const grow = () => {
    cap *= 2;
    const g = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(
      a: T,
      make: (c: number) => T,
    ): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    sStart = g(sStart, (c) => new Float64Array(c));
    sDur = g(sDur, (c) => new Float64Array(c));
    sSrc = g(sSrc, (c) => new Uint32Array(c));
    sDst = g(sDst, (c) => new Uint32Array(c));
    sSport = g(sSport, (c) => new Uint16Array(c));
    sDport = g(sDport, (c) => new Uint16Array(c));
    sProto = g(sProto, (c) => new Uint8Array(c));
    sFlags = g(sFlags, (c) => new Uint8Array(c));
    sPackets = g(sPackets, (c) => new Float64Array(c));
    sBytes = g(sBytes, (c) => new Float64Array(c));
  };
  const emit = (
    t: number,
    dur: number,
    src: number,
    dst: number,
    sport: number,
    dport: number,
    proto: number,
    flags: number,
    packets: number,
    bytes: number,
  ) => {
    if (count === cap) grow();
    sStart[count] = Math.floor(t);
    sDur[count] = Math.floor(dur);
    sSrc[count] = src;
    sDst[count] = dst;
    sSport[count] = sport;
    sDport[count] = dport;
    sProto[count] = proto;
    sFlags[count] = flags;
    sPackets[count] = packets;
    sBytes[count] = bytes;
    count++;
  };
  /** A client-server exchange as two unidirectional records, as a router exports it. */
  const exchange = (
    t: number,
    dur: number,
    client: number,
    server: number,
    dport: number,
    proto: number,
    upPk: number,
    upBytes: number,
    downPk: number,
    downBytes: number,
  ) => {
    const sport = rng.int(32768, 60999);
    const flags = proto === TCP ? FLAGS_SESSION : 0;
    emit(t, dur, client, server, sport, dport, proto, flags, upPk, upBytes);
    emit(t + 1, dur, server, client, dport, sport, proto, flags, downPk, downBytes);
  };
  const jittered = (period: number) => period * (1 + rng.uniform(-o.jitter, o.jitter));
  const serverAt = (family: number, t: number): Server | undefined => {
    for (const s of servers[family]!) if (t >= s.from && t < s.to) return s;
    return undefined;
  };

  function generateSlice(sliceEnd: number): void {
    count = 0;
    for (let h = 0; h < n; h++) {
      const ip = home[h]!;
      while (nextWeb[h]! < sliceEnd) {
        const t = nextWeb[h]!;
        const s = popular[rng.fromCdf(popularCdf)]!;
        const pk = rng.int(8, 60);
        exchange(
          t,
          rng.uniform(200, 30_000),
          ip,
          s.ip,
          s.port,
          TCP,
          pk,
          pk * 60 + rng.int(200, 2000),
          pk * 2,
          pk * 2 * 1200,
        );
        nextWeb[h] = t + rng.exponential(webRate);
      }
      while (nextDns[h]! < sliceEnd) {
        const t = nextDns[h]!;
        exchange(
          t,
          rng.uniform(5, 60),
          ip,
          dnsServers[dnsOf[h]!]!,
          53,
          UDP,
          1,
          rng.int(60, 90),
          1,
          rng.int(90, 300),
        );
        nextDns[h] = t + rng.exponential(dnsRate);
      }
      while (nextNtp[h]! < sliceEnd) {
        const t = nextNtp[h]!;
        exchange(t, 30, ip, ntpServers[ntpOf[h]!]!, 123, UDP, 1, 76, 1, 76);
        nextNtp[h] = t + o.ntpPeriodS * 1000 * (1 + rng.uniform(-0.02, 0.02));
      }
      while (nextCamera[h]! < sliceEnd) {
        const t = nextCamera[h]!;
        const pk = rng.int(3, 6);
        exchange(
          t,
          rng.uniform(100, 800),
          ip,
          vendorCloud[cloudOf[h]!]!,
          8883,
          TCP,
          pk,
          pk * 40 + rng.int(60, 200),
          pk,
          pk * 40 + rng.int(30, 120),
        );
        nextCamera[h] = t + jittered(o.cameraHeartbeatS * 1000);
      }
      while (nextGame[h]! < sliceEnd) {
        const t = nextGame[h]!;
        // Play 90 minutes a day from the household's usual hour: one record per minute each way.
        const hourOfDay = ((((t - start) / hourMs) % 24) + 24) % 24;
        const offset = (hourOfDay - gamerFromH[h]! + 24) % 24;
        if (offset < 1.5) {
          const pk = rng.int(600, 1800);
          exchange(
            t,
            60_000,
            ip,
            games[gamerServer[h]!]!,
            27015,
            UDP,
            pk,
            pk * rng.int(60, 120),
            pk,
            pk * rng.int(80, 200),
          );
        }
        nextGame[h] = t + 60_000;
      }
      if (!botKind[h]) continue;
      while (nextScan[h]! < sliceEnd) {
        const t = nextScan[h]!;
        const target = ((rng.int(1, 197) << 24) | rng.int(0, 0xffffff)) >>> 0;
        const port = SCAN_PORTS[rng.fromCdf(SCAN_CDF)]!;
        const sport = rng.int(1024, 65535);
        emit(t, 0, ip, target, sport, port, TCP, FLAGS_SYN, 1, 40);
        const answer = rng.next();
        if (answer < 0.02)
          emit(t + rng.uniform(5, 300), 0, target, ip, port, sport, TCP, FLAGS_SYNACK, 1, 44);
        if (answer < 0.0008) {
          // A successful login: a real session to a random device. Real traffic, but one bot each.
          exchange(t + 400, rng.uniform(2000, 10_000), ip, target, port, TCP, 12, 900, 10, 700);
        }
        nextScan[h] = t + rng.exponential(scanRate);
      }
      while (nextBot[h]! < sliceEnd) {
        const t = nextBot[h]!;
        if (botKind[h] === 1) {
          const family = botFamily[h]!;
          const server = serverAt(family, t);
          if (server) {
            if (server.firstContact === 0 || t < server.firstContact) server.firstContact = t;
            server.bots.add(h);
            if (server.proto === TCP) {
              const up = rng.int(4, 8);
              const down = rng.int(3, 6);
              exchange(
                t,
                rng.uniform(200, 2000),
                ip,
                server.ip,
                server.port,
                TCP,
                up,
                up * 40 + rng.int(50, 400),
                down,
                down * 40 + rng.int(20, 200),
              );
            } else {
              exchange(
                t,
                rng.uniform(20, 300),
                ip,
                server.ip,
                server.port,
                UDP,
                1,
                rng.int(60, 140),
                1,
                rng.int(60, 200),
              );
            }
          }
          nextBot[h] = t + jittered(familyPeriod[family]!);
        } else {
          const peer = peers[h * PEERS + rng.int(0, PEERS - 1)]!;
          if (peer >= 0)
            exchange(
              t,
              rng.uniform(50, 500),
              ip,
              home[peer]!,
              p2pPort[peer]!,
              UDP,
              2,
              rng.int(150, 300),
              2,
              rng.int(150, 400),
            );
          nextBot[h] = t + rng.uniform(30_000, 120_000);
        }
      }
    }
  }

  function* batches(): Generator<FlowBatch, void, undefined> {
    let order = new Uint32Array(cap);
    for (let sliceStart = start; sliceStart < end; sliceStart += o.sliceMs) {
      const sliceEnd = Math.min(end, sliceStart + o.sliceMs);
      generateSlice(sliceEnd);
      if (order.length < cap) order = new Uint32Array(cap);
      const view = order.subarray(0, count);
      for (let i = 0; i < count; i++) view[i] = i;
      const starts = sStart;
      view.sort((a, b) => starts[a]! - starts[b]! || a - b);
      let batch = new FlowBatch(o.batchSize);
      const exporter = batch.exporterIndex(SCENARIO_EXPORTER);
      for (let k = 0; k < count; k++) {
        if (batch.full) {
          yield batch;
          batch = new FlowBatch(o.batchSize);
          batch.exporterIndex(SCENARIO_EXPORTER);
        }
        const i = view[k]!;
        const row = batch.addRow(exporter, FlowVersion.IPFIX);
        batch.startMs[row] = sStart[i]!;
        batch.endMs[row] = sStart[i]! + sDur[i]!;
        batch.src4[row] = sSrc[i]!;
        batch.dst4[row] = sDst[i]!;
        batch.srcPort[row] = sSport[i]!;
        batch.dstPort[row] = sDport[i]!;
        batch.proto[row] = sProto[i]!;
        batch.tcpFlags[row] = sFlags[i]!;
        batch.packets[row] = sPackets[i]!;
        batch.bytes[row] = sBytes[i]!;
      }
      truth.flows += count;
      if (batch.length > 0) yield batch;
    }
    // The truth's C&C list is complete once the stream is.
    truth.c2 = servers.flatMap((list, f) =>
      list
        .filter((s) => s.firstContact > 0)
        .map((s) => ({
          ip: ipv4ToString(s.ip),
          port: s.port,
          proto: s.proto === TCP ? ('tcp' as const) : ('udp' as const),
          family: familyNames[f]!,
          fromMs: Math.max(start, Math.round(s.from)),
          toMs: Math.min(end, Math.round(s.to)),
          firstContactMs: Math.floor(s.firstContact),
          periodMs: Math.round(familyPeriod[f]!),
          bots: s.bots.size,
          knownBots: [...s.bots].filter((h) => botKnown[h]).length,
        })),
    );
  }

  return { options: o, truth, batches };
}
