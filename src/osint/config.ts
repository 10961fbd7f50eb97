/** The osint room's settings: the feeds to read and the limits on what is fetched. */
import { z } from 'zod';

const TLP = z.enum(['clear', 'green', 'amber', 'amber+strict', 'red']);

export const FeedConfig = z
  .object({
    /** The feed's name: the intel source becomes `osint:<name>`. */
    name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'lower-case letters, digits, _ . - (up to 64)'),
    url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
    /** The TLP its documents carry (public advisories: clear). */
    tlp: TLP.default('clear'),
    /** A tier narrower than the TLP's (full, council); never wider. */
    tier: z.enum(['full', 'council', 'public']).optional(),
    /** Fetch each item's link; off: extract from the item's own text (description, content). */
    followLinks: z.boolean().default(true),
  })
  .strict();
export type FeedConfig = z.infer<typeof FeedConfig>;

export const OsintConfig = z
  .object({
    feeds: z.array(FeedConfig).default([]),
    /**
     * How often `start()` (run by `tsunagi start`) reads the feeds (ms); 0: only when `fetch()` is
     * called (`tsunagi osint fetch`). Hourly by default: advisories are published a few a day.
     */
    intervalMs: z.number().int().min(0).default(3_600_000),
    /** Newest items taken from each feed per fetch. */
    maxItemsPerFeed: z.number().int().min(1).max(1000).default(50),
    /** Largest feed or document read (bytes); a larger one is counted and skipped. */
    maxDocumentBytes: z
      .number()
      .int()
      .min(1024)
      .max(256 * 2 ** 20)
      .default(16 * 2 ** 20),
    timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
    /** Documents fetched at once. */
    concurrency: z.number().int().min(1).max(32).default(4),
    userAgent: z.string().min(1).max(200).default('tsunagi-osint/0.1 (+https://github.com/tsunagi)'),
    /** Report the host of each URL as a domain or address of its own too. */
    hostsOfUrls: z.boolean().default(false),
    contextChars: z.number().int().min(0).max(500).default(60),
    /** poppler-utils' pdftotext, for PDF documents. */
    pdftotext: z.string().min(1).default('pdftotext'),
  })
  .strict();
export type OsintConfig = z.infer<typeof OsintConfig>;
