/**
 * sFlow v5 decoding (sflow.org/sflow_version_5.txt): one FlowBatch row per flow sample, taken
 * from its raw packet header record (parsed by packet/headers.ts) or else its sampled
 * IPv4/IPv6 record. Counter samples are counted and skipped. Never throws on bad input.
 */
import { FlowVersion, type FlowBatch, type FlowBatchWriter } from '../../../core/index.ts';
import { LinkType, PacketInfo, parseFrame, parseIpPacket, ParseResult } from '../../../packet/index.ts';
import type { ErrorCounter, PayloadDecoder, PayloadSource } from '../../types.ts';

export interface SflowDecoderDeps {
  countError: ErrorCounter;
  /** Called once per counter sample (compact or expanded); they carry no flows. */
  onCounterSample?: () => void;
}

/** Sample formats (enterprise 0). */
const SAMPLE_FLOW = 1;
const SAMPLE_COUNTERS = 2;
const SAMPLE_FLOW_EXPANDED = 3;
const SAMPLE_COUNTERS_EXPANDED = 4;

/** Flow record formats (enterprise 0). */
const RECORD_RAW_HEADER = 1;
const RECORD_SAMPLED_IPV4 = 3;
const RECORD_SAMPLED_IPV6 = 4;

/** Raw header protocols this decoder reads. */
const HEADER_ETHERNET = 1;
const HEADER_IPV4 = 11;
const HEADER_IPV6 = 12;

const DATAGRAM_HEADER_V4 = 28;

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Error kinds counted as `countError('sflow5', kind)`; each ends the datagram unless noted. */
export const SflowError = {
  HEADER_TRUNCATED: 'header_truncated',
  BAD_VERSION: 'bad_version',
  BAD_AGENT_ADDRESS: 'bad_agent_address_type',
  SAMPLE_TRUNCATED: 'sample_truncated',
  SAMPLE_LENGTH_UNALIGNED: 'sample_length_unaligned',
  RECORD_TRUNCATED: 'record_truncated',
  RECORD_LENGTH_UNALIGNED: 'record_length_unaligned',
  /** The sample count claims more samples than the datagram holds. */
  SAMPLE_COUNT_MISMATCH: 'sample_count_mismatch',
  /** Bytes remain after the announced samples (the samples already decoded are kept). */
  TRAILING_BYTES: 'trailing_bytes',
  /** Skipped sample of another format or enterprise (e.g. drop notifications); decoding continues. */
  UNKNOWN_SAMPLE: 'unknown_sample',
  /** Flow sample without a usable IP header or sampled IP record (e.g. ARP); skipped, decoding continues. */
  NO_IP_RECORD: 'no_ip_record',
  /** A raw header of a protocol other than Ethernet/IPv4/IPv6 (and no sampled IP record); skipped. */
  UNSUPPORTED_HEADER_PROTOCOL: 'unsupported_header_protocol',
  /** A flow sample with sampling rate 0, treated as 1; decoding continues. */
  ZERO_SAMPLING_RATE: 'zero_sampling_rate',
} as const;

/** Where a flow sample's preferred records sit (offsets into the datagram; -1 when absent). */
class SampleRecords {
  headerAt = -1;
  headerLength = 0;
  headerProtocol = 0;
  frameLength = 0;
  ipv4At = -1;
  ipv6At = -1;
}

/**
 * Finds the raw header and sampled IPv4/IPv6 records among a flow sample's `recordCount` records
 * at `b[o, end)`, the first of each kind. Returns false on a framing error (counted).
 */
function locateRecords(
  b: Buffer,
  o: number,
  end: number,
  recordCount: number,
  found: SampleRecords,
  error: (kind: string) => void,
): boolean {
  found.headerAt = -1;
  found.headerLength = 0;
  found.headerProtocol = 0;
  found.frameLength = 0;
  found.ipv4At = -1;
  found.ipv6At = -1;
  for (let i = 0; i < recordCount; i++) {
    if (end - o < 8) {
      error(SflowError.RECORD_TRUNCATED);
      return false;
    }
    const format = u32(b, o);
    const length = u32(b, o + 4);
    o += 8;
    if (length > end - o) {
      error(SflowError.RECORD_TRUNCATED);
      return false;
    }
    if ((length & 3) !== 0) {
      error(SflowError.RECORD_LENGTH_UNALIGNED);
      return false;
    }
    if (format === RECORD_RAW_HEADER && found.headerAt < 0) {
      if (length < 16) {
        error(SflowError.RECORD_TRUNCATED);
        return false;
      }
      const stored = u32(b, o + 12);
      if (stored > length - 16) {
        error(SflowError.RECORD_TRUNCATED);
        return false;
      }
      found.headerProtocol = u32(b, o);
      found.frameLength = u32(b, o + 4);
      found.headerLength = stored;
      found.headerAt = o + 16;
    } else if (format === RECORD_SAMPLED_IPV4 && found.ipv4At < 0) {
      if (length < 32) {
        error(SflowError.RECORD_TRUNCATED);
        return false;
      }
      found.ipv4At = o;
    } else if (format === RECORD_SAMPLED_IPV6 && found.ipv6At < 0) {
      if (length < 56) {
        error(SflowError.RECORD_TRUNCATED);
        return false;
      }
      found.ipv6At = o;
    }
    o += length;
  }
  return true;
}

/**
 * Parses the raw header record into `info`. Returns the parse result; a header cut by the
 * agent's snap length still gives addresses (and usually ports), so TRUNCATED counts as read.
 */
function parseRawHeader(b: Buffer, found: SampleRecords, info: PacketInfo): number {
  const headerEnd = found.headerAt + found.headerLength;
  if (found.headerProtocol === HEADER_ETHERNET)
    return parseFrame(LinkType.ETHERNET, b, info, found.headerAt, headerEnd);
  if (found.headerProtocol === HEADER_IPV4 || found.headerProtocol === HEADER_IPV6) {
    const result = parseIpPacket(b, found.headerAt, info, headerEnd);
    return info.ipVersion !== (found.headerProtocol === HEADER_IPV4 ? 4 : 6)
      ? ParseResult.BAD_HEADER
      : result;
  }
  return ParseResult.UNSUPPORTED_LINK;
}

/** Fills the row from the parsed raw header. */
function writeHeaderRow(
  batch: FlowBatch,
  row: number,
  info: PacketInfo,
  frameLength: number,
  rate: number,
): void {
  batch.ipVersion[row] = info.ipVersion;
  if (info.ipVersion === 4) {
    batch.src4[row] = info.src4;
    batch.dst4[row] = info.dst4;
  } else {
    batch.src6.set(info.src6, row * 16);
    batch.dst6.set(info.dst6, row * 16);
  }
  batch.srcPort[row] = info.srcPort;
  batch.dstPort[row] = info.dstPort;
  batch.proto[row] = info.proto;
  batch.tcpFlags[row] = info.proto === 6 ? info.tcpFlags : 0;
  batch.bytes[row] = frameLength * rate;
}

/** Fills the row from a sampled_ipv4 record: length, protocol, src, dst, src_port, dst_port, tcp_flags, tos. */
function writeSampledIpv4Row(batch: FlowBatch, row: number, b: Buffer, at: number, rate: number): void {
  batch.ipVersion[row] = 4;
  batch.src4[row] = u32(b, at + 8);
  batch.dst4[row] = u32(b, at + 12);
  batch.srcPort[row] = u32(b, at + 16) & 0xffff;
  batch.dstPort[row] = u32(b, at + 20) & 0xffff;
  batch.proto[row] = u32(b, at + 4) & 0xff;
  batch.tcpFlags[row] = u32(b, at + 24) & 0xff;
  batch.bytes[row] = u32(b, at) * rate;
}

/**
 * Fills the row from a sampled_ipv6 record: length, protocol, src (16), dst (16), src_port,
 * dst_port, tcp_flags, priority.
 */
function writeSampledIpv6Row(batch: FlowBatch, row: number, b: Buffer, at: number, rate: number): void {
  batch.ipVersion[row] = 6;
  const src6 = batch.src6;
  const dst6 = batch.dst6;
  for (let k = 0, to = row * 16; k < 16; k++, to++) {
    src6[to] = b[at + 8 + k]!;
    dst6[to] = b[at + 24 + k]!;
  }
  batch.srcPort[row] = u32(b, at + 40) & 0xffff;
  batch.dstPort[row] = u32(b, at + 44) & 0xffff;
  batch.proto[row] = u32(b, at + 4) & 0xff;
  batch.tcpFlags[row] = u32(b, at + 48) & 0xff;
  batch.bytes[row] = u32(b, at) * rate;
}

/**
 * Builds the sFlow v5 decoder. Its state is one reused PacketInfo and one SampleRecords, so one
 * decoder serves one thread of decoding at a time.
 */
export function createSflowDecoder(deps: SflowDecoderDeps): PayloadDecoder {
  const info = new PacketInfo();
  const found = new SampleRecords();
  const countError = deps.countError;
  const onCounterSample = deps.onCounterSample;
  const error = (kind: string) => countError('sflow5', kind);

  /** Decodes the flow sample body at `b[o, end)`; returns 1 when a row was written, -1 on a framing error. */
  function decodeFlowSample(
    b: Buffer,
    o: number,
    end: number,
    expanded: boolean,
    source: PayloadSource,
    out: FlowBatchWriter,
  ): number {
    const fixed = expanded ? 44 : 32;
    if (end - o < fixed) {
      error(SflowError.SAMPLE_TRUNCATED);
      return -1;
    }
    let rate = u32(b, o + (expanded ? 12 : 8));
    if (rate === 0) {
      error(SflowError.ZERO_SAMPLING_RATE);
      rate = 1;
    }
    if (!locateRecords(b, o + fixed, end, u32(b, o + fixed - 4), found, error)) return -1;

    let parsed = false;
    if (found.headerAt >= 0) {
      const result = parseRawHeader(b, found, info);
      parsed = (result === ParseResult.OK || result === ParseResult.TRUNCATED) && info.ipVersion !== 0;
      if (!parsed && found.ipv4At < 0 && found.ipv6At < 0) {
        error(
          result === ParseResult.UNSUPPORTED_LINK
            ? SflowError.UNSUPPORTED_HEADER_PROTOCOL
            : SflowError.NO_IP_RECORD,
        );
        return 0;
      }
    }
    if (!parsed && found.ipv4At < 0 && found.ipv6At < 0) {
      error(SflowError.NO_IP_RECORD);
      return 0;
    }
    const row = out.row(source.exporter, FlowVersion.SFLOW5);
    const batch = out.active;
    batch.startMs[row] = source.receivedMs;
    batch.endMs[row] = source.receivedMs;
    batch.samplingRate[row] = rate;
    batch.packets[row] = rate;
    if (parsed) writeHeaderRow(batch, row, info, found.frameLength, rate);
    else if (found.ipv4At >= 0) writeSampledIpv4Row(batch, row, b, found.ipv4At, rate);
    else writeSampledIpv6Row(batch, row, b, found.ipv6At, rate);
    return 1;
  }

  return (payload: Buffer, source: PayloadSource, out: FlowBatchWriter): number => {
    const b = payload;
    const end = b.length;
    if (end < DATAGRAM_HEADER_V4) {
      error(SflowError.HEADER_TRUNCATED);
      return 0;
    }
    if (u32(b, 0) !== 5) {
      error(SflowError.BAD_VERSION);
      return 0;
    }
    const addressType = u32(b, 4);
    let o: number;
    if (addressType === 1) o = 12;
    else if (addressType === 2) o = 24;
    else {
      error(SflowError.BAD_AGENT_ADDRESS);
      return 0;
    }
    // sub_agent_id, sequence_number, uptime, then the sample count.
    if (end - o < 16) {
      error(SflowError.HEADER_TRUNCATED);
      return 0;
    }
    const sampleCount = u32(b, o + 12);
    o += 16;
    let rows = 0;
    for (let i = 0; i < sampleCount; i++) {
      if (end - o < 8) {
        error(end === o ? SflowError.SAMPLE_COUNT_MISMATCH : SflowError.SAMPLE_TRUNCATED);
        return rows;
      }
      const format = u32(b, o);
      const length = u32(b, o + 4);
      o += 8;
      if (length > end - o) {
        error(SflowError.SAMPLE_TRUNCATED);
        return rows;
      }
      if ((length & 3) !== 0) {
        error(SflowError.SAMPLE_LENGTH_UNALIGNED);
        return rows;
      }
      const sampleEnd = o + length;
      if (format === SAMPLE_FLOW || format === SAMPLE_FLOW_EXPANDED) {
        const written = decodeFlowSample(b, o, sampleEnd, format === SAMPLE_FLOW_EXPANDED, source, out);
        if (written < 0) return rows;
        rows += written;
      } else if (format === SAMPLE_COUNTERS || format === SAMPLE_COUNTERS_EXPANDED) {
        onCounterSample?.();
      } else {
        error(SflowError.UNKNOWN_SAMPLE);
      }
      o = sampleEnd;
    }
    if (o !== end) error(SflowError.TRAILING_BYTES);
    return rows;
  };
}
