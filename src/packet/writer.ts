/** Writes classic pcap files and builds Ethernet/IP/UDP/TCP frames, for tests, fixtures and replay. */
import { writeFile } from 'node:fs/promises';
import { ipv4FromString, ipv6FromString } from '../core/index.ts';

/** Link-layer header types (tcpdump.org/linktypes.html) that packet/ reads. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;
export type LinkType = (typeof LinkType)[keyof typeof LinkType];

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;

export interface PcapWriterOptions {
  /** Write nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nanosecond?: boolean;
  /** Write big-endian instead of the default little-endian. */
  bigEndian?: boolean;
}

/**
 * Accumulates packets as a classic pcap file in memory. Packets longer than `snaplen` are cut
 * and keep their original length in the record header, as a capture tool would.
 */
export class PcapWriter {
  private readonly chunks: Buffer[] = [];
  private totalLength = 0;
  private readonly nanosecond: boolean;
  private readonly bigEndian: boolean;
  packetCount = 0;

  constructor(
    readonly linkType: number = LinkType.ETHERNET,
    readonly snaplen = 262144,
    options: PcapWriterOptions = {},
  ) {
    this.nanosecond = options.nanosecond ?? false;
    this.bigEndian = options.bigEndian ?? false;
    const header = Buffer.alloc(24);
    const u32 = (v: number, o: number) =>
      this.bigEndian ? header.writeUInt32BE(v, o) : header.writeUInt32LE(v, o);
    const u16 = (v: number, o: number) =>
      this.bigEndian ? header.writeUInt16BE(v, o) : header.writeUInt16LE(v, o);
    u32(this.nanosecond ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, 0);
    u16(2, 4);
    u16(4, 6);
    u32(0, 8);
    u32(0, 12);
    u32(snaplen, 16);
    u32(linkType, 20);
    this.push(header);
  }

  /**
   * Appends one packet captured at `timestampMs` (ms since the epoch, fractions kept down to
   * the file's resolution). `originalLength` defaults to the data's length.
   */
  add(data: Uint8Array, timestampMs: number, originalLength = data.length): this {
    const captured = Math.min(data.length, this.snaplen);
    const record = Buffer.alloc(16 + captured);
    const [seconds, fraction] = splitTimestamp(timestampMs, this.nanosecond ? 1e9 : 1e6);
    const u32 = (v: number, o: number) =>
      this.bigEndian ? record.writeUInt32BE(v, o) : record.writeUInt32LE(v, o);
    u32(seconds, 0);
    u32(fraction, 4);
    u32(captured, 8);
    u32(Math.max(originalLength, captured), 12);
    record.set(data.subarray(0, captured), 16);
    this.push(record);
    this.packetCount++;
    return this;
  }

  /** The whole file so far. */
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.totalLength);
  }

  /** Writes the file so far to `path`. */
  async writeFile(path: string): Promise<void> {
    await writeFile(path, this.toBuffer());
  }

  /** Writes `packets` (data and ms timestamp each) as one pcap file at `path`. */
  static async writeFile(
    path: string,
    packets: Iterable<{ data: Uint8Array; timestampMs: number }>,
    linkType: number = LinkType.ETHERNET,
    options: PcapWriterOptions = {},
  ): Promise<void> {
    const writer = new PcapWriter(linkType, 262144, options);
    for (const p of packets) writer.add(p.data, p.timestampMs);
    await writer.writeFile(path);
  }

  private push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.totalLength += chunk.length;
  }
}

/** Splits ms since the epoch into whole seconds and a fraction in units of 1/`perSecond`. */
export function splitTimestamp(timestampMs: number, perSecond: number): [number, number] {
  let seconds = Math.floor(timestampMs / 1000);
  let fraction = Math.round((timestampMs - seconds * 1000) * (perSecond / 1000));
  if (fraction >= perSecond) {
    seconds += 1;
    fraction -= perSecond;
  }
  return [seconds, fraction];
}

/** Common options of the frame builders. */
export interface FrameOptions {
  /** Dotted IPv4 or IPv6 text; both addresses must be the same family. */
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload?: Uint8Array;
  /** Prepend an Ethernet header (default true); false gives a raw IP packet (LinkType.RAW). */
  ethernet?: boolean;
  /** 802.1Q tags to insert, outermost first (only with ethernet). */
  vlans?: number[];
  /** IPv4 TTL / IPv6 hop limit (default 64). */
  ttl?: number;
  /** IPv4 identification (default 0). */
  ipId?: number;
}

export interface TcpFrameOptions extends FrameOptions {
  /** TCP flag bits (FIN=1 SYN=2 RST=4 PSH=8 ACK=16 URG=32 ECE=64 CWR=128). */
  flags?: number;
  seq?: number;
  ack?: number;
  window?: number;
}

export const TcpFlag = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32, ECE: 64, CWR: 128 } as const;

const SRC_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const DST_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

/** Builds an Ethernet (optional) + IPv4/IPv6 + UDP frame with correct lengths and checksums. */
export function buildUdpFrame(options: FrameOptions): Buffer {
  const payload = options.payload ?? new Uint8Array(0);
  const l4 = Buffer.alloc(8 + payload.length);
  l4.writeUInt16BE(options.srcPort, 0);
  l4.writeUInt16BE(options.dstPort, 2);
  l4.writeUInt16BE(l4.length & 0xffff, 4);
  l4.set(payload, 8);
  return wrapIp(options, 17, l4, 6);
}

/** Builds an Ethernet (optional) + IPv4/IPv6 + TCP frame (20-byte TCP header, no options). */
export function buildTcpFrame(options: TcpFrameOptions): Buffer {
  const payload = options.payload ?? new Uint8Array(0);
  const l4 = Buffer.alloc(20 + payload.length);
  l4.writeUInt16BE(options.srcPort, 0);
  l4.writeUInt16BE(options.dstPort, 2);
  l4.writeUInt32BE((options.seq ?? 0) >>> 0, 4);
  l4.writeUInt32BE((options.ack ?? 0) >>> 0, 8);
  l4[12] = 5 << 4;
  l4[13] = options.flags ?? TcpFlag.SYN;
  l4.writeUInt16BE(options.window ?? 65535, 14);
  l4.set(payload, 20);
  return wrapIp(options, 6, l4, 16);
}

/** Puts `l4` (whose checksum field sits at `checksumOffset`) inside IP and maybe Ethernet. */
function wrapIp(options: FrameOptions, proto: number, l4: Buffer, checksumOffset: number): Buffer {
  const v6 = options.srcIp.includes(':');
  if (v6 !== options.dstIp.includes(':'))
    throw new Error('buildFrame: source and destination families differ');
  let ip: Buffer;
  if (v6) {
    const src = ipv6FromString(options.srcIp);
    const dst = ipv6FromString(options.dstIp);
    ip = Buffer.alloc(40);
    ip[0] = 0x60;
    ip.writeUInt16BE(l4.length & 0xffff, 4);
    ip[6] = proto;
    ip[7] = options.ttl ?? 64;
    ip.set(src, 8);
    ip.set(dst, 24);
    const pseudo = Buffer.alloc(40);
    pseudo.set(src, 0);
    pseudo.set(dst, 16);
    pseudo.writeUInt32BE(l4.length, 32);
    pseudo[39] = proto;
    let sum = internetChecksum(Buffer.concat([pseudo, l4]));
    if (sum === 0) sum = 0xffff;
    l4.writeUInt16BE(sum, checksumOffset);
  } else {
    const src = ipv4FromString(options.srcIp);
    const dst = ipv4FromString(options.dstIp);
    ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE((20 + l4.length) & 0xffff, 2);
    ip.writeUInt16BE(options.ipId ?? 0, 4);
    ip[8] = options.ttl ?? 64;
    ip[9] = proto;
    ip.writeUInt32BE(src, 12);
    ip.writeUInt32BE(dst, 16);
    ip.writeUInt16BE(internetChecksum(ip), 10);
    if (proto === 6) {
      // TCP needs its checksum over the IPv4 pseudo-header; UDP over IPv4 may leave it 0.
      const pseudo = Buffer.alloc(12);
      pseudo.writeUInt32BE(src, 0);
      pseudo.writeUInt32BE(dst, 4);
      pseudo[9] = proto;
      pseudo.writeUInt16BE(l4.length & 0xffff, 10);
      l4.writeUInt16BE(internetChecksum(Buffer.concat([pseudo, l4])), checksumOffset);
    }
  }
  if (options.ethernet === false) return Buffer.concat([ip, l4]);
  const vlans = options.vlans ?? [];
  const eth = Buffer.alloc(14 + 4 * vlans.length);
  eth.set(DST_MAC, 0);
  eth.set(SRC_MAC, 6);
  let offset = 12;
  for (const vid of vlans) {
    eth.writeUInt16BE(0x8100, offset);
    eth.writeUInt16BE(vid & 0x0fff, offset + 2);
    offset += 4;
  }
  eth.writeUInt16BE(v6 ? 0x86dd : 0x0800, offset);
  return Buffer.concat([eth, ip, l4]);
}

/** RFC 1071 one's-complement sum of `data`, complemented. */
export function internetChecksum(data: Uint8Array): number {
  let sum = 0;
  const even = data.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (even < data.length) sum += data[even]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface PcapngInterfaceOptions {
  /** if_tsresol byte: n for 10^-n seconds, 0x80|n for 2^-n seconds. Omitted: microseconds. */
  tsresol?: number;
  /** if_tsoffset in seconds. */
  tsoffset?: number;
  snaplen?: number;
}

/**
 * Builds pcapng files block by block (either byte order), for fixtures: sections, interfaces
 * with timestamp resolutions, Enhanced/Simple/obsolete Packet blocks and arbitrary blocks.
 */
export class PcapngWriter {
  private readonly blocks: Buffer[] = [];
  private readonly unitsPerSecond: number[] = [];

  constructor(private readonly bigEndian = false) {
    this.newSection();
  }

  /** Starts a new section (interface ids restart from 0). */
  newSection(): this {
    const body = Buffer.alloc(16);
    this.u32(body, 0x1a2b3c4d, 0);
    this.u16(body, 1, 4);
    this.u16(body, 0, 6);
    body.fill(0xff, 8, 16); // section length unknown (-1)
    this.unitsPerSecond.length = 0;
    return this.addBlock(0x0a0d0d0a, body);
  }

  /** Adds an Interface Description Block; returns the writer (the interface id is its order in the section). */
  addInterface(linkType: number, options: PcapngInterfaceOptions = {}): this {
    const opts: Buffer[] = [];
    if (options.tsresol !== undefined) opts.push(this.option(9, Buffer.from([options.tsresol])));
    if (options.tsoffset !== undefined) {
      const value = Buffer.alloc(8);
      if (this.bigEndian) value.writeBigInt64BE(BigInt(options.tsoffset));
      else value.writeBigInt64LE(BigInt(options.tsoffset));
      opts.push(this.option(14, value));
    }
    if (opts.length > 0) opts.push(Buffer.alloc(4)); // opt_endofopt
    const head = Buffer.alloc(8);
    this.u16(head, linkType, 0);
    this.u32(head, options.snaplen ?? 0, 4);
    const resolution = options.tsresol ?? 6;
    this.unitsPerSecond.push((resolution & 0x80) === 0 ? 10 ** resolution : 2 ** (resolution & 0x7f));
    return this.addBlock(1, Buffer.concat([head, ...opts]));
  }

  /** Adds an Enhanced Packet Block (timestamp relative to any if_tsoffset). */
  addPacket(interfaceId: number, data: Uint8Array, timestampMs: number, originalLength = data.length): this {
    const head = Buffer.alloc(20);
    this.u32(head, interfaceId, 0);
    this.writeTimestamp(head, 4, interfaceId, timestampMs);
    this.u32(head, data.length, 12);
    this.u32(head, originalLength, 16);
    return this.addBlock(6, Buffer.concat([head, pad4(data)]));
  }

  /** Adds an obsolete Packet Block (type 2). */
  addObsoletePacket(interfaceId: number, data: Uint8Array, timestampMs: number): this {
    const head = Buffer.alloc(20);
    this.u16(head, interfaceId, 0);
    this.writeTimestamp(head, 4, interfaceId, timestampMs);
    this.u32(head, data.length, 12);
    this.u32(head, data.length, 16);
    return this.addBlock(2, Buffer.concat([head, pad4(data)]));
  }

  /** Adds a Simple Packet Block (interface 0, no timestamp). */
  addSimplePacket(data: Uint8Array, originalLength = data.length): this {
    const head = Buffer.alloc(4);
    this.u32(head, originalLength, 0);
    return this.addBlock(3, Buffer.concat([head, pad4(data)]));
  }

  /** Adds any block: `body` is padded to 4 bytes and framed with type and both lengths. */
  addBlock(type: number, body: Uint8Array): this {
    const padded = pad4(body);
    const block = Buffer.alloc(12 + padded.length);
    this.u32(block, type, 0);
    this.u32(block, block.length, 4);
    block.set(padded, 8);
    this.u32(block, block.length, block.length - 4);
    this.blocks.push(block);
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.blocks);
  }

  async writeFile(path: string): Promise<void> {
    await writeFile(path, this.toBuffer());
  }

  private writeTimestamp(target: Buffer, offset: number, interfaceId: number, timestampMs: number): void {
    const perSecond = this.unitsPerSecond[interfaceId] ?? 1e6;
    // Exact for decimal resolutions when the time is a whole number of microseconds.
    const units = Number.isInteger(Math.log10(perSecond))
      ? (BigInt(Math.round(timestampMs * 1000)) * BigInt(perSecond)) / 1000000n
      : BigInt(Math.round((timestampMs / 1000) * perSecond));
    this.u32(target, Number(units >> 32n), offset);
    this.u32(target, Number(units & 0xffffffffn), offset + 4);
  }

  private option(code: number, value: Buffer): Buffer {
    const head = Buffer.alloc(4);
    this.u16(head, code, 0);
    this.u16(head, value.length, 2);
    return Buffer.concat([head, pad4(value)]);
  }

  private u32(target: Buffer, value: number, offset: number): void {
    if (this.bigEndian) target.writeUInt32BE(value >>> 0, offset);
    else target.writeUInt32LE(value >>> 0, offset);
  }

  private u16(target: Buffer, value: number, offset: number): void {
    if (this.bigEndian) target.writeUInt16BE(value, offset);
    else target.writeUInt16LE(value, offset);
  }
}

function pad4(data: Uint8Array): Buffer {
  const padded = Buffer.alloc((data.length + 3) & ~3);
  padded.set(data);
  return padded;
}
