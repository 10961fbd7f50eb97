/** Console configuration: where the built SPA lives, which proxies to trust, and client limits. */
import { z } from 'zod';

export const ConsoleConfig = z
  .object({
    /** The built single-page app (index.html and assets/); missing means API only, with a note at /. */
    distDir: z.string().default('console/dist'),
    /**
     * Reverse proxies (CIDR or address) whose X-Forwarded-For is believed. The self-check page
     * answers about the request's address, so a forged header from anyone else must not count.
     */
    trustedProxies: z.array(z.string().max(64)).max(1000).default([]),
    /** Self-check requests per client address: a token bucket. */
    selfCheck: z
      .object({
        perMinute: z.number().positive().default(10),
        burst: z.number().positive().default(5),
      })
      .prefault({}),
    /** Console API requests per token. */
    apiRate: z
      .object({
        perSecond: z.number().positive().default(50),
        burst: z.number().positive().default(200),
      })
      .prefault({}),
    /**
     * Live updates: how long intel's changes are gathered into one batch (one "changed" summary
     * and one overview recount per batch), the heartbeat, and the most streams.
     */
    live: z
      .object({
        batchMs: z.number().int().min(0).max(60_000).default(250),
        heartbeatMs: z.number().int().min(1000).max(300_000).default(15_000),
        maxClients: z.number().int().min(1).max(10_000).default(200),
        /** Most streams one organisation may hold (all its tokens together). */
        maxPerOrganisation: z.number().int().min(1).max(10_000).default(20),
        /** Streams only the analysis center may take, however busy the others are (at most half of maxClients). */
        reservedForAnalysis: z.number().int().min(0).max(10_000).default(20),
      })
      .prefault({}),
    /** Largest page a table may ask for. */
    maxPageSize: z.number().int().min(10).max(1000).default(200),
    /** How long overview counters are reused before being counted again. */
    overviewCacheMs: z.number().int().min(0).max(600_000).default(3000),
  })
  .prefault({});
export type ConsoleConfig = z.infer<typeof ConsoleConfig>;
export type ConsoleConfigInput = z.input<typeof ConsoleConfig>;
