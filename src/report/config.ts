/** The report room's options: which period, language and tier a report is made for, and the optional summariser. */
import { z } from 'zod';

export const LANGS = ['ja', 'en'] as const;
export type Lang = (typeof LANGS)[number];
export const PERIODS = ['daily', 'weekly'] as const;
export type Period = (typeof PERIODS)[number];

/** An OpenAI-compatible chat endpoint (a local model server included); off unless a URL is given. */
export const SummariserConfig = z.object({
  /** Base URL; `/v1/chat/completions` is appended unless the URL already ends with it. */
  url: z.url(),
  model: z.string().min(1).max(200),
  /** Sent as a Bearer token when set (read from the environment by the CLI, never from a flag). */
  apiKey: z.string().max(4096).optional(),
  /** Per section; a late or failed answer leaves that section without prose, with a note. */
  timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  /** Largest answer read, in characters; the rest is cut. */
  maxChars: z.number().int().min(100).max(20_000).default(1200),
});
export type SummariserConfig = z.infer<typeof SummariserConfig>;

export const ReportConfig = z.object({
  period: z.enum(PERIODS).default('daily'),
  lang: z.enum(LANGS).default('ja'),
  /** The reader the report is made for: every figure is computed from what release() gives this tier. */
  tier: z.enum(['full', 'council', 'public']).default('full'),
  /** The day the report covers (daily) or ends with (weekly), YYYY-MM-DD in UTC; default today. */
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date is YYYY-MM-DD')
    .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), 'not a calendar date')
    .optional(),
  /** Rows shown in each table (figures behind them still count everything). */
  topN: z.number().int().min(1).max(200).default(10),
  /** Indicators of one kind read at most; a larger store is reported as truncated. */
  maxIndicators: z.number().int().min(1000).max(5_000_000).default(500_000),
  /** A port's new scanners must reach this count and double the previous period to be a surge. */
  surgeMinimum: z.number().int().min(1).default(5),
  summarise: SummariserConfig.optional(),
});
export type ReportConfig = z.infer<typeof ReportConfig>;
