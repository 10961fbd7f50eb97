/**
 * The detect component: streaming C&C detection over FlowBatches. Front door of src/detect/:
 * `createDetector(config, deps)` returns `{ name, start, stop, ingest, setBots, tick, candidates,
 * shareableRows, stats }`. Candidates leave only through the onPublish/onWithdraw callbacks; the
 * only state written to disk is per-destination aggregates with their expiry.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../core/index.ts';
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import type { FlowBatch } from '../core/index.ts';
import { InputError } from '../core/index.ts';
import { silentLogger, type Logger } from '../core/index.ts';
import { DetectConfig, type DetectConfigInput } from './config.ts';
import { Detector, type DetectorStats, type PersistedAggregate, type WithdrawReason } from './detector.ts';
import { loadAsnTable, loadBotList, loadFamilyMap, watchBotList } from './lists.ts';
import { formatC2List } from '../core/index.ts';
import { PEER_HEADER, type Candidate, type Peer, type PeerRow, type ShareRow } from './types.ts';

export { DetectConfig, type DetectConfigInput } from './config.ts';
export {
  Detector,
  peerRow,
  shareRow,
  type DetectorStats,
  type PersistedAggregate,
  type WithdrawReason,
} from './detector.ts';
export { parseSharedRule, type SharedAddressRule } from './homes.ts';
export {
  createAnnouncer,
  withdrawReasonText,
  REANNOUNCE_MIN_CHANGE,
  type Announcer,
  type AnnouncerDeps,
  type AnnounceKind,
} from './announce.ts';
export { StreamClock, streamIngest, tickOnStreamClock, STREAM_TICK_MS } from './stream.ts';
export {
  BotListMerge,
  loadBotList,
  mergeBotLists,
  parseBotList,
  watchBotList,
  loadFamilyMap,
  parseFamilyMap,
  loadAsnTable,
  parseAsnTable,
  protoName,
} from './lists.ts';
export {
  PEER_HEADER,
  SHARE_HEADER,
  type Candidate,
  type Evidence,
  type Peer,
  type PeerRow,
  type ShareRow,
} from './types.ts';

export const STATE_FILE = 'detect-state.json';

export interface DetectorDeps {
  registry?: Registry;
  logger?: Logger;
  onPublish?: (candidate: Candidate) => void;
  onWithdraw?: (candidate: Candidate, reason: WithdrawReason) => void;
  /** A P2P peer of listed bots: an infected host, never a C&C server (internal ones are subscribers). */
  onPeer?: (peer: Peer) => void;
  /** Clock used to honour the expiry of restored state (defaults to Date.now). */
  now?: () => number;
}

export interface DetectorComponent {
  readonly name: 'detect';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Folds a batch in; no reference to it is kept. `nowMs` advances the stream clock. */
  ingest(batch: FlowBatch, nowMs?: number): void;
  /** Replaces the bot list (lines `bot[,family]`, README: Bot list) while running; returns the rejected entries. */
  setBots(entries: Iterable<string>): { accepted: number; rejected: string[] };
  /** Writes the aggregates to dataDir now (a checkpoint; stop() does it too). No-op without dataDir. */
  saveState(): void;
  /** Expiry, re-scoring, publish/withdraw. Call periodically (stream time or wall time). */
  tick(nowMs?: number): void;
  candidates(): Candidate[];
  shareableRows(): ShareRow[];
  /** P2P peers reported; `internal: true` gives the subscriber homes (ISP-internal use only). */
  peerRows(options?: { internal?: boolean }): PeerRow[];
  readonly stats: DetectorStats;
  /** The engine, for benchmarks and tests. */
  readonly detector: Detector;
}

const PersistedFile = z.object({
  format: z.literal('tsunagi-detect-state'),
  version: z.literal(2),
  aggregates: z.array(
    z.object({
      ip: z.string().min(2).max(45),
      port: z.number().int().min(0).max(65535),
      proto: z.number().int().min(0).max(255),
      bots: z.number().min(0),
      returningBots: z.number().min(0),
      periodicity: z.number().min(0).max(1),
      clients: z.number().min(0),
      flows: z.number().min(0),
      botFlows: z.number().min(0),
      bytes: z.tuple([z.number(), z.number(), z.number()]),
      windowsSeen: z.number().min(0),
      expiresAtMs: z.number(),
      family: z.string().max(64).optional(),
    }),
  ),
  /** The population the aggregates were judged against (absent in files of earlier releases). */
  population: z
    .object({
      botHomes: z.tuple([z.number().min(0), z.number().min(0)]),
      cleanHomes: z.tuple([z.number().min(0), z.number().min(0)]),
    })
    .optional(),
});

/** The shareable list in the one C&C list format of core/c2list.ts. */
export function formatShareCsv(rows: readonly ShareRow[]): string {
  return formatC2List(rows);
}

/** Renders peer rows (bot sightings) as CSV, highest confidence first (as given). */
export function formatPeerCsv(rows: readonly PeerRow[]): string {
  const cell = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  return `${PEER_HEADER}\n${rows.map((r) => `${r.ip},${r.port},${r.proto},${r.confidence},${cell(r.family)},${r.bots}`).join('\n')}${rows.length ? '\n' : ''}`;
}

export function createDetector(
  rawConfig: DetectConfigInput = {},
  deps: DetectorDeps = {},
): DetectorComponent {
  const config = DetectConfig.parse(rawConfig);
  const logger = deps.logger ?? silentLogger();
  const now = deps.now ?? Date.now;
  const detector = new Detector(config, {
    onPublish: deps.onPublish,
    onWithdraw: deps.onWithdraw,
    onPeer: deps.onPeer,
  });
  let botListRejected = 0;
  let stopWatching: (() => void) | undefined;

  if (deps.registry) registerMetrics(deps.registry, detector, () => botListRejected);

  const applyBots = (entries: Iterable<string>) => {
    const result = detector.setBots(entries);
    botListRejected += result.rejected.length;
    if (result.rejected.length) {
      logger.warn(
        { rejected: result.rejected.length, first: result.rejected[0] },
        'bot list entries rejected',
      );
    }
    return result;
  };

  const statePath = config.dataDir ? join(config.dataDir, STATE_FILE) : '';
  const saveState = () => {
    if (!statePath) return;
    const body = JSON.stringify({
      format: 'tsunagi-detect-state',
      version: 2,
      aggregates: detector.exportState(),
      population: detector.exportPopulation(),
    });
    writeFileAtomic(statePath, body, { mode: 0o600 });
  };

  return {
    name: 'detect',
    detector,
    stats: detector.stats,
    async start() {
      if (config.asnFile) detector.setAsnTable(loadAsnTable(config.asnFile));
      if (config.familyFile) detector.setFamilyMap(loadFamilyMap(config.familyFile));
      if (config.botsFile) {
        const list = loadBotList(config.botsFile);
        botListRejected += list.rejected.length;
        detector.setBots(list.entries);
        logger.info({ bots: list.entries.length, rejected: list.rejected.length }, 'bot list loaded');
        if (config.watchBotsFile) {
          stopWatching = watchBotList(
            config.botsFile,
            (next) => {
              botListRejected += next.rejected.length;
              detector.setBots(next.entries);
              logger.info({ bots: next.entries.length }, 'bot list reloaded');
            },
            (error) => logger.warn({ err: error }, 'bot list reload failed; keeping the previous list'),
          );
        }
      }
      if (statePath) {
        let text: string | undefined;
        try {
          text = readFileSync(statePath, 'utf8');
        } catch {
          text = undefined; // first start: nothing saved yet
        }
        if (text !== undefined) {
          let parsed: z.infer<typeof PersistedFile>;
          try {
            const json = JSON.parse(text) as { version?: unknown };
            if (json.version === 1) {
              // Version 1 held pooled gap statistics that are no longer evidence: start afresh.
              logger.warn({ statePath }, 'detector state of version 1 ignored (pooled evidence)');
              return;
            }
            parsed = PersistedFile.parse(json);
          } catch (error) {
            throw new InputError(
              `detector state ${statePath} is not valid: ${(error as Error).message.slice(0, 200)}`,
            );
          }
          const restored = detector.importState(
            parsed.aggregates as PersistedAggregate[],
            now(),
            parsed.population,
          );
          logger.info({ restored, saved: parsed.aggregates.length }, 'detector state restored');
        }
      }
    },
    async stop() {
      stopWatching?.();
      stopWatching = undefined;
      saveState();
    },
    saveState,
    ingest: (batch, nowMs) => detector.ingest(batch, nowMs),
    setBots: applyBots,
    tick: (nowMs) => detector.tick(nowMs),
    candidates: () => detector.candidates(),
    shareableRows: () => detector.shareableRows(),
    peerRows: (options) => detector.peerRows(options),
  };
}

function registerMetrics(registry: Registry, detector: Detector, rejected: () => number): void {
  const s = detector.stats;
  new Counter({
    name: 'tsunagi_detect_flows_total',
    help: 'Flow records seen by the detector, by what they were to it',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ kind: 'bot_contact' }, s.botContacts);
      this.inc({ kind: 'client_contact' }, s.clientContacts);
      this.inc({ kind: 'scan' }, s.scanFlows);
      this.inc({ kind: 'not_established' }, s.notEstablished);
      this.inc({ kind: 'internal' }, s.internal);
      this.inc({ kind: 'inbound' }, s.inbound);
      this.inc({ kind: 'ambiguous_shared_address' }, s.ambiguous);
      this.inc({ kind: 'inferred_bot' }, s.inferredBot);
      this.inc({ kind: 'external_is_bot' }, s.externalIsBot);
      this.inc({ kind: 'allowlisted' }, s.allowlisted);
      this.inc({ kind: 'all' }, s.flows);
    },
  });
  new Counter({
    name: 'tsunagi_detect_keys_total',
    help: 'Destination keys by lifecycle event',
    labelNames: ['event'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ event: 'created' }, s.keysCreated);
      this.inc({ event: 'evicted' }, s.evicted);
      this.inc({ event: 'expired' }, s.expired);
      this.inc({ event: 'restored' }, s.restored);
    },
  });
  new Counter({
    name: 'tsunagi_detect_candidates_total',
    help: 'Candidates published and withdrawn',
    labelNames: ['event'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ event: 'published' }, s.published);
      this.inc({ event: 'withdrawn' }, s.withdrawn);
      this.inc({ event: 'peer' }, s.peers);
    },
  });
  new Counter({
    name: 'tsunagi_detect_bot_list_rejected_total',
    help: 'Bot list entries that were not a bot (README: Bot list)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(rejected());
    },
  });
  new Gauge({
    name: 'tsunagi_detect_keys',
    help: 'Destination keys tracked now, and the capacity',
    labelNames: ['what'],
    registers: [registry],
    collect() {
      this.set({ what: 'live' }, detector.table.size);
      this.set({ what: 'capacity' }, detector.table.capacity);
      this.set({ what: 'published' }, s.published - s.withdrawn);
    },
  });
  new Gauge({
    name: 'tsunagi_detect_bot_list_entries',
    help: 'Entries in the bot list in force',
    registers: [registry],
    collect() {
      this.set(detector.botListSize);
    },
  });
}
export { CalibrationFile, Calibration } from './calibration.ts';
