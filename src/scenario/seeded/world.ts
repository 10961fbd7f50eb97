/**
 * The seeded scenario's world: households (address plan, cameras, who is infected by which
 * family, who is in the bot list), the external services they use, and the truth's trap list.
 * Traffic sources (c2.ts, p2p.ts, benign.ts) read it and write flows into the slice stager.
 */
import { ipv4ToString, ipv6ToString } from '../../core/index.ts';
import { Rng } from '../rng.ts';
import type { ScenarioParams } from './params.ts';
import { AddressPlan } from './plan.ts';
import { SliceStager, TCP, type Addr } from './staging.ts';

export type TrapKind =
  'popular' | 'dns' | 'ntp' | 'device-cloud' | 'game' | 'bittorrent' | 'update' | 'research-scanner';

export interface TrapTruth {
  ip: string;
  port: number;
  proto: 'tcp' | 'udp';
  kind: TrapKind;
}

export interface Service {
  v4: number;
  /** Also reachable over IPv6 when set. */
  v6?: Uint8Array;
  port: number;
}

/** A traffic source: writes the flows that start before `sliceEnd` (and keeps its own clock). */
export interface Source {
  fill(sliceEnd: number): void;
}

export const addrText = (a: Addr): string => (typeof a === 'number' ? ipv4ToString(a) : ipv6ToString(a));
export const protoText = (p: number): 'tcp' | 'udp' => (p === TCP ? 'tcp' : 'udp');

export class World {
  readonly rng: Rng;
  readonly plan: AddressPlan;
  readonly homes: number;
  readonly camera: Uint8Array;
  /** Family index of the infected device's botnet: C&C families first, then P2P; -1 clean. */
  readonly family: Int16Array;
  /** 1 when the home's bot is in the bot list given to the detector. */
  readonly listed: Uint8Array;
  /** How the list names the home over IPv6: 0 not, 1 by its prefix, 2 by one privacy address. */
  readonly listedV6: Uint8Array;
  readonly traps: TrapTruth[] = [];
  private readonly usedExternal = new Set<number>();

  constructor(
    readonly params: ScenarioParams,
    readonly seed: number,
    homes: number,
    readonly start: number,
    readonly end: number,
    readonly out: SliceStager,
  ) {
    this.rng = new Rng(seed);
    this.homes = homes;
    this.plan = new AddressPlan(params.plan, homes, seed, this.rng);
    this.camera = new Uint8Array(homes);
    this.family = new Int16Array(homes).fill(-1);
    this.listed = new Uint8Array(homes);
    this.listedV6 = new Uint8Array(homes);
    this.infect();
  }

  /** Cameras are infected at the drawn share, other homes at a low rate; beacons take 2-5 bots. */
  private infect(): void {
    const { rng, params: p } = this;
    const families = [...p.c2.map((f) => f.weight), ...p.p2p.map((f) => f.weight)];
    const total = families.reduce((a, b) => a + b, 0);
    const pickFamily = () => {
      let u = rng.next() * total;
      for (let f = 0; f < families.length; f++) if ((u -= families[f]!) < 0) return f;
      return families.length - 1;
    };
    for (let h = 0; h < this.homes; h++) {
      this.camera[h] = rng.chance(p.cameraFraction) ? 1 : 0;
      const infected = this.camera[h]
        ? rng.chance(p.cameraInfectedShare)
        : rng.chance(p.otherInfectedFraction);
      if (infected) {
        this.family[h] = pickFamily();
        this.listed[h] = rng.chance(p.botListCoverage) ? 1 : 0;
      }
    }
    // Beacon families: a handful of bots taken from clean homes, all listed except maybe one.
    p.c2.forEach((f, index) => {
      for (let k = 0; k < f.bots; k++) {
        let h: number;
        do h = rng.int(0, this.homes - 1);
        while (this.family[h] !== -1);
        this.family[h] = index;
        this.listed[h] = k < 2 || rng.chance(p.botListCoverage) ? 1 : 0;
      }
    });
  }

  members(family: number): number[] {
    const out: number[] = [];
    for (let h = 0; h < this.homes; h++) if (this.family[h] === family) out.push(h);
    return out;
  }

  /** A fresh public IPv4 outside the ISP (distinct from every other one drawn). */
  external(): number {
    for (;;) {
      const ip = ((this.rng.int(1, 197) << 24) | this.rng.int(0, 0xffffff)) >>> 0;
      if (ip >>> 17 !== (198 << 7) + (18 >>> 1) && !this.usedExternal.has(ip)) {
        this.usedExternal.add(ip);
        return ip;
      }
    }
  }

  /** A public IPv6 outside the ISP (2400::/12-like space). */
  external6(): Uint8Array {
    const b = new Uint8Array(16);
    b[0] = 0x24;
    b[1] = this.rng.int(0, 15);
    for (let i = 2; i < 16; i++) b[i] = i < 8 || i >= 14 ? this.rng.int(0, 255) : 0;
    return b;
  }

  service(port: number, v6Share = 0): Service {
    return this.plan.hasV6 && this.rng.chance(v6Share)
      ? { v4: this.external(), v6: this.external6(), port }
      : { v4: this.external(), port };
  }

  trap(ip: Addr, port: number, proto: number, kind: TrapKind): void {
    this.traps.push({ ip: addrText(ip), port, proto: protoText(proto), kind });
  }

  /**
   * The home's address and a source port for a new flow to a service: over IPv6 (a device's
   * privacy address) when both sides have it and the home prefers it, else the public IPv4.
   */
  endpoint(
    h: number,
    t: number,
    device: number,
    v6: Uint8Array | undefined,
  ): { src: Addr; dst6: boolean; sport: number } {
    if (v6 && this.plan.hasV6 && this.rng.chance(0.8))
      return { src: this.plan.v6Address(h, device, t), dst6: true, sport: this.rng.int(32768, 60999) };
    return { src: this.plan.v4[h]!, dst6: false, sport: this.plan.sourcePort(h, this.rng) };
  }
}
