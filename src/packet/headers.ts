/**
 * Header parsing from the link layer to TCP/UDP/ICMP into one reused PacketInfo: no throw, no
 * allocation, direct byte reads. Link layers: Ethernet (with 802.1Q/802.1ad stacks), Linux
 * SLL/SLL2, BSD null/loop, raw IP.
 */
import { LinkType } from './writer.ts';

/** Outcome of a parse. On anything but OK, the fields filled before the problem stay valid. */
export const ParseResult = {
  OK: 0,
  /** The captured bytes end inside a header (e.g. a snaplen-cut sample): check ipVersion/l4Offset for what was read. */
  TRUNCATED: 1,
  UNSUPPORTED_LINK: 2,
  /** A link layer carrying something other than IPv4/IPv6 (ARP, LLC, MPLS...). */
  NOT_IP: 3,
  /** A header field that cannot be right (IHL < 5, wrong IP version, TCP data offset < 5...). */
  BAD_HEADER: 4,
} as const;
export type ParseResult = (typeof ParseResult)[keyof typeof ParseResult];

export const ParseResultLabel = ['ok', 'truncated', 'unsupportedLink', 'notIp', 'badHeader'] as const;

export const IpProto = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPV6: 58,
  SCTP: 132,
  UDPLITE: 136,
  ESP: 50,
  AH: 51,
  NONE: 59,
} as const;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;

/** What one parse found. Allocate once and pass to every call; `parseFrame` resets it. */
export class PacketInfo {
  /** Number of 802.1Q/802.1ad tags seen, and the outermost and innermost VLAN ids. */
  vlanCount = 0;
  outerVlan = 0;
  innerVlan = 0;
  /** Ethertype (or SLL protocol) that carried the IP packet; 0 for raw/null links. */
  etherType = 0;
  /** Offset of the IP header in the data; -1 before one is found. */
  ipOffset = -1;
  /** 4 or 6 once an IP header was read, else 0. */
  ipVersion = 0;
  src4 = 0;
  dst4 = 0;
  readonly src6 = new Uint8Array(16);
  readonly dst6 = new Uint8Array(16);
  /** Length of the IP packet on the wire (IPv4 total length; IPv6 40 + payload length). */
  ipLength = 0;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl = 0;
  /** IPv4 identification, or the IPv6 fragment header's identification. */
  ipId = 0;
  tos = 0;
  /** Fragment offset in bytes and the more-fragments flag. */
  fragmentOffset = 0;
  moreFragments = false;
  /** A non-first fragment: it carries no L4 header, so ports stay 0. */
  fragment = false;
  /** Upper-layer protocol after any IPv6 extension headers. */
  proto = 0;
  /** Offset of the L4 header; -1 when none was reached. */
  l4Offset = -1;
  srcPort = 0;
  dstPort = 0;
  tcpSeq = 0;
  tcpAck = 0;
  tcpFlags = 0;
  tcpWindow = 0;
  /** TCP header length in bytes. */
  tcpHeaderLength = 0;
  /** UDP length field. */
  udpLength = 0;
  icmpType = 0;
  icmpCode = 0;
  /** Offset of the L4 payload and its length on the wire (from the IP/UDP lengths, not the capture). */
  payloadOffset = -1;
  payloadLength = 0;

  reset(): void {
    this.vlanCount = 0;
    this.outerVlan = 0;
    this.innerVlan = 0;
    this.etherType = 0;
    this.ipOffset = -1;
    this.ipVersion = 0;
    this.src4 = 0;
    this.dst4 = 0;
    this.ipLength = 0;
    this.ttl = 0;
    this.ipId = 0;
    this.tos = 0;
    this.fragmentOffset = 0;
    this.moreFragments = false;
    this.fragment = false;
    this.proto = 0;
    this.l4Offset = -1;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpSeq = 0;
    this.tcpAck = 0;
    this.tcpFlags = 0;
    this.tcpWindow = 0;
    this.tcpHeaderLength = 0;
    this.udpLength = 0;
    this.icmpType = 0;
    this.icmpCode = 0;
    this.payloadOffset = -1;
    this.payloadLength = 0;
  }
}

/**
 * Parses a captured frame of `linkType` from `data[offset, end)` into `info` (reset first).
 * Never throws; returns a ParseResult.
 */
export function parseFrame(
  linkType: number,
  data: Uint8Array,
  info: PacketInfo,
  offset = 0,
  end = data.length,
): ParseResult {
  info.reset();
  if (end > data.length) end = data.length;
  switch (linkType) {
    case LinkType.ETHERNET:
      if (end - offset < 14) return ParseResult.TRUNCATED;
      return parseEtherType(data, offset + 12, end, info);
    case LinkType.RAW:
    case LinkType.IPV4:
    case LinkType.IPV6:
      return parseIp(data, offset, end, info);
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (end - offset < 4) return ParseResult.TRUNCATED;
      // The address family is a 4-byte word in the writer's byte order (NULL) or network order
      // (LOOP); families are small, so whichever end byte is non-zero holds it.
      const family = data[offset]! | data[offset + 3]!;
      if (family === 2) return parseIpVersion(data, offset + 4, end, info, 4);
      // AF_INET6 differs by OS: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, macOS 30.
      if (family === 10 || family === 24 || family === 28 || family === 30)
        return parseIpVersion(data, offset + 4, end, info, 6);
      return ParseResult.NOT_IP;
    }
    case LinkType.LINUX_SLL:
      if (end - offset < 16) return ParseResult.TRUNCATED;
      return parseEtherType(data, offset + 14, end, info);
    case LinkType.LINUX_SLL2: {
      if (end - offset < 20) return ParseResult.TRUNCATED;
      const protocol = (data[offset]! << 8) | data[offset + 1]!;
      if (protocol === ETHERTYPE_VLAN || protocol === ETHERTYPE_QINQ) {
        // SLL2 puts the protocol first; a tagged frame continues after the 20-byte header.
        return parseVlanStack(data, offset + 20, end, info, protocol);
      }
      return dispatchEtherType(data, offset + 20, end, info, protocol);
    }
    default:
      return ParseResult.UNSUPPORTED_LINK;
  }
}

/** Reads the ethertype at `at` (VLAN tags follow it in place) and continues to IP. */
function parseEtherType(data: Uint8Array, at: number, end: number, info: PacketInfo): ParseResult {
  const etherType = (data[at]! << 8) | data[at + 1]!;
  if (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ || etherType === ETHERTYPE_QINQ_OLD) {
    return parseVlanStack(data, at + 2, end, info, etherType);
  }
  return dispatchEtherType(data, at + 2, end, info, etherType);
}

/** `at` points at a tag's TCI; each tag is TCI (2) then the next ethertype (2). */
function parseVlanStack(
  data: Uint8Array,
  at: number,
  end: number,
  info: PacketInfo,
  etherType: number,
): ParseResult {
  while (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ || etherType === ETHERTYPE_QINQ_OLD) {
    if (end - at < 4) return ParseResult.TRUNCATED;
    const vlan = ((data[at]! << 8) | data[at + 1]!) & 0x0fff;
    if (info.vlanCount === 0) info.outerVlan = vlan;
    info.innerVlan = vlan;
    info.vlanCount++;
    etherType = (data[at + 2]! << 8) | data[at + 3]!;
    at += 4;
  }
  return dispatchEtherType(data, at, end, info, etherType);
}

function dispatchEtherType(
  data: Uint8Array,
  at: number,
  end: number,
  info: PacketInfo,
  etherType: number,
): ParseResult {
  info.etherType = etherType;
  if (etherType === ETHERTYPE_IPV4) return parseIpVersion(data, at, end, info, 4);
  if (etherType === ETHERTYPE_IPV6) return parseIpVersion(data, at, end, info, 6);
  return ParseResult.NOT_IP;
}

function parseIpVersion(
  data: Uint8Array,
  at: number,
  end: number,
  info: PacketInfo,
  expected: number,
): ParseResult {
  if (at >= end) return ParseResult.TRUNCATED;
  if (data[at]! >> 4 !== expected) return ParseResult.BAD_HEADER;
  return expected === 4 ? parseIpv4(data, at, end, info) : parseIpv6(data, at, end, info);
}

function parseIp(data: Uint8Array, at: number, end: number, info: PacketInfo): ParseResult {
  if (at >= end) return ParseResult.TRUNCATED;
  const version = data[at]! >> 4;
  if (version === 4) return parseIpv4(data, at, end, info);
  if (version === 6) return parseIpv6(data, at, end, info);
  return ParseResult.BAD_HEADER;
}

/**
 * Parses from an IP header at `data[offset]` (IPv4 or IPv6 by its version nibble), as sFlow
 * header records of protocol 11/12 carry. Resets `info` first.
 */
export function parseIpPacket(
  data: Uint8Array,
  offset: number,
  info: PacketInfo,
  end = data.length,
): ParseResult {
  info.reset();
  if (end > data.length) end = data.length;
  return parseIp(data, offset, end, info);
}

function parseIpv4(data: Uint8Array, at: number, end: number, info: PacketInfo): ParseResult {
  if (end - at < 20) return ParseResult.TRUNCATED;
  const headerLength = (data[at]! & 0x0f) << 2;
  if (headerLength < 20) return ParseResult.BAD_HEADER;
  let totalLength = (data[at + 2]! << 8) | data[at + 3]!;
  // A total length of 0 comes from segmentation offload on the capturing host: use the capture.
  if (totalLength === 0) totalLength = end - at;
  if (totalLength < headerLength) return ParseResult.BAD_HEADER;
  info.ipOffset = at;
  info.ipVersion = 4;
  info.tos = data[at + 1]!;
  info.ipLength = totalLength;
  info.ipId = (data[at + 4]! << 8) | data[at + 5]!;
  const flagsOffset = (data[at + 6]! << 8) | data[at + 7]!;
  info.moreFragments = (flagsOffset & 0x2000) !== 0;
  info.fragmentOffset = (flagsOffset & 0x1fff) << 3;
  info.fragment = info.fragmentOffset !== 0;
  info.ttl = data[at + 8]!;
  info.proto = data[at + 9]!;
  info.src4 =
    ((data[at + 12]! << 24) | (data[at + 13]! << 16) | (data[at + 14]! << 8) | data[at + 15]!) >>> 0;
  info.dst4 =
    ((data[at + 16]! << 24) | (data[at + 17]! << 16) | (data[at + 18]! << 8) | data[at + 19]!) >>> 0;
  if (end - at < headerLength) return ParseResult.TRUNCATED;
  const l4 = at + headerLength;
  info.payloadOffset = l4;
  info.payloadLength = totalLength - headerLength;
  if (info.fragment) return ParseResult.OK;
  return parseL4(data, l4, end, at + totalLength, info);
}

function parseIpv6(data: Uint8Array, at: number, end: number, info: PacketInfo): ParseResult {
  if (end - at < 40) return ParseResult.TRUNCATED;
  info.ipOffset = at;
  info.ipVersion = 6;
  info.tos = ((data[at]! & 0x0f) << 4) | (data[at + 1]! >> 4);
  const payloadLength = (data[at + 4]! << 8) | data[at + 5]!;
  // Payload length 0 means a jumbogram or offload; fall back to the capture.
  const ipLength = payloadLength === 0 ? end - at : 40 + payloadLength;
  info.ipLength = ipLength;
  info.ttl = data[at + 7]!;
  const src6 = info.src6;
  const dst6 = info.dst6;
  for (let i = 0; i < 16; i++) {
    src6[i] = data[at + 8 + i]!;
    dst6[i] = data[at + 24 + i]!;
  }
  const ipEnd = at + ipLength;
  let next = data[at + 6]!;
  let cursor = at + 40;
  // Walk the extension headers; each is at least 8 bytes, so the walk is bounded by the data.
  for (;;) {
    info.proto = next;
    if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140) {
      if (end - cursor < 8) return ParseResult.TRUNCATED;
      next = data[cursor]!;
      cursor += (data[cursor + 1]! + 1) << 3;
    } else if (next === 44) {
      if (end - cursor < 8) return ParseResult.TRUNCATED;
      next = data[cursor]!;
      const offsetFlags = (data[cursor + 2]! << 8) | data[cursor + 3]!;
      info.fragmentOffset = offsetFlags & 0xfff8;
      info.moreFragments = (offsetFlags & 1) !== 0;
      info.fragment = info.fragmentOffset !== 0;
      info.ipId =
        ((data[cursor + 4]! << 24) |
          (data[cursor + 5]! << 16) |
          (data[cursor + 6]! << 8) |
          data[cursor + 7]!) >>>
        0;
      cursor += 8;
      if (info.fragment) {
        // A non-first fragment carries only fragment data after this header.
        info.proto = next;
        break;
      }
    } else if (next === IpProto.AH) {
      if (end - cursor < 8) return ParseResult.TRUNCATED;
      next = data[cursor]!;
      cursor += (data[cursor + 1]! + 2) << 2;
    } else {
      break;
    }
    if (cursor > ipEnd) return ParseResult.BAD_HEADER;
  }
  info.payloadOffset = cursor;
  info.payloadLength = ipEnd - cursor;
  if (info.fragment || next === IpProto.ESP || next === IpProto.NONE) return ParseResult.OK;
  if (cursor > end) return ParseResult.TRUNCATED;
  return parseL4(data, cursor, end, ipEnd, info);
}

/** Parses the L4 header at `at`; `ipEnd` is where the IP packet ends on the wire. */
function parseL4(data: Uint8Array, at: number, end: number, ipEnd: number, info: PacketInfo): ParseResult {
  const proto = info.proto;
  const available = end - at;
  if (proto === IpProto.TCP) {
    if (available < 4) return ParseResult.TRUNCATED;
    info.l4Offset = at;
    info.srcPort = (data[at]! << 8) | data[at + 1]!;
    info.dstPort = (data[at + 2]! << 8) | data[at + 3]!;
    // Flags sit at byte 13; sFlow's 128-byte headers and snaplen cuts normally reach them.
    if (available < 14) return ParseResult.TRUNCATED;
    info.tcpSeq =
      ((data[at + 4]! << 24) | (data[at + 5]! << 16) | (data[at + 6]! << 8) | data[at + 7]!) >>> 0;
    info.tcpAck =
      ((data[at + 8]! << 24) | (data[at + 9]! << 16) | (data[at + 10]! << 8) | data[at + 11]!) >>> 0;
    const headerLength = (data[at + 12]! >> 4) << 2;
    info.tcpHeaderLength = headerLength;
    info.tcpFlags = data[at + 13]!;
    if (available < 16) return ParseResult.TRUNCATED;
    info.tcpWindow = (data[at + 14]! << 8) | data[at + 15]!;
    if (headerLength < 20 || at + headerLength > ipEnd) return ParseResult.BAD_HEADER;
    info.payloadOffset = at + headerLength;
    info.payloadLength = ipEnd - at - headerLength;
    return available < headerLength ? ParseResult.TRUNCATED : ParseResult.OK;
  }
  if (proto === IpProto.UDP || proto === IpProto.UDPLITE) {
    if (available < 4) return ParseResult.TRUNCATED;
    info.l4Offset = at;
    info.srcPort = (data[at]! << 8) | data[at + 1]!;
    info.dstPort = (data[at + 2]! << 8) | data[at + 3]!;
    if (available < 8) return ParseResult.TRUNCATED;
    const udpLength = (data[at + 4]! << 8) | data[at + 5]!;
    info.udpLength = udpLength;
    info.payloadOffset = at + 8;
    // UDP-Lite's field is a checksum coverage, and a UDP length of 0 is an IPv6 jumbogram: use the IP length.
    info.payloadLength =
      proto === IpProto.UDP && udpLength >= 8 ? udpLength - 8 : Math.max(0, ipEnd - at - 8);
    return ParseResult.OK;
  }
  if (proto === IpProto.ICMP || proto === IpProto.ICMPV6) {
    if (available < 2) return ParseResult.TRUNCATED;
    info.l4Offset = at;
    info.icmpType = data[at]!;
    info.icmpCode = data[at + 1]!;
    info.payloadOffset = at + 4;
    info.payloadLength = Math.max(0, ipEnd - at - 4);
    return ParseResult.OK;
  }
  if (proto === IpProto.SCTP) {
    if (available < 4) return ParseResult.TRUNCATED;
    info.l4Offset = at;
    info.srcPort = (data[at]! << 8) | data[at + 1]!;
    info.dstPort = (data[at + 2]! << 8) | data[at + 3]!;
    return ParseResult.OK;
  }
  return ParseResult.OK;
}
