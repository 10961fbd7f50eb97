/** The web room's settings: the fitted model and lexicon ship with the room; a site may override them. */
import { z } from 'zod';

export const WebConfig = z
  .object({
    /**
     * Verdict thresholds on the model's probability; absent, the fitted ones shipped in
     * model.json. Both or neither: suspicious must not exceed malicious.
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
  })
  .strict();
export type WebConfig = z.infer<typeof WebConfig>;
