/**
 * The campaign clustering's input: the store's malicious hosts, with what the operator knows of
 * their infrastructure and the kit paths of their stored URLs.
 */
import { z } from 'zod';
import { InputError } from '../../core/index.ts';
import { normaliseStoredUrl } from '../normalise.ts';
import type { HostSummary, NormalisedUrl } from '../types.ts';
import type { CampaignHost } from './cluster.ts';
import type { KitPathTieRow } from '../read.ts';
import { kitPathTemplate, pathTemplate } from './kit-paths.ts';
import { suffixPathKey, type SuffixRisk } from './suffix-paths.ts';

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
 * The hosts with the kit-path templates and the suffix paths (suffixPathKey, by `suffixRisk`) of
 * their stored URLs (`urls`: every stored URL of these hosts, read in one pass), without repeats,
 * the first `perHost` of each in URL order.
 */
export async function withKitPaths(
  hosts: readonly CampaignHost[],
  urls: (hosts: readonly string[]) => AsyncIterable<{ host: string; url: string }>,
  suffixRisk: SuffixRisk,
  perHost = KIT_PATHS_PER_HOST,
): Promise<CampaignHost[]> {
  const found = new Map<string, { kitPaths: Set<string>; suffixPaths: Set<string> }>();
  const add = (held: Set<string>, key: string | null) => {
    if (key !== null && held.size < perHost) held.add(key);
  };
  for await (const { host, url } of urls(hosts.map((h) => h.host))) {
    let held = found.get(host);
    // A host of thousands of URLs is read past its caps, not normalised past them.
    if (held && held.kitPaths.size >= perHost && held.suffixPaths.size >= perHost) continue;
    const keys = normaliseStoredUrl(url);
    if (!keys) continue;
    if (!held) found.set(host, (held = { kitPaths: new Set(), suffixPaths: new Set() }));
    add(held.kitPaths, kitPathTemplate(keys));
    add(held.suffixPaths, suffixPathKey(keys, suffixRisk));
  }
  return hosts.map((h) => {
    const held = found.get(h.host);
    return {
      ...h,
      ...(held?.kitPaths.size ? { kitPaths: [...held.kitPaths] } : {}),
      ...(held?.suffixPaths.size ? { suffixPaths: [...held.suffixPaths] } : {}),
    };
  });
}

/**
 * What a host tied by a kit path or a suffix path alone can join: the kit-path templates and suffix
 * paths these hosts carry. (A registered-domain tie can always join: its domain's campaign.)
 */
export interface CarriedTies {
  paths: ReadonlySet<string>;
  suffixPaths: ReadonlySet<string>;
}

export function carriedTies(hosts: readonly CampaignHost[]): CarriedTies {
  return {
    paths: new Set(hosts.flatMap((h) => h.kitPaths ?? [])),
    suffixPaths: new Set(hosts.flatMap((h) => h.suffixPaths ?? [])),
  };
}

/**
 * Which of these stored URLs the reader may see (the caller's release decision), asked once for
 * them all.
 */
export type ReadableUrls = (urls: readonly string[]) => ReadonlySet<string> | Promise<ReadonlySet<string>>;

/**
 * Hosts tied to a kit by their stored URLs alone (`ties`: readKitPathTies, URLs a kit path made
 * malicious on hosts whose name is not), as clustering sees them: `kitPathOnly`, no brand (the
 * name is not the evidence), the templates of those URLs only and the time they were seen. Hosts
 * in `clustered` (malicious by name, whether or not the reader may see them) are left out, and
 * so is every URL `readableUrls` leaves out: such a host shows only through URLs the reader may
 * see. A URL whose template or suffix path (as its tie stood) no clustered host carries
 * (`carried`: carriedTies) could join nothing and is not asked about; a registered-domain tie's
 * URL always could (clusterCampaigns). The rest are asked in one call.
 */
export async function kitPathOnlyHosts(
  ties: AsyncIterable<KitPathTieRow>,
  clustered: ReadonlySet<string>,
  carried: CarriedTies,
  readableUrls: ReadableUrls = (urls) => new Set(urls),
): Promise<CampaignHost[]> {
  const joinable: { tie: KitPathTieRow; keys: NormalisedUrl; template: string | null }[] = [];
  for await (const tie of ties) {
    if (clustered.has(tie.host)) continue;
    const keys = normaliseStoredUrl(tie.url);
    if (!keys) continue;
    // The template the memory matched (kit_path(template)), kit words already checked then; for a
    // registered-domain tie, its domain (one a clustered host carries, or one its tied hosts make a
    // campaign of: clusterCampaigns); for a suffix-path tie, its key.
    const path = pathTemplate(keys.path);
    const byKitPath = !tie.byDomain && tie.suffixPath === null;
    const template = byKitPath && path !== null && carried.paths.has(path) ? path : null;
    const domain = tie.byDomain && keys.registrableDomain !== null;
    const suffixPath = tie.suffixPath !== null && carried.suffixPaths.has(tie.suffixPath);
    if (template !== null || domain || suffixPath) joinable.push({ tie, keys, template });
  }
  if (joinable.length === 0) return [];
  const readable = await readableUrls(joinable.map(({ tie }) => tie.url));
  const byHost = new Map<string, CampaignHost & { kitPaths: string[] }>();
  for (const { tie, keys, template } of joinable) {
    if (!readable.has(tie.url)) continue;
    const held = byHost.get(tie.host);
    if (!held) {
      byHost.set(tie.host, {
        host: tie.host,
        registrableDomain: keys.registrableDomain,
        publicSuffix: keys.publicSuffix,
        privateSuffix: keys.privateSuffix,
        brand: null,
        firstSeen: tie.firstSeen,
        lastSeen: tie.lastSeen,
        kitPaths: template === null ? [] : [template],
        kitPathOnly: true,
        ...(tie.byDomain ? { joinsDomain: true } : {}),
        ...(tie.suffixPath !== null ? { suffixPaths: [tie.suffixPath] } : {}),
      });
      continue;
    }
    if (template !== null && held.kitPaths.length < KIT_PATHS_PER_HOST && !held.kitPaths.includes(template))
      held.kitPaths.push(template);
    if (tie.firstSeen < held.firstSeen) held.firstSeen = tie.firstSeen;
    if (tie.lastSeen > held.lastSeen) held.lastSeen = tie.lastSeen;
  }
  return [...byHost.values()];
}
