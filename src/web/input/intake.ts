/**
 * The certstream intake: every name on a logged certificate scored as a host (with the
 * certificate's facts among its reasons), those at `minVerdict` or worse stored under source
 * `certstream` and handed on. Writes go one at a time in order; a failed write is logged and the
 * stream goes on.
 */
import type { Counter } from 'prom-client';
import type { Logger } from '../../core/index.ts';
import type { WebConfig } from '../config.ts';
import { UrlInputError } from '../normalise.ts';
import type { CertificateFacts, IngestRecord, ScoredUrl, Verdict } from '../types.ts';
import { watchCertstream, type CertstreamUpdate } from './certstream.ts';

export interface CertstreamStats {
  /** Certificate messages (both formats). */
  updates: number;
  names: number;
  badFrames: number;
  badNames: number;
  /** Names at minVerdict or worse (stored and handed on). */
  kept: number;
  /** Times the socket closed and a new connection was scheduled. */
  reconnects: number;
}

export interface CertstreamIntake {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly connected: Promise<void>;
  /** Resolves when every write queued so far has been tried. */
  settled(): Promise<void>;
  readonly stats: CertstreamStats;
}

const RANK: Record<Verdict, number> = { benign: 0, suspicious: 1, malicious: 2 };

export function certstreamIntake(
  config: NonNullable<WebConfig['certstream']>,
  parts: {
    logger: Logger;
    /** Whether there is a store to write to. */
    stores: boolean;
    score: (input: string, certificate?: CertificateFacts | null) => ScoredUrl;
    onVerdict: ((scored: ScoredUrl, update: CertstreamUpdate) => void) | undefined;
    ingest: (records: IngestRecord[], source: string) => Promise<unknown>;
    inputErrors: Counter;
  },
): CertstreamIntake {
  const stats: CertstreamStats = { updates: 0, names: 0, badFrames: 0, badNames: 0, kept: 0, reconnects: 0 };
  let writes = Promise.resolve();
  const onUpdate = (update: CertstreamUpdate) => {
    stats.updates++;
    const kept: ScoredUrl[] = [];
    for (const name of update.domains) {
      stats.names++;
      let scored: ScoredUrl;
      try {
        scored = parts.score(`https://${name}/`, update.certificate);
      } catch (error) {
        if (!(error instanceof UrlInputError)) throw error;
        stats.badNames++;
        continue;
      }
      // A certificate names a host, not a page: the host-name verdict decides.
      if (RANK[scored.hostVerdict] < RANK[config.minVerdict]) continue;
      stats.kept++;
      kept.push(scored);
      parts.onVerdict?.(scored, update);
    }
    if (kept.length === 0 || !parts.stores) return;
    const records = kept.map((s): IngestRecord => ({
      url: s.url,
      seenAt: update.seenAt,
      ...(update.certificate ? { certificate: update.certificate } : {}),
    }));
    writes = writes
      .then(() => parts.ingest(records, 'certstream'))
      .then(
        () => undefined,
        (error: unknown) => parts.logger.error({ err: error }, 'web: certstream write failed'),
      );
  };
  const watch = watchCertstream({
    url: config.url,
    reconnectMs: config.reconnectMs,
    maxMessageBytes: config.maxMessageBytes,
    logger: parts.logger,
    onUpdate,
    onBadFrame: () => {
      stats.badFrames++;
      parts.inputErrors.inc({ input: 'certstream' });
    },
    onReconnect: () => stats.reconnects++,
  });
  return {
    start: () => watch.start(),
    async stop() {
      await watch.stop();
      await writes;
    },
    connected: watch.connected,
    settled: () => writes,
    stats,
  };
}
