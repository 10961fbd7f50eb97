/** What the detector hands out: candidates with their evidence, and the shareable row. */

/** The counts and sub-scores that made a candidate, so an analyst can check it without raw data. */
export interface Evidence {
  /** Distinct known bots with an established exchange. */
  bots: number;
  /** Distinct other clients (uninfected or unknown), estimated. */
  clients: number;
  flows: number;
  botFlows: number;
  meanBytesPerFlow: number;
  sdBytesPerFlow: number;
  /** Persistence windows with bot contact. */
  windowsSeen: number;
  /** Bot-to-destination gaps measured, their mean (s) and recent coefficient of variation. */
  gaps: number;
  meanGapS: number;
  gapCv: number;
  /** True when the port is one the bots scan. */
  scanPort: boolean;
  /** Sub-scores in [0, 1]; confidence = 100 * bots * exclusivity * weighted(quality terms). */
  sub: { bots: number; exclusivity: number; persistence: number; port: number; periodicity: number };
}

export interface Candidate {
  /** `ip|port|proto`, stable across publish and withdraw. */
  key: string;
  ip: string;
  port: number;
  /** IANA protocol number. */
  proto: number;
  /** 0-100. */
  confidence: number;
  /** Empty when unknown. */
  family: string;
  evidence: Evidence;
  /** Internal only: never in the shareable list. */
  firstSeenMs: number;
  lastSeenMs: number;
}

/** The shareable list row: exactly these fields and nothing else (no times, no subscribers). */
export interface ShareRow {
  ip: string;
  port: number;
  /** tcp, udp, ... or the protocol number. */
  proto: string;
  confidence: number;
  family: string;
}

export { C2_LIST_HEADER as SHARE_HEADER } from '../core/c2list.ts';
