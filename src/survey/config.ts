/** Schemas: the survey plan (what is authorised) and the survey component's own settings (how to probe). */
import { z } from 'zod';

/** Well-known protocol per port when the plan names only a number. */
export const DEFAULT_PORT_SERVICE: Record<number, Service> = {
  22: 'ssh',
  23: 'telnet',
  2323: 'telnet',
  80: 'http',
  8080: 'http',
  443: 'https',
  8443: 'https',
};

export const Service = z.enum(['telnet', 'ssh', 'http', 'https']);
export type Service = z.infer<typeof Service>;

const PortEntry = z.union([
  z.number().int().min(1).max(65535),
  z.object({ port: z.number().int().min(1).max(65535), service: Service }).strict(),
]);

const IsoTime = z.iso.datetime({ offset: true });

export const SurveyPlan = z
  .object({
    /** Names the survey in evidence and findings, e.g. `notice-2025-06`. */
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - only (at most 64)'),
    /**
     * A public plan surveys Internet addresses: any private, loopback, link-local, CGN or
     * reserved range in its scope is refused. Only a lab plan (tests, the harness) may name them.
     */
    kind: z.enum(['public', 'lab']).default('public'),
    organisation: z.object({ name: z.string().min(1), contact: z.string().min(1) }).strict(),
    staff: z.array(z.object({ name: z.string().min(1), role: z.string().min(1) }).strict()).min(1),
    period: z.object({ start: IsoTime, end: IsoTime }).strict(),
    scope: z
      .object({
        cidrs: z.array(z.string().min(1)).default([]),
        asns: z.array(z.number().int().min(1).max(4294967295)).default([]),
        /** CSV `prefix,asn` (the operator's routing dump) resolving `asns` into prefixes. */
        asnTable: z.string().optional(),
        /** Refuse a plan whose scope expands to more addresses than this. */
        maxAddresses: z
          .number()
          .int()
          .min(1)
          .default(1 << 24),
      })
      .strict(),
    /** Files with one address or CIDR per line (# comments): never probed. */
    optOut: z.array(z.string()).default([]),
    /** The published addresses this survey comes from; `bindAddress` must be one of them. */
    sourceAddresses: z.array(z.string().min(1)).min(1),
    bindAddress: z.string().optional(),
    credentials: z
      .object({
        /** CSV `rule_id,service,username,password,vendor,model` (service/vendor/model may be `*`). */
        file: z.string().min(1),
        sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'a SHA-256 in hex'),
      })
      .strict(),
    rateLimits: z
      .object({
        connectionsPerSecond: z.number().positive().max(100000).default(50),
        /** Minimum gap between two connections to the same host. */
        perHostIntervalMs: z.number().int().min(0).default(200),
        /** Login attempts per host across all services. */
        maxAttemptsPerHost: z.number().int().min(0).max(100).default(5),
        /** Wait after a failed login, doubled after each failure on the same host. */
        backoffMs: z.number().int().min(0).default(250),
        /** Hosts surveyed at the same time. */
        concurrency: z.number().int().min(1).max(4096).default(64),
      })
      .strict()
      .prefault({}),
    ports: z.array(PortEntry).min(1).default([22, 23, 2323, 80, 8080, 443, 8443]),
    /** JSONL file every connection and login attempt is appended to. */
    evidenceLog: z.string().min(1),
  })
  .strict();
export type SurveyPlan = z.infer<typeof SurveyPlan>;

export const SurveyConfig = z
  .object({
    /** Directory of recog XML files; empty means the ones shipped in src/survey/recog/. */
    recogPath: z.string().default(''),
    connectTimeoutMs: z.number().int().min(1).default(3000),
    /** Bound on any single read phase (banner, login reply, HTTP response). */
    readTimeoutMs: z.number().int().min(1).default(5000),
    /** A read ends after this much silence once some data has arrived. */
    idleMs: z.number().int().min(1).default(400),
    maxBannerBytes: z.number().int().min(64).default(8192),
    maxHttpBytes: z.number().int().min(256).default(65536),
    /** Telnet option negotiations answered before the host is called hostile. */
    maxTelnetNegotiations: z.number().int().min(1).default(64),
    /** Local vulnerable-version table (JSON or CSV); empty disables the firmware check. */
    vulnerableTable: z.string().default(''),
    userAgent: z.string().default('tsunagi-survey (authorised IoT security survey)'),
  })
  .prefault({});
export type SurveyConfig = z.infer<typeof SurveyConfig>;
