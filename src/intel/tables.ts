/**
 * intel's tables, as kysely table types. The store's Database type is composed from what the
 * rooms declare: this module adds intel's tables to it (store imports no room).
 */
import type { IsoTime } from '../store/index.ts';

export interface IndicatorTable {
  id: string;
  kind: string;
  value: string;
  /** 0 when the indicator has no port. */
  port: number;
  /** '' when the indicator has no protocol. */
  proto: string;
  family: string;
  confidence: number;
  tier: string;
  tlp: string;
  asn: number | null;
  /** JSON object: product, vendor, version, cve and other kind-specific details. */
  attributes: string;
  first_seen: IsoTime;
  last_seen: IsoTime;
  expires_at: IsoTime;
  withdrawn_at: IsoTime | null;
  withdrawn_reason: string | null;
  created_at: IsoTime;
  modified_at: IsoTime;
}

export interface SightingTable {
  id: string;
  indicator_id: string;
  source: string;
  confidence: number;
  count: number;
  first_seen: IsoTime;
  last_seen: IsoTime;
}

/** A published document that names the indicator, once per sighting (its source) and document. */
export interface SightingDocumentTable {
  sighting_id: string;
  /** The document's id in its source (OSINT: the SHA-256 of its content). */
  document: string;
  url: string;
  /** '' when the document has none. */
  title: string;
  /** The sentence around the value in the first copy read. */
  context: string;
  first_seen: IsoTime;
}

export interface RelationshipTable {
  id: string;
  from_id: string;
  to_id: string;
  type: string;
  source: string;
  first_seen: IsoTime;
  last_seen: IsoTime;
}

/** Live (not withdrawn) indicators per hour bucket (`hourOf`), kind, tier and TLP; kept by intel. */
export interface IndicatorTallyTable {
  hour: string;
  kind: string;
  tier: string;
  tlp: string;
  n: number;
}

declare module '../store/index.ts' {
  interface Database {
    indicators: IndicatorTable;
    sightings: SightingTable;
    sighting_documents: SightingDocumentTable;
    relationships: RelationshipTable;
    /** By hour of `expires_at`. */
    indicator_expiry_tally: IndicatorTallyTable;
    /** By hour of `created_at`. */
    indicator_created_tally: IndicatorTallyTable;
  }
}
