/**
 * File replay: drives the flow decoder from pcap/pcapng captures of export packets, or from
 * files that each hold one bare UDP payload. Files are read in order with one decoder state,
 * so templates learned from one file apply to the files after it.
 */
import { open, stat } from 'node:fs/promises';
import {
  InputError,
  FlowBatchWriter,
  type FlowSink,
  ipv4ToString,
  ipv6ToString,
} from '../../../core/index.ts';
import {
  IpProto,
  isPcapMagic,
  isPcapngMagic,
  openCapture,
  PacketInfo,
  parseFrame,
  ParseResult,
  ParseResultLabel,
} from '../../../packet/index.ts';
import type { FlowDecoder } from '../../decoder/decoder.ts';

/** A bare payload is one UDP datagram: nothing larger can be one. */
const MAX_RAW_PAYLOAD = 65_535;

export interface ReplayOptions {
  /** true: every file is a bare payload; false: every file is a capture; 'auto' (default): by magic. */
  raw?: boolean | 'auto';
  /** Exporter address reported for bare payloads. */
  rawExporter?: string;
  /** Rows per batch handed to the sink. */
  batchSize?: number;
  /** Called after each file with the running summary. */
  onFile?: (path: string, summary: ReplaySummary) => void;
}

export interface ReplaySummary {
  files: number;
  /** UDP payloads handed to the decoder. */
  payloads: number;
  records: number;
  /** Captured packets that were not IPv4/IPv6 UDP (or were fragments), by reason. */
  skipped: Record<string, number>;
  /** Decoder errors by `protocol.kind`. */
  errors: Record<string, number>;
  /** Data sets still waiting for a template when the files ended (their templates never came). */
  withoutTemplate: number;
}

async function looksLikeCapture(path: string): Promise<boolean> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`${path}: cannot open (${error.code ?? error.message})`);
  });
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    const bytes = head.subarray(0, bytesRead);
    return isPcapMagic(bytes) || isPcapngMagic(bytes);
  } finally {
    await handle.close();
  }
}

async function readRawPayload(path: string): Promise<Buffer> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`${path}: cannot open (${error.code ?? error.message})`);
  });
  if (!info.isFile()) throw new InputError(`${path}: not a regular file`);
  if (info.size > MAX_RAW_PAYLOAD) {
    throw new InputError(`${path}: ${info.size} bytes is larger than any UDP payload (is it a capture?)`);
  }
  const handle = await open(path, 'r');
  try {
    const payload = Buffer.alloc(info.size);
    await handle.read(payload, 0, info.size, 0);
    return payload;
  } finally {
    await handle.close();
  }
}

export async function replayFiles(
  paths: readonly string[],
  decoder: FlowDecoder,
  sink: FlowSink,
  options: ReplayOptions = {},
): Promise<ReplaySummary> {
  const summary: ReplaySummary = {
    files: 0,
    payloads: 0,
    records: 0,
    skipped: {},
    errors: {},
    withoutTemplate: 0,
  };
  const writer = new FlowBatchWriter(sink, options.batchSize);
  const info = new PacketInfo();
  const skip = (reason: string) => {
    summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1;
  };
  for (const path of paths) {
    const raw = options.raw ?? 'auto';
    const isCapture = raw === 'auto' ? await looksLikeCapture(path) : !raw;
    if (!isCapture) {
      const payload = await readRawPayload(path);
      summary.payloads++;
      summary.records += decoder.decode(
        payload,
        { exporter: options.rawExporter ?? '0.0.0.0', exporterPort: 0, receivedMs: Date.now() },
        writer,
      );
    } else {
      const capture = openCapture(path);
      await capture.forEach((packet) => {
        const result = parseFrame(
          packet.linkType,
          packet.buffer,
          info,
          packet.offset,
          packet.offset + packet.capturedLength,
        );
        if (result !== ParseResult.OK) return skip(ParseResultLabel[result] ?? 'unparsed');
        if (info.proto !== IpProto.UDP) return skip('notUdp');
        if (info.fragment || info.moreFragments) return skip('fragment');
        const start = info.payloadOffset;
        const end = Math.min(start + info.payloadLength, packet.offset + packet.capturedLength);
        if (start < 0 || end <= start) return skip('emptyUdp');
        if (end - start < info.payloadLength) skip('snaplenCut');
        const payload = Buffer.from(packet.buffer.buffer, packet.buffer.byteOffset + start, end - start);
        const exporter = info.ipVersion === 6 ? ipv6ToString(info.src6) : ipv4ToString(info.src4);
        summary.payloads++;
        summary.records += decoder.decode(
          payload,
          { exporter, exporterPort: info.srcPort, receivedMs: packet.timestampMs || Date.now() },
          writer,
        );
      });
      const errors = capture.stats.errors;
      for (const [kind, count] of Object.entries(errors)) {
        if (count > 0) summary.errors[`capture.${kind}`] = (summary.errors[`capture.${kind}`] ?? 0) + count;
      }
    }
    summary.files++;
    options.onFile?.(path, summary);
  }
  writer.flush();
  const pending = decoder.stats.pending;
  summary.withoutTemplate =
    pending.waiting + pending.droppedExpired + pending.droppedOverflow + pending.droppedTooLarge;
  for (const [protocol, kinds] of Object.entries(decoder.stats.errors)) {
    for (const [kind, count] of Object.entries(kinds))
      if (count > 0) summary.errors[`${protocol}.${kind}`] = count;
  }
  return summary;
}
