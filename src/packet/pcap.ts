/** Classic pcap parsing: both byte orders, microsecond and nanosecond magics (and the modified Kuznetzov variant). */
import { InputError } from '../core/index.ts';
import {
  CORRUPT,
  createCapturePacket,
  MAX_RECORD_BYTES,
  NEED_MORE,
  readU32,
  type CapturePacket,
  type CaptureParser,
  type CaptureStats,
} from './record.ts';

const MAGIC_MICRO = 0xa1b2c3d4;
const MAGIC_NANO = 0xa1b23c4d;
/** Alexey Kuznetzov's patched libpcap: 8 extra bytes per record header. */
const MAGIC_MODIFIED = 0xa1b2cd34;
const GLOBAL_HEADER = 24;

/** True when the first four bytes are one of the classic pcap magics in either byte order. */
export function isPcapMagic(buf: Uint8Array): boolean {
  if (buf.length < 4) return false;
  const be = readU32(buf, 0, false);
  const le = readU32(buf, 0, true);
  return [MAGIC_MICRO, MAGIC_NANO, MAGIC_MODIFIED].some((m) => m === be || m === le);
}

/** The framing of a classic pcap file's records. */
export interface PcapFormat {
  littleEndian: boolean;
  /** 16, or 24 in the modified (Kuznetzov) format. */
  recordHeader: number;
  /** ms per unit of the sub-second field. */
  fractionToMs: number;
  linkType: number;
}

export class PcapParser implements CaptureParser {
  readonly record: CapturePacket = createCapturePacket();
  packetReady = false;
  needed = 0;
  private headerDone = false;
  private littleEndian = true;
  /** ms per unit of the sub-second field: 1e-3 for microseconds, 1e-6 for nanoseconds. */
  private fractionToMs = 1e-3;
  private recordHeader = 16;

  constructor(readonly stats: CaptureStats) {
    stats.format = 'pcap';
  }

  step(buf: Uint8Array, offset: number, end: number): number {
    this.packetReady = false;
    const available = end - offset;
    if (!this.headerDone) {
      if (available < GLOBAL_HEADER) {
        this.needed = GLOBAL_HEADER;
        return NEED_MORE;
      }
      this.readGlobalHeader(buf, offset);
      return GLOBAL_HEADER;
    }
    const headerLength = this.recordHeader;
    if (available < headerLength) {
      this.needed = headerLength;
      return NEED_MORE;
    }
    const le = this.littleEndian;
    const capturedLength = readU32(buf, offset + 8, le);
    if (capturedLength > MAX_RECORD_BYTES) {
      this.stats.errors.badLength++;
      return CORRUPT;
    }
    const total = headerLength + capturedLength;
    if (available < total) {
      this.needed = total;
      return NEED_MORE;
    }
    const record = this.record;
    record.timestampMs = readU32(buf, offset, le) * 1000 + readU32(buf, offset + 4, le) * this.fractionToMs;
    record.capturedLength = capturedLength;
    record.originalLength = readU32(buf, offset + 12, le);
    const start = offset + headerLength;
    record.buffer = buf;
    record.offset = start;
    this.stats.packets++;
    this.stats.capturedBytes += capturedLength;
    this.packetReady = true;
    return total;
  }

  /** How records are framed, once the global header is read (for readers that walk records natively). */
  format(): PcapFormat | undefined {
    if (!this.headerDone) return undefined;
    return {
      littleEndian: this.littleEndian,
      recordHeader: this.recordHeader,
      fractionToMs: this.fractionToMs,
      linkType: this.record.linkType,
    };
  }

  private readGlobalHeader(buf: Uint8Array, offset: number): void {
    const be = readU32(buf, offset, false);
    const le = readU32(buf, offset, true);
    let magic: number;
    if (le === MAGIC_MICRO || le === MAGIC_NANO || le === MAGIC_MODIFIED) {
      this.littleEndian = true;
      magic = le;
    } else if (be === MAGIC_MICRO || be === MAGIC_NANO || be === MAGIC_MODIFIED) {
      this.littleEndian = false;
      magic = be;
    } else {
      throw new InputError(`not a pcap file: magic 0x${be.toString(16).padStart(8, '0')}`);
    }
    this.fractionToMs = magic === MAGIC_NANO ? 1e-6 : 1e-3;
    this.recordHeader = magic === MAGIC_MODIFIED ? 24 : 16;
    // Upper bits of the link-type field may carry FCS information (pcap-savefile(5)).
    this.record.linkType = readU32(buf, offset + 20, this.littleEndian) & 0xffff;
    this.record.interfaceId = 0;
    this.stats.sections = 1;
    this.headerDone = true;
  }
}
