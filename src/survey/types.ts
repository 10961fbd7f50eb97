/** Survey findings as plain records: what notify, intel and the JSONL/CSV outputs consume. */
import { z } from 'zod';
import { Service } from './config.ts';
import { Severity } from './firmware.ts';

export const FindingStatus = z.enum(['weak-credential', 'vulnerable-firmware', 'exposed']);
export type FindingStatus = z.infer<typeof FindingStatus>;

/** One service on one host. It never holds a password: only that a login was accepted and the rule id. */
export const Finding = z
  .object({
    survey: z.string(),
    time: z.string(),
    ip: z.string(),
    port: z.number().int(),
    service: Service,
    /** Pre-login banner, printable ASCII only, at most 512 characters. */
    banner: z.string(),
    vendor: z.string().optional(),
    model: z.string().optional(),
    firmware: z.string().optional(),
    cpe: z.string().optional(),
    deviceType: z.string().optional(),
    /** recog fingerprint ids that identified the device (evidence). */
    fingerprints: z.array(z.string()),
    weakCredential: z
      .object({ accepted: z.literal(true), rule: z.string() })
      .strict()
      .nullable(),
    cves: z.array(
      z
        .object({ cve: z.string(), severity: Severity, cvss: z.number().optional(), summary: z.string() })
        .strict(),
    ),
    severity: Severity,
    status: FindingStatus,
    /** Set when the device misbehaved (negotiation loop, endless banner) and was cut off. */
    hostile: z.string().optional(),
  })
  .strict();
export type Finding = z.infer<typeof Finding>;

export interface HostResult {
  ip: string;
  findings: Finding[];
  /** Ports that accepted a connection. */
  open: number[];
}
