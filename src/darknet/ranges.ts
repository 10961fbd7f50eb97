/**
 * Address-range tables for enrichment: ASN (`start,end,asn,name`), country (`start,end,country`)
 * and known scanner networks (`cidr[,name]`). IPv4 rows sit in sorted typed arrays for binary
 * search; IPv6 rows in sorted bigint arrays (looked up once per new source, not per packet).
 */
import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { InputError, parsePrefix, splitCsvLine } from '../core/index.ts';

export interface RangeRow {
  /** First label (ASN number as text, country code, or network name). */
  value: string;
  /** Second label (AS name), may be empty. */
  name: string;
}

function toBig(text: string): { family: 4 | 6; big: bigint } {
  const a = ipaddr.parse(text.trim());
  if (a.kind() === 'ipv4') {
    const o = (a as ipaddr.IPv4).octets;
    return { family: 4, big: BigInt(((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0) };
  }
  let big = 0n;
  for (const b of (a as ipaddr.IPv6).toByteArray()) big = (big << 8n) | BigInt(b);
  return { family: 6, big };
}

export function bytesToBig(bytes: Uint8Array): bigint {
  let big = 0n;
  for (let i = 0; i < 16; i++) big = (big << 8n) | BigInt(bytes[i]!);
  return big;
}

/** Sorted, non-overlapping address ranges each pointing to a row. */
export class RangeTable {
  readonly rows: RangeRow[] = [];
  private start4 = new Float64Array(0);
  private end4 = new Float64Array(0);
  private row4 = new Int32Array(0);
  private start6: bigint[] = [];
  private end6: bigint[] = [];
  private row6: number[] = [];

  /** Builds from [start, end, row] entries; overlapping entries keep the narrower one first by start. */
  static from(entries: { start: string; end: string; value: string; name?: string }[]): RangeTable {
    const table = new RangeTable();
    const v4: [number, number, number][] = [];
    const v6: [bigint, bigint, number][] = [];
    for (const e of entries) {
      const s = toBig(e.start);
      const t = toBig(e.end);
      if (s.family !== t.family || t.big < s.big) throw new InputError(`bad range ${e.start}-${e.end}`);
      const row = table.rows.length;
      table.rows.push({ value: e.value, name: e.name ?? '' });
      if (s.family === 4) v4.push([Number(s.big), Number(t.big), row]);
      else v6.push([s.big, t.big, row]);
    }
    v4.sort((a, b) => a[0] - b[0]);
    v6.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    table.start4 = Float64Array.from(v4.map((r) => r[0]));
    table.end4 = Float64Array.from(v4.map((r) => r[1]));
    table.row4 = Int32Array.from(v4.map((r) => r[2]));
    table.start6 = v6.map((r) => r[0]);
    table.end6 = v6.map((r) => r[1]);
    table.row6 = v6.map((r) => r[2]);
    return table;
  }

  get size(): number {
    return this.rows.length;
  }

  /** Row index holding IPv4 `address`, or -1. */
  lookup4(address: number): number {
    const starts = this.start4;
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= address) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && address <= this.end4[found]! ? this.row4[found]! : -1;
  }

  lookup6(bytes: Uint8Array): number {
    const value = bytesToBig(bytes);
    let lo = 0;
    let hi = this.start6.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.start6[mid]! <= value) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && value <= this.end6[found]! ? this.row6[found]! : -1;
  }

  /** Looks up address text of either family. */
  lookupText(address: string): number {
    const { family, big } = toBig(address);
    if (family === 4) return this.lookup4(Number(big));
    const bytes = new Uint8Array(16);
    let v = big;
    for (let i = 15; i >= 0; i--) {
      bytes[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return this.lookup6(bytes);
  }
}

function readLines(path: string, what: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(
      `cannot read ${what} file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  return text.split(/\r?\n/);
}

/**
 * Reads an ASN file in the `@ip-location-db/asn` layout: `start,end,asn,name` per line (a header
 * line is skipped when its first field is not an address). Bad lines are an InputError with the line number.
 */
export function loadAsnFile(path: string): RangeTable {
  return loadRangeFile(path, 'ASN', 3);
}

/** Reads a country file: `start,end,country` per line. */
export function loadCountryFile(path: string): RangeTable {
  return loadRangeFile(path, 'country', 3);
}

function loadRangeFile(path: string, what: string, minFields: number): RangeTable {
  const entries: { start: string; end: string; value: string; name: string }[] = [];
  const lines = readLines(path, what);
  lines.forEach((line, n) => {
    if (!line.trim() || line.startsWith('#')) return;
    const fields = splitCsvLine(line);
    if (n === 0 && !ipaddr.isValid(fields[0]!.trim())) return;
    if (
      fields.length < minFields ||
      !ipaddr.isValid(fields[0]!.trim()) ||
      !ipaddr.isValid(fields[1]!.trim())
    ) {
      throw new InputError(`${path}:${n + 1}: expected start,end,${what === 'ASN' ? 'asn,name' : 'country'}`);
    }
    entries.push({
      start: fields[0]!,
      end: fields[1]!,
      value: fields[2]!.trim(),
      name: (fields[3] ?? '').trim(),
    });
  });
  try {
    return RangeTable.from(entries);
  } catch (error) {
    throw new InputError(`${path}: ${(error as Error).message}`);
  }
}

/** Known (research, benign) scanner networks: one `cidr[,name]` per line, # comments. */
export function loadScannerFile(path: string): RangeTable {
  const entries: { start: string; end: string; value: string }[] = [];
  readLines(path, 'scanner list').forEach((line, n) => {
    const text = line.replace(/#.*/, '').trim();
    if (!text) return;
    const [cidr, ...rest] = splitCsvLine(text);
    try {
      entries.push(prefixRange(cidr!.trim(), rest.join(',').trim() || cidr!.trim()));
    } catch {
      throw new InputError(`${path}:${n + 1}: "${cidr}" is not a CIDR prefix or address`);
    }
  });
  return RangeTable.from(entries);
}

/** The first and last address of a prefix as text, labelled `value`. */
export function prefixRange(cidr: string, value: string): { start: string; end: string; value: string } {
  const p = parsePrefix(cidr);
  if (p.family === 4) {
    const last = (p.network4 | (~p.mask4 >>> 0)) >>> 0;
    return { start: numToV4(p.network4), end: numToV4(last), value };
  }
  const last = Uint8Array.from(p.network6);
  for (let bit = p.bits; bit < 128; bit++) last[bit >> 3]! |= 0x80 >> (bit & 7);
  return {
    start: ipaddr.fromByteArray([...p.network6]).toString(),
    end: ipaddr.fromByteArray([...last]).toString(),
    value,
  };
}

function numToV4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}
