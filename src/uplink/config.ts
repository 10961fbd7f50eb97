/** Options of the TAXII 2.1 client, the bot feed and the C&C sharer (zod schemas with defaults). */
import { z } from 'zod';

const HttpUrl = z
  .string()
  .url()
  .refine((text) => /^https?:\/\//i.test(text), 'an http:// or https:// URL');

/** Where and how to reach one remote collection, and the limits the client holds the server to. */
const TaxiiFields = z.object({
  /** The server (http://host:port, discovery at /taxii2/) or its discovery URL. */
  url: HttpUrl,
  /** API root: a path segment ("council"), a path ("/council/") or a URL on the same origin; discovery's default when absent. */
  apiRoot: z.string().min(1).max(500).optional(),
  /** Collection id. */
  collection: z.string().min(1).max(200),
  /** Sent as `Authorization: Bearer TOKEN`. */
  token: z.string().min(1).max(4096).optional(),
  /** HTTP Basic (tsunagi hubs take the token as the password). */
  username: z.string().max(1024).optional(),
  password: z.string().max(4096).optional(),
  /** Whole request, headers and body, must finish within this. */
  timeoutMs: z.number().int().positive().max(600_000).default(15_000),
  /** Largest response body read; a larger one is cut off and counted as `too_large`. */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .max(1_073_741_824)
    .default(64 * 1024 * 1024),
  /** `limit` asked of the server per page. */
  pageSize: z.number().int().positive().max(100_000).default(1000),
  /** Most objects taken in one poll; the rest come on the next poll (the watermark stops there). */
  maxObjects: z.number().int().positive().max(100_000_000).default(1_000_000),
  /** Most pages followed in one poll (a server that never says `more: false` cannot keep us). */
  maxPages: z.number().int().positive().max(1_000_000).default(10_000),
  /** Most objects in one POSTed envelope. */
  postBatchSize: z.number().int().positive().max(100_000).default(1000),
  /** How often and how long a pending POST status is polled. */
  statusPollMs: z.number().int().positive().default(500),
  statusTimeoutMs: z.number().int().positive().default(60_000),
});

/** Credentials: a token, or username and password, never both. */
function withAuthRules<T extends z.ZodType<{ token?: string; username?: string; password?: string }>>(
  schema: T,
) {
  return schema
    .refine((c) => !(c.token && (c.username !== undefined || c.password !== undefined)), {
      message: 'give either token or username/password, not both',
    })
    .refine((c) => (c.username === undefined) === (c.password === undefined), {
      message: 'username and password go together',
    });
}

export const TaxiiClientConfig = withAuthRules(TaxiiFields);
export type TaxiiClientConfig = z.infer<typeof TaxiiClientConfig>;
export type TaxiiClientConfigInput = z.input<typeof TaxiiClientConfig>;

/** The bot feed: polls a collection for infected hosts. */
export const BotFeedConfig = withAuthRules(
  TaxiiFields.extend({
    /** Seconds between polls, in milliseconds. */
    intervalMs: z.number().int().positive().default(60_000),
    /** JSON file holding the watermark and the current set across restarts; none keeps them in memory only. */
    stateFile: z.string().min(1).optional(),
    /**
     * Count bare ipv4-addr/ipv6-addr observables as bots too. Off by default: on a tsunagi hub the
     * same observables stand for C&C servers and devices; use it only on collections that hold bots alone.
     */
    observables: z.boolean().default(false),
    /** An observable carries no validity: it stays a bot this long after it was last received. */
    observableTtlMs: z
      .number()
      .int()
      .positive()
      .default(7 * 86_400_000),
    /** Most indicators kept; more are dropped and counted (`overflow`). */
    maxIndicators: z.number().int().positive().default(2_000_000),
    /** Re-ask for objects added this long before the watermark: a slow writer on the server may commit late. */
    overlapMs: z.number().int().min(0).default(1000),
  }),
);
export type BotFeedConfig = z.infer<typeof BotFeedConfig>;
export type BotFeedConfigInput = z.input<typeof BotFeedConfig>;

/** The C&C sharer: posts detector candidates to a hub's submission collection. */
export const C2SharerConfig = withAuthRules(
  TaxiiFields.extend({
    /** Candidates queued within this window go out in one envelope. */
    batchMs: z.number().int().min(0).default(1000),
    /** Back-off after a failed POST: doubles from initial to max, with jitter. */
    retry: z
      .object({
        initialMs: z.number().int().positive().default(1000),
        maxMs: z.number().int().positive().default(300_000),
      })
      .prefault({}),
    /** Legal tier the candidates are released to (the submission collection's ceiling bounds it). */
    tier: z.enum(['full', 'council', 'public']).default('council'),
    /** TLP 2.0 marking of the objects. */
    tlp: z.enum(['clear', 'green', 'amber', 'amber+strict', 'red']).default('amber+strict'),
    /** Most candidates waiting to be sent; beyond it new ones are dropped and counted. */
    maxQueue: z.number().int().positive().default(200_000),
    /** JSON file keeping shared object ids (so a withdrawal after a restart revokes the right object) and the queue. */
    stateFile: z.string().min(1).optional(),
  }),
);
export type C2SharerConfig = z.infer<typeof C2SharerConfig>;
export type C2SharerConfigInput = z.input<typeof C2SharerConfig>;
