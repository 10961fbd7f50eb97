/**
 * STIX 2.1 mapping: intel indicators become indicator, infrastructure, observable, malware,
 * vulnerability, software, sighting, relationship and identity objects. Every object carries its
 * legal tier (a property extension defined here) and a TLP 2.0 marking. Lower tiers are made only
 * by named sanitisers that build NEW objects (new ids) from the full analysis, never by relabelling.
 */
import crypto, { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  TLPS,
  type Indicator,
  type Relationship,
  type Sighting,
  type Tier,
  type Tlp,
} from '../intel/index.ts';
import {
  addressedMarking,
  markingAllows,
  releasedTo,
  tierReader,
  type PublicNoticeDecision,
} from './release/index.ts';

export type StixObject = Record<string, unknown> & { type: string; id: string };

/** The OASIS TLP 2.0 marking-definition objects, with their fixed ids. */
const TLP2_EXTENSION = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';
const TLP_IDS: Record<Tlp, string> = {
  clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'amber+strict': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
};
export function tlpMarkingId(tlp: Tlp): string {
  return TLP_IDS[tlp];
}
export function tlpFromMarkingId(id: string): Tlp | undefined {
  return (Object.keys(TLP_IDS) as Tlp[]).find((k) => TLP_IDS[k] === id);
}
export function tlpMarkingDefinition(tlp: Tlp): StixObject {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id: TLP_IDS[tlp],
    created: '2022-10-01T00:00:00.000Z',
    name: `TLP:${tlp.toUpperCase()}`,
    extensions: { [TLP2_EXTENSION]: { extension_type: 'property-extension', tlp_2_0: tlp } },
  };
}

/** The tsunagi legal-tier property extension. */
export const TIER_EXTENSION_ID = 'extension-definition--f66f9732-e8aa-43a1-b50f-35efce09f709';

/** RFC 4122 version-5 UUID (SHA-1 over namespace and name). */
export function uuidv5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
/** The namespace STIX 2.1 fixes for deterministic observable ids. */
const SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';
/** tsunagi's own namespace for ids derived from intel rows. */
const TSUNAGI_NAMESPACE = 'd8d1b326-5ba9-402f-a58a-b85ad9a3ae01';

const NAMESPACE_BYTES = new Map<string, Buffer>();
/**
 * crypto.hash (Node 20.12 and later; engines allow 20.10): one call into OpenSSL, a third of what
 * a Hash object costs, which showed as a tenth of publishing. Hashed from a scratch buffer holding
 * the namespace bytes and then the name.
 */
const oneShotHash = (crypto as { hash?: typeof crypto.hash }).hash;
const SCRATCH = Buffer.allocUnsafe(4096);
/** uuidv5 with the namespace bytes parsed once (publishing derives hundreds of thousands of ids). */
function uuidv5Fast(name: string, namespace: string): string {
  let ns = NAMESPACE_BYTES.get(namespace);
  if (!ns) NAMESPACE_BYTES.set(namespace, (ns = Buffer.from(namespace.replace(/-/g, ''), 'hex')));
  let bytes: Buffer;
  // Three UTF-8 bytes at most per UTF-16 unit: a name that may not fit takes the Hash object.
  if (oneShotHash && name.length * 3 <= SCRATCH.length - ns.length) {
    ns.copy(SCRATCH, 0);
    const end = ns.length + SCRATCH.write(name, ns.length, 'utf8');
    bytes = oneShotHash('sha1', SCRATCH.subarray(0, end), 'buffer');
  } else {
    bytes = createHash('sha1').update(ns).update(name, 'utf8').digest();
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function sdoId(type: string, ...parts: string[]): string {
  return `${type}--${uuidv5Fast(`${type}|${parts.join('|')}`, TSUNAGI_NAMESPACE)}`;
}

/** Removes members left undefined (JSON would drop them; stored and validated objects must agree). */
export function dropUndefined(object: StixObject): StixObject {
  for (const key of Object.keys(object)) if (object[key] === undefined) delete object[key];
  return object;
}
function scoId(type: string, contributing: Record<string, unknown>): string {
  // Contributing properties as canonical JSON (keys sorted; here at most two plain keys).
  const keys = Object.keys(contributing).sort();
  const text = `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(contributing[k])}`).join(',')}}`;
  return `${type}--${uuidv5Fast(text, SCO_NAMESPACE)}`;
}

export interface HubIdentity {
  name: string;
  id: string;
}
export function hubIdentity(name = 'tsunagi analysis center'): HubIdentity {
  return { name, id: sdoId('identity', 'hub', name) };
}

/** The identity the hub names an organisation by in `created_by_ref` (set from its token, never from a body). */
export function organisationIdentityId(orgId: string): string {
  return sdoId('identity', 'organisation', orgId);
}

/**
 * Names the posting organisation as the creator: SDOs, SROs and marking definitions get its
 * identity in `created_by_ref`; observables (which have no creator in STIX 2.1) lose any.
 */
export function stampCreator(object: StixObject, orgId: string): StixObject {
  if (SCO_TYPES.has(object.type)) {
    if ('created_by_ref' in object) {
      const { created_by_ref: _dropped, ...rest } = object;
      return rest as StixObject;
    }
    return object;
  }
  return { ...object, created_by_ref: organisationIdentityId(orgId) };
}

/**
 * The tier extension's definition is what every reader needs to read the tier of what it gets:
 * public by nature, so tier public under TLP:CLEAR (as the hygiene extension's). The version of
 * 2026-12-05 is the first so marked; the earlier, unmarked one stays where it was stored, withheld
 * below the full tier as anything unlabelled is.
 */
export function tierExtensionDefinition(hub: HubIdentity): StixObject {
  const definition: StixObject = {
    type: 'extension-definition',
    spec_version: '2.1',
    id: TIER_EXTENSION_ID,
    created_by_ref: hub.id,
    created: '2026-01-01T00:00:00.000Z',
    modified: '2026-12-05T00:00:00.000Z',
    name: 'tsunagi legal tier',
    description:
      'The legal tier of the object under the Active Cyber Defense law: full (総合整理分析情報), council (提供用総合整理分析情報) or public (周知等用総合整理分析情報). A lower tier is only ever a new, sanitised object.',
    schema: 'https://github.com/tsunagi/tsunagi/blob/main/src/share/README.md#tier-extension',
    version: '1.0.0',
    extension_types: ['property-extension'],
  };
  return stamp(definition, 'public', 'clear');
}

/**
 * The OASIS TLP 2.0 marking definitions, as published, by id. They carry no marking of their own
 * (a marking definition may not mark itself, and changing them would make them other objects
 * under the same ids), yet they are public by nature: a stored version that is exactly one of
 * them is labelled public, TLP:CLEAR (`storedLabel` in collections.ts).
 */
const PUBLISHED_MARKING_DEFINITIONS: ReadonlyMap<string, string> = new Map(
  TLPS.map((tlp) => [TLP_IDS[tlp], JSON.stringify(tlpMarkingDefinition(tlp))]),
);

/** Whether an object is, byte for byte as stored, one of the OASIS TLP 2.0 marking definitions. */
export function isPublishedMarkingDefinition(object: StixObject): boolean {
  if (object.type !== 'marking-definition') return false;
  const published = PUBLISHED_MARKING_DEFINITIONS.get(object.id);
  return published !== undefined && JSON.stringify(object) === published;
}

/** The stored text of each OASIS TLP 2.0 marking definition (to re-label stored versions). */
export function publishedMarkingDefinitionTexts(): ReadonlyMap<string, string> {
  return PUBLISHED_MARKING_DEFINITIONS;
}

export function tierOf(object: Record<string, unknown>): Tier | undefined {
  const ext = (object.extensions as Record<string, { tier?: unknown }> | undefined)?.[TIER_EXTENSION_ID];
  const tier = ext?.tier;
  return tier === 'full' || tier === 'council' || tier === 'public' ? tier : undefined;
}

function identityObject(
  name: string,
  hub: HubIdentity,
  at: string,
  tier: Tier,
  tlp: Tlp,
  identityClass = 'organization',
): StixObject {
  return stamp(
    {
      type: 'identity',
      spec_version: '2.1',
      id: sdoId('identity', 'source', name),
      created: at,
      modified: at,
      name,
      identity_class: identityClass,
      created_by_ref: hub.id,
    },
    tier,
    tlp,
  );
}
export function hubIdentityObject(hub: HubIdentity, at: string, tier: Tier, tlp: Tlp): StixObject {
  return stamp(
    {
      type: 'identity',
      spec_version: '2.1',
      id: hub.id,
      created: at,
      modified: at,
      name: hub.name,
      identity_class: 'organization',
    },
    tier,
    tlp,
  );
}

export function stamp(object: StixObject, tier: Tier, tlp: Tlp): StixObject {
  object['object_marking_refs'] = [TLP_IDS[tlp]];
  object['extensions'] = {
    ...(object.extensions as object | undefined),
    [TIER_EXTENSION_ID]: { extension_type: 'property-extension', tier },
  };
  return object;
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function ipType(value: string): 'ipv4-addr' | 'ipv6-addr' {
  return value.includes(':') ? 'ipv6-addr' : 'ipv4-addr';
}

/** The STIX pattern for an indicator. */
export function patternFor(ind: Pick<Indicator, 'kind' | 'value' | 'port' | 'proto'>): string {
  switch (ind.kind) {
    case 'c2':
    case 'vulnerable-device': {
      const type = ipType(ind.value);
      if (!ind.port) return `[${type}:value = ${quote(ind.value)}]`;
      const parts = [
        `network-traffic:dst_ref.type = '${type}'`,
        `network-traffic:dst_ref.value = ${quote(ind.value)}`,
        `network-traffic:dst_port = ${ind.port}`,
      ];
      if (ind.proto) parts.push(`network-traffic:protocols[*] = ${quote(ind.proto)}`);
      return `[${parts.join(' AND ')}]`;
    }
    case 'bot':
      return `[${ipType(ind.value)}:value = ${quote(ind.value)}]`;
    case 'url':
      return `[url:value = ${quote(ind.value)}]`;
    case 'domain':
      return `[domain-name:value = ${quote(ind.value)}]`;
  }
}

function describe(ind: Indicator): string {
  const where = ind.port
    ? `${ind.value.includes(':') ? `[${ind.value}]` : ind.value}:${ind.port}${ind.proto ? `/${ind.proto}` : ''}`
    : ind.value;
  switch (ind.kind) {
    case 'c2':
      return `C&C server ${where}`;
    case 'bot':
      return `Infected host ${where}`;
    case 'vulnerable-device':
      return `Vulnerable device ${where}`;
    case 'url':
      return `Malicious URL ${where}`;
    case 'domain':
      return `Malicious domain ${where}`;
  }
}

/** The objects that make up one indicator at the full tier: the whole analysis. */
export interface MappingInput {
  indicator: Indicator;
  sightings: readonly Sighting[];
  /** Relationships where this indicator is the source (e.g. bot -> C&C). */
  relationships: readonly Relationship[];
  hub: HubIdentity;
  /** The analysis centre's public-notice decision on this indicator (the review queue), if any. */
  publicNotice?: PublicNoticeDecision;
}

/** Object ids that depend only on the indicator, so related indicators can point at each other. */
export function infrastructureId(indicatorId: string, tier: Tier): string {
  return sdoId('infrastructure', tier, indicatorId);
}
export function indicatorObjectId(indicatorId: string, tier: Tier): string {
  return sdoId('indicator', tier, indicatorId);
}
/** The id of the sighting object that stands for one source's report of an indicator at a tier. */
export function sightingObjectId(indicatorId: string, source: string, tier: Tier): string {
  return sdoId('sighting', tier, indicatorId, source);
}
export function malwareId(family: string, tier: Tier): string {
  return sdoId('malware', tier, family);
}

function observable(ind: Indicator, tier: Tier, tlp: Tlp): StixObject {
  const type = ind.kind === 'url' ? 'url' : ind.kind === 'domain' ? 'domain-name' : ipType(ind.value);
  return stamp(
    { type, spec_version: '2.1', id: scoId(type, { value: ind.value }), value: ind.value },
    tier,
    tlp,
  );
}

function relationship(
  type: string,
  source: string,
  target: string,
  at: string,
  created: string,
  hub: HubIdentity,
  tier: Tier,
  tlp: Tlp,
  extra: Record<string, unknown> = {},
): StixObject {
  return stamp(
    {
      type: 'relationship',
      spec_version: '2.1',
      id: sdoId('relationship', tier, source, type, target),
      created,
      modified: at,
      relationship_type: type,
      source_ref: source,
      target_ref: target,
      created_by_ref: hub.id,
      ...extra,
    },
    tier,
    tlp,
  );
}

/**
 * The full-tier objects for one indicator (tier 'full', the indicator's own TLP): sources named,
 * times kept. Objects that stand for shared things (malware families, identities, observables)
 * come back too; the publisher stores each once per collection.
 */
export function mapFull(input: MappingInput): StixObject[] {
  return mapAnalysis(input, 'full', input.indicator.tlp, true);
}

/** The analysis of one indicator at a tier: ids derive from the tier, so each tier's objects are new. */
function mapAnalysis(input: MappingInput, tier: Tier, tlp: Tlp, withSightings: boolean): StixObject[] {
  const { indicator: ind, hub } = input;
  const at = ind.modifiedAt;
  const created = ind.createdAt;
  const out: StixObject[] = [];
  const sco = observable(ind, tier, tlp);
  out.push(sco);
  const validUntil = ind.expiresAt > ind.firstSeen ? ind.expiresAt : undefined;
  const indicatorObject = stamp(
    {
      type: 'indicator',
      spec_version: '2.1',
      id: indicatorObjectId(ind.id, tier),
      created,
      modified: at,
      created_by_ref: hub.id,
      name: describe(ind),
      indicator_types: [
        ind.kind === 'bot'
          ? 'compromised'
          : ind.kind === 'vulnerable-device'
            ? 'unknown'
            : 'malicious-activity',
      ],
      pattern: patternFor(ind),
      pattern_type: 'stix',
      pattern_version: '2.1',
      valid_from: ind.firstSeen,
      ...(validUntil ? { valid_until: validUntil } : {}),
      confidence: ind.confidence,
      ...(ind.withdrawnAt ? { revoked: true } : {}),
      ...(ind.family ? { labels: [ind.family] } : {}),
    },
    tier,
    tlp,
  );
  out.push(indicatorObject);
  const analysis: Analysis = { input, tier, tlp, at, created, sco, indicatorObject };
  if (ind.kind === 'c2' || ind.kind === 'bot') out.push(...infrastructureObjects(analysis));
  if (ind.family) out.push(...familyObjects(analysis, ind.family));
  if (ind.kind === 'vulnerable-device') out.push(...deviceObjects(analysis));
  if (withSightings) out.push(...sightingObjects(analysis));
  // JSON drops undefined members; do it now so stored and validated objects are the same.
  return out.map(dropUndefined);
}

/** What every object of one indicator's analysis at a tier shares. */
interface Analysis {
  input: MappingInput;
  tier: Tier;
  tlp: Tlp;
  /** The indicator's modification and creation times. */
  at: string;
  created: string;
  /** The observable and the indicator object the other objects point to. */
  sco: StixObject;
  indicatorObject: StixObject;
}

/** A C2 server's or bot's infrastructure, what it consists of and whom it talks to. */
function infrastructureObjects(analysis: Analysis): StixObject[] {
  const { input, tier, tlp, at, created, sco, indicatorObject } = analysis;
  const { indicator: ind, hub } = input;
  const out: StixObject[] = [];
  const infra = stamp(
    {
      type: 'infrastructure',
      spec_version: '2.1',
      id: infrastructureId(ind.id, tier),
      created,
      modified: at,
      created_by_ref: hub.id,
      name: describe(ind),
      infrastructure_types: [ind.kind === 'c2' ? 'command-and-control' : 'botnet'],
      first_seen: ind.firstSeen,
      last_seen: ind.lastSeen,
      ...(ind.withdrawnAt ? { revoked: true } : {}),
    },
    tier,
    tlp,
  );
  out.push(infra);
  out.push(relationship('indicates', indicatorObject.id, infra.id, at, created, hub, tier, tlp));
  out.push(relationship('consists-of', infra.id, sco.id, at, created, hub, tier, tlp));
  for (const rel of input.relationships) {
    if (rel.fromId === ind.id && rel.type === 'communicates-with') {
      out.push(
        relationship(
          'communicates-with',
          infra.id,
          infrastructureId(rel.toId, tier),
          at,
          created,
          hub,
          tier,
          tlp,
          { start_time: rel.firstSeen, stop_time: rel.lastSeen > rel.firstSeen ? rel.lastSeen : undefined },
        ),
      );
    }
  }
  return out;
}

/** The malware family an indicator belongs to, and what it indicates or controls. */
function familyObjects(analysis: Analysis, family: string): StixObject[] {
  const { input, tier, tlp, at, created, indicatorObject } = analysis;
  const { indicator: ind, hub } = input;
  const out: StixObject[] = [];
  const malware = stamp(
    {
      type: 'malware',
      spec_version: '2.1',
      id: malwareId(family, tier),
      created,
      modified: created,
      created_by_ref: hub.id,
      name: family,
      is_family: true,
      malware_types: ['bot'],
    },
    tier,
    tlp,
  );
  out.push(malware);
  out.push(relationship('indicates', indicatorObject.id, malware.id, at, created, hub, tier, tlp));
  if (ind.kind === 'c2')
    out.push(
      relationship('controls', infrastructureId(ind.id, tier), malware.id, at, created, hub, tier, tlp),
    );
  return out;
}

/** A vulnerable device's software and CVE. */
function deviceObjects(analysis: Analysis): StixObject[] {
  const { input, tier, tlp, at, created, sco } = analysis;
  const { indicator: ind, hub } = input;
  const out: StixObject[] = [];
  const { product, vendor, version, cve } = ind.attributes;
  if (product) {
    const software = stamp(
      {
        type: 'software',
        spec_version: '2.1',
        id: scoId('software', {
          name: product,
          ...(vendor ? { vendor } : {}),
          ...(version ? { version } : {}),
        }),
        name: product,
        ...(vendor ? { vendor } : {}),
        ...(version ? { version } : {}),
      },
      tier,
      tlp,
    );
    out.push(software);
    out.push(relationship('related-to', sco.id, software.id, at, created, hub, tier, tlp));
  }
  if (cve && /^CVE-\d{4}-\d{4,}$/.test(cve)) {
    const vuln = stamp(
      {
        type: 'vulnerability',
        spec_version: '2.1',
        id: sdoId('vulnerability', tier, cve),
        created,
        modified: created,
        created_by_ref: hub.id,
        name: cve,
        external_references: [{ source_name: 'cve', external_id: cve }],
      },
      tier,
      tlp,
    );
    out.push(vuln);
    out.push(relationship('related-to', sco.id, vuln.id, at, created, hub, tier, tlp));
  }
  return out;
}

/** Who saw the indicator: one identity and one sighting per source. */
function sightingObjects(analysis: Analysis): StixObject[] {
  const { input, tier, tlp, at, created, indicatorObject } = analysis;
  const { indicator: ind, hub } = input;
  const out: StixObject[] = [];
  for (const s of input.sightings) {
    const identity = identityObject(s.source, hub, created, tier, tlp);
    out.push(identity);
    out.push(
      stamp(
        {
          type: 'sighting',
          spec_version: '2.1',
          id: sightingObjectId(ind.id, s.source, tier),
          created,
          modified: at,
          created_by_ref: hub.id,
          sighting_of_ref: indicatorObject.id,
          where_sighted_refs: [identity.id],
          first_seen: s.firstSeen,
          last_seen: s.lastSeen > s.firstSeen ? s.lastSeen : undefined,
          count: Math.min(s.count, 999_999_999),
          confidence: s.confidence,
        },
        tier,
        tlp,
      ),
    );
  }
  return out;
}

/** A sanitiser: a named rule that builds a lower-tier product from full-tier facts. */
export interface Sanitiser {
  readonly name: string;
  readonly from: Tier;
  readonly to: Tier;
  /** Undefined when this indicator must not reach the target tier at all. */
  apply(input: MappingInput): StixObject[] | undefined;
}

function startOfDay(iso: string): string {
  return `${iso.slice(0, 10)}T00:00:00.000Z`;
}

/**
 * Shared shape of both sanitisers: new ids (derived with the target tier), no sightings or source
 * identities, no first/last seen, validity from the start of the day only (no observation times),
 * AMBER+STRICT or CLEAR markings.
 */
function sanitise(input: MappingInput, to: Tier, tlp: Tlp, keepConfidence: boolean): StixObject[] {
  const { indicator: ind, hub } = input;
  const created = startOfDay(ind.createdAt);
  const at = ind.modifiedAt;
  const out: StixObject[] = [];
  const sco = observable(ind, to, tlp);
  out.push(sco);
  const indicatorObject = stamp(
    {
      type: 'indicator',
      spec_version: '2.1',
      id: indicatorObjectId(ind.id, to),
      created,
      modified: at,
      created_by_ref: hub.id,
      name: describe(ind),
      indicator_types: [ind.kind === 'bot' ? 'compromised' : 'malicious-activity'],
      pattern: patternFor(ind),
      pattern_type: 'stix',
      pattern_version: '2.1',
      valid_from: created,
      ...(keepConfidence ? { confidence: ind.confidence } : {}),
      ...(ind.withdrawnAt ? { revoked: true } : {}),
      ...(ind.family ? { labels: [ind.family] } : {}),
    },
    to,
    tlp,
  );
  out.push(indicatorObject);
  if (ind.kind === 'c2') {
    const infra = stamp(
      {
        type: 'infrastructure',
        spec_version: '2.1',
        id: infrastructureId(ind.id, to),
        created,
        modified: at,
        created_by_ref: hub.id,
        name: describe(ind),
        infrastructure_types: ['command-and-control'],
        ...(ind.withdrawnAt ? { revoked: true } : {}),
      },
      to,
      tlp,
    );
    out.push(
      infra,
      relationship('indicates', indicatorObject.id, infra.id, at, created, hub, to, tlp),
      relationship('consists-of', infra.id, sco.id, at, created, hub, to, tlp),
    );
    if (ind.family)
      out.push(relationship('controls', infra.id, malwareId(ind.family, to), at, created, hub, to, tlp));
  }
  if (ind.family) {
    out.push(
      stamp(
        {
          type: 'malware',
          spec_version: '2.1',
          id: malwareId(ind.family, to),
          created,
          modified: created,
          created_by_ref: hub.id,
          name: ind.family,
          is_family: true,
          malware_types: ['bot'],
        },
        to,
        tlp,
      ),
    );
    out.push(
      relationship('indicates', indicatorObject.id, malwareId(ind.family, to), at, created, hub, to, tlp),
    );
  }
  return out.map(dropUndefined);
}

/** Kinds that name a subscriber's host: never shared beyond the full tier except to its own ISP. */
const HOST_KINDS = new Set(['bot', 'vulnerable-device']);

/**
 * The broadcast sanitisers. What reaches a tier, and under which marking, is the release rule's
 * (release/index.ts): the sanitiser only builds the new objects of the copy it allows.
 */
export const SANITISERS: Record<'council-v1' | 'public-v1', Sanitiser> = {
  'council-v1': {
    name: 'council-v1',
    from: 'full',
    to: 'council',
    apply(input) {
      const copy = releasedTo(input.indicator, tierReader('council'));
      return copy ? sanitise(input, 'council', copy.tlp, true) : undefined;
    },
  },
  'public-v1': {
    name: 'public-v1',
    from: 'full',
    to: 'public',
    apply(input) {
      const copy = releasedTo(input.indicator, tierReader('public'), input.publicNotice);
      return copy ? sanitise({ ...input, indicator: copy.indicator }, 'public', copy.tlp, false) : undefined;
    },
  },
};

/**
 * `own-network-v1`: an infected host or vulnerable device for the one organisation whose prefixes
 * or AS numbers hold it (its ISP), in that organisation's own-network collection. New objects at
 * the council tier under TLP:AMBER+STRICT (the organisation alone; the release rule lets only an
 * organisation cleared for the council tier read them); observation times stay (an ISP needs them
 * to find the subscriber behind a dynamic address), sources and sightings go. Only host kinds;
 * never RED.
 */
export const OWN_NETWORK_SANITISER: Sanitiser = {
  name: 'own-network-v1',
  from: 'full',
  to: 'council',
  apply(input) {
    const ind = input.indicator;
    const marking = addressedMarking(ind, true);
    if (!HOST_KINDS.has(ind.kind) || !markingAllows({ tier: 'council' }, marking.tier, marking.tlp))
      return undefined;
    return mapAnalysis(input, marking.tier, marking.tlp, false);
  },
};

/** Cyber-observable types: no created/modified/spec_version requirement. */
const SCO_TYPES = new Set([
  'ipv4-addr',
  'ipv6-addr',
  'url',
  'domain-name',
  'software',
  'network-traffic',
  'file',
  'autonomous-system',
  'mac-addr',
  'email-addr',
]);

const IDENTIFIER =
  /^[a-z][a-z0-9-]{1,248}--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const TYPE_NAME = /^[a-z][a-z0-9-]{1,248}$/;
const Identifier = z.string().regex(IDENTIFIER);
const Timestamp = z.string().regex(TIMESTAMP);
/** The common properties every STIX object posted to the hub must have (full schemas run in tests). */
export const StixCommon = z
  .object({
    type: z.string().regex(TYPE_NAME),
    id: Identifier,
    spec_version: z.literal('2.1').optional(),
    created: Timestamp.optional(),
    modified: Timestamp.optional(),
    object_marking_refs: z.array(Identifier).optional(),
  })
  .loose()
  .superRefine((o, ctx) => {
    if (!o.id.startsWith(`${o.type}--`))
      ctx.addIssue({ code: 'custom', message: 'id does not start with its type' });
    const sco = SCO_TYPES.has(o.type);
    if (!sco && o.type !== 'marking-definition' && (!o.created || !o.modified))
      ctx.addIssue({ code: 'custom', message: 'created and modified are required' });
    if (!sco && !o.spec_version) ctx.addIssue({ code: 'custom', message: 'spec_version 2.1 is required' });
  });

const optionalTimestamp = (v: unknown) => v === undefined || (typeof v === 'string' && TIMESTAMP.test(v));

/**
 * Exactly what `StixCommon` accepts, without building a parsed copy: a 1000-object POST checks
 * each object here and asks `StixCommon` only for the message of one that fails.
 */
export function isStixCommon(value: unknown): value is StixObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const o = value as Record<string, unknown>;
  const { type, id, spec_version: specVersion, created, modified } = o;
  if (typeof type !== 'string' || !TYPE_NAME.test(type)) return false;
  if (typeof id !== 'string' || !IDENTIFIER.test(id) || !id.startsWith(`${type}--`)) return false;
  if (specVersion !== undefined && specVersion !== '2.1') return false;
  if (!optionalTimestamp(created) || !optionalTimestamp(modified)) return false;
  const markings = o.object_marking_refs;
  if (markings !== undefined) {
    if (!Array.isArray(markings)) return false;
    for (const m of markings) if (typeof m !== 'string' || !IDENTIFIER.test(m)) return false;
  }
  const sco = SCO_TYPES.has(type);
  if (!sco && type !== 'marking-definition' && (!created || !modified)) return false;
  if (!sco && !specVersion) return false;
  return true;
}
