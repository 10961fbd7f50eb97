/**
 * The campaign clustering's input: the store's malicious hosts, with what the operator knows of
 * their infrastructure and the kit paths of their stored URLs.
 */
import { z } from 'zod';
import { InputError } from '../../core/index.ts';
import { normaliseUrl, UrlInputError } from '../normalise.ts';
import type { HostSummary, NormalisedUrl } from '../types.ts';
import type { CampaignHost } from './cluster.ts';
import { kitPathTemplate } from './kit-paths.ts';

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

/** Kit paths kept per host: a kit lives on a few paths, and a host of thousands of URLs must not flood the ties. */
export const KIT_PATHS_PER_HOST = 20;

/**
 * The hosts with the kit-path templates of their stored URLs (`urls`: every stored URL of these
 * hosts, read in one pass), without repeats, the first `perHost` in URL order.
 */
export async function withKitPaths(
  hosts: readonly CampaignHost[],
  urls: (hosts: readonly string[]) => AsyncIterable<{ host: string; url: string }>,
  perHost = KIT_PATHS_PER_HOST,
): Promise<CampaignHost[]> {
  const paths = new Map<string, Set<string>>();
  for await (const { host, url } of urls(hosts.map((h) => h.host))) {
    const held = paths.get(host) ?? new Set<string>();
    if (held.size >= perHost) continue;
    let keys: NormalisedUrl;
    try {
      keys = normaliseUrl(url);
    } catch (error) {
      // Stored URLs were normalised on the way in; one that no longer parses has no path to give.
      if (error instanceof UrlInputError) continue;
      throw error;
    }
    const template = kitPathTemplate(keys);
    if (template === null) continue;
    held.add(template);
    paths.set(host, held);
  }
  return hosts.map((h) => {
    const found = paths.get(h.host);
    return found ? { ...h, kitPaths: [...found] } : h;
  });
}
