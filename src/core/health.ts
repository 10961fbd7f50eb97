/**
 * Pipeline health: what each component of the flow path (collector input, NATS publisher,
 * detector, workers) says about itself, and the board that gathers those reports, from this
 * process and from others over NATS, for the console. A component's `dropped` counts items lost
 * for good since it started: any drop makes its level `loss` until the process restarts, so a
 * loss never scrolls away unseen.
 */

export type HealthLevel = 'ok' | 'warning' | 'loss';

export interface ComponentHealth {
  /** e.g. `collector`, `publisher`, `detector`. */
  component: string;
  level: HealthLevel;
  /** Items handled since start (flows received, rows published, rows folded). */
  handled: number;
  /** Items lost for good since start (kernel receive drops, rows dropped before the stream). */
  dropped: number;
  /** Named counters and gauges, for the console's table. */
  counters: Record<string, number>;
}

/** One process's report: published every interval over NATS, or read in process. */
export interface ProcessHealth {
  role: string;
  id: string;
  /** When it was taken (ms since epoch). */
  at: number;
  /** How often the process reports. */
  intervalMs: number;
  components: ComponentHealth[];
}

export interface HealthSample {
  at: number;
  /** Items handled and dropped per second since the previous sample, over every process. */
  handledPerSecond: number;
  droppedPerSecond: number;
}

export interface PipelineHealth {
  at: number;
  /** Whether any component reported a loss since its start. */
  loss: boolean;
  processes: (ProcessHealth & { stale: boolean })[];
  history: HealthSample[];
}

export type HealthSource = () => ComponentHealth;

/** The level of a component from its counts: any drop is a loss; a warning only when asked. */
export function healthLevel(dropped: number, warning = false): HealthLevel {
  if (dropped > 0) return 'loss';
  return warning ? 'warning' : 'ok';
}

/** A process's report from its components' sources, taken now. */
export function takeProcessHealth(
  who: { role: string; id: string; intervalMs: number },
  sources: readonly HealthSource[],
  now = Date.now(),
): ProcessHealth {
  return {
    role: who.role,
    id: who.id,
    at: now,
    intervalMs: who.intervalMs,
    components: sources.map((s) => s()),
  };
}

/** A process is "no report" once it has been silent for more than this many intervals. */
export const STALE_INTERVALS = 3;

export interface HealthBoardOptions {
  /** Samples kept for the chart (one per `sample()` call). */
  historySize?: number;
}

/**
 * Every process's latest report, keyed by role and id, and a short history of rates. Local
 * processes are read when asked; remote ones arrive through `receive`.
 */
export class HealthBoard {
  readonly #local = new Map<string, () => ProcessHealth>();
  readonly #remote = new Map<string, ProcessHealth>();
  readonly #history: HealthSample[] = [];
  readonly #historySize: number;
  #last: { at: number; handled: number; dropped: number } | undefined;

  constructor(options: HealthBoardOptions = {}) {
    this.#historySize = options.historySize ?? 120;
  }

  /** A process whose components are read in process whenever the board is read. */
  addLocal(role: string, id: string, intervalMs: number, sources: readonly HealthSource[]): void {
    this.#local.set(`${role}/${id}`, () => takeProcessHealth({ role, id, intervalMs }, sources));
  }

  /** A report from another process (the newest per role and id wins). */
  receive(report: ProcessHealth): void {
    const key = `${report.role}/${report.id}`;
    const known = this.#remote.get(key);
    if (!known || known.at <= report.at) this.#remote.set(key, report);
  }

  #reports(): ProcessHealth[] {
    return [...[...this.#local.values()].map((take) => take()), ...this.#remote.values()];
  }

  /** Adds a rate sample over the processes still reporting (call every interval). */
  sample(now = Date.now()): void {
    const live = this.#reports().filter((r) => !isStale(r, now));
    const handled = sum(live.flatMap((r) => r.components.map((c) => c.handled)));
    const dropped = sum(live.flatMap((r) => r.components.map((c) => c.dropped)));
    const last = this.#last;
    this.#last = { at: now, handled, dropped };
    if (!last || now <= last.at) return;
    const seconds = (now - last.at) / 1000;
    // A process that restarted or went silent lowers the totals: no negative rates.
    this.#history.push({
      at: now,
      handledPerSecond: Math.max(0, handled - last.handled) / seconds,
      droppedPerSecond: Math.max(0, dropped - last.dropped) / seconds,
    });
    if (this.#history.length > this.#historySize) this.#history.shift();
  }

  read(now = Date.now()): PipelineHealth {
    const processes = this.#reports()
      .map((r) => ({ ...r, stale: isStale(r, now) }))
      .sort((a, b) => a.role.localeCompare(b.role) || a.id.localeCompare(b.id));
    return {
      at: now,
      loss: processes.some((p) => p.components.some((c) => c.level === 'loss')),
      processes,
      history: [...this.#history],
    };
  }
}

function isStale(report: ProcessHealth, now: number): boolean {
  return now - report.at > STALE_INTERVALS * report.intervalMs;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
