/**
 * Traffic that is not C&C but can look like it: web to Zipf-popular services and CDNs (IPv4 or
 * IPv6), DNS to the ISP's and public resolvers, NTP, device clouds every camera heartbeats to on
 * a fixed period (infected or not), update checks, game keepalives, BitTorrent DHT, the bots'
 * own scanning, and research scanners that probe every subscriber and get answers.
 */
import { SCAN_PORTS, type ScenarioParams } from './params.ts';
import { ACK, RST, SYN, TCP, UDP, type Addr } from './staging.ts';
import { cdfOf, type Rng } from '../rng.ts';
import type { Service, Source, World } from './world.ts';

const HOUR = 3_600_000;

/** The external services of the day, shared by households and bots. */
export class Services {
  readonly popular: Service[];
  readonly popularCdf: Float64Array;
  readonly ispResolvers: Service[];
  readonly publicResolvers: Service[];
  readonly ntp: Service[];
  readonly clouds: Service[];
  readonly updates: Service[];
  readonly games: Service[];
  readonly dhtNodes: Service[];
  readonly dhtCdf: Float64Array;
  readonly bootstrap: Service[];

  constructor(world: World) {
    const p = world.params;
    const { rng } = world;
    this.popular = Array.from({ length: p.popularServices }, () =>
      world.service(rng.chance(0.85) ? 443 : 80, p.v6ServiceShare),
    );
    this.popularCdf = cdfOf(this.popular.map((_, k) => 1 / (k + 1)));
    this.ispResolvers = [world.service(53, 1), world.service(53, 1)];
    this.publicResolvers = [world.service(53, 0.5), world.service(53, 0.5)];
    this.ntp = Array.from({ length: 4 }, () => world.service(123, 0.5));
    const cloudProto = p.cloud.proto === 'tcp' ? TCP : UDP;
    this.clouds = Array.from({ length: p.cloud.servers }, () => world.service(p.cloud.port));
    this.updates = Array.from({ length: 3 }, () => world.service(443, 0.5));
    this.games = Array.from({ length: 5 }, () =>
      world.service([3074, 27015, 9308, 5062, 3478][rng.int(0, 4)]!),
    );
    this.dhtNodes = Array.from({ length: p.dhtNodes }, () => ({
      v4: world.external(),
      port: rng.int(1024, 65535),
    }));
    this.dhtCdf = cdfOf(this.dhtNodes.map((_, k) => 1 / (k + 1) ** 0.7));
    this.bootstrap = Array.from({ length: 3 }, () => world.service(6881));

    const trapBoth = (s: Service, proto: number, kind: Parameters<World['trap']>[3]) => {
      world.trap(s.v4, s.port, proto, kind);
      if (s.v6) world.trap(s.v6, s.port, proto, kind);
    };
    this.popular.forEach((s) => trapBoth(s, TCP, 'popular'));
    [...this.ispResolvers, ...this.publicResolvers].forEach((s) => trapBoth(s, UDP, 'dns'));
    this.ntp.forEach((s) => trapBoth(s, UDP, 'ntp'));
    this.clouds.forEach((s) => trapBoth(s, cloudProto, 'device-cloud'));
    this.updates.forEach((s) => trapBoth(s, TCP, 'update'));
    this.games.forEach((s) => trapBoth(s, UDP, 'game'));
    this.bootstrap.forEach((s) => trapBoth(s, UDP, 'bittorrent'));
    this.dhtNodes.forEach((s) => trapBoth(s, UDP, 'bittorrent'));
  }

  resolverAddresses(): { isp: Addr[]; public: Addr[] } {
    const all = (list: Service[]) => list.flatMap((s) => (s.v6 ? [s.v4, s.v6] : [s.v4]));
    return { isp: all(this.ispResolvers), public: all(this.publicResolvers) };
  }
}

/** Per-home benign traffic. */
export class Households implements Source {
  private readonly n: number;
  private readonly nextWeb: Float64Array;
  private readonly nextDns: Float64Array;
  private readonly nextNtp: Float64Array;
  private readonly nextCloud: Float64Array;
  private readonly nextUpdate: Float64Array;
  private readonly nextGame: Float64Array;
  private readonly nextDht: Float64Array;
  private readonly resolver: Uint8Array;
  private readonly cloudOf: Uint8Array;
  private readonly gameOf: Int8Array;
  private readonly gameFromH: Float64Array;
  private readonly gamePort: Uint16Array;
  private readonly cloudPort: Uint16Array;
  private readonly p: ScenarioParams;

  constructor(
    private readonly world: World,
    private readonly s: Services,
  ) {
    const { rng, start, homes } = world;
    this.p = world.params;
    const p = this.p;
    this.n = homes;
    const first = (ratePerHour: number) =>
      ratePerHour > 0 ? start + rng.exponential(ratePerHour / HOUR) : Infinity;
    this.nextWeb = Float64Array.from({ length: homes }, () => first(p.webPerHour));
    this.nextDns = Float64Array.from({ length: homes }, () => first(p.dnsPerHour));
    this.nextNtp = Float64Array.from({ length: homes }, () => start + rng.uniform(0, p.ntpPeriodMs));
    this.nextCloud = Float64Array.from({ length: homes }, (_, h) =>
      world.camera[h] ? start + rng.uniform(0, p.cloud.heartbeatMs) : Infinity,
    );
    this.nextUpdate = Float64Array.from({ length: homes }, () => start + rng.uniform(0, p.updatePeriodMs));
    this.gameOf = Int8Array.from({ length: homes }, () =>
      rng.chance(p.gamerFraction * 4) ? rng.int(0, s.games.length - 1) : -1,
    );
    this.gameFromH = Float64Array.from({ length: homes }, () => rng.uniform(0, 24));
    this.nextGame = Float64Array.from(this.gameOf, (g) =>
      g >= 0 ? start + rng.uniform(0, 60_000) : Infinity,
    );
    this.gamePort = new Uint16Array(homes);
    this.nextDht = Float64Array.from({ length: homes }, () =>
      rng.chance(p.bittorrentFraction) ? start + rng.uniform(0, 60_000) : Infinity,
    );
    this.resolver = Uint8Array.from({ length: homes }, () =>
      rng.chance(p.publicResolverShare) ? 2 + rng.int(0, 1) : rng.int(0, 1),
    );
    this.cloudOf = Uint8Array.from({ length: homes }, () => rng.int(0, s.clouds.length - 1));
    // A camera keeps one source port for its cloud session (a NAT binding), re-drawn hourly.
    this.cloudPort = Uint16Array.from({ length: homes }, (_, h) => world.plan.sourcePort(h, rng));
  }

  fill(sliceEnd: number): void {
    for (let h = 0; h < this.n; h++) {
      this.web(h, sliceEnd);
      this.dns(h, sliceEnd);
      this.ntp(h, sliceEnd);
      this.cloud(h, sliceEnd);
      this.update(h, sliceEnd);
      this.game(h, sliceEnd);
      this.dht(h, sliceEnd);
    }
  }

  private web(h: number, sliceEnd: number): void {
    const { rng, out } = this.world;
    while (this.nextWeb[h]! < sliceEnd) {
      const t = this.nextWeb[h]!;
      this.nextWeb[h] = t + rng.exponential(this.p.webPerHour / HOUR);
      const s = this.s.popular[rng.fromCdf(this.s.popularCdf)]!;
      const e = this.world.endpoint(h, t, rng.int(1, 3), s.v6);
      const pk = rng.int(8, 60);
      out.exchange(
        t,
        rng.uniform(200, 30_000),
        e.src,
        e.dst6 ? s.v6! : s.v4,
        e.sport,
        s.port,
        TCP,
        pk,
        pk * 60 + rng.int(200, 2000),
        pk * 2,
        pk * 2 * 1200,
      );
    }
  }

  private dns(h: number, sliceEnd: number): void {
    const { rng, out } = this.world;
    while (this.nextDns[h]! < sliceEnd) {
      const t = this.nextDns[h]!;
      this.nextDns[h] = t + rng.exponential(this.p.dnsPerHour / HOUR);
      const r = this.resolver[h]!;
      const s = r < 2 ? this.s.ispResolvers[r]! : this.s.publicResolvers[r - 2]!;
      const e = this.world.endpoint(h, t, rng.int(0, 3), s.v6);
      out.exchange(
        t,
        rng.uniform(5, 60),
        e.src,
        e.dst6 ? s.v6! : s.v4,
        e.sport,
        53,
        UDP,
        1,
        rng.int(60, 90),
        1,
        rng.int(90, 300),
      );
    }
  }

  private ntp(h: number, sliceEnd: number): void {
    const { rng, out } = this.world;
    while (this.nextNtp[h]! < sliceEnd) {
      const t = this.nextNtp[h]!;
      // Cameras poll at their firmware's fixed interval; PCs and phones about hourly.
      const period = this.world.camera[h] ? this.p.ntpPeriodMs : HOUR;
      this.nextNtp[h] = t + period * (1 + rng.uniform(-0.01, 0.01));
      const s = this.s.ntp[h % this.s.ntp.length]!;
      const e = this.world.endpoint(h, t, 0, s.v6);
      out.exchange(t, 30, e.src, e.dst6 ? s.v6! : s.v4, e.sport, 123, UDP, 1, 76, 1, 76);
    }
  }

  /** Every camera, infected or not, heartbeats to its maker's cloud on a fixed period. */
  private cloud(h: number, sliceEnd: number): void {
    const { rng, out, plan } = this.world;
    const c = this.p.cloud;
    while (this.nextCloud[h]! < sliceEnd) {
      const t = this.nextCloud[h]!;
      this.nextCloud[h] = t + c.heartbeatMs * (1 + rng.uniform(-c.jitter, c.jitter));
      if (rng.chance(c.heartbeatMs / HOUR)) this.cloudPort[h] = plan.sourcePort(h, rng);
      const s = this.s.clouds[this.cloudOf[h]!]!;
      const pk = rng.int(2, 5);
      if (c.proto === 'tcp')
        out.exchange(
          t,
          rng.uniform(100, 800),
          plan.v4[h]!,
          s.v4,
          this.cloudPort[h]!,
          s.port,
          TCP,
          pk,
          pk * 40 + rng.int(60, 200),
          pk,
          pk * 40 + rng.int(30, 120),
        );
      else
        out.exchange(
          t,
          rng.uniform(10, 200),
          plan.v4[h]!,
          s.v4,
          this.cloudPort[h]!,
          s.port,
          UDP,
          1,
          rng.int(48, 120),
          1,
          rng.int(48, 120),
        );
    }
  }

  private update(h: number, sliceEnd: number): void {
    const { rng, out } = this.world;
    while (this.nextUpdate[h]! < sliceEnd) {
      const t = this.nextUpdate[h]!;
      this.nextUpdate[h] = t + this.p.updatePeriodMs * (1 + rng.uniform(-0.05, 0.05));
      const s = this.s.updates[h % this.s.updates.length]!;
      const e = this.world.endpoint(h, t, 1, s.v6);
      const pk = rng.int(6, 14);
      out.exchange(
        t,
        rng.uniform(300, 3000),
        e.src,
        e.dst6 ? s.v6! : s.v4,
        e.sport,
        443,
        TCP,
        pk,
        pk * 80,
        pk,
        pk * 400,
      );
    }
  }

  /** Online play: 1-3 h a day from the home's usual hour, one record a minute each way. */
  private game(h: number, sliceEnd: number): void {
    const { rng, out, plan, start } = this.world;
    while (this.nextGame[h]! < sliceEnd) {
      const t = this.nextGame[h]!;
      this.nextGame[h] = t + 60_000;
      const hourOfDay = ((((t - start) / HOUR) % 24) + 24) % 24;
      const offset = (hourOfDay - this.gameFromH[h]! + 24) % 24;
      if (offset >= 1 + (h % 3)) {
        this.gamePort[h] = 0;
        continue;
      }
      if (this.gamePort[h] === 0) this.gamePort[h] = plan.sourcePort(h, rng);
      const s = this.s.games[this.gameOf[h]!]!;
      const pk = rng.int(600, 1800);
      out.exchange(
        t,
        60_000,
        plan.v4[h]!,
        s.v4,
        this.gamePort[h]!,
        s.port,
        UDP,
        pk,
        pk * rng.int(60, 120),
        pk,
        pk * rng.int(80, 200),
      );
    }
  }

  /** BitTorrent DHT: queries to many nodes on random high ports, and now and then a bootstrap node. */
  private dht(h: number, sliceEnd: number): void {
    const { rng, out, plan } = this.world;
    while (this.nextDht[h]! < sliceEnd) {
      const t = this.nextDht[h]!;
      this.nextDht[h] = t + rng.uniform(5_000, 60_000);
      const node = rng.chance(0.02)
        ? this.s.bootstrap[rng.int(0, this.s.bootstrap.length - 1)]!
        : this.s.dhtNodes[rng.fromCdf(this.s.dhtCdf)]!;
      const sport = plan.sourcePort(h, rng);
      out.flow(t, 0, plan.v4[h]!, node.v4, sport, node.port, UDP, 0, 1, rng.int(90, 350));
      if (rng.chance(0.7))
        out.flow(
          t + rng.uniform(20, 400),
          0,
          node.v4,
          plan.v4[h]!,
          node.port,
          sport,
          UDP,
          0,
          1,
          rng.int(90, 600),
        );
    }
  }
}

/** The bots' scanning: SYN-only probes to random addresses on scan ports; a few answers. */
export class BotScanning implements Source {
  private readonly bots: number[] = [];
  private readonly next: Float64Array;

  constructor(private readonly world: World) {
    for (let h = 0; h < world.homes; h++) if (world.family[h]! >= 0) this.bots.push(h);
    const rate = world.params.scanPerMinute / 60_000;
    this.next = Float64Array.from(this.bots, () => world.start + world.rng.exponential(rate));
  }

  fill(sliceEnd: number): void {
    const { rng, out, plan } = this.world;
    const rate = this.world.params.scanPerMinute / 60_000;
    for (let k = 0; k < this.bots.length; k++) {
      const h = this.bots[k]!;
      while (this.next[k]! < sliceEnd) {
        const t = this.next[k]!;
        this.next[k] = t + rng.exponential(rate);
        const target = ((rng.int(1, 197) << 24) | rng.int(0, 0xffffff)) >>> 0;
        const port = SCAN_PORTS[Math.min(SCAN_PORTS.length - 1, Math.floor(rng.exponential(0.5)))]!;
        const sport = plan.sourcePort(h, rng);
        out.flow(t, 0, plan.v4[h]!, target, sport, port, TCP, SYN, 1, 40);
        const answer = rng.next();
        if (answer < 0.02)
          out.flow(t + rng.uniform(5, 300), 0, target, plan.v4[h]!, port, sport, TCP, SYN | ACK, 1, 44);
        else if (answer < 0.05)
          out.flow(t + rng.uniform(5, 300), 0, target, plan.v4[h]!, port, sport, TCP, RST | ACK, 1, 40);
      }
    }
  }
}

/**
 * Research scanners (Shodan/Censys-like): each sweeps every public address of the ISP on a few
 * ports every few hours, often from one fixed source port, and grabs banners where something
 * answers (cameras and routers do; infected ones too).
 */
export class ResearchScanners implements Source {
  private readonly scanners: { ip: number; fixedPort: number }[];
  /** Probe events: [time, scanner, address index, port], time-ordered, built one sweep ahead. */
  private events: number[] = [];
  private cursor = 0;
  private nextSweep: number;
  private readonly addresses: number[];

  constructor(private readonly world: World) {
    const { rng, params } = world;
    this.scanners = Array.from({ length: params.scanners.count }, () => ({
      ip: world.external(),
      fixedPort: rng.chance(params.scanners.fixedSourcePortShare) ? rng.int(30000, 65000) : 0,
    }));
    for (const s of this.scanners) if (s.fixedPort) world.trap(s.ip, s.fixedPort, TCP, 'research-scanner');
    this.addresses = [...new Set(world.plan.v4)];
    this.nextSweep = world.start;
  }

  private planSweep(from: number): void {
    const { rng } = this.world;
    const sweepMs = this.world.params.scanners.sweepHours * HOUR;
    const events: [number, number, number, number][] = [];
    this.scanners.forEach((_, s) => {
      const ports = [80, 443, 23, 8080, 554, 7547, 22, 8443].filter(() => rng.chance(0.4));
      for (let a = 0; a < this.addresses.length; a++)
        for (const port of ports) events.push([from + rng.uniform(0, sweepMs), s, a, port]);
    });
    events.sort((x, y) => x[0] - y[0]);
    this.events = events.flat();
    this.cursor = 0;
    this.nextSweep = from + sweepMs;
  }

  fill(sliceEnd: number): void {
    const { rng, out, plan } = this.world;
    for (;;) {
      if (this.cursor >= this.events.length) {
        if (this.nextSweep >= sliceEnd) return;
        this.planSweep(this.nextSweep);
        continue;
      }
      const t = this.events[this.cursor]!;
      if (t >= sliceEnd) return;
      const scanner = this.scanners[this.events[this.cursor + 1]!]!;
      const address = this.addresses[this.events[this.cursor + 2]!]!;
      const port = this.events[this.cursor + 3]!;
      this.cursor += 4;
      const sport = scanner.fixedPort || rng.int(32768, 65000);
      out.flow(t, 0, scanner.ip, address, sport, port, TCP, SYN, 1, 44);
      const h = plan.homeAt(address, port);
      if (h < 0 || !this.answers(h, port, rng)) continue;
      out.flow(t + rng.uniform(5, 80), 0, address, scanner.ip, port, sport, TCP, SYN | ACK, 1, 44);
      if (rng.chance(0.6)) {
        // Banner grab: a short session on the same ports.
        out.exchange(
          t + 200,
          rng.uniform(300, 3000),
          scanner.ip,
          address,
          sport,
          port,
          TCP,
          rng.int(3, 6),
          rng.int(200, 600),
          rng.int(3, 8),
          rng.int(300, 3000),
        );
      }
    }
  }

  /** Cameras answer on web and RTSP ports, routers on TR-069 and web; bots leave telnet open. */
  private answers(h: number, port: number, rng: Rng): boolean {
    const w = this.world;
    if (w.camera[h] && (port === 80 || port === 554 || port === 8080)) return rng.chance(0.8);
    if (w.family[h]! >= 0 && port === 23) return rng.chance(0.5);
    if (port === 7547 || port === 443) return rng.chance(0.2);
    return rng.chance(0.02);
  }
}
