/**
 * Capture readers that detect pcap or pcapng from the magic: over a whole Buffer, or streaming
 * over a file of any size in fixed chunks. Packets are handed out zero-copy in one reused record.
 */
import { open } from 'node:fs/promises';
import { InputError } from '../core/index.ts';
import { isPcapMagic, PcapParser } from './pcap.ts';
import { isPcapngMagic, PcapngParser } from './pcapng.ts';
import {
  CORRUPT,
  createCaptureStats,
  MAX_RECORD_BYTES,
  type CapturePacket,
  type CaptureParser,
  type CaptureStats,
} from './record.ts';

export { createCaptureStats, type CapturePacket, type CaptureStats } from './record.ts';

/**
 * Consumes whole records from `buffer[offset, end)` in one go (e.g. native code walking pcap
 * records) and returns the offset of the first record it left; `offset` when it took none.
 */
export type FastPath = (parser: CaptureParser, buffer: Uint8Array, offset: number, end: number) => number;

/** Called once per packet; `packet` and its `data` are reused after the callback returns. */
export type PacketCallback = (packet: CapturePacket) => void;

/** Picks the parser for the bytes a capture starts with; throws InputError when neither format matches. */
export function createCaptureParser(head: Uint8Array, stats: CaptureStats, name = 'input'): CaptureParser {
  if (isPcapngMagic(head)) return new PcapngParser(stats);
  if (isPcapMagic(head)) return new PcapParser(stats);
  if (head.length < 4)
    throw new InputError(`${name}: too short to be a pcap or pcapng file (${head.length} bytes)`);
  const magic = Buffer.from(head.subarray(0, 4)).toString('hex');
  throw new InputError(`${name}: not a pcap or pcapng file (magic 0x${magic})`);
}

/**
 * Calls `onPacket` for each packet of a capture held whole in memory and returns the
 * statistics. A truncated or corrupt tail is counted in `stats.errors` and ends the read.
 */
export function forEachPacketInBuffer(
  buffer: Uint8Array,
  onPacket: PacketCallback,
  stats = createCaptureStats(),
): CaptureStats {
  const parser = createCaptureParser(buffer, stats);
  const record = parser.record;
  const end = buffer.length;
  let offset = 0;
  while (offset < end) {
    const consumed = parser.step(buffer, offset, end);
    if (consumed > 0) {
      offset += consumed;
      if (parser.packetReady) onPacket(record);
    } else {
      if (consumed !== CORRUPT) stats.errors.truncated++;
      break;
    }
  }
  return stats;
}

/**
 * Iterates the packets of a capture held whole in memory. The yielded record is reused: it is
 * valid until the next iteration. Statistics accumulate in `stats` (pass one to read them).
 */
export function* readCapture(
  buffer: Uint8Array,
  stats = createCaptureStats(),
): Generator<CapturePacket, CaptureStats> {
  const parser = createCaptureParser(buffer, stats);
  const record = parser.record;
  const end = buffer.length;
  let offset = 0;
  while (offset < end) {
    const consumed = parser.step(buffer, offset, end);
    if (consumed > 0) {
      offset += consumed;
      if (parser.packetReady) yield record;
    } else {
      if (consumed !== CORRUPT) stats.errors.truncated++;
      break;
    }
  }
  return stats;
}

export interface OpenCaptureOptions {
  /** Bytes read per fs.read (default 1 MiB); grown only for a single record longer than this. */
  chunkSize?: number;
  /**
   * Maps `length` bytes of the open file `fd` from `offset` (a multiple of the page size) into
   * memory, e.g. with mmap(2) in a native addon. Given, files of at least `mapMinBytes` are read
   * through mappings of up to 1 GiB instead of being copied chunk by chunk.
   */
  map?: (fd: number, offset: number, length: number) => Uint8Array;
  /**
   * Releases a mapping from `map` as soon as the reader has moved past it (e.g. detaches and
   * unmaps it), instead of when it is collected: V8 counts live mappings as memory pressure.
   */
  unmap?: (mapping: Uint8Array) => void;
  /** Smallest file read through `map` (default 1 MiB; smaller ones gain nothing). */
  mapMinBytes?: number;
  /** Bytes per mapping (default 1 GiB; a multiple of 4096 larger than any record). */
  mapSegmentBytes?: number;
}

const PAGE = 4096;

/** Opens a capture file for streaming; nothing is read until iteration or `forEach`. */
export function openCapture(path: string, options: OpenCaptureOptions = {}): CaptureFile {
  return new CaptureFile(path, options.chunkSize ?? 1 << 20, {
    map: options.map,
    unmap: options.unmap,
    minBytes: options.mapMinBytes ?? 1 << 20,
    segmentBytes: options.mapSegmentBytes ?? 1 << 30,
  });
}

/**
 * A capture file read in chunks into one reused buffer, so memory stays bounded whatever the
 * file size. `forEach` is the fast path (no promise per packet); async iteration is the
 * convenient one. Either way the record and its `data` are valid only until the next packet.
 */
export class CaptureFile implements AsyncIterable<CapturePacket> {
  readonly stats: CaptureStats = createCaptureStats();

  constructor(
    readonly path: string,
    private readonly chunkSize: number,
    private readonly mapping: Pick<OpenCaptureOptions, 'map' | 'unmap'> & {
      minBytes: number;
      segmentBytes: number;
    } = { minBytes: 0, segmentBytes: 1 << 30 },
  ) {
    if (!(chunkSize >= 64)) throw new RangeError('chunkSize must be at least 64 bytes');
    if (!(mapping.segmentBytes >= PAGE && mapping.segmentBytes % PAGE === 0))
      throw new RangeError('mapSegmentBytes must be a positive multiple of 4096');
  }

  /**
   * Calls `onPacket` for each packet; resolves with the statistics when the file is done. A
   * `fastPath` may consume whole records itself (counting them in the stats); records it leaves
   * go through the parser and `onPacket` as usual.
   */
  async forEach(onPacket: PacketCallback, fastPath?: FastPath): Promise<CaptureStats> {
    for await (const window of this.windows()) {
      const { parser, buffer } = window;
      const record = parser.record;
      let offset = window.start;
      const end = window.end;
      // After the fast path declines a record outright, skip it for a growing number of
      // records (up to 63), so input it never takes (pcapng, IPv6) does not pay a call per record.
      let declined = 0;
      let wait = 0;
      for (;;) {
        if (fastPath !== undefined) {
          if (wait > 0) wait--;
          else {
            const next = fastPath(parser, buffer, offset, end);
            if (next > offset) {
              offset = next;
              declined = 0;
            } else {
              declined = Math.min(declined + 1, 6);
              wait = (1 << declined) - 1;
            }
          }
        }
        const consumed = parser.step(buffer, offset, end);
        if (consumed > 0) {
          offset += consumed;
          if (parser.packetReady) onPacket(record);
        } else {
          window.stop = consumed === CORRUPT;
          break;
        }
      }
      window.start = offset;
    }
    return this.stats;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<CapturePacket, CaptureStats> {
    for await (const window of this.windows()) {
      const { parser, buffer } = window;
      const record = parser.record;
      for (;;) {
        const consumed = parser.step(buffer, window.start, window.end);
        if (consumed > 0) {
          window.start += consumed;
          if (parser.packetReady) yield record;
        } else {
          window.stop = consumed === CORRUPT;
          break;
        }
      }
    }
    return this.stats;
  }

  /**
   * Yields the same window object each time the buffer holds new bytes; the consumer parses
   * from `start` to `end`, advances `start`, and sets `stop` on corrupt framing. Unconsumed
   * bytes move to the front before the next read.
   */
  private async *windows(): AsyncGenerator<ReadWindow> {
    let handle;
    try {
      handle = await open(this.path, 'r');
    } catch (error) {
      throw new InputError(
        `${this.path}: cannot open (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      );
    }
    try {
      const map = this.mapping.map;
      if (map) {
        const size = (await handle.stat()).size;
        if (size > 0 && size >= this.mapping.minBytes) {
          yield* this.mappedWindows(handle.fd, size, map);
          return;
        }
      }
      let buffer = Buffer.allocUnsafe(this.chunkSize);
      let end = 0;
      let eof = false;
      // Fill enough to recognise the format.
      while (end < 4 && !eof) {
        const { bytesRead } = await handle.read(buffer, end, buffer.length - end, null);
        if (bytesRead === 0) eof = true;
        end += bytesRead;
      }
      const parser = createCaptureParser(buffer.subarray(0, end), this.stats, this.path);
      const window: ReadWindow = { parser, buffer, start: 0, end, stop: false };
      for (;;) {
        yield window;
        if (window.stop) return;
        if (eof) {
          if (window.start < window.end) this.stats.errors.truncated++;
          return;
        }
        const pending = window.end - window.start;
        if (window.start > 0) buffer.copyWithin(0, window.start, window.end);
        if (pending === buffer.length || parser.needed > buffer.length) {
          // One record is longer than the buffer: grow once for it (bounded by MAX_RECORD_BYTES).
          const size = Math.max(parser.needed, Math.min(buffer.length * 2, MAX_RECORD_BYTES + 64));
          if (size <= buffer.length) {
            this.stats.errors.badLength++;
            return;
          }
          const grown = Buffer.allocUnsafe(size);
          grown.set(buffer.subarray(0, pending));
          buffer = grown;
          window.buffer = grown;
        }
        window.start = 0;
        window.end = pending;
        const { bytesRead } = await handle.read(buffer, pending, buffer.length - pending, null);
        if (bytesRead === 0) eof = true;
        window.end += bytesRead;
      }
    } finally {
      await handle.close();
    }
  }

  /**
   * The file as mappings of up to `segmentBytes`: each next one starts at the page holding the
   * first unconsumed byte, so a record cut by the end of one mapping is whole in the next (a
   * mapping grows when one record needs it; the parser refuses records over MAX_RECORD_BYTES).
   */
  private *mappedWindows(
    fd: number,
    size: number,
    map: NonNullable<OpenCaptureOptions['map']>,
  ): Generator<ReadWindow> {
    let segment = this.mapping.segmentBytes;
    let base = 0;
    let buffer = map(fd, 0, Math.min(segment, size));
    /** The mapping not yet released. */
    let live: Uint8Array | undefined = buffer;
    const parser = createCaptureParser(
      buffer.subarray(0, Math.min(buffer.length, 64)),
      this.stats,
      this.path,
    );
    const window: ReadWindow = { parser, buffer, start: 0, end: buffer.length, stop: false };
    try {
      for (;;) {
        yield window;
        if (window.stop) return;
        if (base + window.end >= size) {
          if (window.start < window.end) this.stats.errors.truncated++;
          return;
        }
        const next = Math.floor((base + window.start) / PAGE) * PAGE;
        // A record that starts in the first page and outgrows the mapping: map twice as much.
        if (next === base) segment *= 2;
        // Released before the next is made: its unconsumed tail is mapped again there.
        const done = buffer;
        live = undefined;
        this.mapping.unmap?.(done);
        buffer = live = map(fd, next, Math.min(segment, size - next));
        window.buffer = buffer;
        window.start = base + window.start - next;
        window.end = buffer.length;
        base = next;
      }
    } finally {
      if (live) this.mapping.unmap?.(live);
    }
  }
}

interface ReadWindow {
  parser: CaptureParser;
  buffer: Uint8Array;
  start: number;
  end: number;
  stop: boolean;
}

/** Reads a whole capture file through the streaming reader and calls `onPacket` per packet. */
export function forEachPacket(
  path: string,
  onPacket: PacketCallback,
  options: OpenCaptureOptions = {},
): Promise<CaptureStats> {
  return openCapture(path, options).forEach(onPacket);
}
