/** What the detector hands out: candidates and P2P peers with their evidence, and the shareable row. */

/** The counts and sub-scores that made a candidate, so an analyst can check it without raw data. */
export interface Evidence {
  /** Distinct listed bot homes with an established exchange. */
  bots: number;
  /** Of the bots tracked one by one: those that came back (enough contacts, or a held session). */
  returningBots: number;
  returningShare: number;
  /** Mean contacts per contributing bot. */
  contactsPerBot: number;
  /** Bots with enough intervals of their own for periodicity, and their mean (1 - CV). */
  periodicBots: number;
  periodicity: number;
  /** Mean of the periodic bots' own mean interval (s) and CV. */
  meanGapS: number;
  gapCv: number;
  /** Bots holding one long connection (records every active timeout on one 5-tuple). */
  heldSessions: number;
  /** Distinct clean homes (not listed, not seen scanning) that reached it, and suspect ones. */
  clients: number;
  suspectClients: number;
  /** Population test: bot homes and clean homes active now, enrichment (lower bound) and two-proportion z. */
  botHomes: number;
  cleanHomes: number;
  enrichment: number;
  z: number;
  /** Share of the contributing bots whose list entry names the reported family. */
  familyShare: number;
  /** Share of the contributing bots that are P2P bots (many peers on high ports). */
  p2pShare: number;
  /** Distinct ports the bots used on this address (fast flux moves ports, the address stays). */
  ports: number;
  /** Highest packet sampling rate of its flows (1 = unsampled). */
  samplingRate: number;
  flows: number;
  botFlows: number;
  meanBytesPerFlow: number;
  sdBytesPerFlow: number;
  /** Persistence windows with bot contact. */
  windowsSeen: number;
  /** True when the port is one the bots scan (shown, not penalised: the population test decides). */
  scanPort: boolean;
  /** The raw score (0-100) the threshold applies to; the published confidence is its calibration. */
  score?: number;
  /** Sub-scores in [0, 1]; score = 100 * bots * exclusivity * persistence * weighted(base, repeat). */
  sub: { bots: number; exclusivity: number; persistence: number; repeat: number };
}

export interface Candidate {
  /** `ip|port|proto`, stable across publish and withdraw. */
  key: string;
  ip: string;
  /** The port the bots used last. */
  port: number;
  /** IANA protocol number. */
  proto: number;
  /** 0-100: the calibrated probability (per cent) that it is a real C&C server (calibration.ts). */
  confidence: number;
  /** Empty when unknown. */
  family: string;
  evidence: Evidence;
  /** Internal only: never in the shareable list. */
  firstSeenMs: number;
  lastSeenMs: number;
}

/**
 * A P2P peer of listed bots: an infected host (a bot sighting), never a C&C server. `internal`
 * peers are homes of the ISP's own subscribers: they go to that ISP's infected-host list only.
 */
export interface Peer {
  key: string;
  ip: string;
  port: number;
  proto: number;
  confidence: number;
  family: string;
  internal: boolean;
  evidence: Evidence;
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

export { C2_LIST_HEADER as SHARE_HEADER } from '../core/index.ts';
/** A peer row (bot sighting): the shareable fields plus the listed bots that reached it. */
export interface PeerRow extends ShareRow {
  bots: number;
}

export const PEER_HEADER = 'ip,port,proto,confidence,family,bots';
