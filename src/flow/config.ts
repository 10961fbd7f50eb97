/** Configuration of the flow collector: inputs, decoders, template and sampling state. */
import { z } from 'zod';

export const DecoderConfig = z
  .object({
    /** Include the exporter's UDP source port in the template key (some NATed exporters need it). */
    templateKeyIncludesPort: z.boolean().default(false),
    /** Sampling rate assumed when neither the packet nor options data give one. */
    defaultSamplingRate: z.number().int().min(1).default(1),
    templates: z
      .object({
        /** Templates one exporter may hold at once; past that the oldest is dropped and counted. */
        maxPerExporter: z.number().int().min(1).default(4096),
        /** Templates across all exporters. */
        maxTotal: z.number().int().min(1).default(65536),
      })
      .prefault({}),
    /** Data sets that arrive before their template wait here, bounded, then are dropped and counted. */
    pending: z
      .object({
        maxSets: z.number().int().min(0).default(1024),
        maxBytes: z
          .number()
          .int()
          .min(0)
          .default(4 * 1024 * 1024),
        ttlMs: z.number().int().min(0).default(30_000),
      })
      .prefault({}),
  })
  .prefault({});
export type DecoderConfig = z.infer<typeof DecoderConfig>;

export const FlowConfig = z
  .object({
    /** UDP addresses to listen on (host:port); several ports at once are allowed. */
    listen: z.array(z.string()).default(['0.0.0.0:2055', '0.0.0.0:4739', '0.0.0.0:6343']),
    /** SO_RCVBUF asked for each socket; the kernel caps it at net.core.rmem_max. */
    receiveBufferBytes: z
      .number()
      .int()
      .min(65536)
      .default(32 * 1024 * 1024),
    /**
     * How datagrams are read: 'native' is the recvmmsg addon (src/flow/input/udp/native, Linux, built by
     * node-gyp), 'dgram' is node's own socket, 'auto' takes the addon when it loads.
     */
    receiver: z.enum(['auto', 'native', 'dgram']).default('auto'),
    /** Datagrams read per recvmmsg call and handed to JS at once (native receiver). */
    receiveBatchDatagrams: z.number().int().min(1).max(1024).default(64),
    /**
     * Native receiver: while datagrams flow, read the socket every this many ms (at most)
     * instead of at each arrival, so they are taken in batches. The delay shrinks by itself
     * when one read takes more than an eighth of the receive buffer. Adds at most a few ms of
     * latency; 0 reads at every arrival.
     */
    receiveCoalesceMs: z.number().int().min(0).max(100).default(4),
    /** Rows per FlowBatch. */
    batchSize: z
      .number()
      .int()
      .min(16)
      .max(1 << 16)
      .default(4096),
    /** A partly filled batch is handed on after this long. */
    flushIntervalMs: z.number().int().min(10).default(500),
    /** Where templates persist across restarts; empty keeps them in memory only. */
    templateFile: z.string().default(''),
    decoder: DecoderConfig,
  })
  .prefault({});
export type FlowConfig = z.infer<typeof FlowConfig>;
