/**
 * Accepting one inflated batch from an authenticated sensor: line-by-line validation, the
 * seq/prevHash chain (a gap, a replay or another prevHash is a 409 naming what the centre
 * expects), then the chain's advance and the statistics in one transaction.
 */
import type { SensorMetrics } from './metrics.ts';
import {
  batchHash,
  BatchFormatError,
  parseBatchBody,
  type BatchAck,
  type BatchConflict,
  type BatchHeader,
  type SensorEvent,
} from './protocol.ts';
import { summariseBatch, type SensorObservation } from './stats.ts';
import {
  addDailyCounts,
  addIocHits,
  advanceChain,
  getSensor,
  type SensorDb,
  type SensorRow,
} from './store.ts';

export interface AuthenticatedSensor {
  id: string;
  org: string;
}

export type BatchResult =
  | { status: 200; body: BatchAck }
  | { status: 409; body: BatchConflict }
  | { status: 400 | 403; body: { error: string } };

export interface BatchDeps {
  db: SensorDb;
  metrics: SensorMetrics;
  now: () => Date;
  /** Canonical IP:PORT of the C&C servers in the current IoC list. */
  knownC2: () => ReadonlySet<string>;
  onObservations: (observations: SensorObservation[]) => void;
}

function refuse(deps: BatchDeps, reason: string, status: 400 | 403): BatchResult {
  deps.metrics.rejections.inc({ route: 'batches', reason });
  return { status, body: { error: reason } };
}

function conflict(deps: BatchDeps, reason: string, row: SensorRow): BatchResult {
  deps.metrics.rejections.inc({ route: 'batches', reason });
  return {
    status: 409,
    body: { error: 'sequence', expectedSeq: row.last_seq + 1, expectedPrevHash: row.last_hash },
  };
}

function chainFault(header: BatchHeader, row: SensorRow): string | undefined {
  if (header.seq <= row.last_seq) return 'replay';
  if (header.seq > row.last_seq + 1) return 'gap';
  if (header.prevHash !== row.last_hash) return 'prev-hash';
  return undefined;
}

function parse(deps: BatchDeps, body: Buffer): { header: BatchHeader; events: SensorEvent[] } | BatchResult {
  try {
    return parseBatchBody(body);
  } catch (error) {
    if (error instanceof BatchFormatError) return refuse(deps, `format-${error.reason}`, 400);
    throw error;
  }
}

export async function acceptBatch(
  deps: BatchDeps,
  sensor: AuthenticatedSensor,
  body: Buffer,
): Promise<BatchResult> {
  const parsed = parse(deps, body);
  if ('status' in parsed) return parsed;
  const { header, events } = parsed;
  if (header.sensorId !== sensor.id) return refuse(deps, 'sensor-mismatch', 403);
  const row = await getSensor(deps.db, sensor.id);
  if (!row || row.revoked_at !== null) return refuse(deps, 'revoked', 403);
  const fault = chainFault(header, row);
  if (fault) return conflict(deps, fault, row);

  const now = deps.now();
  const hash = batchHash(header.prevHash, body);
  const summary = summariseBatch(sensor.org, events, deps.knownC2(), now);
  const advanced = await deps.db.transaction().execute(async (trx) => {
    const moved = await advanceChain(trx, sensor.id, row.last_seq, {
      seq: header.seq,
      hash,
      seenAt: now,
      ...(summary.status !== undefined ? { status: summary.status } : {}),
    });
    if (!moved) return false;
    for (const [day, counts] of summary.daily) await addDailyCounts(trx, sensor.org, day, counts);
    for (const [day, hits] of summary.hits) await addIocHits(trx, sensor.org, day, hits);
    return true;
  });
  if (!advanced) {
    // Another batch of the same sensor moved the chain between the read and the write.
    const fresh = await getSensor(deps.db, sensor.id);
    return fresh && fresh.revoked_at === null
      ? conflict(deps, 'concurrent', fresh)
      : refuse(deps, 'revoked', 403);
  }
  deps.metrics.batches.inc();
  for (const event of events) deps.metrics.events.inc({ type: event.type });
  if (summary.observations.length > 0) deps.onObservations(summary.observations);
  return { status: 200, body: { acceptedSeq: header.seq, hash } };
}
