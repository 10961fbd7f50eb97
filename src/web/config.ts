/** The web room's settings: the fitted model and lexicon ship with the room; a site may override them. */
import { z } from 'zod';

export const WebConfig = z
  .object({
    /**
     * The host-name verdict's thresholds on the model's probability; absent, the fitted ones
     * shipped in model.json. Both or neither: suspicious must not exceed malicious. The URL
     * verdict keeps the URL part's fitted thresholds (model.json `url.thresholds`).
     */
    thresholds: z
      .object({ suspicious: z.number().min(0).max(1), malicious: z.number().min(0).max(1) })
      .strict()
      .refine((t) => t.suspicious <= t.malicious, 'suspicious must not exceed malicious')
      .optional(),
    /** Rows written to the store per transaction when ingesting. */
    batchSize: z.number().int().min(1).max(100_000).default(1000),
    /** Longest URL accepted, characters; longer is an input error (no browser sends more). */
    maxUrlLength: z.number().int().min(64).max(1_000_000).default(8192),
    /** A certstream-compatible websocket whose certificate names are scored as they are logged. */
    certstream: z
      .object({
        url: z.string().regex(/^wss?:\/\//, 'a ws:// or wss:// URL'),
        /** Names scored at least this are stored (source `certstream`) and handed on. */
        minVerdict: z.enum(['suspicious', 'malicious']).default('suspicious'),
        reconnectMs: z.number().int().min(100).max(600_000).default(5000),
        /** Larger frames close the socket (ws maxPayload); certstream messages are a few KiB. */
        maxMessageBytes: z
          .number()
          .int()
          .min(1024)
          .max(64 * 1024 * 1024)
          .default(1024 * 1024),
      })
      .strict()
      .optional(),
    /**
     * Kit paths (campaign/kit-paths.ts): URLs a confirmed source lists, and the stored URLs of
     * hosts whose takedown request was sent, teach the room a kit's path; a URL on another domain
     * under a path listed on `minDomains` other domains within `windowDays` is malicious, with
     * the reason `kit_path`. No sources, `takedowns: false` and `ownVerdicts: false`: off.
     */
    kitPaths: z
      .object({
        /** Sources whose listings are confirmed phishing (`web ingest --source NAME`). */
        sources: z
          .array(z.string().regex(/^[\w.:@/-]{1,100}$/))
          .max(50)
          .default(['jpcert']),
        /**
         * A host whose takedown request was sent (sent, acknowledged or taken-down; never refused)
         * is confirmed phishing: its stored URLs teach the memory as of the time it was sent.
         */
        takedowns: z.boolean().default(true),
        /**
         * The scorer's own URL verdicts near suspicious or worse (the model's `judgedLift` floor;
         * by their own score, never a tie's raise) teach the memory too; a tie that needs them is `kit_path_judged` and lifts
         * only a URL at that floor, while fewer than 8 benign-looking domains per named one were
         * seen on the path. Its suspicious and malicious verdicts also name their registered
         * domain: once two hosts of it are, a URL at the floor on another host of it (never the
         * domain's own site) is `domain_judged` (campaign/domain-ties.ts);
         * and their risky suffix and path: a URL at the floor on a 4th domain under it is
         * `suffix_path_judged` (campaign/suffix-paths.ts).
         * Public lists arrive late, these at once.
         */
        ownVerdicts: z.boolean().default(true),
        minDomains: z.number().int().min(2).max(1000).default(2),
        windowDays: z.number().int().min(1).max(365).default(30),
        maxPaths: z.number().int().min(1000).max(10_000_000).default(200_000),
      })
      .strict()
      .default({
        sources: ['jpcert'],
        takedowns: true,
        ownVerdicts: true,
        minDomains: 2,
        windowDays: 30,
        maxPaths: 200_000,
      }),
    /** `tsunagi web check`: how a candidate page is read. */
    page: z
      .object({
        /**
         * Render the page in headless Chromium (its JavaScript runs, under the same byte and time
         * limits) instead of one plain GET; `--browser` turns it on for one run.
         */
        browser: z.boolean().default(false),
        /** The Chromium executable; absent, $TSUNAGI_CHROMIUM, else /usr/bin/chromium. */
        chromium: z.string().min(1).optional(),
      })
      .strict()
      .default({ browser: false }),
  })
  .strict();
export type WebConfig = z.infer<typeof WebConfig>;
