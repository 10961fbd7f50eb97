/**
 * The pipeline health wiring shared by `start`, `serve`, `collect` and `detect`: the report
 * interval, the detector's source (from its public stats and stream clock) and the timer that
 * takes the board's rate samples. The model is core's (core/health.ts); the NATS path is
 * transport's (transport/health.ts).
 */
import { type Component, type ComponentHealth, type HealthBoard, healthLevel } from '../core/index.ts';
import type { DetectorComponent, StreamClock } from '../detect/index.ts';

/** Every process reports this often; the hub shows one silent for three intervals as "no report". */
export const HEALTH_INTERVAL_MS = 5000;

/** The in-process detector: rows folded, and how far its stream clock is behind the wall clock. */
export function detectorHealth(detector: DetectorComponent, clock: StreamClock): ComponentHealth {
  const lagSeconds = clock.newestFlowMs > 0 ? Math.max(0, (Date.now() - clock.newestFlowMs) / 1000) : 0;
  return {
    component: 'detector',
    level: healthLevel(0),
    handled: detector.stats.flows,
    dropped: 0,
    counters: { rowsFolded: detector.stats.flows, lagSeconds: Math.round(lagSeconds) },
  };
}

/** Takes a rate sample of the board every interval, for the console's chart. */
export function healthSampler(board: HealthBoard, intervalMs = HEALTH_INTERVAL_MS): Component {
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'health-sampler',
    async start() {
      board.sample();
      timer = setInterval(() => board.sample(), intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
    },
  };
}
