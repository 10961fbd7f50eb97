/** The campaign clustering's input: the store's malicious hosts, with what the operator knows of their infrastructure. */
import { z } from 'zod';
import { InputError } from '../../core/index.ts';
import type { HostSummary, NormalisedUrl } from '../types.ts';
import type { CampaignHost } from './cluster.ts';

/** One host's infrastructure as the operator gives it (a JSON array of these). */
export const HostInfrastructure = z
  .object({
    host: z.string().min(1).max(253),
    ip: z.union([z.ipv4(), z.ipv6()]).optional(),
    asn: z.number().int().min(0).max(4294967295).optional(),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/)
      .optional(),
    kitMarkers: z.array(z.string().min(1).max(200)).max(100).optional(),
  })
  .strict();
export type HostInfrastructure = z.infer<typeof HostInfrastructure>;

/** Parses an infrastructure file's text; InputError (exit 2) naming the first bad entry. */
export function parseInfrastructure(text: string): Map<string, HostInfrastructure> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InputError('infrastructure: not JSON');
  }
  const parsed = z.array(HostInfrastructure).max(1_000_000).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`infrastructure: ${issue.path.join('.') || 'top level'}: ${issue.message}`);
  }
  return new Map(parsed.data.map((entry) => [entry.host.toLowerCase().replace(/\.$/, ''), entry]));
}

/** A stored malicious host as clustering sees it, joined with its known infrastructure. */
export function campaignHostOf(
  summary: HostSummary,
  keys: Pick<NormalisedUrl, 'publicSuffix' | 'privateSuffix'>,
  infrastructure?: HostInfrastructure,
): CampaignHost {
  return {
    host: summary.host,
    registrableDomain: summary.registrableDomain,
    publicSuffix: keys.publicSuffix,
    privateSuffix: keys.privateSuffix,
    brand: summary.brands[0] ?? null,
    firstSeen: summary.firstSeen,
    lastSeen: summary.lastSeen,
    ...(infrastructure?.ip ? { ip: infrastructure.ip } : {}),
    ...(infrastructure?.asn !== undefined ? { asn: infrastructure.asn } : {}),
    ...(infrastructure?.country ? { country: infrastructure.country } : {}),
    ...(infrastructure?.kitMarkers ? { kitMarkers: infrastructure.kitMarkers } : {}),
  };
}
