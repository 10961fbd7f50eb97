/**
 * The scenario generator: a seeded, deterministic day of an ISP's border traffic as flow
 * records, with a labelled truth. Households sit behind home routers (one public address each,
 * so an infected device shares its address with the family's browsing), and the day holds web
 * traffic to popular services, DNS, NTP, IoT cameras calling their vendor cloud, online games,
 * bot scanning, a P2P botnet whose peers are bots themselves, and C&C servers that live a few
 * hours and migrate. Flows come out time-ordered in FlowBatches, one time slice at a time.
 */
import { type FlowBatch, ipv4ToString, parsePrefix } from '../core/index.ts';
import { ScenarioOptions } from './config.ts';
import { cdfOf, Rng } from './rng.ts';
import { ACK, SliceStager, SYN, TCP, UDP } from './seeded/staging.ts';

export const SCENARIO_EXPORTER = '192.0.2.1';

const FLAGS_SYNACK = SYN | ACK;
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
  /**
   * The C&C servers the botnets run during the stream, known before any flow is generated (what a
   * vendor who had the malware could publish); `truth.c2` lists those bots did contact, once the
   * stream has been read.
   */
  plannedC2(): PlannedC2[];
}

export type PlannedC2 = Pick<C2Truth, 'ip' | 'port' | 'proto' | 'family' | 'fromMs' | 'toMs'>;

interface Server {
  ip: number;
  port: number;
  proto: number;
  from: number;
  to: number;
  firstContact: number;
  bots: Set<number>;
}

type Subnet = ReturnType<typeof parsePrefix>;

/** The subscriber network, checked to hold every household. */
function subscriberSubnet(o: ScenarioOptions): { subnet: Subnet; size: number } {
  const subnet = parsePrefix(o.subscriberPrefix);
  if (subnet.family !== 4) throw new Error('subscriberPrefix must be an IPv4 CIDR');
  const size = 2 ** (32 - subnet.bits);
  if (o.subscribers > size - 2)
    throw new Error(`subscriberPrefix ${subnet.text} holds fewer than ${o.subscribers} addresses`);
  return { subnet, size };
}

/** External addresses: distinct, outside the subscriber network. */
class ExternalAddresses {
  private readonly used = new Set<number>();

  constructor(
    private readonly rng: Rng,
    private readonly subnet: Subnet,
  ) {}

  address(): number {
    for (;;) {
      const ip = ((this.rng.int(1, 197) << 24) | this.rng.int(0, 0xffffff)) >>> 0;
      if ((ip & this.subnet.mask4) >>> 0 !== this.subnet.network4 && !this.used.has(ip)) {
        this.used.add(ip);
        return ip;
      }
    }
  }

  highPort(): number {
    for (;;) {
      const port = this.rng.chance(0.15) ? (this.rng.chance(0.5) ? 443 : 80) : this.rng.int(1024, 65535);
      if (!AVOID_PORTS.has(port)) return port;
    }
  }
}

/** The households, one column per attribute. */
interface Households {
  n: number;
  home: Uint32Array;
  /** 0 clean, 1 C&C botnet, 2 P2P botnet. */
  botKind: Uint8Array;
  botFamily: Uint8Array;
  botKnown: Uint8Array;
  camera: Uint8Array;
  gamerServer: Int16Array;
  gamerFromH: Float64Array;
}

function drawHouseholds(o: ScenarioOptions, rng: Rng, subnet: Subnet, subnetSize: number): Households {
  const n = o.subscribers;
  const home = new Uint32Array(n);
  const picked = new Set<number>();
  for (let h = 0; h < n; h++) {
    let offset: number;
    do offset = rng.int(1, subnetSize - 2);
    while (picked.has(offset));
    picked.add(offset);
    home[h] = (subnet.network4 + offset) >>> 0;
  }
  const homes: Households = {
    n,
    home,
    botKind: new Uint8Array(n),
    botFamily: new Uint8Array(n),
    botKnown: new Uint8Array(n),
    camera: new Uint8Array(n),
    gamerServer: new Int16Array(n).fill(-1),
    gamerFromH: new Float64Array(n),
  };
  for (let h = 0; h < n; h++) {
    if (rng.chance(o.botFraction)) {
      homes.botKind[h] = rng.chance(o.p2pFraction) ? 2 : 1;
      homes.botFamily[h] = rng.int(0, o.families - 1);
      homes.botKnown[h] = rng.chance(o.botListCoverage) ? 1 : 0;
      homes.camera[h] = rng.chance(0.6) ? 1 : 0;
    } else homes.camera[h] = rng.chance(o.cameraFraction) ? 1 : 0;
    if (o.gameServers > 0 && rng.chance(o.gamerFraction * 8)) {
      homes.gamerServer[h] = rng.int(0, o.gameServers - 1);
      homes.gamerFromH[h] = rng.uniform(0, 24);
    }
  }
  return homes;
}

/** The benign services households talk to. */
interface Services {
  popular: { ip: number; port: number }[];
  popularCdf: Float64Array;
  dnsServers: number[];
  ntpServers: number[];
  vendorCloud: number[];
  games: number[];
}

function drawServices(o: ScenarioOptions, rng: Rng, external: ExternalAddresses): Services {
  const popular = Array.from({ length: o.popularServices }, () => ({
    ip: external.address(),
    port: rng.chance(0.8) ? 443 : 80,
  }));
  const popularCdf = cdfOf(popular.map((_, k) => 1 / (k + 1)));
  const four = () => [external.address(), external.address(), external.address(), external.address()];
  const dnsServers = four();
  const ntpServers = four();
  const vendorCloud = [external.address(), external.address()];
  const games = Array.from({ length: o.gameServers }, () => external.address());
  return { popular, popularCdf, dnsServers, ntpServers, vendorCloud, games };
}

/** C&C servers per family, migrating over the day. */
interface Botnets {
  familyNames: string[];
  familyPeriod: number[];
  servers: Server[][];
}

function drawBotnets(
  o: ScenarioOptions,
  rng: Rng,
  external: ExternalAddresses,
  start: number,
  end: number,
): Botnets {
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
        ip: external.address(),
        port: external.highPort(),
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
  return { familyNames, familyPeriod, servers };
}

const PEERS = 6;

/** P2P peers: each P2P bot listens on its own UDP port and knows a few other peers. */
interface P2pNet {
  members: number[];
  port: Uint16Array;
  /** PEERS slots per household, -1 when empty. */
  peers: Int32Array;
}

function drawP2p(rng: Rng, homes: Households): P2pNet {
  const members = [...homes.home.keys()].filter((h) => homes.botKind[h] === 2);
  const port = new Uint16Array(homes.n);
  const peers = new Int32Array(homes.n * PEERS).fill(-1);
  for (const h of members) {
    port[h] = rng.int(10000, 60000);
    for (let k = 0; k < PEERS && members.length > 1; k++) {
      let peer: number;
      do peer = members[rng.int(0, members.length - 1)]!;
      while (peer === h);
      peers[h * PEERS + k] = peer;
    }
  }
  return { members, port, peers };
}

const HOUR_MS = 3_600_000;

/** Each household's next event of every kind, and the servers it uses. */
interface Schedule {
  webRate: number;
  dnsRate: number;
  scanRate: number;
  nextWeb: Float64Array;
  nextDns: Float64Array;
  nextNtp: Float64Array;
  nextCamera: Float64Array;
  nextBot: Float64Array;
  nextScan: Float64Array;
  nextGame: Float64Array;
  dnsOf: Uint8Array;
  ntpOf: Uint8Array;
  cloudOf: Uint8Array;
}

function firstEvents(
  o: ScenarioOptions,
  rng: Rng,
  homes: Households,
  botnets: Botnets,
  start: number,
): Schedule {
  const n = homes.n;
  const s: Schedule = {
    webRate: o.webPerHour / HOUR_MS,
    dnsRate: o.dnsPerHour / HOUR_MS,
    scanRate: o.scanPerMinute / 60_000,
    nextWeb: new Float64Array(n),
    nextDns: new Float64Array(n),
    nextNtp: new Float64Array(n),
    nextCamera: new Float64Array(n),
    nextBot: new Float64Array(n),
    nextScan: new Float64Array(n),
    nextGame: new Float64Array(n),
    dnsOf: new Uint8Array(n),
    ntpOf: new Uint8Array(n),
    cloudOf: new Uint8Array(n),
  };
  const { botKind, botFamily } = homes;
  for (let h = 0; h < n; h++) {
    s.nextWeb[h] = start + (s.webRate > 0 ? rng.exponential(s.webRate) : Infinity);
    s.nextDns[h] = start + (s.dnsRate > 0 ? rng.exponential(s.dnsRate) : Infinity);
    s.nextNtp[h] = start + rng.uniform(0, o.ntpPeriodS * 1000);
    s.nextCamera[h] = homes.camera[h] ? start + rng.uniform(0, o.cameraHeartbeatS * 1000) : Infinity;
    s.nextBot[h] =
      botKind[h] === 1
        ? start + rng.uniform(0, botnets.familyPeriod[botFamily[h]!]!)
        : botKind[h] === 2
          ? start + rng.uniform(0, 120_000)
          : Infinity;
    s.nextScan[h] = botKind[h] && s.scanRate > 0 ? start + rng.exponential(s.scanRate) : Infinity;
    s.nextGame[h] = homes.gamerServer[h]! >= 0 ? start + rng.uniform(0, 60_000) : Infinity;
    s.dnsOf[h] = rng.chance(0.8) ? rng.int(0, 1) : rng.int(2, 3);
    s.ntpOf[h] = rng.int(0, 3);
    s.cloudOf[h] = rng.int(0, 1);
  }
  return s;
}

/** The truth known before any flow: bot lists, families and traps (C&C and counts come later). */
function initialTruth(
  o: ScenarioOptions,
  subnet: Subnet,
  end: number,
  homes: Households,
  services: Services,
  botnets: Botnets,
  p2p: P2pNet,
): ScenarioTruth {
  const truth: ScenarioTruth = {
    seed: o.seed,
    startMs: o.startMs,
    endMs: end,
    subscriberPrefixes: [subnet.text],
    c2: [],
    botList: [],
    unknownBots: [],
    botFamilies: {},
    traps: [],
    flows: 0,
  };
  for (let h = 0; h < homes.n; h++) {
    if (!homes.botKind[h]) continue;
    const ip = ipv4ToString(homes.home[h]!);
    (homes.botKnown[h] ? truth.botList : truth.unknownBots).push(ip);
    truth.botFamilies[ip] = botnets.familyNames[homes.botFamily[h]!]!;
  }
  const trap = (ip: number, port: number, proto: number, kind: TrapTruth['kind']) =>
    truth.traps.push({ ip: ipv4ToString(ip), port, proto: proto === TCP ? 'tcp' : 'udp', kind });
  services.popular.slice(0, 30).forEach((s) => trap(s.ip, s.port, TCP, 'popular'));
  services.dnsServers.forEach((ip) => trap(ip, 53, UDP, 'dns'));
  services.ntpServers.forEach((ip) => trap(ip, 123, UDP, 'ntp'));
  services.vendorCloud.forEach((ip) => trap(ip, 8883, TCP, 'vendor-cloud'));
  services.games.forEach((ip) => trap(ip, 27015, UDP, 'game'));
  for (const h of p2p.members) trap(homes.home[h]!, p2p.port[h]!, UDP, 'p2p-peer');
  return truth;
}

/** What is known of a server before the stream: its endpoint, family and life inside the stream. */
function plannedServer(s: Server, family: string, start: number, end: number): PlannedC2 {
  return {
    ip: ipv4ToString(s.ip),
    port: s.port,
    proto: s.proto === TCP ? 'tcp' : 'udp',
    family,
    fromMs: Math.max(start, Math.round(s.from)),
    toMs: Math.min(end, Math.round(s.to)),
  };
}

/** The servers contacted during the stream, as the truth's C&C list. */
function c2Truth(botnets: Botnets, homes: Households, start: number, end: number): C2Truth[] {
  return botnets.servers.flatMap((list, f) =>
    list
      .filter((s) => s.firstContact > 0)
      .map((s) => ({
        ...plannedServer(s, botnets.familyNames[f]!, start, end),
        firstContactMs: Math.floor(s.firstContact),
        periodMs: Math.round(botnets.familyPeriod[f]!),
        bots: s.bots.size,
        knownBots: [...s.bots].filter((h) => homes.botKnown[h]).length,
      })),
  );
}

/**
 * The day's traffic, one slice at a time: each household's benign traffic (web, DNS, NTP,
 * camera, games) and, for infected ones, scans and bot contacts, in that order per household so
 * that a seed draws the same numbers in the same order.
 */
class DayTraffic {
  /** The slice's records, drained whole after each slice. */
  readonly records: SliceStager;

  constructor(
    private readonly o: ScenarioOptions,
    private readonly rng: Rng,
    private readonly homes: Households,
    private readonly services: Services,
    private readonly botnets: Botnets,
    private readonly p2p: P2pNet,
    private readonly next: Schedule,
  ) {
    this.records = new SliceStager(SCENARIO_EXPORTER, o.batchSize);
  }

  generateSlice(sliceEnd: number): void {
    for (let h = 0; h < this.homes.n; h++) {
      const ip = this.homes.home[h]!;
      this.web(h, ip, sliceEnd);
      this.dns(h, ip, sliceEnd);
      this.ntp(h, ip, sliceEnd);
      this.camera(h, ip, sliceEnd);
      this.game(h, ip, sliceEnd);
      if (!this.homes.botKind[h]) continue;
      this.scans(h, ip, sliceEnd);
      this.botContacts(h, ip, sliceEnd);
    }
  }

  /** A client-server exchange as two unidirectional records, as a router exports it. */
  private exchange(
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
  ): void {
    const sport = this.rng.int(32768, 60999);
    this.records.exchange(t, dur, client, server, sport, dport, proto, upPk, upBytes, downPk, downBytes);
  }

  private jittered(period: number): number {
    return period * (1 + this.rng.uniform(-this.o.jitter, this.o.jitter));
  }

  private web(h: number, ip: number, sliceEnd: number): void {
    const { rng, next } = this;
    while (next.nextWeb[h]! < sliceEnd) {
      const t = next.nextWeb[h]!;
      const s = this.services.popular[rng.fromCdf(this.services.popularCdf)]!;
      const pk = rng.int(8, 60);
      this.exchange(
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
      next.nextWeb[h] = t + rng.exponential(next.webRate);
    }
  }

  private dns(h: number, ip: number, sliceEnd: number): void {
    const { rng, next } = this;
    while (next.nextDns[h]! < sliceEnd) {
      const t = next.nextDns[h]!;
      const server = this.services.dnsServers[next.dnsOf[h]!]!;
      this.exchange(t, rng.uniform(5, 60), ip, server, 53, UDP, 1, rng.int(60, 90), 1, rng.int(90, 300));
      next.nextDns[h] = t + rng.exponential(next.dnsRate);
    }
  }

  private ntp(h: number, ip: number, sliceEnd: number): void {
    const { rng, next } = this;
    while (next.nextNtp[h]! < sliceEnd) {
      const t = next.nextNtp[h]!;
      this.exchange(t, 30, ip, this.services.ntpServers[next.ntpOf[h]!]!, 123, UDP, 1, 76, 1, 76);
      next.nextNtp[h] = t + this.o.ntpPeriodS * 1000 * (1 + rng.uniform(-0.02, 0.02));
    }
  }

  private camera(h: number, ip: number, sliceEnd: number): void {
    const { rng, next } = this;
    while (next.nextCamera[h]! < sliceEnd) {
      const t = next.nextCamera[h]!;
      const pk = rng.int(3, 6);
      const cloud = this.services.vendorCloud[next.cloudOf[h]!]!;
      this.exchange(
        t,
        rng.uniform(100, 800),
        ip,
        cloud,
        8883,
        TCP,
        pk,
        pk * 40 + rng.int(60, 200),
        pk,
        pk * 40 + rng.int(30, 120),
      );
      next.nextCamera[h] = t + this.jittered(this.o.cameraHeartbeatS * 1000);
    }
  }

  private game(h: number, ip: number, sliceEnd: number): void {
    const { rng, next, homes } = this;
    while (next.nextGame[h]! < sliceEnd) {
      const t = next.nextGame[h]!;
      // Play 90 minutes a day from the household's usual hour: one record per minute each way.
      const hourOfDay = ((((t - this.o.startMs) / HOUR_MS) % 24) + 24) % 24;
      const offset = (hourOfDay - homes.gamerFromH[h]! + 24) % 24;
      if (offset < 1.5) {
        const pk = rng.int(600, 1800);
        const server = this.services.games[homes.gamerServer[h]!]!;
        this.exchange(
          t,
          60_000,
          ip,
          server,
          27015,
          UDP,
          pk,
          pk * rng.int(60, 120),
          pk,
          pk * rng.int(80, 200),
        );
      }
      next.nextGame[h] = t + 60_000;
    }
  }

  private scans(h: number, ip: number, sliceEnd: number): void {
    const { rng, next, records } = this;
    while (next.nextScan[h]! < sliceEnd) {
      const t = next.nextScan[h]!;
      const target = ((rng.int(1, 197) << 24) | rng.int(0, 0xffffff)) >>> 0;
      const port = SCAN_PORTS[rng.fromCdf(SCAN_CDF)]!;
      const sport = rng.int(1024, 65535);
      records.flow(t, 0, ip, target, sport, port, TCP, SYN, 1, 40);
      const answer = rng.next();
      if (answer < 0.02)
        records.flow(t + rng.uniform(5, 300), 0, target, ip, port, sport, TCP, FLAGS_SYNACK, 1, 44);
      if (answer < 0.0008) {
        // A successful login: a real session to a random device. Real traffic, but one bot each.
        this.exchange(t + 400, rng.uniform(2000, 10_000), ip, target, port, TCP, 12, 900, 10, 700);
      }
      next.nextScan[h] = t + rng.exponential(next.scanRate);
    }
  }

  private botContacts(h: number, ip: number, sliceEnd: number): void {
    const { next } = this;
    while (next.nextBot[h]! < sliceEnd) {
      const t = next.nextBot[h]!;
      next.nextBot[h] = this.homes.botKind[h] === 1 ? this.c2Contact(h, ip, t) : this.peerContact(h, ip, t);
    }
  }

  /** One bot's contact with its family's C&C server of the hour; returns the next contact's time. */
  private c2Contact(h: number, ip: number, t: number): number {
    const rng = this.rng;
    const family = this.homes.botFamily[h]!;
    const server = this.serverAt(family, t);
    if (server) {
      if (server.firstContact === 0 || t < server.firstContact) server.firstContact = t;
      server.bots.add(h);
      if (server.proto === TCP) {
        const up = rng.int(4, 8);
        const down = rng.int(3, 6);
        this.exchange(
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
        this.exchange(
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
    return t + this.jittered(this.botnets.familyPeriod[family]!);
  }

  /** One P2P bot's exchange with a random known peer; returns the next contact's time. */
  private peerContact(h: number, ip: number, t: number): number {
    const rng = this.rng;
    const peer = this.p2p.peers[h * PEERS + rng.int(0, PEERS - 1)]!;
    if (peer >= 0)
      this.exchange(
        t,
        rng.uniform(50, 500),
        ip,
        this.homes.home[peer]!,
        this.p2p.port[peer]!,
        UDP,
        2,
        rng.int(150, 300),
        2,
        rng.int(150, 400),
      );
    return t + rng.uniform(30_000, 120_000);
  }

  private serverAt(family: number, t: number): Server | undefined {
    for (const s of this.botnets.servers[family]!) if (t >= s.from && t < s.to) return s;
    return undefined;
  }
}

/** Builds a scenario; nothing is generated until batches() is iterated. */
export function generateScenario(input: Partial<ScenarioOptions> = {}): Scenario {
  const o = ScenarioOptions.parse(input);
  const rng = new Rng(o.seed);
  const start = o.startMs;
  const end = start + Math.round(o.hours * 3_600_000);
  const { subnet, size } = subscriberSubnet(o);
  // The draws happen in this order for every seed: households, services, botnets, P2P, schedule.
  const external = new ExternalAddresses(rng, subnet);
  const homes = drawHouseholds(o, rng, subnet, size);
  const services = drawServices(o, rng, external);
  const botnets = drawBotnets(o, rng, external, start, end);
  const p2p = drawP2p(rng, homes);
  const schedule = firstEvents(o, rng, homes, botnets, start);
  const truth = initialTruth(o, subnet, end, homes, services, botnets, p2p);
  const day = new DayTraffic(o, rng, homes, services, botnets, p2p, schedule);

  function* batches(): Generator<FlowBatch, void, undefined> {
    for (let sliceStart = start; sliceStart < end; sliceStart += o.sliceMs) {
      day.generateSlice(Math.min(end, sliceStart + o.sliceMs));
      // The whole slice, sorted by start time (stable), replies past its end included; the
      // truth's flow count includes the slice by the time its last batch is handed on.
      for (const batch of day.records.drain(Infinity)) {
        truth.flows = day.records.total;
        yield batch;
      }
    }
    // The truth's C&C list is complete once the stream is.
    truth.c2 = c2Truth(botnets, homes, start, end);
  }

  function plannedC2(): PlannedC2[] {
    return botnets.servers.flatMap((list, f) =>
      list
        .filter((s) => s.from < end && s.to > start)
        .map((s) => plannedServer(s, botnets.familyNames[f]!, start, end)),
    );
  }

  return { options: o, truth, batches, plannedC2 };
}
