/** Configuration of darknet observation: prefixes, bounded source state, classification, rules, statistics. */
import { z } from 'zod';

/** A numeric header condition: one value, a list of values, or an inclusive range. */
export const FieldCondition = z.union([
  z.number().int().min(0).max(0xffffffff),
  z.array(z.number().int().min(0).max(0xffffffff)).min(1).max(64),
  z
    .object({ min: z.number().int().min(0).max(0xffffffff), max: z.number().int().min(0).max(0xffffffff) })
    .refine((r) => r.min <= r.max, 'min must not exceed max'),
]);
export type FieldCondition = z.infer<typeof FieldCondition>;

/** Header fields a rule may test (what packet/ parses from IPv4/IPv6 + TCP/UDP/ICMP). */
export const RULE_FIELDS = [
  'protocol',
  'srcPort',
  'dstPort',
  'ttl',
  'ipId',
  'tcpSeq',
  'tcpFlags',
  'icmpType',
  'icmpCode',
] as const;
export type RuleField = (typeof RULE_FIELDS)[number];

export const SourceClass = z.enum(['infected', 'benign', 'backscatter', 'unknown']);
export type SourceClass = z.infer<typeof SourceClass>;

/**
 * A user fingerprint rule: every listed field must match (AND). `seqEqualsDst` and
 * `ipIdFromDst` name the relational tests of the built-in fingerprints for reuse.
 */
export const FingerprintRule = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'rule names are 1-40 letters, digits, . _ -'),
    /** What a source matching this rule is. */
    class: SourceClass.default('infected'),
    match: z
      .object({
        protocol: FieldCondition.optional(),
        srcPort: FieldCondition.optional(),
        dstPort: FieldCondition.optional(),
        ttl: FieldCondition.optional(),
        ipId: FieldCondition.optional(),
        tcpSeq: FieldCondition.optional(),
        icmpType: FieldCondition.optional(),
        icmpCode: FieldCondition.optional(),
        /** Exact flag byte, e.g. 2 for a bare SYN. */
        tcpFlags: FieldCondition.optional(),
        seqEqualsDst: z.boolean().optional(),
      })
      .strict()
      .refine((m) => Object.keys(m).length > 0, 'a rule needs at least one condition'),
    /** Packets matching before the rule counts for a source. */
    minHits: z.number().int().min(1).default(3),
  })
  .strict();
export type FingerprintRule = z.infer<typeof FingerprintRule>;

export const RuleFile = z.object({ rules: z.array(FingerprintRule).max(32) }).strict();

export const DarknetConfig = z
  .object({
    /** Darknet prefixes (CIDR); packets to other destinations are counted and ignored. */
    prefixes: z.array(z.string()).default([]),
    sources: z
      .object({
        /** Table slots (a power of two is used); at most 3/4 are filled before expiry and refusal. */
        capacity: z
          .number()
          .int()
          .min(64)
          .max(1 << 24)
          .default(1 << 20),
        /** A source quiet this long (capture time) is expired and reported. */
        idleTimeoutMs: z
          .number()
          .int()
          .min(1000)
          .default(24 * 3600_000),
      })
      .prefault({}),
    classify: z
      .object({
        /** Fewest packets before a source is classified as anything but unknown. */
        minPackets: z.number().int().min(1).default(2),
        /** Share of a source's probes that must carry a fingerprint. */
        minFingerprintShare: z.number().min(0).max(1).default(0.5),
        /** Share of a source's packets that must be backscatter for the backscatter class. */
        minBackscatterShare: z.number().min(0).max(1).default(0.9),
        /** What each built-in fingerprint means. masscan and ZMap are tools researchers use too. */
        fingerprintClass: z
          .object({
            mirai: SourceClass.default('infected'),
            masscan: SourceClass.default('infected'),
            zmap: SourceClass.default('unknown'),
          })
          .prefault({}),
      })
      .prefault({}),
    rules: z.array(FingerprintRule).max(32).default([]),
    stats: z
      .object({
        /** Surges: a port's unique sources in 5 minutes versus its moving baseline. */
        surgeFactor: z.number().min(1).default(5),
        surgeMinSources: z.number().int().min(1).default(10),
        /** 5-minute buckets seen before surges are flagged (the baseline needs history). */
        surgeWarmupBuckets: z.number().int().min(0).default(12),
        /** Weight of the newest bucket in the baseline (exponential moving average). */
        baselineAlpha: z.number().min(0.001).max(1).default(0.1),
        topPorts: z.number().int().min(1).max(1000).default(20),
      })
      .prefault({}),
    /** Tier and TLP carried by indicator records for the hub. */
    indicators: z
      .object({
        tier: z.enum(['full', 'council', 'public']).default('full'),
        tlp: z.enum(['clear', 'green', 'amber', 'amber+strict', 'red']).default('amber'),
      })
      .prefault({}),
    /** ISPs whose infected hosts are listed apart, by prefix or by ASN (with an ASN file). */
    isps: z
      .array(
        z.object({
          name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
          prefixes: z.array(z.string()).default([]),
          asns: z.array(z.number().int().min(0)).default([]),
        }),
      )
      .default([]),
  })
  .prefault({});
export type DarknetConfig = z.infer<typeof DarknetConfig>;
