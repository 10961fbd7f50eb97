/** The TAXII benchmark's data, shared by run.ts and the profiling scripts beside it. */
import { randomUUID } from 'node:crypto';
import type { SightingInput } from '../../src/intel/index.ts';

/** Envelopes of 1000 new C&C indicators, the same for every server. */
export function makeEnvelopes(count: number): string[] {
  const at = '2026-01-01T00:00:00.000Z';
  return Array.from({ length: count }, (_, e) =>
    JSON.stringify({
      objects: Array.from({ length: 1000 }, (_, j) => ({
        type: 'indicator',
        spec_version: '2.1',
        id: `indicator--${randomUUID()}`,
        created: at,
        modified: at,
        name: `C&C server 172.${16 + (e >> 8)}.${e & 255}.${j & 255}:${8000 + (j >> 8)}`,
        indicator_types: ['malicious-activity'],
        pattern: `[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '172.${16 + (e >> 8)}.${e & 255}.${j & 255}' AND network-traffic:dst_port = ${8000 + (j >> 8)}]`,
        pattern_type: 'stix',
        valid_from: at,
      })),
    }),
  );
}

/** The n-th C&C sighting the benchmark records: a mix of sources, families, tiers and TLPs. */
export function sighting(n: number): SightingInput {
  return {
    type: 'c2',
    value: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    port: 443 + (n >> 24),
    proto: 'tcp',
    ...(n % 7 === 0 ? { family: 'mirai' } : {}),
    source: `isp-${n % 3}`,
    confidence: 50 + (n % 40),
    tier: n % 5 === 0 ? 'full' : n % 2 === 0 ? 'council' : 'public',
    tlp: n % 2 === 0 ? 'amber' : 'clear',
  };
}
