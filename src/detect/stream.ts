/**
 * Feeding the detector from a flow stream: ingest each batch and re-score once per minute of
 * stream time. Scoring follows the stream's own clock, so a replay compressed into seconds
 * (demo, tests, catching up after an outage) is scored as the live traffic would have been.
 */
import type { FlowBatch } from '../core/flowbatch.ts';

export const STREAM_TICK_MS = 60_000;

interface Ingests {
  ingest(batch: FlowBatch): void;
  tick(nowMs?: number): void;
  readonly detector: { readonly clockMs: number };
}

export function streamIngest(detector: Ingests, tickEveryMs = STREAM_TICK_MS): (batch: FlowBatch) => void {
  let lastTick = 0;
  return (batch) => {
    detector.ingest(batch);
    const clock = detector.detector.clockMs;
    if (clock - lastTick >= tickEveryMs) {
      detector.tick(clock);
      lastTick = clock;
    }
  };
}
