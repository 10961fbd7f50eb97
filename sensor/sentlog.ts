/**
 * The local, human-readable log of everything sent: one summary line per batch (seq, bytes,
 * kinds and counts), then each event on its own indented line as `key=value` pairs. The terminal's
 * user can read exactly what left the machine. Rotated to sent.log.1 when it grows past a bound.
 */
import { appendFileSync, existsSync, renameSync, statSync } from 'node:fs';
import type { SensorEvent } from '../src/sensor/protocol.ts';

const MAX_LOG_BYTES = 16 * 1024 * 1024;

export function kindsOf(events: readonly SensorEvent[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const event of events) kinds[event.type] = (kinds[event.type] ?? 0) + 1;
  return kinds;
}

export function readableEvent(event: SensorEvent): string {
  const { type, at, ...fields } = event;
  const pairs = Object.entries(fields).map(
    ([key, value]) => `${key}=${value === null ? '-' : String(value)}`,
  );
  return `  ${new Date(at).toISOString()} ${type} ${pairs.join(' ')}`.trimEnd();
}

export interface SentBatch {
  seq: number;
  hash: string;
  compressedBytes: number;
  events: readonly SensorEvent[];
}

export function batchSummary(batch: SentBatch, at = new Date()): string {
  const kinds = Object.entries(kindsOf(batch.events))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, count]) => `${kind}=${count}`)
    .join(' ');
  return `${at.toISOString()} sent batch seq=${batch.seq} events=${batch.events.length} bytes=${batch.compressedBytes} hash=${batch.hash.slice(0, 16)} ${kinds}`.trimEnd();
}

export class SentLog {
  constructor(private readonly path: string) {}

  batch(batch: SentBatch): void {
    this.append([batchSummary(batch), ...batch.events.map(readableEvent)]);
  }

  note(text: string): void {
    this.append([`${new Date().toISOString()} note ${text}`]);
  }

  private append(lines: string[]): void {
    if (existsSync(this.path) && statSync(this.path).size > MAX_LOG_BYTES)
      renameSync(this.path, `${this.path}.1`);
    appendFileSync(this.path, `${lines.join('\n')}\n`, { mode: 0o644 });
  }
}
