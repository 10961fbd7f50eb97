/**
 * P2P botnets (Mozi, Hajime, Hide'n'Seek-like): no central server. Each bot listens on its own
 * UDP port and talks to infected hosts elsewhere on random high ports; each external peer is
 * reached by 5-17 of the ISP's bots, each a few times at random moments, never one bot
 * repeatedly. Bots inside the ISP also talk to each other, and look up DHT bootstrap nodes
 * that benign BitTorrent clients use too.
 */
import type { P2pFamilyParams } from './params.ts';
import { UDP } from './staging.ts';
import { addrText, type Service, type Source, type World } from './world.ts';

export interface P2pPeerTruth {
  ip: string;
  port: number;
  proto: 'udp';
  family: string;
  /** A bot inside the ISP (its public address and listening port) or a host elsewhere. */
  internal: boolean;
  /** Distinct ISP bots that exchanged with it, and those of them in the bot list. */
  bots: number;
  knownBots: number;
}

export class P2pFamily implements Source {
  private readonly members: number[];
  private readonly listenPort: Map<number, number> = new Map();
  private readonly peers: { ip: number; port: number; bots: Set<number> }[] = [];
  /** Contacts with external peers, time-ordered: [time, member, peer]. */
  private readonly events: Float64Array;
  private cursor = 0;
  private readonly nextInternal: Float64Array;
  private readonly nextBootstrap: Float64Array;
  private readonly internalBots = new Map<number, Set<number>>();

  constructor(
    private readonly world: World,
    readonly index: number,
    readonly params: P2pFamilyParams,
    private readonly bootstrap: Service[],
  ) {
    const { rng, plan, start, end } = world;
    this.members = world.members(index);
    for (const h of this.members) this.listenPort.set(h, plan.sourcePort(h, rng));
    const events: [number, number, number][] = [];
    if (this.members.length > 0) {
      for (let p = 0; p < params.externalPeers; p++) {
        this.peers.push({ ip: world.external(), port: rng.int(1024, 65535), bots: new Set() });
        const wanted = Math.min(this.members.length, rng.int(params.botsPerPeer[0], params.botsPerPeer[1]));
        const chosen = new Set<number>();
        while (chosen.size < wanted) chosen.add(rng.int(0, this.members.length - 1));
        for (const k of chosen) {
          for (let c = rng.int(params.contactsPerPair[0], params.contactsPerPair[1]); c > 0; c--)
            events.push([rng.uniform(start, end), k, p]);
        }
      }
    }
    events.sort((a, b) => a[0] - b[0]);
    this.events = Float64Array.from(events.flat());
    const hourMs = 3_600_000;
    this.nextInternal = Float64Array.from(this.members, () =>
      params.internalPerHour > 0 ? start + rng.exponential(params.internalPerHour / hourMs) : Infinity,
    );
    this.nextBootstrap = Float64Array.from(
      this.members,
      () => start + rng.uniform(0, params.bootstrapEveryMin * 60_000),
    );
  }

  fill(sliceEnd: number): void {
    const { rng, plan } = this.world;
    const ev = this.events;
    while (this.cursor < ev.length && ev[this.cursor]! < sliceEnd) {
      const t = ev[this.cursor]!;
      const k = ev[this.cursor + 1]!;
      const peer = this.peers[ev[this.cursor + 2]!]!;
      this.cursor += 3;
      const h = this.members[k]!;
      peer.bots.add(h);
      this.exchange(t, plan.v4[h]!, this.listenPort.get(h)!, peer.ip, peer.port, rng.chance(0.5));
    }
    const hourMs = 3_600_000;
    for (let k = 0; k < this.members.length; k++) {
      const h = this.members[k]!;
      while (this.nextInternal[k]! < sliceEnd) {
        const t = this.nextInternal[k]!;
        this.nextInternal[k] = t + rng.exponential(this.params.internalPerHour / hourMs);
        if (this.members.length < 2) continue;
        let other: number;
        do other = this.members[rng.int(0, this.members.length - 1)]!;
        while (other === h);
        let seen = this.internalBots.get(other);
        if (!seen) this.internalBots.set(other, (seen = new Set()));
        seen.add(h);
        this.exchange(
          t,
          plan.v4[h]!,
          this.listenPort.get(h)!,
          plan.v4[other]!,
          this.listenPort.get(other)!,
          false,
        );
      }
      while (this.nextBootstrap[k]! < sliceEnd) {
        const t = this.nextBootstrap[k]!;
        this.nextBootstrap[k] = t + this.params.bootstrapEveryMin * 60_000 * rng.uniform(0.5, 1.5);
        const node = this.bootstrap[rng.int(0, this.bootstrap.length - 1)]!;
        this.exchange(t, plan.v4[h]!, this.listenPort.get(h)!, node.v4, node.port, false);
      }
    }
  }

  /** A DHT-style query and answer; `inbound` when the far side spoke first. */
  private exchange(
    t: number,
    bot: number,
    botPort: number,
    peer: number,
    peerPort: number,
    inbound: boolean,
  ): void {
    const { rng, out } = this.world;
    const ask = rng.int(90, 400);
    const answer = rng.int(90, 600);
    if (inbound) {
      out.flow(t, rng.uniform(0, 50), peer, bot, peerPort, botPort, UDP, 0, 1, ask);
      out.flow(t + rng.uniform(1, 40), 0, bot, peer, botPort, peerPort, UDP, 0, 1, answer);
    } else {
      out.flow(t, rng.uniform(0, 50), bot, peer, botPort, peerPort, UDP, 0, 1, ask);
      if (rng.chance(0.85))
        out.flow(t + rng.uniform(20, 300), 0, peer, bot, peerPort, botPort, UDP, 0, 1, answer);
    }
  }

  truth(): P2pPeerTruth[] {
    const listed = this.world.listed;
    const known = (bots: Set<number>) => [...bots].filter((h) => listed[h]).length;
    const external = this.peers
      .filter((p) => p.bots.size > 0)
      .map((p) => ({
        ip: addrText(p.ip),
        port: p.port,
        proto: 'udp' as const,
        family: this.params.name,
        internal: false,
        bots: p.bots.size,
        knownBots: known(p.bots),
      }));
    const internal = this.members.map((h) => {
      const bots = this.internalBots.get(h) ?? new Set<number>();
      return {
        ip: addrText(this.world.plan.v4[h]!),
        port: this.listenPort.get(h)!,
        proto: 'udp' as const,
        family: this.params.name,
        internal: true,
        bots: bots.size,
        knownBots: known(bots),
      };
    });
    return [...external, ...internal];
  }
}
