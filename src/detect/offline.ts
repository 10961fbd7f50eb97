/**
 * The offline run behind `tsunagi detect`: replays captured export packets through the flow
 * decoder into a detector, on the stream's own clock, and returns every candidate published
 * during the capture (its highest confidence), highest first.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.ts';
import { DecoderConfig } from '../flow/config.ts';
import { createFlowDecoder } from '../flow/decoder.ts';
import { replayFiles, type ReplaySummary } from '../flow/input-file.ts';
import type { DetectConfigInput } from './config.ts';
import { createAnnouncer } from './announce.ts';
import { streamIngest } from './stream.ts';
import { createDetector } from './index.ts';
import { protoName } from './lists.ts';
import type { Candidate, ShareRow } from './types.ts';

export interface OfflineResult {
  candidates: Candidate[];
  rows: ShareRow[];
  replay: ReplaySummary;
  flows: number;
  keysEvicted: number;
}

export async function detectOffline(
  files: readonly string[],
  bots: readonly string[],
  config: DetectConfigInput,
  deps: { registry?: Registry; logger?: Logger; decoder?: DecoderConfig } = {},
): Promise<OfflineResult> {
  const best = new Map<string, Candidate>();
  const keep = (c: Candidate) => {
    const seen = best.get(c.key);
    if (!seen || c.confidence >= seen.confidence) best.set(c.key, c);
  };
  // An offline report names every C&C server seen during the capture, so a later withdrawal
  // (expiry) does not remove it from the list; a rising confidence updates it. Announcements
  // follow the same policy as the live paths, so `start` fed this capture agrees with it.
  const announcer = createAnnouncer({ onAnnounce: keep, onWithdraw: () => undefined });
  const detector = createDetector(config, {
    registry: deps.registry,
    logger: deps.logger,
    onPublish: (c) => announcer.publish(c),
    onWithdraw: (c, reason) => announcer.withdraw(c, reason),
  });
  await detector.start();
  if (bots.length > 0) detector.setBots(bots);
  const decoder = createFlowDecoder(deps.decoder ?? DecoderConfig.parse({}), {
    registry: deps.registry,
    logger: deps.logger,
  });
  const replay = await replayFiles(
    files,
    decoder,
    streamIngest(detector, { afterTick: () => announcer.review(detector.candidates()) }),
  );
  detector.tick();
  announcer.review(detector.candidates());
  await detector.stop();
  const candidates = [...best.values()].sort(
    (a, b) => b.confidence - a.confidence || a.key.localeCompare(b.key),
  );
  return {
    candidates,
    rows: candidates.map((c) => ({
      ip: c.ip,
      port: c.port,
      proto: protoName(c.proto),
      confidence: c.confidence,
      family: c.family,
    })),
    replay,
    flows: detector.stats.flows,
    keysEvicted: detector.stats.evicted,
  };
}

/** Evidence columns printed by `--explain` (never times, never client addresses). */
export const EXPLAIN_HEADER =
  'ip,port,proto,confidence,family,bots,clients,flows,bot_flows,windows,gaps,mean_gap_s,gap_cv,scan_port,s_bots,s_exclusivity,s_persistence,s_port,s_periodicity';

export function formatExplain(candidates: readonly Candidate[]): string {
  const lines = candidates.map((c) => {
    const e = c.evidence;
    return [
      c.ip,
      c.port,
      protoName(c.proto),
      c.confidence,
      c.family,
      e.bots,
      e.clients,
      e.flows,
      e.botFlows,
      e.windowsSeen,
      e.gaps,
      e.meanGapS,
      e.gapCv,
      e.scanPort ? 1 : 0,
      e.sub.bots,
      e.sub.exclusivity,
      e.sub.persistence,
      e.sub.port,
      e.sub.periodicity,
    ].join(',');
  });
  return `${EXPLAIN_HEADER}\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
}
