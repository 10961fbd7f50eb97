/**
 * Sinks that turn scenario FlowBatches into real export packets: NetFlow v9 or IPFIX messages
 * (src/flow/encode.ts), written as a pcap of UDP frames from the exporter to a collector, or
 * sent over UDP to a loopback collector at a chosen pace.
 */
import { createSocket } from 'node:dgram';
import { open, type FileHandle } from 'node:fs/promises';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FlowBatch, ipv4ToString, ipv6ToString, UsageError } from '../core/index.ts';
import {
  IPFIX_TEMPLATE_V4,
  IPFIX_TEMPLATE_V6,
  V9_TEMPLATE_V4,
  V9_TEMPLATE_V6,
  encodeIpfix,
  encodeV9,
  type EncodeSet,
  simpleFlowValues,
  type EncodeTemplate,
  type SimpleFlow,
  IE,
} from '../flow/index.ts';
import { LinkType, PcapWriter, buildUdpFrame } from '../packet/index.ts';

export type ExportFormat = 'v9' | 'ipfix';

/** Payload budget of one message: a v9 or IPFIX message stays under a 1500-byte MTU. */
const MESSAGE_BUDGET = 1400;
/** Templates (and sampling options) are repeated every this many messages, as routers do. */
const TEMPLATE_EVERY = 64;

/**
 * Options template announcing the exporter's packet sampling interval (RFC 3954 options data
 * with a System scope; IPFIX with the observation domain as scope). The collector multiplies the
 * data records' counters by it.
 */
const SAMPLING_OPTIONS = {
  v9: {
    id: 512,
    scopeCount: 1,
    fields: [
      { id: 1, length: 4 },
      { id: IE.samplingInterval, length: 4 },
    ],
  },
  ipfix: {
    id: 512,
    scopeCount: 1,
    fields: [
      { id: 149, length: 4 }, // observationDomainId
      { id: IE.samplingInterval, length: 4 },
    ],
  },
} as const satisfies Record<ExportFormat, EncodeTemplate>;

const TEMPLATES = {
  v9: { v4: V9_TEMPLATE_V4, v6: V9_TEMPLATE_V6 },
  ipfix: { v4: IPFIX_TEMPLATE_V4, v6: IPFIX_TEMPLATE_V6 },
} as const;

const recordLength = (t: EncodeTemplate) => t.fields.reduce((sum, f) => sum + f.length, 0);

/**
 * Builds export messages from FlowBatches, keeping sequence numbers and the exporter's uptime
 * clock. IPv4 and IPv6 records go in their own templates; rows with a sampling rate above 1 are
 * written with the counts the router saw (divided by the rate) after an options record that
 * states the rate, so that a collector restores the same counts.
 */
export class ExportEncoder {
  private sequence = 0;
  private messages = 0;
  private bootMs = -1;
  private pending: SimpleFlow[] = [];
  private pendingBytes = 0;
  private pendingRate = 1;
  /** The sampling rate the collector was last told (1: never told). */
  private announcedRate = 1;
  flows = 0;

  constructor(readonly format: ExportFormat) {}

  /** Encodes the batch's rows; returns the finished messages with their export times (ms). */
  encode(batch: FlowBatch): { payload: Buffer; exportMs: number }[] {
    const out: { payload: Buffer; exportMs: number }[] = [];
    const templates = TEMPLATES[this.format];
    for (let i = 0; i < batch.length; i++) {
      const v6 = batch.ipVersion[i] === 6;
      const rate = Math.max(1, batch.samplingRate[i]!);
      if (this.bootMs < 0) this.bootMs = batch.startMs[i]! - 3_600_000; // the router booted an hour before
      const size = recordLength(v6 ? templates.v6 : templates.v4);
      if (this.pending.length > 0 && (rate !== this.pendingRate || this.pendingBytes + size > MESSAGE_BUDGET))
        out.push(this.finish());
      this.pendingRate = rate;
      this.pendingBytes += size;
      this.pending.push({
        src: v6 ? ipv6ToString(batch.src6, i * 16) : ipv4ToString(batch.src4[i]!),
        dst: v6 ? ipv6ToString(batch.dst6, i * 16) : ipv4ToString(batch.dst4[i]!),
        srcPort: batch.srcPort[i]!,
        dstPort: batch.dstPort[i]!,
        proto: batch.proto[i]!,
        tcpFlags: batch.tcpFlags[i]!,
        packets: Math.round(batch.packets[i]! / rate),
        bytes: Math.round(batch.bytes[i]! / rate),
        startMs: batch.startMs[i]!,
        endMs: batch.endMs[i]!,
      });
    }
    return out;
  }

  /** Encodes what is left (call at the end of the stream). */
  flush(): { payload: Buffer; exportMs: number }[] {
    return this.pending.length > 0 ? [this.finish()] : [];
  }

  private finish(): { payload: Buffer; exportMs: number } {
    const flows = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    let exportMs = 0;
    for (const f of flows) if (f.endMs > exportMs) exportMs = f.endMs;
    const withTemplate = this.messages % TEMPLATE_EVERY === 0;
    this.messages++;
    const rate = this.pendingRate;
    const tell = rate !== this.announcedRate || (withTemplate && rate > 1);
    this.announcedRate = rate;
    const unixSecs = Math.floor(exportMs / 1000);
    const sysUptime = exportMs - this.bootMs;
    // The collector reads v9 times against unixSecs (whole seconds) minus sysUptime.
    const sets = this.sets(flows, withTemplate, tell ? rate : 0, unixSecs * 1000 - sysUptime);
    let payload: Buffer;
    if (this.format === 'v9') {
      // NetFlow v9 counts export packets in its sequence; IPFIX counts data records.
      payload = encodeV9({ unixSecs, sysUptime, sequence: this.sequence++ }, sets);
    } else {
      payload = encodeIpfix({ exportTime: Math.floor(exportMs / 1000), sequence: this.sequence }, sets);
      this.sequence += flows.length;
    }
    this.flows += flows.length;
    return { payload, exportMs };
  }

  /** Template sets, the sampling options record when `tellRate` > 0, then IPv4 and IPv6 data. */
  private sets(flows: SimpleFlow[], withTemplate: boolean, tellRate: number, bootMs: number): EncodeSet[] {
    const templates = TEMPLATES[this.format];
    const options = SAMPLING_OPTIONS[this.format];
    const sets: EncodeSet[] = [];
    if (withTemplate || tellRate > 0) {
      sets.push({ templates: [templates.v4, templates.v6] });
      sets.push({ optionsTemplates: [options] });
    }
    if (tellRate > 0) sets.push({ template: options, records: [[0, tellRate]] });
    // v9 times are sysUptime offsets from the exporter's boot, IPFIX times absolute.
    const values = (f: SimpleFlow) => simpleFlowValues(f, this.format === 'v9' ? bootMs : 0);
    const v4 = flows.filter((f) => !f.src.includes(':'));
    const v6 = flows.filter((f) => f.src.includes(':'));
    if (v4.length) sets.push({ template: templates.v4, records: v4.map(values) });
    if (v6.length) sets.push({ template: templates.v6, records: v6.map(values) });
    return sets;
  }
}

export interface PcapSinkOptions {
  format: ExportFormat;
  exporter?: string;
  collector?: string;
  /** Collector port in the frames (2055 for v9, 4739 for IPFIX by default). */
  port?: number;
}

/**
 * Writes the batches as a pcap of export packets, streaming to disk (the whole day never sits in
 * memory). Returns how many flows and packets were written.
 */
export async function writeExportPcap(
  batches: Iterable<FlowBatch>,
  path: string,
  options: PcapSinkOptions,
): Promise<{ flows: number; packets: number }> {
  const encoder = new ExportEncoder(options.format);
  const exporter = options.exporter ?? '192.0.2.1';
  const collector = options.collector ?? '192.0.2.100';
  const port = options.port ?? (options.format === 'v9' ? 2055 : 4739);
  let file: FileHandle;
  try {
    file = await open(path, 'w');
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${(error as Error).message}`);
  }
  let packets = 0;
  let first = true;
  try {
    const writeMessages = async (messages: { payload: Buffer; exportMs: number }[]) => {
      if (messages.length === 0) return;
      const writer = new PcapWriter(LinkType.ETHERNET);
      for (const m of messages) {
        writer.add(
          buildUdpFrame({
            srcIp: exporter,
            dstIp: collector,
            srcPort: 50000,
            dstPort: port,
            payload: m.payload,
          }),
          m.exportMs,
        );
      }
      packets += messages.length;
      // Each chunk is a complete pcap; only the first keeps its 24-byte file header.
      const bytes = writer.toBuffer();
      await file.write(first ? bytes : bytes.subarray(24));
      first = false;
    };
    for (const batch of batches) await writeMessages(encoder.encode(batch));
    await writeMessages(encoder.flush());
    if (first) await file.write(new PcapWriter(LinkType.ETHERNET).toBuffer());
  } finally {
    await file.close();
  }
  return { flows: encoder.flows, packets };
}

function isLoopback(host: string): boolean {
  if (host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

export interface UdpSinkOptions {
  host: string;
  port: number;
  format: ExportFormat;
  /** Flows per second of wall time; 0 sends as fast as possible. */
  rate?: number;
  signal?: AbortSignal;
}

/** Sends the batches as export packets over UDP to a loopback collector, paced to `rate` flows/s. */
export async function sendExportUdp(
  batches: Iterable<FlowBatch>,
  options: UdpSinkOptions,
): Promise<{ flows: number; packets: number; seconds: number }> {
  if (!isLoopback(options.host))
    throw new UsageError(`refusing to send to ${options.host}: only loopback addresses`);
  const socket = createSocket(options.host.includes(':') ? 'udp6' : 'udp4');
  const encoder = new ExportEncoder(options.format);
  const rate = options.rate ?? 0;
  const started = performance.now();
  let packets = 0;
  const send = (payload: Buffer) =>
    new Promise<void>((resolve, reject) =>
      socket.send(payload, options.port, options.host, (error) => (error ? reject(error) : resolve())),
    );
  try {
    const sendAll = async (messages: { payload: Buffer; exportMs: number }[]) => {
      for (const m of messages) {
        if (options.signal?.aborted) return;
        await send(m.payload);
        packets++;
        if (rate > 0) {
          const due = started + (encoder.flows / rate) * 1000;
          const ahead = due - performance.now();
          if (ahead > 5) await sleep(ahead);
        } else if (packets % 256 === 0) {
          await sleep(0); // let the receiver's event loop breathe when both share a machine
        }
      }
    };
    for (const batch of batches) {
      if (options.signal?.aborted) break;
      await sendAll(encoder.encode(batch));
    }
    await sendAll(encoder.flush());
  } finally {
    socket.close();
  }
  return { flows: encoder.flows, packets, seconds: (performance.now() - started) / 1000 };
}
