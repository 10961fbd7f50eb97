/** Configuration of the C&C detector: state bounds, expiry, scoring weights, allowlists and inputs. */
import { z } from 'zod';

export const DetectConfig = z
  .object({
    /** The ISP's own networks (CIDRs). When given, the external side of a flow is the side outside them. */
    subscriberPrefixes: z.array(z.string()).default([]),
    /** Bot list file (README: Bot list); empty means setBots() only. */
    botsFile: z.string().default(''),
    /**
     * Shared public IPv4 pools (MAP-E, DS-Lite with port sets): a home there is the address plus
     * its PSID, so one infected home does not make its neighbours bots.
     */
    sharedAddressRules: z
      .array(
        z.object({
          kind: z.enum(['map-e', 'ds-lite']),
          pool: z.string(),
          psidLength: z.number().int().min(0).max(16),
          psidOffset: z.number().int().min(0).max(16).default(6),
        }),
      )
      .default([]),
    /** The IPv6 prefix delegated to one home (privacy addresses change inside it). */
    homePrefixLength6: z.number().int().min(16).max(64).default(56),
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
        /** Fewer returning bots than this never publish. */
        minBots: z.number().int().min(1).default(2),
        /** Returning bots at which the bot sub-score is full. */
        fullBots: z.number().int().min(1).default(2),
        /** Contacts of one bot (or one held session) that make it a returning bot. */
        minContacts: z.number().int().min(2).default(3),
        /** Intervals of ONE bot needed before its periodicity counts. */
        minGaps: z.number().int().min(2).default(3),
        /** Gaps shorter than this are the same contact (bursts, split records). */
        minGapMs: z.number().int().min(0).default(2000),
        /** A bot holding one connection (same client port, records every active timeout) this long holds a session. */
        sessionMs: z.number().int().min(0).default(300_000),
        /** Records above this rate (bytes per second, both directions) never extend a held session. */
        sessionMaxBytesPerS: z.number().min(0).default(1000),
        /** Windows with bot contact at which persistence (a factor of the score) is full. */
        persistenceWindows: z.number().int().min(1).default(3),
        /** Repeat credit of returning bots when the flows are packet-sampled (intervals are unreliable). */
        sampledRepeat: z.number().min(0).max(1).default(0.5),
        /** A bot's own interval CV at which its periodicity falls to 0 (jittered beacons stay above). */
        periodicCv: z.number().gt(0).default(0.6),
        /**
         * Population test: bots must reach a destination this many times more often (share of
         * bot homes vs share of clean homes) for exclusivity to start, and `enrichmentFull` times
         * for it to be full. A vendor cloud every camera uses, infected or not, stays near 1-10.
         */
        enrichmentStart: z.number().gt(1).default(8),
        enrichmentFull: z.number().gt(1).default(64),
        /** Standard errors of log(enrichment) taken off before it is judged (small counts are noisy). */
        enrichmentZ: z.number().min(0).default(1),
        /**
         * Prior of the clean homes' share reaching a destination, as pseudo-counts (Beta(a, b)):
         * with few clean homes seen, absence among them is weak evidence.
         */
        cleanPrior: z.tuple([z.number().gt(0), z.number().gt(0)]).default([0.5, 50]),
        /**
         * Weights of the quality terms; the factors (bots, exclusivity, persistence) multiply
         * them. Without repeat contact (per-bot periodicity or a held session) a destination
         * tops out at 40.
         */
        weights: z
          .object({
            base: z.number().min(0).default(0.4),
            repeat: z.number().min(0).default(0.6),
          })
          .prefault({}),
      })
      .prefault({}),
    /** P2P botnets (Mozi, Hajime, Hide'n'Seek): bots that reach many peers on high ports. */
    p2p: z
      .object({
        /** Distinct external peers on high ports (per expiry period) that make a bot a P2P bot. */
        minPeers: z.number().int().min(2).default(12),
        /** Listed P2P bots that must reach an address for it to be reported as a peer. */
        minBots: z.number().int().min(1).default(2),
        /** Share of a destination's bots that are P2P bots for it to be a peer (never a C&C). */
        minShare: z.number().min(0).max(1).default(0.3),
        /** A destination with at least this repeat evidence (bots returning on their own period) is never a peer. */
        maxRepeat: z.number().min(0).max(1).default(0.5),
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
