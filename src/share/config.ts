/** Hub configuration: where it listens and the limits it holds every client to. */
import { z } from 'zod';

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
    /** Token bucket per token (or per address before authentication). */
    rateLimit: z
      .object({
        perSecond: z.number().positive().default(50),
        burst: z.number().positive().default(200),
      })
      .prefault({}),
    /** How often the publisher turns intel changes into STIX in the collections; 0 only on demand. */
    publishIntervalMs: z.number().int().min(0).default(2000),
  })
  .prefault({});
export type HubConfig = z.infer<typeof HubConfig>;
