/** Configuration of the NATS JetStream flow transport: connection, stream limits, publisher and subscriber options. */
import { z } from 'zod';
import { MAX_PARTITIONS } from './partition.ts';

/** Flows may sit in the stream at most this long, whatever the configuration says (purpose limitation). */
export const MAX_FLOW_AGE_MS = 600_000;

const token = /^[A-Za-z0-9_-]{1,64}$/;

export const StreamSettings = z
  .object({
    /** JetStream stream that holds the flow messages. */
    name: z.string().regex(token, 'letters, digits, _ and - only').default('TSUNAGI_FLOWS'),
    /** Partition p is published on `<subjectPrefix>.<p>`. */
    subjectPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'dot-separated tokens, no wildcards')
      .default('tsunagi.flows'),
    /**
     * Number of partitions; every collector and detector of a deployment must agree on it. 16
     * by default: enough for balancePartitions to spread 2-8 workers around heavy keys, while
     * a 4096-row batch still makes messages of ~256 rows.
     */
    partitions: z.number().int().min(1).max(MAX_PARTITIONS).default(16),
    /**
     * Messages older than this are deleted by the server. Flows are kept only as long as a
     * detector needs to catch up after a short stall; capped at MAX_FLOW_AGE_MS.
     */
    maxAgeMs: z.number().int().min(1000).max(MAX_FLOW_AGE_MS).default(60_000),
    /**
     * Size cap of the stream; past it the oldest messages go first. Size it with
     * `streamBytesFor(rowsPerSecond, downtimeSeconds)`: a worker down for that long still finds
     * every row when it comes back (and set `maxAgeMs` to at least that downtime). Or give
     * `sizing` and the stream is sized from it.
     */
    maxBytes: z
      .number()
      .int()
      .min(1 << 20)
      .default(256 * 1024 * 1024),
    /**
     * When set, maxBytes = streamBytesFor(rowsPerSecond, downtimeSeconds) and maxAgeMs at least
     * downtimeSeconds (both still capped: 600 s of flows at most).
     */
    sizing: z
      .object({
        rowsPerSecond: z.number().int().min(1),
        downtimeSeconds: z
          .number()
          .min(1)
          .max(MAX_FLOW_AGE_MS / 1000),
      })
      .optional(),
    /**
     * Only memory: file storage would write raw flow records to disk, which rule 1 of the
     * architecture forbids. A stream found with file storage is refused at start.
     */
    storage: z.literal('memory').default('memory'),
    /** Copies kept in a NATS cluster (memory storage replicates too). */
    replicas: z.number().int().min(1).max(5).default(1),
    /** Create the stream when missing and correct its limits; when false, it must already exist. */
    ensure: z.boolean().default(true),
  })
  .prefault({});
export type StreamSettings = z.infer<typeof StreamSettings>;

/** Bytes a row takes in the stream: 54 on the wire (86 with IPv6), plus message overhead. */
export const STREAM_BYTES_PER_ROW = 64;

/**
 * Stream size that holds `downtimeSeconds` of `rowsPerSecond`: what a worker that was down that
 * long must find waiting. rows/s x seconds x 64 bytes (54 a row on the wire plus headers and
 * the server's per-message overhead at 4096-row messages, measured), plus a quarter for IPv6
 * rows and bursts.
 */
export function streamBytesFor(rowsPerSecond: number, downtimeSeconds: number): number {
  return Math.ceil(rowsPerSecond * downtimeSeconds * STREAM_BYTES_PER_ROW * 1.25);
}

/** The stream limits in force: `sizing` when given, else maxBytes/maxAgeMs as configured. */
export function effectiveStreamLimits(stream: StreamSettings): { maxBytes: number; maxAgeMs: number } {
  if (!stream.sizing) return { maxBytes: stream.maxBytes, maxAgeMs: stream.maxAgeMs };
  const { rowsPerSecond, downtimeSeconds } = stream.sizing;
  return {
    maxBytes: Math.max(1 << 20, streamBytesFor(rowsPerSecond, downtimeSeconds)),
    maxAgeMs: Math.min(MAX_FLOW_AGE_MS, Math.max(stream.maxAgeMs, Math.ceil(downtimeSeconds * 1000))),
  };
}

export const PublishSettings = z
  .object({
    /**
     * Bytes of messages awaiting the server's acknowledgement; a message that would pass it is
     * dropped and counted (one message is always allowed when nothing is in flight).
     */
    maxInFlightBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .default(32 * 1024 * 1024),
    /**
     * Encoded messages waiting for in-flight room, in memory (raw flows never touch disk, rule
     * 1): backpressure queues up to this many bytes instead of dropping; only past it are rows
     * dropped, and every drop is logged and counted.
     */
    maxQueuedBytes: z
      .number()
      .int()
      .min(0)
      .default(256 * 1024 * 1024),
    /** A publish not acknowledged in this time is tried again (same message id: deduplicated). */
    timeoutMs: z.number().int().min(100).default(5000),
    /** Attempts of one message before its rows are dropped (counted as publish_failed, logged). */
    attempts: z.number().int().min(1).max(20).default(5),
    /** Largest message; batches are split to fit (and to fit the server's max_payload). */
    maxMessageBytes: z
      .number()
      .int()
      .min(4096)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    /** The ISP's own networks: rows are keyed by the side outside them. */
    subscriberPrefixes: z.array(z.string()).default([]),
    /** Key side when the prefixes cannot tell: `destination` or the symmetric `service-port` rule. */
    unknownSide: z.enum(['destination', 'service-port']).default('destination'),
  })
  .prefault({});
export type PublishSettings = z.infer<typeof PublishSettings>;

export const SubscribeSettings = z
  .object({
    /** Partitions this process owns; empty means all of them. */
    partitions: z
      .array(
        z
          .number()
          .int()
          .min(0)
          .max(MAX_PARTITIONS - 1),
      )
      .default([]),
    /**
     * Durable consumer name prefix (`<durable>-p<partition>`): a restarted detector resumes
     * where it stopped. Empty: ephemeral consumers, removed at stop or after `inactiveMs`.
     */
    durable: z
      .string()
      .regex(/^([A-Za-z0-9_-]{1,48})?$/, 'letters, digits, _ and - only')
      .default(''),
    /** Where a new consumer starts: only new messages, or everything still in the stream. */
    deliver: z.enum(['new', 'all']).default('new'),
    /** Messages pulled ahead per partition (bounds the memory of unprocessed batches). */
    fetchMessages: z.number().int().min(1).max(1024).default(16),
    /** A message not acknowledged in this time is delivered again. */
    ackWaitMs: z.number().int().min(1000).default(30_000),
    /** An ephemeral consumer left behind by a crashed process is removed after this long. */
    inactiveMs: z.number().int().min(1000).default(30_000),
    /** Messages claiming more rows than this are refused. */
    maxRows: z
      .number()
      .int()
      .min(1)
      .max(1 << 20)
      .default(1 << 16),
  })
  .prefault({});
export type SubscribeSettings = z.infer<typeof SubscribeSettings>;

export const TransportConfig = z
  .object({
    /** NATS server URL(s), comma-separated. */
    url: z.string().min(1).default('nats://127.0.0.1:4222'),
    /** Connection name shown by the server (`nats server report connections`). */
    clientName: z.string().default('tsunagi'),
    /** Give up connecting at start after this long. */
    connectTimeoutMs: z.number().int().min(100).default(5000),
    stream: StreamSettings,
    publish: PublishSettings,
    subscribe: SubscribeSettings,
  })
  .prefault({});
export type TransportConfig = z.infer<typeof TransportConfig>;
export type TransportConfigInput = z.input<typeof TransportConfig>;
