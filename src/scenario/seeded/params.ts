/**
 * Everything the seeded scenario draws per seed: the address plan, how many homes and cameras
 * are infected, each botnet family's shape (periods, jitter, lifetimes, ports), and the benign
 * traffic that looks like it. Same seed, same parameters; the truth file carries them.
 */
import { Rng } from '../rng.ts';
import type { AddressPlanParams } from './plan.ts';

export type C2Kind = 'periodic' | 'long-lived' | 'fast-flux' | 'beacon';

export interface C2FamilyParams {
  name: string;
  kind: C2Kind;
  proto: 'tcp' | 'udp';
  /** Bot contact period (ms) and relative jitter of each contact. */
  periodMs: number;
  jitter: number;
  /** How long a server (address and port) lives before the family moves (ms). */
  lifetimeMs: [number, number];
  /** Share of a move that also changes the address (fast-flux; the others always do). */
  newAddressShare: number;
  /** Relative weight among infected homes (beacon families take a fixed 2-5 bots instead). */
  weight: number;
  /** Beacon families: exact bot count. */
  bots: number;
  /** Share of contacts preceded by a DNS lookup of the C&C name. */
  dnsShare: number;
  /** Servers reached over IPv6 (only with native IPv6 in the plan). */
  ipv6: boolean;
}

export interface P2pFamilyParams {
  name: string;
  weight: number;
  /** Infected hosts outside the ISP that the ISP's bots talk to. */
  externalPeers: number;
  /** Listed bots per external peer, and contacts per bot and peer. */
  botsPerPeer: [number, number];
  contactsPerPair: [number, number];
  /** Contacts between bots inside the ISP per bot and hour. */
  internalPerHour: number;
  /** Minutes between a bot's lookups of the DHT bootstrap nodes. */
  bootstrapEveryMin: number;
}

export interface ScenarioParams {
  plan: AddressPlanParams;
  cameraFraction: number;
  /** Share of cameras that are infected (5 % to 70 %). */
  cameraInfectedShare: number;
  /** Share of the other homes with an infected device (routers, DVRs). */
  otherInfectedFraction: number;
  botListCoverage: number;
  /** The bot list names the bot's family in a second column for this share of its rows. */
  familyColumnShare: number;
  c2: C2FamilyParams[];
  p2p: P2pFamilyParams[];
  scanPerMinute: number;
  scanners: { count: number; sweepHours: number; fixedSourcePortShare: number };
  cloud: { heartbeatMs: number; jitter: number; proto: 'tcp' | 'udp'; port: number; servers: number };
  webPerHour: number;
  dnsPerHour: number;
  publicResolverShare: number;
  ntpPeriodMs: number;
  updatePeriodMs: number;
  gamerFraction: number;
  bittorrentFraction: number;
  dhtNodes: number;
  popularServices: number;
  /** Share of popular services reachable over IPv6. */
  v6ServiceShare: number;
}

/** Ports the bots also scan, or that benign services use: a C&C may sit on any of them. */
export const SERVICE_PORTS = [23, 53, 80, 443, 2323, 5555, 7547, 8080, 8443, 6881, 123];
export const SCAN_PORTS = [23, 2323, 80, 8080, 5555, 7547, 37215, 52869, 81, 8443];

/** A C&C port: often a service or scan port, otherwise any port. */
export function drawC2Port(rng: Rng, highOnly = false): number {
  if (highOnly) return rng.int(10000, 65535);
  if (rng.chance(0.35)) return SERVICE_PORTS[rng.int(0, SERVICE_PORTS.length - 1)]!;
  return rng.chance(0.3) ? rng.int(1024, 9999) : rng.int(10000, 65535);
}

function drawPlan(rng: Rng): AddressPlanParams {
  const u = rng.next();
  const v4 = u < 0.4 ? 'dedicated' : u < 0.8 ? 'map-e' : 'ds-lite';
  // MAP-E rules give 16-256 homes an address; a DS-Lite AFTR's port blocks serve 16-64.
  const psidLength = v4 === 'dedicated' ? 0 : v4 === 'map-e' ? [4, 4, 6, 8][rng.int(0, 3)]! : rng.int(4, 6);
  const psidOffset = v4 === 'map-e' ? (rng.chance(0.7) ? 6 : 4) : 0;
  // IPoE ISPs (shared IPv4) always have native IPv6; a dedicated-IPv4 ISP often does too.
  const v6 = v4 !== 'dedicated' || rng.chance(0.5) ? (rng.chance(0.6) ? 56 : 64) : 'none';
  return {
    v4,
    psidLength,
    psidOffset,
    v6,
    bareSharedShare: v4 === 'dedicated' ? 0 : rng.uniform(0.05, 0.3),
    v6PrefixShare: rng.uniform(0.3, 0.8),
  };
}

function drawC2(rng: Rng, kind: C2Kind, index: number, v6: boolean): C2FamilyParams {
  const name = `${kind}-${String.fromCharCode(97 + index)}`;
  const proto = kind === 'long-lived' ? 'tcp' : rng.chance(kind === 'beacon' ? 0.2 : 0.35) ? 'udp' : 'tcp';
  const base: C2FamilyParams = {
    name,
    kind,
    proto,
    periodMs: rng.uniform(30, 600) * 1000,
    jitter: rng.uniform(0.02, 0.35),
    lifetimeMs: [rng.uniform(1, 4) * 3_600_000, rng.uniform(5, 24) * 3_600_000],
    newAddressShare: 1,
    weight: rng.uniform(0.5, 2),
    bots: 0,
    dnsShare: rng.uniform(0, 0.5),
    ipv6: false,
  };
  switch (kind) {
    case 'periodic':
      return { ...base, ipv6: v6 && rng.chance(0.3) };
    case 'long-lived':
      // The connection stays up; the router exports it every active timeout (60 s).
      return { ...base, periodMs: 60_000, jitter: 0 };
    case 'fast-flux':
      return {
        ...base,
        periodMs: rng.uniform(30, 180) * 1000,
        lifetimeMs: [10 * 60_000, 30 * 60_000],
        newAddressShare: rng.uniform(0.1, 0.5),
      };
    case 'beacon':
      return {
        ...base,
        periodMs: 600_000,
        jitter: 0.3,
        lifetimeMs: [12 * 3_600_000, 48 * 3_600_000],
        bots: rng.int(2, 5),
        weight: 0,
      };
  }
}

export function drawParams(seed: number): ScenarioParams {
  const rng = new Rng(seed * 2654435761 + 17);
  const plan = drawPlan(rng);
  const v6 = plan.v6 !== 'none';
  const kinds: C2Kind[] = ['long-lived', 'fast-flux', 'beacon'];
  for (let i = rng.int(1, 3); i > 0; i--) kinds.unshift('periodic');
  const c2 = kinds.map((kind, i) => drawC2(rng, kind, i, v6));
  const p2p: P2pFamilyParams[] = Array.from({ length: rng.int(1, 2) }, (_, i) => ({
    name: `p2p-${String.fromCharCode(97 + i)}`,
    weight: rng.uniform(0.5, 2),
    externalPeers: rng.int(60, 300),
    botsPerPeer: [5, 17],
    contactsPerPair: [1, 3],
    internalPerHour: rng.uniform(0.5, 4),
    bootstrapEveryMin: rng.uniform(10, 40),
  }));
  return {
    plan,
    cameraFraction: rng.uniform(0.08, 0.3),
    cameraInfectedShare: rng.uniform(0.05, 0.7),
    otherInfectedFraction: rng.uniform(0.005, 0.03),
    botListCoverage: rng.uniform(0.5, 0.95),
    familyColumnShare: rng.chance(0.5) ? rng.uniform(0.3, 1) : 0,
    c2,
    p2p,
    scanPerMinute: rng.uniform(1, 10),
    scanners: { count: rng.int(2, 5), sweepHours: rng.uniform(1, 6), fixedSourcePortShare: 0.5 },
    cloud: {
      heartbeatMs: rng.uniform(30, 300) * 1000,
      jitter: rng.uniform(0.002, 0.03),
      proto: rng.chance(0.5) ? 'udp' : 'tcp',
      port: [443, 8883, 32100, 10001, 6668][rng.int(0, 4)]!,
      servers: rng.int(1, 3),
    },
    webPerHour: rng.uniform(8, 25),
    dnsPerHour: rng.uniform(10, 30),
    publicResolverShare: rng.uniform(0.1, 0.4),
    ntpPeriodMs: [64, 128, 256, 1024][rng.int(0, 3)]! * 1000,
    updatePeriodMs: rng.uniform(1, 6) * 3_600_000,
    gamerFraction: rng.uniform(0.02, 0.1),
    bittorrentFraction: rng.uniform(0.01, 0.06),
    dhtNodes: rng.int(1000, 4000),
    popularServices: 200,
    v6ServiceShare: v6 ? rng.uniform(0.3, 0.7) : 0,
  };
}
