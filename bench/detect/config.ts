/**
 * What the detector is told in every detect benchmark: what the operator would configure
 * (subscriber prefixes, the shared-address rule of a MAP-E or DS-Lite pool, the IPv6 home prefix
 * length), and nothing else from the truth.
 */
import type { SeededTruth } from '../../src/scenario/index.ts';

/** The raw configuration (before DetectConfig.parse); `extra` adds settings a tool varies, e.g. scoring. */
export function detectorConfig(
  truth: SeededTruth,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const plan = truth.addressPlan;
  const config: Record<string, unknown> = { subscriberPrefixes: truth.subscriberPrefixes, ...extra };
  if (plan.v4 !== 'dedicated')
    config.sharedAddressRules = [
      { kind: plan.v4, pool: plan.v4Prefix, psidLength: plan.psidLength, psidOffset: plan.psidOffset },
    ];
  if (plan.v6 !== 'none') config.homePrefixLength6 = plan.v6;
  return config;
}
