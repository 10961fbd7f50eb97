/**
 * Synthetic darknet traffic with truth labels, for tests and the benchmark: Mirai-like bots,
 * masscan-like scanners, ZMap scanners (some in a known research network), backscatter from
 * DDoS victims, background noise and packets to addresses outside the darknet. Seeded, so a
 * run is reproducible; frames come from packet/'s builders and land in pcap via PcapWriter.
 */
import { ipv4ToString, parsePrefix } from '../core/index.ts';
import { buildTcpFrame, buildUdpFrame, internetChecksum, PcapWriter, TcpFlag } from '../packet/index.ts';
import type { SourceClass } from './config.ts';
import { ZMAP_IP_ID } from './analyzer.ts';

export interface SyntheticOptions {
  seed?: number;
  /** Darknet prefix (IPv4) the traffic is aimed at. */
  darknet?: string;
  /** Known research scanner network (benign ZMap scanners come from here). */
  scannerNetwork?: string;
  mirai?: number;
  masscan?: number;
  zmapBenign?: number;
  zmapUnknown?: number;
  backscatter?: number;
  noise?: number;
  /** Packets per scanning or backscatter source (noise sources send 1). */
  packetsPerSource?: number;
  /** Share of packets aimed outside the darknet (counted and ignored by analysis). */
  outsideShare?: number;
  startMs?: number;
  /** Capture duration; packets are spread evenly over it. */
  durationMs?: number;
}

export interface TruthLabel {
  class: SourceClass;
  fingerprint: string;
}

export interface SyntheticPacket {
  data: Buffer;
  timestampMs: number;
}

type Kind = 'mirai' | 'masscan' | 'zmapBenign' | 'zmapUnknown' | 'backscatter' | 'noise';

interface Actor {
  kind: Kind;
  src: number;
  remaining: number;
}

/** mulberry32: a small seeded PRNG giving uint32 values. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const DEFAULTS: Required<SyntheticOptions> = {
  seed: 1,
  darknet: '198.18.0.0/16',
  scannerNetwork: '192.0.2.0/24',
  mirai: 20,
  masscan: 5,
  zmapBenign: 3,
  zmapUnknown: 2,
  backscatter: 10,
  noise: 200,
  packetsPerSource: 40,
  outsideShare: 0.05,
  startMs: Date.UTC(2025, 0, 15, 0, 0, 0),
  durationMs: 3600_000,
};

/** The actors and the truth labels of a synthetic capture (without producing packets). */
export class SyntheticDarknet {
  readonly options: Required<SyntheticOptions>;
  readonly truth = new Map<string, TruthLabel>();
  private readonly actors: Actor[] = [];
  private readonly random: () => number;
  private readonly darknetBase: number;
  private readonly darknetSize: number;
  readonly totalPackets: number;

  constructor(options: SyntheticOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
    const o = this.options;
    this.random = createRandom(o.seed);
    const darknet = parsePrefix(o.darknet);
    this.darknetBase = darknet.network4;
    this.darknetSize = 2 ** (32 - darknet.bits);
    const scanners = parsePrefix(o.scannerNetwork);
    const used = new Set<number>();
    const pick = (inside?: { base: number; size: number }): number => {
      for (;;) {
        const a = inside ? inside.base + (this.random() % inside.size) : this.random();
        // Stay out of the darknet, the scanner network (unless asked), 0/8, 127/8 and multicast.
        const top = a >>> 24;
        if (top === 0 || top === 127 || top >= 224 || used.has(a)) continue;
        if (
          !inside &&
          ((a & scanners.mask4) >>> 0 === scanners.network4 || (a & darknet.mask4) >>> 0 === darknet.network4)
        )
          continue;
        used.add(a);
        return a;
      }
    };
    const add = (
      kind: Kind,
      count: number,
      label: TruthLabel,
      packets: number,
      inside?: { base: number; size: number },
    ) => {
      for (let i = 0; i < count; i++) {
        const src = pick(inside);
        this.actors.push({ kind, src, remaining: packets });
        this.truth.set(ipv4ToString(src), label);
      }
    };
    const n = o.packetsPerSource;
    add('mirai', o.mirai, { class: 'infected', fingerprint: 'mirai' }, n);
    add('masscan', o.masscan, { class: 'infected', fingerprint: 'masscan' }, n);
    add('zmapBenign', o.zmapBenign, { class: 'benign', fingerprint: 'zmap' }, n, {
      base: scanners.network4,
      size: 2 ** (32 - scanners.bits),
    });
    add('zmapUnknown', o.zmapUnknown, { class: 'unknown', fingerprint: 'zmap' }, n);
    add('backscatter', o.backscatter, { class: 'backscatter', fingerprint: '' }, n);
    add('noise', o.noise, { class: 'unknown', fingerprint: '' }, 1);
    const sourced = this.actors.reduce((sum, a) => sum + a.remaining, 0);
    this.totalPackets = Math.round(sourced / (1 - o.outsideShare));
  }

  /** Yields packets in time order; the same options give the same bytes. */
  *packets(): Generator<SyntheticPacket> {
    const o = this.options;
    const random = this.random;
    const live = this.actors.map((a) => ({ ...a }));
    const step = o.durationMs / Math.max(1, this.totalPackets);
    let t = o.startMs;
    let emitted = 0;
    while (live.length > 0) {
      t += step;
      emitted++;
      if (random() / 2 ** 32 < o.outsideShare) {
        // Outside the darknet: analysis must count and ignore it.
        const dst = (this.darknetBase - 1 - (random() % 65536)) >>> 0;
        yield {
          data: buildUdpFrame({
            srcIp: ipv4ToString(random() | 1),
            dstIp: ipv4ToString(dst),
            srcPort: 53,
            dstPort: 40000,
          }),
          timestampMs: t,
        };
        continue;
      }
      const index = random() % live.length;
      const actor = live[index]!;
      yield { data: this.frameFor(actor), timestampMs: t };
      if (--actor.remaining === 0) {
        live[index] = live[live.length - 1]!;
        live.pop();
      }
    }
    void emitted;
  }

  private frameFor(actor: Actor): Buffer {
    const random = this.random;
    const dst = (this.darknetBase + (random() % this.darknetSize)) >>> 0;
    const srcIp = ipv4ToString(actor.src);
    const dstIp = ipv4ToString(dst);
    const srcPort = 1024 + (random() % 60000);
    switch (actor.kind) {
      case 'mirai': {
        const dstPort = random() % 10 === 0 ? 2323 : 23;
        return buildTcpFrame({
          srcIp,
          dstIp,
          srcPort,
          dstPort,
          seq: dst,
          ipId: random() & 0xffff,
          ttl: 40 + (random() % 20),
          flags: TcpFlag.SYN,
        });
      }
      case 'masscan': {
        const ports = [22, 80, 443, 3389, 8080, 8443, 5900, 445];
        const dstPort = ports[random() % ports.length]!;
        const seq = random();
        return buildTcpFrame({
          srcIp,
          dstIp,
          srcPort: 61000,
          dstPort,
          seq,
          ipId: (dst ^ dstPort ^ seq) & 0xffff,
          ttl: 250,
          window: 1024,
          flags: TcpFlag.SYN,
        });
      }
      case 'zmapBenign':
      case 'zmapUnknown': {
        const dstPort = actor.kind === 'zmapBenign' ? 443 : 6379;
        return buildTcpFrame({
          srcIp,
          dstIp,
          srcPort,
          dstPort,
          seq: random(),
          ipId: ZMAP_IP_ID,
          ttl: 250,
          flags: TcpFlag.SYN,
        });
      }
      case 'backscatter': {
        const roll = random() % 10;
        if (roll < 2) return buildIcmp4Frame(srcIp, dstIp, 0, 0, random() & 0xffff);
        const flags = roll < 7 ? TcpFlag.SYN | TcpFlag.ACK : TcpFlag.RST | TcpFlag.ACK;
        return buildTcpFrame({
          srcIp,
          dstIp,
          srcPort: 80,
          dstPort: srcPort,
          seq: random(),
          ack: random(),
          ipId: random() & 0xffff,
          flags,
        });
      }
      case 'noise':
        if (random() % 2 === 0)
          return buildUdpFrame({ srcIp, dstIp, srcPort, dstPort: random() % 65536, ipId: random() & 0xffff });
        return buildTcpFrame({
          srcIp,
          dstIp,
          srcPort,
          dstPort: random() % 65536,
          seq: random(),
          ipId: random() & 0xffff,
          flags: TcpFlag.SYN,
        });
    }
  }

  /** The whole capture as one pcap in memory (small runs: tests). */
  toPcap(): Buffer {
    const writer = new PcapWriter();
    for (const p of this.packets()) writer.add(p.data, p.timestampMs);
    return writer.toBuffer();
  }

  /**
   * Writes the capture to `path` in slices of `sliceSize` packets, each slice a PcapWriter whose
   * global header is dropped after the first, so memory stays bounded for millions of packets.
   */
  async writePcap(
    path: string,
    sliceSize = 100_000,
    onProgress?: (packets: number) => void,
  ): Promise<number> {
    const { open } = await import('node:fs/promises');
    const handle = await open(path, 'w');
    let written = 0;
    try {
      let writer = new PcapWriter();
      let first = true;
      const flush = async () => {
        const buffer = writer.toBuffer();
        await handle.write(first ? buffer : buffer.subarray(24));
        first = false;
        writer = new PcapWriter();
        onProgress?.(written);
      };
      for (const p of this.packets()) {
        writer.add(p.data, p.timestampMs);
        written++;
        if (writer.packetCount >= sliceSize) await flush();
      }
      if (writer.packetCount > 0 || first) await flush();
    } finally {
      await handle.close();
    }
    return written;
  }
}

/** An Ethernet + IPv4 + ICMP frame (8-byte ICMP header, no data) with valid checksums. */
export function buildIcmp4Frame(srcIp: string, dstIp: string, type: number, code: number, ipId = 0): Buffer {
  const frame = Buffer.alloc(14 + 20 + 8);
  frame.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1], 0);
  frame.writeUInt16BE(0x0800, 12);
  const ip = frame.subarray(14, 34);
  ip[0] = 0x45;
  ip.writeUInt16BE(28, 2);
  ip.writeUInt16BE(ipId, 4);
  ip[8] = 64;
  ip[9] = 1;
  const [a, b] = [srcIp, dstIp].map((s) => s.split('.').map(Number));
  ip.set(a!, 12);
  ip.set(b!, 16);
  ip.writeUInt16BE(internetChecksum(ip), 10);
  const icmp = frame.subarray(34);
  icmp[0] = type;
  icmp[1] = code;
  icmp.writeUInt16BE(internetChecksum(icmp), 2);
  return frame;
}
