/** Shared shapes of the capture readers: the reused packet record, statistics and the parser step contract. */

const EMPTY = new Uint8Array(0);

/**
 * One captured packet. Readers reuse a single instance, and its bytes live in the reader's
 * buffer: both are valid only until the reader moves to the next packet. Copy
 * (`Buffer.from(pkt.data)`) whatever must outlive that. Hot loops should read
 * `buffer[offset, offset + capturedLength)` directly: `data` makes a view on each access.
 */
export class CapturePacket {
  /** Link-layer header type (see LinkType in writer.ts). */
  linkType = 0;
  /** Capture time in ms since the epoch, with fractions (0 when the format has none, e.g. pcapng SPB). */
  timestampMs = 0;
  capturedLength = 0;
  originalLength = 0;
  /** pcapng interface index within its section (0 for classic pcap). */
  interfaceId = 0;
  /** The reader's buffer and where this packet's bytes start in it. */
  buffer: Uint8Array = EMPTY;
  offset = 0;

  /** The captured bytes (a zero-copy view into the reader's buffer). */
  get data(): Uint8Array {
    return this.buffer.subarray(this.offset, this.offset + this.capturedLength);
  }
}

export function createCapturePacket(): CapturePacket {
  return new CapturePacket();
}

/** Kinds of damage a reader counts. Framing errors end the read; the others skip one record. */
export interface CaptureErrors {
  /** The file ends inside a record (framing; reading stops, earlier packets stay valid). */
  truncated: number;
  /** A record or block length that cannot be right (framing; reading stops). */
  badLength: number;
  /** A pcapng block whose contents are inconsistent (bad byte-order magic, captured length past the block); skipped or stops as noted. */
  badBlock: number;
  /** A pcapng packet naming an interface that no IDB described; skipped. */
  unknownInterface: number;
}

export interface CaptureStats {
  format: 'pcap' | 'pcapng' | '';
  packets: number;
  /** Sum of captured lengths. */
  capturedBytes: number;
  /** pcapng sections seen (1 for classic pcap). */
  sections: number;
  /** pcapng blocks skipped because their type is not one this reader uses (NRB, ISB, custom...). */
  skippedBlocks: number;
  errors: CaptureErrors;
}

export function createCaptureStats(): CaptureStats {
  return {
    format: '',
    packets: 0,
    capturedBytes: 0,
    sections: 0,
    skippedBlocks: 0,
    errors: { truncated: 0, badLength: 0, badBlock: 0, unknownInterface: 0 },
  };
}

/** `step` could not finish a record because it runs past the end of the available bytes. */
export const NEED_MORE = 0;
/** `step` found framing it cannot recover from; the reader stops (the error is already counted). */
export const CORRUPT = -1;

/**
 * A format parser consumes one record per `step` call from `buf[offset, end)`. It returns the
 * bytes consumed (> 0), NEED_MORE, or CORRUPT. When it returns > 0 and `packetReady` is true,
 * `record` holds a packet whose `data` points into `buf`.
 */
export interface CaptureParser {
  readonly record: CapturePacket;
  readonly stats: CaptureStats;
  packetReady: boolean;
  /** After NEED_MORE: the total bytes from `offset` the pending record needs (0 when unknown yet). */
  needed: number;
  step(buf: Uint8Array, offset: number, end: number): number;
}

/** Little- or big-endian unsigned reads straight from the bytes (no DataView on the hot path). */
export function readU32(buf: Uint8Array, o: number, le: boolean): number {
  return le
    ? (buf[o]! | (buf[o + 1]! << 8) | (buf[o + 2]! << 16) | (buf[o + 3]! << 24)) >>> 0
    : ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
}

export function readU16(buf: Uint8Array, o: number, le: boolean): number {
  return le ? buf[o]! | (buf[o + 1]! << 8) : (buf[o]! << 8) | buf[o + 1]!;
}

/** Largest record a reader accepts; longer lengths are treated as corrupt framing. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
