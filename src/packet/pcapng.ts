/**
 * pcapng parsing (draft-ietf-opsawg-pcapng): sections in either byte order, interfaces with
 * if_tsresol/if_tsoffset, Enhanced, Simple and the obsolete Packet blocks; others skipped.
 */
import { InputError } from '../core/index.ts';
import {
  CORRUPT,
  createCapturePacket,
  MAX_RECORD_BYTES,
  NEED_MORE,
  readU16,
  readU32,
  type CapturePacket,
  type CaptureParser,
  type CaptureStats,
} from './record.ts';

export const BlockType = {
  SECTION_HEADER: 0x0a0d0d0a,
  INTERFACE_DESCRIPTION: 1,
  PACKET: 2,
  SIMPLE_PACKET: 3,
  NAME_RESOLUTION: 4,
  INTERFACE_STATISTICS: 5,
  ENHANCED_PACKET: 6,
} as const;

const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPTION_TSRESOL = 9;
const OPTION_TSOFFSET = 14;
const TWO_POW_32 = 4294967296;

/** True when the buffer starts with a pcapng Section Header Block type. */
export function isPcapngMagic(buf: Uint8Array): boolean {
  return buf.length >= 4 && readU32(buf, 0, false) === BlockType.SECTION_HEADER;
}

export class PcapngParser implements CaptureParser {
  readonly record: CapturePacket = createCapturePacket();
  packetReady = false;
  needed = 0;
  private littleEndian = true;
  private started = false;
  // Per-interface state of the current section, indexed by interface id (grown at each IDB).
  private readonly linkTypes: number[] = [];
  private readonly snaplens: number[] = [];
  private readonly msPerUnit: number[] = [];
  private readonly offsetMs: number[] = [];

  constructor(readonly stats: CaptureStats) {
    stats.format = 'pcapng';
  }

  /** Number of interfaces described so far in the current section. */
  get interfaceCount(): number {
    return this.linkTypes.length;
  }

  step(buf: Uint8Array, offset: number, end: number): number {
    this.packetReady = false;
    const available = end - offset;
    if (available < 12) {
      this.needed = 12;
      return NEED_MORE;
    }
    // The section header type reads the same in both byte orders, so it can be recognised
    // before the byte order is known; its byte-order magic then decides how to read the rest.
    let blockType = readU32(buf, offset, this.littleEndian);
    if (blockType === BlockType.SECTION_HEADER) {
      if (readU32(buf, offset + 8, true) === BYTE_ORDER_MAGIC) this.littleEndian = true;
      else if (readU32(buf, offset + 8, false) === BYTE_ORDER_MAGIC) this.littleEndian = false;
      else {
        if (!this.started)
          throw new InputError('not a pcapng file: bad byte-order magic in the section header');
        this.stats.errors.badBlock++;
        return CORRUPT;
      }
    } else if (!this.started) {
      throw new InputError('not a pcapng file: does not start with a section header block');
    }
    this.started = true;
    const le = this.littleEndian;
    blockType = readU32(buf, offset, le);
    const blockLength = readU32(buf, offset + 4, le);
    if (blockLength < 12 || (blockLength & 3) !== 0 || blockLength > MAX_RECORD_BYTES) {
      this.stats.errors.badLength++;
      return CORRUPT;
    }
    if (available < blockLength) {
      this.needed = blockLength;
      return NEED_MORE;
    }
    if (readU32(buf, offset + blockLength - 4, le) !== blockLength) {
      this.stats.errors.badLength++;
      return CORRUPT;
    }
    switch (blockType) {
      case BlockType.ENHANCED_PACKET:
        this.readPacket(buf, offset, blockLength, readU32(buf, offset + 8, le), 12, 32);
        break;
      case BlockType.PACKET:
        this.readPacket(buf, offset, blockLength, readU16(buf, offset + 8, le), 12, 32);
        break;
      case BlockType.SIMPLE_PACKET:
        this.readSimplePacket(buf, offset, blockLength);
        break;
      case BlockType.INTERFACE_DESCRIPTION:
        this.readInterface(buf, offset, blockLength);
        break;
      case BlockType.SECTION_HEADER:
        this.readSection(blockLength);
        break;
      default:
        this.stats.skippedBlocks++;
    }
    return blockLength;
  }

  /** EPB and PB share the layout after the interface id: ts high, ts low, captured, original, data. */
  private readPacket(
    buf: Uint8Array,
    offset: number,
    blockLength: number,
    interfaceId: number,
    timestampAt: number,
    minLength: number,
  ): void {
    const le = this.littleEndian;
    if (blockLength < minLength) {
      this.stats.errors.badBlock++;
      return;
    }
    if (interfaceId >= this.linkTypes.length) {
      this.stats.errors.unknownInterface++;
      return;
    }
    const capturedLength = readU32(buf, offset + timestampAt + 8, le);
    if (capturedLength > blockLength - minLength) {
      this.stats.errors.badBlock++;
      return;
    }
    const high = readU32(buf, offset + timestampAt, le);
    const low = readU32(buf, offset + timestampAt + 4, le);
    const record = this.record;
    record.interfaceId = interfaceId;
    record.linkType = this.linkTypes[interfaceId]!;
    record.timestampMs =
      (high * TWO_POW_32 + low) * this.msPerUnit[interfaceId]! + this.offsetMs[interfaceId]!;
    record.capturedLength = capturedLength;
    record.originalLength = readU32(buf, offset + timestampAt + 12, le);
    const start = offset + timestampAt + 16;
    record.buffer = buf;
    record.offset = start;
    this.stats.packets++;
    this.stats.capturedBytes += capturedLength;
    this.packetReady = true;
  }

  private readSimplePacket(buf: Uint8Array, offset: number, blockLength: number): void {
    if (blockLength < 16) {
      this.stats.errors.badBlock++;
      return;
    }
    if (this.linkTypes.length === 0) {
      this.stats.errors.unknownInterface++;
      return;
    }
    const originalLength = readU32(buf, offset + 8, this.littleEndian);
    // An SPB carries no captured length: it is the original length cut by the snaplen and the block.
    let capturedLength = Math.min(originalLength, blockLength - 16);
    const snaplen = this.snaplens[0]!;
    if (snaplen > 0 && snaplen < capturedLength) capturedLength = snaplen;
    const record = this.record;
    record.interfaceId = 0;
    record.linkType = this.linkTypes[0]!;
    record.timestampMs = 0;
    record.capturedLength = capturedLength;
    record.originalLength = originalLength;
    record.buffer = buf;
    record.offset = offset + 12;
    this.stats.packets++;
    this.stats.capturedBytes += capturedLength;
    this.packetReady = true;
  }

  private readInterface(buf: Uint8Array, offset: number, blockLength: number): void {
    if (blockLength < 20) {
      this.stats.errors.badBlock++;
      return;
    }
    const le = this.littleEndian;
    let msPerUnit = 1e-3;
    let offsetMs = 0;
    const optionsEnd = offset + blockLength - 4;
    for (let o = offset + 16; o + 4 <= optionsEnd;) {
      const code = readU16(buf, o, le);
      const length = readU16(buf, o + 2, le);
      if (code === 0 || o + 4 + length > optionsEnd) break;
      if (code === OPTION_TSRESOL && length >= 1) {
        const resolution = buf[o + 4]!;
        const exponent = resolution & 0x7f;
        // MSB clear: units of 10^-n seconds; set: units of 2^-n seconds.
        msPerUnit = 1000 / ((resolution & 0x80) === 0 ? 10 ** exponent : 2 ** exponent);
      } else if (code === OPTION_TSOFFSET && length >= 8) {
        const a = readU32(buf, o + 4, le);
        const b = readU32(buf, o + 8, le);
        const [high, low] = le ? [b, a] : [a, b];
        // A signed 64-bit count of seconds.
        offsetMs = ((high | 0) * TWO_POW_32 + low) * 1000;
      }
      o += 4 + ((length + 3) & ~3);
    }
    this.linkTypes.push(readU16(buf, offset + 8, le));
    this.snaplens.push(readU32(buf, offset + 12, le));
    this.msPerUnit.push(msPerUnit);
    this.offsetMs.push(offsetMs);
  }

  private readSection(blockLength: number): void {
    if (blockLength < 28) this.stats.errors.badBlock++;
    // Interface ids are per section.
    this.linkTypes.length = 0;
    this.snaplens.length = 0;
    this.msPerUnit.length = 0;
    this.offsetMs.length = 0;
    this.stats.sections++;
  }
}
