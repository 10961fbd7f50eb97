/**
 * The scenario as the packets a router would see, for exporters that read captures
 * (softflowd -r, nprobe, pmacct): each flow record becomes `packets` TCP/UDP/ICMP packets spread
 * evenly over its start..end, whose IP lengths add up to its `bytes`. Frames are cut after the
 * headers (snaplen 96, as `tcpdump -s 96` captures) with the IP length telling the full size, so
 * a day of traffic stays a file of headers. TCP flags follow the record's: SYN on the first
 * packet, FIN/RST on the last, the rest in between.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { type FlowBatch, ipv4ToString, ipv6ToString, UsageError } from '../core/index.ts';
import { LinkType, PcapWriter, TcpFlag, buildTcpFrame, buildUdpFrame } from '../packet/index.ts';

/** Bytes of each packet kept in the file (Ethernet + IPv6 + TCP headers fit). */
export const PACKET_SNAPLEN = 96;
const ETHERNET = 14;
/** Packets written per pcap chunk (one write each). */
const CHUNK = 8192;

interface PendingPacket {
  timestampMs: number;
  /** Order among packets of the same time: flows in batch order, packets in flow order. */
  order: number;
  frame: Buffer;
  wireLength: number;
}

/** A binary min-heap on (timestampMs, order): packets of overlapping flows leave in time order. */
class PacketHeap {
  private readonly items: PendingPacket[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): PendingPacket | undefined {
    return this.items[0];
  }
  push(item: PendingPacket): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  pop(): PendingPacket | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

const before = (a: PendingPacket, b: PendingPacket) =>
  a.timestampMs < b.timestampMs || (a.timestampMs === b.timestampMs && a.order < b.order);

/**
 * The flags of packet `k` of `n` in a TCP flow whose record shows `flags` (their OR): SYN only
 * on the first packet, FIN and RST only on the last, everything else on every packet.
 */
export function packetFlags(flags: number, k: number, n: number): number {
  let out = flags;
  if (k > 0) out &= ~TcpFlag.SYN;
  if (k < n - 1) out &= ~(TcpFlag.FIN | TcpFlag.RST);
  return out;
}

/** Header-only frame of one packet whose IP datagram is `ipLength` bytes long. */
function headerFrame(
  v6: boolean,
  proto: number,
  src: string,
  dst: string,
  srcPort: number,
  dstPort: number,
  flags: number,
  ipLength: number,
): Buffer {
  const ends = { srcIp: src, dstIp: dst, srcPort, dstPort };
  let frame: Buffer;
  if (proto === 6) frame = buildTcpFrame({ ...ends, flags });
  else if (proto === 17) frame = buildUdpFrame(ends);
  else {
    // Other protocols (ICMP, GRE, ...): the IP header and eight bytes of whatever follows.
    frame = buildUdpFrame({ ...ends, srcPort: 0, dstPort: 0 });
    frame[ETHERNET + (v6 ? 6 : 9)] = proto;
  }
  if (v6) frame.writeUInt16BE(Math.max(0, ipLength - 40) & 0xffff, ETHERNET + 4);
  else {
    frame.writeUInt16BE(ipLength & 0xffff, ETHERNET + 2);
    frame.writeUInt16BE(0, ETHERNET + 10);
    frame.writeUInt16BE(ipv4HeaderChecksum(frame.subarray(ETHERNET, ETHERNET + 20)), ETHERNET + 10);
  }
  return frame;
}

function ipv4HeaderChecksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += (header[i]! << 8) | header[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Writes the batches (time-ordered by flow start, as scenarios give them) as a pcap of the
 * flows' packets, streaming: a packet is written once no later flow can start before it.
 */
export async function writePacketPcap(
  batches: Iterable<FlowBatch>,
  path: string,
): Promise<{ flows: number; packets: number; bytes: number }> {
  let file: FileHandle;
  try {
    file = await open(path, 'w');
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${(error as Error).message}`);
  }
  const heap = new PacketHeap();
  let flows = 0;
  let packets = 0;
  let bytes = 0;
  let order = 0;
  let first = true;
  let writer = new PcapWriter(LinkType.ETHERNET, PACKET_SNAPLEN);
  const flushChunk = async () => {
    if (writer.packetCount === 0 && !first) return;
    const chunk = writer.toBuffer();
    // Each chunk is a complete pcap; only the first keeps its 24-byte file header.
    await file.write(first ? chunk : chunk.subarray(24));
    first = false;
    writer = new PcapWriter(LinkType.ETHERNET, PACKET_SNAPLEN);
  };
  const drainBefore = async (timeMs: number) => {
    while (heap.size > 0 && heap.peek()!.timestampMs < timeMs) {
      const p = heap.pop()!;
      writer.add(p.frame, p.timestampMs, ETHERNET + p.wireLength);
      if (writer.packetCount >= CHUNK) await flushChunk();
    }
  };
  try {
    for (const batch of batches) {
      for (let i = 0; i < batch.length; i++) {
        const startMs = batch.startMs[i]!;
        await drainBefore(startMs);
        const v6 = batch.ipVersion[i] === 6;
        const src = v6 ? ipv6ToString(batch.src6, i * 16) : ipv4ToString(batch.src4[i]!);
        const dst = v6 ? ipv6ToString(batch.dst6, i * 16) : ipv4ToString(batch.dst4[i]!);
        const proto = batch.proto[i]!;
        const n = Math.max(1, Math.round(batch.packets[i]!));
        const headers = (v6 ? 40 : 20) + (proto === 6 ? 20 : 8);
        const total = Math.max(Math.round(batch.bytes[i]!), n * headers);
        const spanMs = Math.max(0, batch.endMs[i]! - startMs);
        for (let k = 0; k < n; k++) {
          // Sizes differ by at most one byte and add up to the record's bytes.
          const ipLength = Math.floor(total / n) + (k < total % n ? 1 : 0);
          const flags = proto === 6 ? packetFlags(batch.tcpFlags[i]!, k, n) : 0;
          heap.push({
            timestampMs: n === 1 ? startMs : startMs + (spanMs * k) / (n - 1),
            order: order++,
            frame: headerFrame(v6, proto, src, dst, batch.srcPort[i]!, batch.dstPort[i]!, flags, ipLength),
            wireLength: ipLength,
          });
          bytes += ipLength;
        }
        packets += n;
        flows++;
      }
    }
    await drainBefore(Infinity);
    await flushChunk();
  } finally {
    await file.close();
  }
  return { flows, packets, bytes };
}
