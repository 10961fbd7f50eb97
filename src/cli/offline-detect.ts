/**
 * The offline run behind `tsunagi detect` (here in the CLI, where flow and detect meet, so that
 * detect depends on core only): replays captured export packets through the flow
 * decoder into a detector, on the stream's own clock, and returns every candidate published
 * during the capture (its highest confidence), highest first.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../core/index.ts';
import {
  createAnnouncer,
  createDetector,
  peerRow,
  protoName,
  streamIngest,
  type Candidate,
  type DetectConfigInput,
  type Evidence,
  type Peer,
  type PeerRow,
  type ShareRow,
} from '../detect/index.ts';
import { DecoderConfig, createFlowDecoder, replayFiles, type ReplaySummary } from '../flow/index.ts';

export interface OfflineResult {
  candidates: Candidate[];
  rows: ShareRow[];
  /** P2P peers of the listed bots (bot sightings), external and internal ones. */
  peers: Peer[];
  peerRows: PeerRow[];
  internalPeerRows: PeerRow[];
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
  const peers = new Map<string, Peer>();
  const keepPeer = (p: Peer) => {
    const seen = peers.get(p.key);
    if (!seen || p.confidence >= seen.confidence) peers.set(p.key, p);
  };
  const announcer = createAnnouncer({ onAnnounce: keep, onWithdraw: () => undefined });
  const detector = createDetector(config, {
    registry: deps.registry,
    logger: deps.logger,
    onPublish: (c) => announcer.publish(c),
    onWithdraw: (c, reason) => announcer.withdraw(c, reason),
    onPeer: keepPeer,
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
  for (const p of detector.detector.peers()) keepPeer(p);
  const peerList = [...peers.values()].sort(
    (a, b) => b.confidence - a.confidence || a.key.localeCompare(b.key),
  );
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
    peers: peerList,
    peerRows: peerList.filter((p) => !p.internal).map(peerRow),
    internalPeerRows: peerList.filter((p) => p.internal).map(peerRow),
    replay,
    flows: detector.stats.flows,
    keysEvicted: detector.stats.evicted,
  };
}

/** Evidence columns printed by `--explain` (never times, never client addresses). */
export const EXPLAIN_HEADER =
  'kind,ip,port,proto,confidence,family,family_share,bots,returning,returning_share,contacts_per_bot,periodic_bots,periodicity,mean_gap_s,gap_cv,held_sessions,clients,suspect_clients,bot_homes,clean_homes,enrichment,z,p2p_share,ports,sampling,windows,scan_port,s_bots,s_exclusivity,s_persistence,s_repeat';

function explainLine(
  kind: string,
  c: { ip: string; port: number; proto: number; confidence: number; family: string; evidence: Evidence },
): string {
  const e = c.evidence;
  return [
    kind,
    c.ip,
    c.port,
    protoName(c.proto),
    c.confidence,
    c.family,
    e.familyShare,
    e.bots,
    e.returningBots,
    e.returningShare,
    e.contactsPerBot,
    e.periodicBots,
    e.periodicity,
    e.meanGapS,
    e.gapCv,
    e.heldSessions,
    e.clients,
    e.suspectClients,
    e.botHomes,
    e.cleanHomes,
    e.enrichment,
    e.z,
    e.p2pShare,
    e.ports,
    e.samplingRate,
    e.windowsSeen,
    e.scanPort ? 1 : 0,
    e.sub.bots,
    e.sub.exclusivity,
    e.sub.persistence,
    e.sub.repeat,
  ].join(',');
}

/** C&C candidates (kind `c2`) and external P2P peers (kind `peer`); internal peers never. */
export function formatExplain(candidates: readonly Candidate[], peers: readonly Peer[] = []): string {
  const lines = [
    ...candidates.map((c) => explainLine('c2', c)),
    ...peers.filter((p) => !p.internal).map((p) => explainLine('peer', p)),
  ];
  return `${EXPLAIN_HEADER}\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
}
