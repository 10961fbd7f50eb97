/** Every number a report prints is a Figure: its value and the query and derivation that gave it. */
import type { LabelKey } from './i18n.ts';

export interface Figure {
  /** Anchor in the report (F1, F2...), listed in the appendix. */
  id: string;
  /** What it counts, in the report's language. */
  label: string;
  value: number;
  /** The source query (Q1...) it was computed from. */
  queryId: string;
  /** How the value follows from the query's released rows. */
  derive: string;
}

/** A table cell: text, or a figure shown as its value with its anchor. */
export type Cell = string | { figure: string };

export interface Table {
  columns: LabelKey[];
  rows: Cell[][];
}

export interface Chart {
  kind: 'bar' | 'column' | 'line';
  title: LabelKey;
  labels: string[];
  /** One figure id per label in each series. */
  series: { name: string; figures: string[] }[];
}

export type SectionKey = 'c2' | 'hosts' | 'darknet' | 'survey' | 'phishing';
export const SECTION_KEYS: readonly SectionKey[] = ['c2', 'hosts', 'darknet', 'survey', 'phishing'];

export interface Section {
  key: SectionKey;
  /** ok: figures follow; empty: nothing in the store for it; not-released: the tier may not read this kind. */
  state: 'ok' | 'empty' | 'not-released';
  headline: string[];
  charts: Chart[];
  tables: { title: LabelKey; table: Table }[];
  notes: LabelKey[];
  truncated: boolean;
}

export class FigureBook {
  readonly all: Figure[] = [];
  readonly byId = new Map<string, Figure>();

  add(label: string, value: number, queryId: string, derive: string): string {
    const id = `F${this.all.length + 1}`;
    const figure = { id, label, value, queryId, derive };
    this.all.push(figure);
    this.byId.set(id, figure);
    return id;
  }

  value(id: string): number {
    return this.byId.get(id)?.value ?? 0;
  }
}

/** Counts by key, largest first (ties by key, so a report is the same on every run). */
export function countBy<T>(items: readonly T[], keyOf: (item: T) => string | string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) {
    const keys = keyOf(item);
    for (const key of Array.isArray(keys) ? keys : [keys]) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function iso(date: Date): string {
  return date.toISOString().replace(':00.000Z', 'Z');
}

export function inRange(at: string, from: Date, to: Date): boolean {
  return at >= from.toISOString() && at < to.toISOString();
}
