/**
 * A bounded spool on disk of events not yet sealed into a batch: one NDJSON segment file per
 * append. When the spool is over its size, the oldest segments are deleted and their events
 * counted in `droppedEvents`, which the sensor reports in `sensor.status`: loss shows, and the
 * batches' hash chain stays without gaps (only events that were never sealed are dropped).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { SensorEvent } from '../src/sensor/protocol.ts';

interface Segment {
  name: string;
  bytes: number;
  count: number;
}

const SEGMENT = /^(\d{12})\.ndjson$/;

export class Spool {
  private segments: Segment[] = [];
  private nextNumber = 1;
  droppedEvents = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(dir).sort()) {
      const match = SEGMENT.exec(name);
      if (!match) {
        if (name.endsWith('.tmp')) rmSync(join(dir, name), { force: true });
        continue;
      }
      const text = readFileSync(join(dir, name), 'utf8');
      this.segments.push({ name, bytes: statSync(join(dir, name)).size, count: lineCount(text) });
      this.nextNumber = Math.max(this.nextNumber, Number(match[1]) + 1);
    }
  }

  get bytes(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0);
  }

  get events(): number {
    return this.segments.reduce((sum, s) => sum + s.count, 0);
  }

  /** Appends events in segments of at most `perSegment`, then drops the oldest while over size. */
  append(events: readonly SensorEvent[], perSegment: number): void {
    for (let i = 0; i < events.length; i += perSegment) {
      const text = events
        .slice(i, i + perSegment)
        .map((event) => `${JSON.stringify(event)}\n`)
        .join('');
      const name = `${String(this.nextNumber++).padStart(12, '0')}.ndjson`;
      writeFileSync(join(this.dir, `${name}.tmp`), text, { mode: 0o600 });
      renameSync(join(this.dir, `${name}.tmp`), join(this.dir, name));
      this.segments.push({
        name,
        bytes: Buffer.byteLength(text),
        count: Math.min(perSegment, events.length - i),
      });
    }
    while (this.segments.length > 1 && this.bytes > this.maxBytes) {
      const oldest = this.segments.shift()!;
      rmSync(join(this.dir, oldest.name), { force: true });
      this.droppedEvents += oldest.count;
    }
  }

  /** The oldest whole segments holding at most `maxEvents` events (at least one segment). */
  peek(maxEvents: number): { events: SensorEvent[]; segments: string[] } {
    const events: SensorEvent[] = [];
    const segments: string[] = [];
    for (const segment of this.segments) {
      if (segments.length > 0 && events.length + segment.count > maxEvents) break;
      const text = readFileSync(join(this.dir, segment.name), 'utf8');
      for (const line of text.split('\n')) if (line !== '') events.push(JSON.parse(line) as SensorEvent);
      segments.push(segment.name);
    }
    return { events, segments };
  }

  remove(names: readonly string[]): void {
    const gone = new Set(names);
    for (const name of names) rmSync(join(this.dir, name), { force: true });
    this.segments = this.segments.filter((s) => !gone.has(s.name));
  }

  /** Drops every segment (the memory or disk budget asks for it); their events count as dropped. */
  clear(): void {
    this.droppedEvents += this.events;
    this.remove(this.segments.map((s) => s.name));
  }
}

function lineCount(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
