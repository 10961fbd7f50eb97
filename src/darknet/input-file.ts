/** Streams pcap/pcapng files of any size through a DarknetAnalyzer, reporting progress. */
import { stat } from 'node:fs/promises';
import { InputError } from '../core/index.ts';
import { type CaptureStats, type FastPath, openCapture, PcapParser } from '../packet/index.ts';
import type { DarknetAnalyzer } from './analyzer.ts';

/**
 * Inputs this large (about a million packets) have the analyzer fault in its randomly written
 * tables up front (DarknetAnalyzer.prefault): cheaper than a fault per page, wasted on small files.
 */
const PREFAULT_BYTES = 64 << 20;

export interface FileProgress {
  file: string;
  /** Bytes of all files read so far (approximate within a file) and in total. */
  bytesDone: number;
  bytesTotal: number;
  packets: number;
}

export interface AnalyzeFilesOptions {
  /** Called about every `progressEvery` packets and once at the end of each file. */
  onProgress?: (progress: FileProgress) => void;
  progressEvery?: number;
}

export interface AnalyzeFilesResult {
  packets: number;
  files: { file: string; stats: CaptureStats }[];
}

/**
 * Feeds every packet of `files`, in order, to `analyzer` (which is not finished here, so more
 * input may follow). A file that is not a capture is an InputError; damage inside a capture is
 * counted in its stats and reading goes on with the next file.
 */
export async function analyzeFiles(
  files: string[],
  analyzer: DarknetAnalyzer,
  options: AnalyzeFilesOptions = {},
): Promise<AnalyzeFilesResult> {
  const sizes: number[] = [];
  for (const file of files) {
    try {
      sizes.push((await stat(file)).size);
    } catch (error) {
      throw new InputError(
        `${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      );
    }
  }
  const bytesTotal = sizes.reduce((a, b) => a + b, 0);
  if (bytesTotal >= PREFAULT_BYTES) analyzer.prefault();
  const every = options.progressEvery ?? 1 << 18;
  const onProgress = options.onProgress;
  let bytesBefore = 0;
  let packets = 0;
  const result: AnalyzeFilesResult = { packets: 0, files: [] };
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    // With the C loop, files are mapped instead of copied into a read buffer.
    const capture = openCapture(file, analyzer.fileMapping ?? {});
    const stats = capture.stats;
    let countdown = every;
    let nextProgress = every;
    const progress = () => {
      onProgress?.({
        file,
        // Record headers are 16 bytes in pcap and about 32 in pcapng: close enough for a bar.
        bytesDone: bytesBefore + stats.capturedBytes + 16 * stats.packets,
        bytesTotal,
        packets: packets + stats.packets,
      });
    };
    // Classic pcap records go through the analyzer's C hot loop when it is built.
    const fastPath: FastPath | undefined = analyzer.usesNative
      ? (parser, buffer, offset, end) => {
          if (!(parser instanceof PcapParser)) return offset;
          const format = parser.format();
          if (format === undefined) return offset;
          const next = analyzer.observePcapRecords(buffer, offset, end, format, stats);
          if (stats.packets >= nextProgress) {
            nextProgress = stats.packets + every;
            progress();
          }
          return next;
        }
      : undefined;
    await capture.forEach((packet) => {
      // The reader's buffer and offsets, not `packet.data`: a view per packet costs more than parsing it.
      const start = packet.offset;
      analyzer.observeFrame(
        packet.linkType,
        packet.buffer,
        packet.timestampMs,
        start,
        start + packet.capturedLength,
      );
      if (--countdown === 0) {
        countdown = every;
        progress();
      }
    }, fastPath);
    packets += stats.packets;
    bytesBefore += sizes[i]!;
    onProgress?.({ file, bytesDone: bytesBefore, bytesTotal, packets });
    result.files.push({ file, stats });
  }
  result.packets = packets;
  return result;
}
