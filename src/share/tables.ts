/**
 * share's tables, as kysely table types. The store's Database type is composed from what the
 * rooms declare: this module adds share's tables to it (store imports no room).
 */
import type { Generated } from 'kysely';
import type { IsoTime } from '../store/index.ts';

export interface OrganisationTable {
  id: string;
  name: string;
  role: string;
  consent_at: IsoTime | null;
  consent_terms: string | null;
  /** JSON array of CIDR strings. */
  prefixes: string;
  /** JSON array of AS numbers. */
  asns: string;
  created_at: IsoTime;
}

export interface TokenTable {
  id: string;
  org_id: string;
  /** SHA-256 of the token, hex; the token itself is never stored. */
  hash: string;
  /** JSON array of scope names. */
  scopes: string;
  label: string;
  created_at: IsoTime;
  revoked_at: IsoTime | null;
}

export interface AuditTable {
  seq: Generated<number>;
  at: IsoTime;
  actor: string;
  action: string;
  target: string;
  reason: string;
  /** JSON text, as hashed. */
  detail: string;
  prev_hash: string;
  hash: string;
}

/** A signed checkpoint of the audit chain: the head hash after record `seq`. */
export interface AuditCheckpointTable {
  seq: number;
  head: string;
  at: IsoTime;
  /** The signer's ed25519 public key, raw 32 bytes in base64url. */
  key: string;
  /** ed25519 over checkpointMessage(seq, head, at), base64url. */
  signature: string;
}

export interface CollectionTable {
  id: string;
  api_root: string;
  title: string;
  description: string;
  /** The most restricted tier an object in this collection may carry. */
  ceiling: string;
  /** The least tier a reader needs. */
  read_tier: string;
  /** The least tier a writer needs; null: nobody writes over TAXII. */
  write_tier: string | null;
  /** 1: posted objects are also merged into intel as submissions of the posting organisation. */
  ingest: number;
  created_at: IsoTime;
  /** Set when only this organisation may see the collection (its own network's findings). */
  owner_org_id: string | null;
}

export interface StixObjectTable {
  seq: Generated<number>;
  collection_id: string;
  object_id: string;
  /** `objectKey(collection_id, object_id)` (object-key.ts): what lookups by id go through. */
  object_key: number;
  object_type: string;
  spec_version: string;
  version: IsoTime;
  date_added: IsoTime;
  is_latest: number;
  tier: string;
  tlp: string;
  body: string;
}

/** Who posted an object over TAXII (objects without a row are the hub's own). */
export interface StixOwnerTable {
  collection_id: string;
  object_id: string;
  owner_org_id: string;
  created_at: IsoTime;
}

/** The analysis centre's review queue: what a submitter asked to reach public notice. */
export interface ShareReviewTable {
  id: string;
  indicator_id: string;
  kind: string;
  value: string;
  port: number;
  proto: string;
  /** The submitting organisation's name. */
  submitted_by: string;
  claimed_tier: string;
  /** pending, approved or refused. */
  status: string;
  /** The family public notice prints ('' keeps intel's). */
  family: string;
  note: string;
  created_at: IsoTime;
  decided_at: IsoTime | null;
  decided_by: string | null;
}

export interface TaxiiStatusTable {
  id: string;
  api_root: string;
  org_id: string;
  status: string;
  request_timestamp: IsoTime;
  total: number;
  success: number;
  failure: number;
  pending: number;
  /** JSON: { successes: [...], failures: [...] } */
  details: string;
}

declare module '../store/index.ts' {
  interface Database {
    organisations: OrganisationTable;
    tokens: TokenTable;
    audit_log: AuditTable;
    audit_checkpoints: AuditCheckpointTable;
    collections: CollectionTable;
    stix_objects: StixObjectTable;
    stix_owners: StixOwnerTable;
    share_reviews: ShareReviewTable;
    taxii_status: TaxiiStatusTable;
  }
}
