/**
 * Feeding the detector from a flow stream, on the stream's own clock.
 *
 * Expiry and re-scoring follow STREAM time: the largest flow end time seen. A replay compressed
 * into seconds (a capture sent to the collector, `scenario send --rate 0`, a detector catching
 * up after an outage) is therefore scored and expired exactly as the live traffic would have
 * been, and an old capture is never expired by today's wall clock. Wall time moves the stream
 * clock only while the stream is live-paced (its newest flow ended within `liveSkewMs` of the
 * wall clock): then, between batches, the clock advances with wall time, by at most
 * `idleAdvanceMs`, so a quiet live stream still ages its evidence while a stalled feed (an
 * exporter or link down) does not expire every server for lack of news.
 */
import type { FlowBatch } from '../core/index.ts';

export const STREAM_TICK_MS = 60_000;

export interface StreamClockOptions {
  /** A stream whose newest flow ended within this of the wall clock is live-paced. */
  liveSkewMs?: number;
  /** How far wall time may carry a live-paced clock past its newest flow. */
  idleAdvanceMs?: number;
}

export class StreamClock {
  private flowMs = 0;
  private wallAtFlowMs = 0;
  readonly liveSkewMs: number;
  readonly idleAdvanceMs: number;

  constructor(options: StreamClockOptions = {}) {
    this.liveSkewMs = options.liveSkewMs ?? 10 * 60_000;
    this.idleAdvanceMs = options.idleAdvanceMs ?? 5 * 60_000;
  }

  /** Takes the newest flow end time of a batch, noting the wall time it arrived at. */
  observe(flowEndMs: number, wallMs: number): void {
    if (flowEndMs > this.flowMs) {
      this.flowMs = flowEndMs;
      this.wallAtFlowMs = wallMs;
    }
  }

  /** The newest flow end time seen (0 before the first flow). */
  get newestFlowMs(): number {
    return this.flowMs;
  }

  /** True when the newest flow arrived close to its own end time: the stream is live traffic. */
  get livePaced(): boolean {
    return this.flowMs > 0 && Math.abs(this.wallAtFlowMs - this.flowMs) <= this.liveSkewMs;
  }

  /** Stream time now: the newest flow, carried forward by wall time only while live-paced. */
  now(wallMs: number): number {
    if (!this.livePaced) return this.flowMs;
    return this.flowMs + Math.min(Math.max(0, wallMs - this.wallAtFlowMs), this.idleAdvanceMs);
  }
}

interface Ingests {
  ingest(batch: FlowBatch): void;
  tick(nowMs?: number): void;
  readonly detector: { readonly clockMs: number };
}

export interface StreamIngestOptions {
  tickEveryMs?: number;
  /** Observes every batch's newest flow (for the live wall-time ticker). */
  clock?: StreamClock;
  /** Wall clock for `clock` (tests pin it). */
  wallNow?: () => number;
  /** Runs after each stream tick (e.g. the announcer's review). */
  afterTick?: () => void;
}

/** A batch sink that folds each batch in and ticks the detector every `tickEveryMs` of stream time. */
export function streamIngest(
  detector: Ingests,
  options: StreamIngestOptions | number = {},
): (batch: FlowBatch) => void {
  const {
    tickEveryMs = STREAM_TICK_MS,
    clock,
    wallNow = Date.now,
    afterTick,
  } = typeof options === 'number' ? { tickEveryMs: options } : options;
  let lastTick = 0;
  return (batch) => {
    detector.ingest(batch);
    if (clock) {
      let newest = 0;
      const ends = batch.endMs;
      for (let i = 0, n = batch.length; i < n; i++) if (ends[i]! > newest) newest = ends[i]!;
      clock.observe(newest, wallNow());
    }
    const now = detector.detector.clockMs;
    if (now - lastTick >= tickEveryMs) {
      detector.tick(now);
      lastTick = now;
      afterTick?.();
    }
  };
}

/**
 * The live ticker's step: ticks at stream time when the clock has moved past the detector's
 * (live-paced streams only), or at the detector's own clock otherwise. Never moves time back.
 */
export function tickOnStreamClock(detector: Ingests, clock: StreamClock, wallMs: number): void {
  detector.tick(Math.max(detector.detector.clockMs, clock.now(wallMs)));
}
