/**
 * URL lists as feeds hand them out: plain text (one URL a line, `#` comments), CSV with a header
 * naming a url column (JPCERT/CC's `date,URL,description`), a JSON array (of strings or objects)
 * and NDJSON. Read line by line, so a large file streams; a line that is not a record is counted,
 * never thrown, and the caller reports the count.
 */
import type { IngestRecord } from '../types.ts';

export type ListFormat = 'txt' | 'csv' | 'ndjson' | 'json';

/** The whole input is unusable (not one record could be read from its format). */
export class ListFormatError extends Error {}

export interface LineReader {
  readonly format: ListFormat;
  /** A record, null for a line that carries none (blank, comment, header), or 'bad'. */
  line(text: string): IngestRecord | null | 'bad';
}

/** Picks the format from the first non-blank line; JSON arrays are read whole by `parseJsonArray`. */
export function detectFormat(firstLine: string): ListFormat {
  const line = firstLine.replace(/^\uFEFF/, '').trim();
  if (line.startsWith('[')) return 'json';
  if (line.startsWith('{')) return 'ndjson';
  if (/(^|,)\s*"?url"?\s*(,|$)/i.test(line)) return 'csv';
  return 'txt';
}

export function createLineReader(format: Exclude<ListFormat, 'json'>): LineReader {
  if (format === 'txt') return { format, line: txtLine };
  if (format === 'ndjson') return { format, line: ndjsonLine };
  let columns: { url: number; date: number; description: number } | undefined;
  return {
    format,
    line(text) {
      const trimmed = text.replace(/^\uFEFF/, '').trim();
      if (trimmed === '') return null;
      const fields = splitCsvLine(trimmed);
      if (!fields) return 'bad';
      if (!columns) {
        const names = fields.map((f) => f.trim().toLowerCase());
        columns = {
          url: names.indexOf('url'),
          date: names.indexOf('date'),
          description: names.indexOf('description'),
        };
        if (columns.url === -1) throw new ListFormatError('CSV header names no url column');
        return null;
      }
      const url = fields[columns.url]?.trim();
      if (!url) return 'bad';
      const seenAt = columns.date >= 0 ? parseSeenAt(fields[columns.date] ?? '') : undefined;
      if (seenAt === null) return 'bad';
      const description = columns.description >= 0 ? fields[columns.description]?.trim() : undefined;
      return { url, ...(seenAt ? { seenAt } : {}), ...(description ? { description } : {}) };
    },
  };
}

function txtLine(text: string): IngestRecord | null {
  const line = text.replace(/^\uFEFF/, '').trim();
  if (line === '' || line.startsWith('#')) return null;
  return { url: line };
}

function ndjsonLine(text: string): IngestRecord | null | 'bad' {
  const line = text.trim();
  if (line === '') return null;
  try {
    return recordOf(JSON.parse(line));
  } catch {
    return 'bad';
  }
}

/** A JSON array of URL strings or `{url, date|seenAt|first_seen, description}` objects. */
export function parseJsonArray(text: string): { records: IngestRecord[]; bad: number } {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ListFormatError(`not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) throw new ListFormatError('JSON input is not an array');
  const records: IngestRecord[] = [];
  let bad = 0;
  for (const item of value) {
    const record = recordOf(item);
    if (record === 'bad') bad++;
    else records.push(record);
  }
  return { records, bad };
}

function recordOf(value: unknown): IngestRecord | 'bad' {
  if (typeof value === 'string') return value.trim() ? { url: value.trim() } : 'bad';
  if (typeof value !== 'object' || value === null) return 'bad';
  const item = value as Record<string, unknown>;
  const url = item.url ?? item.URL;
  if (typeof url !== 'string' || url.trim() === '') return 'bad';
  const rawDate = item.seenAt ?? item.date ?? item.first_seen;
  const seenAt = typeof rawDate === 'string' ? parseSeenAt(rawDate) : undefined;
  if (seenAt === null) return 'bad';
  const description = typeof item.description === 'string' ? item.description.trim() : '';
  return { url: url.trim(), ...(seenAt ? { seenAt } : {}), ...(description ? { description } : {}) };
}

/**
 * ISO 8601, or JPCERT/CC's `YYYY/MM/DD hh:mm:ss`, which is Japan time (+09:00) as the list is
 * published from Tokyo and says no zone. Undefined when empty, null when unreadable.
 */
export function parseSeenAt(text: string): string | undefined | null {
  const value = text.trim();
  if (value === '') return undefined;
  const jpcert = /^(\d{4})\/(\d{2})\/(\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value);
  const iso = jpcert
    ? `${jpcert[1]}-${jpcert[2]}-${jpcert[3]}T${jpcert[4] ?? '00'}:${jpcert[5] ?? '00'}:${jpcert[6] ?? '00'}+09:00`
    : value;
  if (!/^\d{4}-\d{2}-\d{2}/.test(iso)) return null;
  const time = Date.parse(iso);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

/** One CSV line (RFC 4180 quoting, no line breaks inside fields); null when a quote is unbalanced. */
export function splitCsvLine(line: string): string[] | null {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  if (quoted) return null;
  fields.push(field);
  return fields;
}
