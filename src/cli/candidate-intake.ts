/**
 * The hub's intake of worker candidates: consumes the candidate stream (`candidates.ts`) and
 * writes each announcement as a sighting, each withdrawal as the source taking its report back,
 * through intel's own API; optionally hands both to an uplink (the C&C sharer of src/uplink/)
 * so the list goes on to an analysis centre. `serve --nats` and `start --nats` both run exactly
 * this component, so a hub replica and the one-machine shape take candidates the same way.
 */
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { Component, Logger } from '../core/index.ts';
import { protocolName, sightingsFromCandidates, type Intel } from '../intel/index.ts';
import { CandidateStreamConfig, createCandidateConsumer, type CandidateMessage } from '../transport/index.ts';

/** Where announced candidates go on from the hub (structurally the C&C sharer). */
interface UplinkCandidate {
  ip: string;
  port: number;
  proto: number;
  confidence: number;
  family: string;
}
export interface CandidateUplink {
  publish(candidate: UplinkCandidate): void;
  withdraw(candidate: UplinkCandidate): void;
}

export interface CandidateIntakeDeps {
  intel: Pick<Intel, 'recordSightings' | 'withdrawSource'>;
  /** The source name worker detections carry in intel (this ISP's detector). */
  source: string;
  uplink?: CandidateUplink;
  logger: Logger;
  registry: Registry;
}

export interface CandidateIntake extends Component {
  readonly name: 'candidate-intake';
  /** Announcements and withdrawals written so far by this process. */
  readonly counts: { announced: number; withdrawn: number };
}

export function createCandidateIntake(
  input: z.input<typeof CandidateStreamConfig>,
  deps: CandidateIntakeDeps,
): CandidateIntake {
  const { intel, source, uplink, logger } = deps;
  const counts = { announced: 0, withdrawn: 0 };

  /** Written before the message is acknowledged; a throw gets it delivered again. */
  const apply = async (m: CandidateMessage): Promise<void> => {
    if (m.op === 'announce') {
      await intel.recordSightings(sightingsFromCandidates([m], source), source);
      counts.announced++;
      logger.info(
        { worker: m.worker, ip: m.ip, port: m.port, proto: m.proto, confidence: m.confidence },
        'C&C candidate announced by a worker',
      );
      uplink?.publish({ ip: m.ip, port: m.port, proto: m.proto, confidence: m.confidence, family: m.family });
    } else {
      const ref = { kind: 'c2' as const, value: m.ip, port: m.port, proto: protocolName(m.proto) };
      // Only this ISP's report goes: another source's sighting of the server stays.
      await intel.withdrawSource(ref, source, m.reason, source);
      counts.withdrawn++;
      logger.info(
        { worker: m.worker, ip: m.ip, port: m.port, proto: m.proto, reason: m.reason },
        `C&C candidate withdrawn by a worker: ${m.reason}`,
      );
      // A withdrawal carries no score: the revoked version says confidence 0.
      uplink?.withdraw({ ip: m.ip, port: m.port, proto: m.proto, confidence: 0, family: '' });
    }
  };

  const consumer = createCandidateConsumer(input, { apply, logger, registry: deps.registry });
  return {
    name: 'candidate-intake',
    counts,
    start: () => consumer.start(),
    stop: () => consumer.stop(),
  };
}
