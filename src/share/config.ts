/** Hub configuration: where it listens and the limits it holds every client to. */
import { z } from 'zod';
import { ROLES } from './orgs.ts';

export const HubConfig = z
  .object({
    /** host:port for TAXII and the JSON API. */
    listen: z.string().default('127.0.0.1:8470'),
    /** Name of the analysis center: the identity every object is created by. */
    name: z.string().min(1).max(200).default('tsunagi analysis center'),
    /** Largest request body accepted, in bytes (TAXII max_content_length). */
    bodyLimitBytes: z.number().int().positive().max(1_073_741_824).default(33_554_432),
    /** Most objects in one POSTed envelope. */
    maxObjectsPerPost: z.number().int().positive().max(100_000).default(10_000),
    /** Page size when a client gives no limit, and the largest it may ask for. */
    defaultPageSize: z.number().int().positive().default(1000),
    maxPageSize: z.number().int().positive().default(10_000),
    /**
     * Token bucket per organisation (all its tokens share it, so no organisation takes another's
     * share); per address for anonymous requests and failed sign-ins.
     */
    rateLimit: z
      .object({
        perSecond: z.number().positive().default(50),
        burst: z.number().positive().default(200),
      })
      .prefault({}),
    /**
     * Largest request body per role, in bytes, where it differs from bodyLimitBytes: roles that
     * can write nowhere get a small one. Anonymous requests get no body at all (401 first).
     */
    bodyLimitByRole: z
      .partialRecord(z.enum(ROLES), z.number().int().positive().max(1_073_741_824))
      .default({ vendor: 65_536, public: 65_536 }),
    /**
     * The lowest confidence an indicator needs to be in an export that networks block (the C&C
     * lists, RPZ, Suricata, MISP): below it, it is a lead, not a verdict. An address or name an
     * OSINT document merely names is recorded at 20 and stays out until another source confirms
     * it; the detector publishes at 60 and withdraws below 45.
     */
    exportMinConfidence: z.number().int().min(0).max(100).default(40),
    /** Serve HTTPS directly: PEM files of the certificate (chain) and its private key. */
    tls: z.object({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
    /**
     * Above 0 the publisher follows intel's change feed (a sync on each change, coalesced while
     * one runs); 0 publishes only on demand (one-shot commands, tests).
     */
    publishIntervalMs: z.number().int().min(0).default(2000),
    /**
     * How often a following publisher asks the hygiene room for surveys recorded since (by
     * `hygiene check --record`, another process); the first look is at start.
     */
    hygieneCheckMs: z.number().int().positive().default(60_000),
  })
  .prefault({});
export type HubConfig = z.infer<typeof HubConfig>;
