/**
 * Address plans of the seeded scenario: how a household appears at the ISP border.
 *
 * - dedicated: one public IPv4 per home; any source port.
 * - map-e: 2^psidLength homes share a public IPv4 (RFC 7597 port sets: offset bits `a`, PSID
 *   `k` bits, the rest `m`); a home's ports are (i << (16-a)) | (psid << m) | j with i > 0.
 * - ds-lite: the AFTR gives each home one contiguous block of 2^(16-k) ports (RFC 7597 with
 *   offset 0); blocks wholly below 1024 are not handed out, ports below 1024 never used.
 * - native IPv6 (optional, beside any of them): a /56 or /64 per home; devices use privacy
 *   addresses inside the home's first /64 that change every hour.
 */
import { ipv4ToString, ipv6ToString, mixInts } from '../../core/index.ts';
import type { Rng } from '../rng.ts';

export type V4PlanKind = 'dedicated' | 'map-e' | 'ds-lite';

export interface AddressPlanParams {
  v4: V4PlanKind;
  /** Bits of the port-set id (homes per shared address = 2^psidLength); 0 for dedicated. */
  psidLength: number;
  /** MAP-E offset bits `a` (ports below 2^(16-a) are never in a set); 0 for the others. */
  psidOffset: number;
  /** Native IPv6 beside IPv4: none, or the prefix length each home gets. */
  v6: 'none' | 56 | 64;
  /** Share of listed bots behind a shared IPv4 that the list names by bare address (no port). */
  bareSharedShare: number;
  /** Share of listed bots with native IPv6 that the list names by prefix (else one address). */
  v6PrefixShare: number;
}

/** What the truth file says about the plan (enough to map an ip:port back to a home). */
export interface AddressPlanTruth extends AddressPlanParams {
  /** Public IPv4 addresses of the homes (dedicated) or the shared pool (CIDR). */
  v4Prefix: string;
  /** The ISP's IPv6 prefix the home prefixes are cut from ('' without IPv6). */
  v6Prefix: string;
  homes: number;
  homesPerAddress: number;
  /** How often privacy addresses change (ms). */
  privacyRotationMs: number;
}

const V4_BASE = (198 << 24) | (18 << 16); // 198.18.0.0/15, benchmarking space
const V6_BASE = [0x20, 0x01, 0x0d, 0xb8]; // 2001:db8::/32
export const PRIVACY_ROTATION_MS = 3_600_000;

/** Mixes integers into 32 well-spread bits (for deterministic privacy interface ids). */
const mix = (...values: number[]): number => mixInts(0x9e3779b9, values);

export class AddressPlan {
  readonly homes: number;
  readonly homesPerAddress: number;
  /** Public IPv4 of each home. */
  readonly v4: Uint32Array;
  /** Port-set id of each home (0 when the address is not shared). */
  readonly psid: Uint16Array;
  private readonly m: number;
  /** DS-Lite: ports per block, and the first block that holds ports >= 1024. */
  private readonly blockSize: number;
  private readonly firstBlock: number;
  /** Home by `${address}` for dedicated, by address*65536+port owner via portOwner otherwise. */
  private readonly homeByAddress = new Map<number, number>();
  private readonly v4Prefix: string;

  constructor(
    readonly params: AddressPlanParams,
    homes: number,
    private readonly seed: number,
    rng: Rng,
  ) {
    this.homes = homes;
    this.blockSize = 2 ** (16 - params.psidLength);
    this.firstBlock = params.v4 === 'ds-lite' ? Math.floor(1024 / this.blockSize) : 0;
    this.homesPerAddress = params.v4 === 'dedicated' ? 1 : 2 ** params.psidLength - this.firstBlock;
    this.v4 = new Uint32Array(homes);
    this.psid = new Uint16Array(homes);
    this.m = 16 - params.psidOffset - params.psidLength;
    if (params.v4 === 'dedicated') {
      // Homes scattered over 198.18.0.0/15 like a real pool.
      const picked = new Set<number>();
      for (let h = 0; h < homes; h++) {
        let offset: number;
        do offset = rng.int(1, 2 ** 17 - 2);
        while (picked.has(offset));
        picked.add(offset);
        this.v4[h] = (V4_BASE + offset) >>> 0;
        this.homeByAddress.set(this.v4[h]!, h);
      }
      this.v4Prefix = '198.18.0.0/15';
    } else {
      // A compact shared pool; each address serves homesPerAddress homes, psid by order.
      const addresses = Math.ceil(homes / this.homesPerAddress);
      const bits = Math.max(8, Math.ceil(Math.log2(addresses + 2)));
      const base = (V4_BASE + rng.int(0, 2 ** (17 - bits) - 1) * 2 ** bits) >>> 0;
      for (let h = 0; h < homes; h++) {
        this.v4[h] = (base + 1 + Math.floor(h / this.homesPerAddress)) >>> 0;
        this.psid[h] = this.firstBlock + (h % this.homesPerAddress);
      }
      this.v4Prefix = `${ipv4ToString(base)}/${32 - bits}`;
    }
  }

  /** A source port the home's traffic can carry outside (its own port set when shared). */
  sourcePort(h: number, rng: Rng): number {
    const p = this.params;
    if (p.v4 === 'dedicated') return rng.int(32768, 60999);
    if (p.v4 === 'ds-lite') {
      const low = Math.max(1024, this.psid[h]! * this.blockSize);
      return rng.int(low, (this.psid[h]! + 1) * this.blockSize - 1);
    }
    const i = rng.int(1, 2 ** p.psidOffset - 1);
    const j = rng.int(0, 2 ** this.m - 1);
    return (i << (16 - p.psidOffset)) | (this.psid[h]! << this.m) | j;
  }

  /** The home that owns `port` of shared address `ip` (or the home of a dedicated ip), else -1. */
  homeAt(ip: number, port: number): number {
    const p = this.params;
    if (p.v4 === 'dedicated') return this.homeByAddress.get(ip) ?? -1;
    const first = this.v4[0]!;
    const index = ip - first;
    if (index < 0 || index * this.homesPerAddress >= this.homes) return -1;
    let psid: number;
    if (p.v4 === 'ds-lite') {
      if (port < 1024) return -1;
      psid = Math.floor(port / this.blockSize);
    } else {
      if (port >>> (16 - p.psidOffset) === 0) return -1;
      psid = (port >>> this.m) & (2 ** p.psidLength - 1);
    }
    const h = index * this.homesPerAddress + psid - this.firstBlock;
    return h < this.homes ? h : -1;
  }

  /** True when `port` is in home h's port set (always for a dedicated address). */
  ownsPort(h: number, port: number): boolean {
    return this.params.v4 === 'dedicated' || this.homeAt(this.v4[h]!, port) === h;
  }

  get hasV6(): boolean {
    return this.params.v6 !== 'none';
  }

  /** The home's delegated IPv6 prefix as 16 bytes (host bits zero). */
  v6Prefix(h: number): Uint8Array {
    const bytes = new Uint8Array(16);
    bytes.set(V6_BASE);
    const id = h + 1;
    if (this.params.v6 === 56) {
      bytes[4] = (id >>> 16) & 255;
      bytes[5] = (id >>> 8) & 255;
      bytes[6] = id & 255;
    } else {
      bytes[4] = (id >>> 24) & 255;
      bytes[5] = (id >>> 16) & 255;
      bytes[6] = (id >>> 8) & 255;
      bytes[7] = id & 255;
    }
    return bytes;
  }

  v6PrefixText(h: number): string {
    return `${ipv6ToString(this.v6Prefix(h))}/${this.params.v6}`;
  }

  /** A device's privacy address at time t: the home's first /64 and an id that changes hourly. */
  v6Address(h: number, device: number, t: number): Uint8Array {
    const bytes = this.v6Prefix(h);
    const hour = Math.floor(t / PRIVACY_ROTATION_MS);
    const a = mix(this.seed, h, device, hour);
    const b = mix(a, hour, device);
    bytes[8] = (a >>> 24) & 0xfd; // universal/local bit clear: a random (temporary) id
    bytes[9] = (a >>> 16) & 255;
    bytes[10] = (a >>> 8) & 255;
    bytes[11] = a & 255;
    bytes[12] = (b >>> 24) & 255;
    bytes[13] = (b >>> 16) & 255;
    bytes[14] = (b >>> 8) & 255;
    bytes[15] = b & 255;
    return bytes;
  }

  subscriberPrefixes(): string[] {
    return this.hasV6 ? [this.v4Prefix, '2001:db8::/32'] : [this.v4Prefix];
  }

  truth(): AddressPlanTruth {
    return {
      ...this.params,
      v4Prefix: this.v4Prefix,
      v6Prefix: this.hasV6 ? '2001:db8::/32' : '',
      homes: this.homes,
      homesPerAddress: this.homesPerAddress,
      privacyRotationMs: PRIVACY_ROTATION_MS,
    };
  }
}
