/**
 * The detector's intake into intel: C&C candidates become sightings with no observation time
 * from the ISP side (law rule 2: intel stamps its own), and a withdrawn candidate takes back only
 * this detector's report. Structural types, so intel imports nothing of detect or transport.
 */
import { type Logger, protocolName } from '../../core/index.ts';
import type { SightingInput } from '../normalise.ts';
import type { Tier, Tlp } from '../types.ts';
import type { IntelWriter } from './writer.ts';

export interface CandidateLike {
  ip: string;
  port: number;
  proto: number | string;
  confidence: number;
  family: string;
  /** Counts and sub-scores; kept with the indicator (full tier only) so an analyst can check it. */
  evidence?: unknown;
}

/** A candidate taken back: the server and the detector's reason. */
export interface WithdrawnCandidateLike {
  ip: string;
  port: number;
  proto: number | string;
}

export function sightingsFromCandidates(
  candidates: readonly CandidateLike[],
  source: string,
  options: { tier?: Tier; tlp?: Tlp } = {},
): SightingInput[] {
  return candidates.map((c) => ({
    type: 'c2',
    value: c.ip,
    port: c.port,
    proto: protocolName(c.proto),
    source,
    confidence: Math.max(0, Math.min(100, c.confidence)),
    ...(c.family ? { family: c.family } : {}),
    tier: options.tier ?? 'council',
    tlp: options.tlp ?? 'amber+strict',
    ...(c.evidence !== undefined
      ? { attributes: { evidence: JSON.stringify(c.evidence).slice(0, 1024) } }
      : {}),
  }));
}

export interface DetectorIntake {
  /** Records a published (or re-announced) candidate as this detector's sighting. */
  announce(candidate: CandidateLike): void;
  /** Takes back this detector's report of the server (another source's sighting stays). */
  withdraw(candidate: WithdrawnCandidateLike, reason: string): void;
  /** Resolves when every queued write has been tried. */
  settled(): Promise<void>;
}

/**
 * The detector's candidates into intel, under the source name `source`. Writes from the flow
 * path are queued in order; a failure is logged, never thrown into the flow path.
 */
export function createDetectorIntake(
  intel: IntelWriter,
  options: { source: string; logger: Logger },
): DetectorIntake {
  const { source, logger } = options;
  let writes = Promise.resolve();
  const enqueue = (what: string, work: () => Promise<unknown>) => {
    writes = writes.then(work).then(
      () => undefined,
      (error: unknown) => logger.error({ err: error }, `intel ${what} failed`),
    );
  };
  const record = (candidate: CandidateLike) =>
    intel.recordSightings(sightingsFromCandidates([candidate], source), source);
  const takeBack = (candidate: WithdrawnCandidateLike, reason: string) =>
    intel.withdrawSource(
      { kind: 'c2', value: candidate.ip, port: candidate.port, proto: protocolName(candidate.proto) },
      source,
      reason,
      source,
    );
  return {
    announce: (candidate) => enqueue('sighting', () => record(candidate)),
    withdraw: (candidate, reason) => enqueue('withdrawal', () => takeBack(candidate, reason)),
    settled: () => writes,
  };
}
