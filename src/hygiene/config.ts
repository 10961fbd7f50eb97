/** The hygiene room's settings, with defaults for a survey through a local resolver. */
import { z } from 'zod';
import { parseResolver } from './dns/client.ts';

export const HygieneConfig = z
  .object({
    /** The recursive resolver every query goes to (HOST:PORT). */
    resolver: z
      .string()
      .default('127.0.0.1:53')
      .refine((v) => {
        try {
          parseResolver(v);
          return true;
        } catch {
          return false;
        }
      }, 'resolver must be HOST:PORT'),
    timeoutMs: z.number().int().min(50).max(60_000).default(2000),
    retries: z.number().int().min(0).max(10).default(2),
    udpPayloadSize: z.number().int().min(512).max(4096).default(1232),
    /** DS/DNSKEY lines in zone-file form; the IANA root anchors when absent. */
    trustAnchors: z.string().optional(),
    dkimSelectors: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,63}$/)).default([]),
    https: z
      .object({
        port: z.number().int().min(1).max(65535).default(443),
        timeoutMs: z.number().int().min(100).max(60_000).default(5000),
        /** Extra trusted CA certificates (PEM text), on top of the system roots. */
        ca: z.array(z.string()).default([]),
        maxBody: z.number().int().min(1024).default(65_536),
      })
      .strict()
      .default({ port: 443, timeoutMs: 5000, ca: [], maxBody: 65_536 }),
    /** Domains checked at once. */
    concurrency: z.number().int().min(1).max(1024).default(16),
  })
  .strict();
export type HygieneConfig = z.infer<typeof HygieneConfig>;
