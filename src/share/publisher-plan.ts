/**
 * What one page of intel changes becomes in the collections: per collection, the versioned
 * objects (indicators, infrastructure, sightings), the shared ones (identities, malware,
 * markings: written once), and the ids that need a revoked version. A pure function: the
 * publisher writes the plan in one transaction with its watermark.
 */
import { PrefixSet } from '../core/index.ts';
import type { Indicator, Tier } from '../intel/index.ts';
import { COLLECTION_IDS, OWN_NETWORK_TIER, SHARED_TYPES } from './collections.ts';
import {
  indicatorObjectId,
  infrastructureId,
  mapFull,
  OWN_NETWORK_SANITISER,
  SANITISERS,
  sightingObjectId,
  type MappingInput,
  type StixObject,
} from './stix.ts';

/** An organisation's own network: where its infected hosts and vulnerable devices are published. */
export interface OwnNetwork {
  orgId: string;
  collectionId: string;
  prefixes: PrefixSet;
  asns: Set<number>;
}

/** Indicator kinds that name a subscriber's host: they reach only the ISP owning the address. */
const OWN_NETWORK_KINDS = new Set(['bot', 'vulnerable-device']);

export function inNetwork(network: OwnNetwork, indicator: Indicator): boolean {
  if (indicator.asn !== null && network.asns.has(indicator.asn)) return true;
  try {
    return network.prefixes.hasText(indicator.value);
  } catch {
    return false;
  }
}

export interface PublishPlan {
  versioned: Map<string, StixObject[]>;
  shared: Map<string, StixObject[]>;
  /** Per collection: object ids that may no longer be there, and the modified time of their revocation. */
  refused: Map<string, { ids: string[]; modified: Map<string, string> }>;
}

/** Splits a sanitiser's product into versioned and shared objects. */
function splitShared(objects: readonly StixObject[]): [StixObject[], StixObject[]] {
  return [objects.filter((o) => !SHARED_TYPES.has(o.type)), objects.filter((o) => SHARED_TYPES.has(o.type))];
}

/**
 * The plan for a page. `sources` are every source whose sightings were ever published (updated
 * here with this page's): a source published before and not reporting now gets its sighting
 * object revoked in the full collection.
 */
export function planPage(
  inputs: readonly MappingInput[],
  networks: readonly OwnNetwork[],
  sources: Set<string>,
): PublishPlan {
  const plan: PublishPlan = { versioned: new Map(), shared: new Map(), refused: new Map() };
  const put = (collection: string, objects: readonly StixObject[]) => {
    const [versioned, shared] = splitShared(objects);
    for (const [map, list] of [
      [plan.versioned, versioned],
      [plan.shared, shared],
    ] as const) {
      let into = map.get(collection);
      if (!into) map.set(collection, (into = []));
      into.push(...list);
    }
  };
  const revoke = (collection: string, ids: readonly string[], modifiedAt: string) => {
    let r = plan.refused.get(collection);
    if (!r) plan.refused.set(collection, (r = { ids: [], modified: new Map() }));
    for (const id of ids) {
      r.ids.push(id);
      r.modified.set(id, modifiedAt);
    }
  };
  const productIds = (indicator: Indicator, tier: Tier) => [
    indicatorObjectId(indicator.id, tier),
    infrastructureId(indicator.id, tier),
  ];

  for (const input of inputs) for (const s of input.sightings) sources.add(s.source);
  for (const input of inputs) {
    const indicator = input.indicator;
    const reporting = new Set(input.sightings.map((s) => s.source));
    for (const source of sources)
      if (!reporting.has(source))
        revoke(COLLECTION_IDS.full, [sightingObjectId(indicator.id, source, 'full')], indicator.modifiedAt);
    put(COLLECTION_IDS.full, mapFull(input));
    for (const [sanitiser, collection, tier] of [
      [SANITISERS['council-v1'], COLLECTION_IDS.council, 'council'],
      [SANITISERS['public-v1'], COLLECTION_IDS.public, 'public'],
    ] as const) {
      const out = sanitiser.apply(input);
      if (out) put(collection, out);
      else revoke(collection, productIds(indicator, tier), indicator.modifiedAt);
    }
    if (OWN_NETWORK_KINDS.has(indicator.kind)) {
      const owners = networks.filter((n) => inNetwork(n, indicator));
      const out = owners.length ? OWN_NETWORK_SANITISER.apply(input) : undefined;
      for (const network of owners) {
        if (out) put(network.collectionId, out);
        else revoke(network.collectionId, productIds(indicator, OWN_NETWORK_TIER), indicator.modifiedAt);
      }
    }
  }
  return plan;
}
