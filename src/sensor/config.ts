/** The sensor centre's settings, with defaults for a centre on one machine. */
import { z } from 'zod';
import {
  MAX_BATCH_COMPRESSED_BYTES,
  MAX_BATCH_EVENTS,
  MAX_BATCH_UNCOMPRESSED_BYTES,
  PROCESS_FIELDS,
  SOCKET_FIELDS,
} from './protocol.ts';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a bundle digest is 64 lowercase hex digits');

export const SensorPolicyConfig = z
  .object({
    version: z.number().int().min(1).default(1),
    /** Field allow-lists sent to sensors; command lines and file contents are never asked for. */
    processFields: z
      .array(z.enum(PROCESS_FIELDS))
      .default(['pid', 'ppid', 'exe', 'sha256', 'user', 'startedAt']),
    socketFields: z.array(z.enum(SOCKET_FIELDS)).default(['pid', 'proto', 'local', 'remote', 'state']),
    hashExecutables: z.boolean().default(true),
    scanIntervalMs: z.number().int().min(1000).max(3_600_000).default(10_000),
    batchMaxEvents: z.number().int().min(1).max(MAX_BATCH_EVENTS).default(500),
  })
  .strict();

export const SensorCentreConfig = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8443),
    /** Where the CA, the server and policy keys live (created at first start, keys mode 0600). */
    pkiDir: z.string().min(1),
    /** Digests of sensor bundles (`npm run build:sensor`) allowed to enrol. */
    bundleDigests: z.array(sha256Hex).default([]),
    /** Also accept `source:<sha256>` digests (a sensor run from its sources): development only. */
    allowSourceDigests: z.boolean().default(false),
    /** Extra names (DNS or IP) the server certificate is valid for, besides the listen host and local addresses. */
    serverNames: z.array(z.string().min(1)).default([]),
    clientCertDays: z.number().int().min(1).max(3650).default(397),
    maxCompressedBytes: z
      .number()
      .int()
      .min(1024)
      .max(MAX_BATCH_COMPRESSED_BYTES)
      .default(MAX_BATCH_COMPRESSED_BYTES),
    maxUncompressedBytes: z
      .number()
      .int()
      .min(1024)
      .max(MAX_BATCH_UNCOMPRESSED_BYTES)
      .default(MAX_BATCH_UNCOMPRESSED_BYTES),
    /** Batches per sensor: a bucket of `batchBurst` refilled at `batchesPerMinute`. */
    batchesPerMinute: z.number().positive().max(6000).default(60),
    batchBurst: z.number().int().min(1).max(1000).default(20),
    /** Enrolment attempts per client address and minute (a burst of a sixth of it): terminals of a ministry may share one NAT address. */
    enrolPerMinute: z.number().positive().max(60_000).default(600),
    /**
     * The resolvers the centre asks for the listed domains' addresses ("IP" or "IP:PORT",
     * "[IPv6]:PORT"); empty: the system's. Terminals never resolve listed domains themselves.
     */
    resolvers: z
      .array(
        z
          .string()
          .regex(
            /^(?:\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?|\[[0-9A-Fa-f:.]+\]:\d{1,5}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/,
            'a resolver is IP, IP:PORT or [IPv6]:PORT',
          ),
      )
      .default([]),
    /** A listed domain is looked up again after this long (its answer is in the list meanwhile). */
    domainRefreshMs: z
      .number()
      .int()
      .min(1000)
      .default(15 * 60_000),
    resolveTimeoutMs: z.number().int().min(100).max(60_000).default(3000),
    /** Lookups per IoC refresh at most (the oldest answers first): a long list is resolved over several. */
    maxLookupsPerRefresh: z.number().int().min(1).max(1_000_000).default(2000),
    /** How often the IoC list is rebuilt from intel and the operator's hashes. */
    iocRefreshMs: z.number().int().min(1000).default(60_000),
    /** A sensor is online when its last batch came within this. */
    onlineWithinMs: z
      .number()
      .int()
      .min(1000)
      .default(15 * 60_000),
    policy: SensorPolicyConfig.default(SensorPolicyConfig.parse({})),
  })
  .strict();
export type SensorCentreConfig = z.infer<typeof SensorCentreConfig>;
export type SensorCentreConfigInput = z.input<typeof SensorCentreConfig>;
