/**
 * C&C families with central servers: classic periodic contact, long-lived connections exported
 * every active timeout, fast-flux servers that move every 10-30 minutes, and low-rate beacons
 * from a handful of bots. Each server is an (address, port, protocol) with a life; the truth
 * records which bots reached it and when.
 */
import { drawC2Port, type C2FamilyParams, type C2Kind } from './params.ts';
import { ACK, FIN, PSH, SYN, TCP, UDP, type Addr } from './staging.ts';
import { addrText, protoText, type Source, type World } from './world.ts';

export interface C2Truth {
  ip: string;
  port: number;
  proto: 'tcp' | 'udp';
  family: string;
  kind: C2Kind;
  /** The server's life, clipped to the scenario. */
  fromMs: number;
  toMs: number;
  /** First and last bot contact in the (unsampled) flow stream. */
  firstContactMs: number;
  lastContactMs: number;
  /** The family's contact period (long-lived: the active timeout). */
  periodMs: number;
  /** Distinct bots that reached it, and those of them in the bot list. */
  bots: number;
  knownBots: number;
  /** Bot contacts (exchanges, or exported records of a long-lived connection). */
  contacts: number;
}

interface Server {
  ip: Addr;
  port: number;
  proto: number;
  from: number;
  to: number;
  bots: Set<number>;
  first: number;
  last: number;
  contacts: number;
}

const ACTIVE_TIMEOUT_MS = 60_000;

export class C2Family implements Source {
  readonly servers: Server[] = [];
  private readonly members: number[];
  private readonly next: Float64Array;
  /** Long-lived: the connection's source port, server index and start (0 when down). */
  private readonly connPort: Uint16Array;
  private readonly connServer: Int32Array;
  private readonly connStart: Float64Array;
  private readonly proto: number;

  constructor(
    private readonly world: World,
    readonly index: number,
    readonly params: C2FamilyParams,
    private readonly resolvers: { isp: Addr[]; public: Addr[] },
  ) {
    this.proto = params.proto === 'tcp' ? TCP : UDP;
    this.members = world.members(index);
    this.scheduleServers();
    const rng = world.rng;
    this.next = Float64Array.from(this.members, () => world.start + rng.uniform(0, params.periodMs));
    this.connPort = new Uint16Array(this.members.length);
    this.connServer = new Int32Array(this.members.length).fill(-1);
    this.connStart = new Float64Array(this.members.length);
  }

  /** The family's servers over the day: each lives a drawn time, then the family moves. */
  private scheduleServers(): void {
    const { rng, start, end } = this.world;
    const p = this.params;
    const life = () => rng.uniform(p.lifetimeMs[0], p.lifetimeMs[1]);
    const fastFlux = p.kind === 'fast-flux';
    let t = start - rng.uniform(0, 1) * life();
    let ip: Addr = p.ipv6 ? this.world.external6() : this.world.external();
    while (t < end) {
      const to = t + life();
      this.servers.push({
        ip,
        port: drawC2Port(rng, fastFlux),
        proto: this.proto,
        from: t,
        to,
        bots: new Set(),
        first: 0,
        last: 0,
        contacts: 0,
      });
      t = to;
      if (!fastFlux || rng.chance(p.newAddressShare))
        ip = p.ipv6 ? this.world.external6() : this.world.external();
    }
  }

  private serverAt(t: number): number {
    const s = this.servers;
    for (let i = 0; i < s.length; i++) if (t >= s[i]!.from && t < s[i]!.to) return i;
    return -1;
  }

  private record(server: Server, h: number, t: number): void {
    if (server.first === 0 || t < server.first) server.first = t;
    if (t > server.last) server.last = t;
    server.bots.add(h);
    server.contacts++;
  }

  /** The bot's own address for this server (a privacy address for IPv6 servers). */
  private botAddress(h: number, t: number, server: Server): Addr {
    return typeof server.ip === 'number' ? this.world.plan.v4[h]! : this.world.plan.v6Address(h, 0, t);
  }

  private sourcePort(h: number, server: Server): number {
    const rng = this.world.rng;
    return typeof server.ip === 'number' ? this.world.plan.sourcePort(h, rng) : rng.int(32768, 60999);
  }

  fill(sliceEnd: number): void {
    if (this.params.kind === 'long-lived') this.fillLongLived(sliceEnd);
    else this.fillContacts(sliceEnd);
  }

  /** One exchange per contact (periodic, fast-flux, beacon), sometimes after a DNS lookup. */
  private fillContacts(sliceEnd: number): void {
    const { rng, out } = this.world;
    const p = this.params;
    for (let k = 0; k < this.members.length; k++) {
      const h = this.members[k]!;
      while (this.next[k]! < sliceEnd) {
        const t = this.next[k]!;
        this.next[k] = t + p.periodMs * (1 + rng.uniform(-p.jitter, p.jitter));
        const index = this.serverAt(t);
        if (index < 0) continue;
        const server = this.servers[index]!;
        const src = this.botAddress(h, t, server);
        if (rng.chance(p.dnsShare)) this.lookup(h, t - rng.uniform(20, 200), typeof src !== 'number');
        const sport = this.sourcePort(h, server);
        if (server.proto === TCP) {
          const up = rng.int(4, 9);
          const down = rng.int(3, 7);
          out.exchange(
            t,
            rng.uniform(150, 3000),
            src,
            server.ip,
            sport,
            server.port,
            TCP,
            up,
            up * 52 + rng.int(40, 400),
            down,
            down * 52 + rng.int(20, 300),
          );
        } else {
          out.exchange(
            t,
            rng.uniform(20, 400),
            src,
            server.ip,
            sport,
            server.port,
            UDP,
            rng.int(1, 2),
            rng.int(60, 160),
            rng.int(1, 2),
            rng.int(60, 240),
          );
        }
        this.record(server, h, t);
      }
    }
  }

  /** A DNS query for the C&C name (bots often use a public resolver). */
  private lookup(h: number, t: number, v6: boolean): void {
    const { rng, out, plan } = this.world;
    const list = rng.chance(0.6) ? this.resolvers.public : this.resolvers.isp;
    const candidates = list.filter((a) => (typeof a !== 'number') === v6);
    if (candidates.length === 0) return;
    const resolver = candidates[rng.int(0, candidates.length - 1)]!;
    const src = v6 ? plan.v6Address(h, 0, t) : plan.v4[h]!;
    const sport = v6 ? rng.int(32768, 60999) : plan.sourcePort(h, rng);
    out.exchange(
      t,
      rng.uniform(5, 60),
      src,
      resolver,
      sport,
      53,
      UDP,
      1,
      rng.int(60, 90),
      1,
      rng.int(90, 200),
    );
  }

  /**
   * One TCP connection per bot, exported every active timeout with the same 5-tuple; it drops
   * now and then and when the server moves, and the bot reconnects from a new port.
   */
  private fillLongLived(sliceEnd: number): void {
    const { rng, out } = this.world;
    for (let k = 0; k < this.members.length; k++) {
      const h = this.members[k]!;
      while (this.next[k]! < sliceEnd) {
        const t = this.next[k]!;
        let index = this.connServer[k]!;
        if (index < 0) {
          index = this.serverAt(t);
          if (index < 0) {
            this.next[k] = t + ACTIVE_TIMEOUT_MS;
            continue;
          }
          this.connServer[k] = index;
          this.connStart[k] = t;
          this.connPort[k] = this.sourcePort(h, this.servers[index]!);
        }
        const server = this.servers[index]!;
        const first = this.connStart[k] === t;
        const closing = t + ACTIVE_TIMEOUT_MS >= server.to || rng.chance(1 / 240);
        const from = first ? t : t - ACTIVE_TIMEOUT_MS;
        const flags = ACK | PSH | (first ? SYN : 0) | (closing ? FIN : 0);
        const command = rng.chance(0.05) ? rng.int(5, 40) : 0;
        const up = rng.int(1, 3) + (first ? 3 : 0);
        const down = rng.int(1, 3) + command;
        const src = this.botAddress(h, this.connStart[k]!, server);
        out.flow(
          t,
          t - from,
          src,
          server.ip,
          this.connPort[k]!,
          server.port,
          TCP,
          flags,
          up,
          up * 60 + rng.int(0, 200),
        );
        out.flow(
          t + 1,
          t - from,
          server.ip,
          src,
          server.port,
          this.connPort[k]!,
          TCP,
          flags,
          down,
          down * 80 + rng.int(0, 600),
        );
        this.record(server, h, t);
        if (closing) {
          this.connServer[k] = -1;
          this.next[k] = t + rng.uniform(5_000, 120_000);
        } else this.next[k] = t + ACTIVE_TIMEOUT_MS;
      }
    }
  }

  truth(): C2Truth[] {
    const { start, end, listed, listedV6 } = this.world;
    return this.servers
      .filter((s) => s.contacts > 0)
      .map((s) => ({
        ip: addrText(s.ip),
        port: s.port,
        proto: protoText(s.proto),
        family: this.params.name,
        kind: this.params.kind,
        fromMs: Math.max(start, Math.round(s.from)),
        toMs: Math.min(end, Math.round(s.to)),
        firstContactMs: Math.floor(s.first),
        lastContactMs: Math.floor(s.last),
        periodMs: Math.round(this.params.periodMs),
        bots: s.bots.size,
        // Over IPv6 a bot is known only when the list names its prefix or one of its addresses.
        knownBots: [...s.bots].filter((h) => (typeof s.ip === 'number' ? listed[h] : listedV6[h])).length,
        contacts: s.contacts,
      }));
  }
}
