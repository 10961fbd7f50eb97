/** Configuration of the C&C detector: state bounds, expiry, scoring weights, allowlists and inputs. */
import { z } from 'zod';

export const DetectConfig = z
  .object({
    /** The ISP's own networks (CIDRs). When given, the external side of a flow is the side outside them. */
    subscriberPrefixes: z.array(z.string()).default([]),
    /** Bot list file (one address/CIDR a line, or CSV with an `ip` column); empty means setBots() only. */
    botsFile: z.string().default(''),
    /** Re-read the bot list file when it changes. */
    watchBotsFile: z.boolean().default(true),
    /** Destinations never reported (CIDRs). */
    allowlistPrefixes: z.array(z.string()).default([]),
    /** Autonomous systems never reported; needs asnFile. */
    allowlistAsns: z.array(z.number().int().min(0)).default([]),
    /** CSV `prefix,asn` mapping used by allowlistAsns. */
    asnFile: z.string().default(''),
    /** CSV `ip,port,proto,family` (ip may be a CIDR, empty cells match anything); first match wins. */
    familyFile: z.string().default(''),
    /** Where aggregates persist across restarts; empty keeps them in memory only. */
    dataDir: z.string().default(''),
    /** Destinations tracked at once; past it the least useful are evicted and counted. */
    maxKeys: z.number().int().min(64).default(262_144),
    /** Memory ceiling for per-destination state; lowers maxKeys when smaller. 0 means no ceiling. */
    memoryLimitMb: z.number().min(0).default(256),
    /** A destination's evidence expires this long after its last bot contact. */
    expiryMs: z.number().int().min(1000).default(3_600_000),
    /** Length of one persistence window. */
    windowMs: z.number().int().min(1000).default(300_000),
    scoring: z
      .object({
        /** Publish at or above this confidence. */
        threshold: z.number().min(0).max(100).default(60),
        /** A published candidate is withdrawn when its confidence falls this far below the threshold. */
        hysteresis: z.number().min(0).max(100).default(15),
        /** Fewer distinct bots than this never publish. */
        minBots: z.number().int().min(1).default(2),
        /** Bots at which the bot sub-score is full. */
        fullBots: z.number().int().min(1).default(3),
        /** Share of bots among all clients at which exclusivity is full. */
        exclusiveShare: z.number().gt(0).max(1).default(0.6),
        /** Windows with bot contact at which persistence is full. */
        persistenceWindows: z.number().int().min(1).default(3),
        /** Gaps needed before periodicity counts. */
        minGaps: z.number().int().min(1).default(3),
        /** Gaps shorter than this are the same contact (bursts, split records). */
        minGapMs: z.number().int().min(0).default(2000),
        /**
         * Weights of the quality terms; the gates (bots, exclusivity) multiply them. With the
         * defaults, a destination without periodic repeat contact tops out at 55 (under the
         * threshold): one-off visits by bot households to a site are not enough.
         */
        weights: z
          .object({
            base: z.number().min(0).default(0.25),
            persistence: z.number().min(0).default(0.15),
            port: z.number().min(0).default(0.15),
            periodicity: z.number().min(0).default(0.45),
          })
          .prefault({}),
      })
      .prefault({}),
    scanPorts: z
      .object({
        /** Ports always treated as the bots' scan ports. */
        static: z.array(z.number().int().min(0).max(65535)).default([23, 2323, 5555, 37215, 52869]),
        /** A port becomes a scan port once this many bot scan flows hit it... */
        minFlows: z.number().int().min(1).default(50),
        /** ...and it holds at least this share of all bot scan flows. */
        minShare: z.number().min(0).max(1).default(0.01),
      })
      .prefault({}),
  })
  .prefault({});
export type DetectConfig = z.infer<typeof DetectConfig>;
/** What callers may pass: any subset, defaults fill the rest. */
export type DetectConfigInput = z.input<typeof DetectConfig>;
