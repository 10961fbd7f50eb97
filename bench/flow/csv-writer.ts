/**
 * The flow benchmark's disk sink: writes FlowBatch rows to a file as exactly the bytes of
 * `formatCsv` (tsunagi's flow CSV, `tsunagi flows decode`), but formats numbers and IPv4
 * addresses straight into a reused buffer instead of building a string per row. Same records,
 * same columns, same text (bench.test.ts compares it byte for byte with formatCsv); only the
 * way the bytes are made differs. Bench-only: the product never writes raw flows to disk.
 */
import { writeSync } from 'node:fs';
import { flowVersionLabel, type FlowBatch } from '../../src/core/index.ts';
import { FLOW_CSV_HEADER, rowAddresses } from '../../src/flow/index.ts';

const COMMA = 44;
const NEWLINE = 10;
const DOT = 46;
/** The longest line with an IPv6 pair and 2^53-sized counters stays well below this. */
const MAX_LINE = 512;
/** Written to the file once this much is buffered (and on close). */
const FLUSH_AT = 1 << 20;

export class FlowCsvFile {
  private readonly buffer = Buffer.allocUnsafe(FLUSH_AT + 64 * MAX_LINE);
  private length = 0;
  /** Bytes written to the file so far (flushed). */
  written = 0;

  constructor(private readonly fd: number) {
    this.length = this.buffer.write(`${FLOW_CSV_HEADER}\n`, 0, 'utf8');
  }

  write(batch: FlowBatch): void {
    // Exporter and version text is per batch (a handful of values): encoded once each.
    const exporters = batch.exporters.map((e) => Buffer.from(`${csvText(e)},`, 'utf8'));
    const versions = new Map<number, Buffer>();
    const buffer = this.buffer;
    for (let row = 0; row < batch.length; row++) {
      if (this.length > FLUSH_AT) this.flush();
      if (batch.ipVersion[row] === 6 || exporters[batch.exporter[row]!]!.length > MAX_LINE / 2) {
        // IPv6 (none in this bench) and odd exporters: formatCsv's own template.
        this.length += buffer.write(textLine(batch, row), this.length, 'utf8');
        continue;
      }
      let at = this.length;
      at = putBytes(buffer, at, exporters[batch.exporter[row]!]!);
      const version = batch.version[row]!;
      let label = versions.get(version);
      if (!label) versions.set(version, (label = Buffer.from(`${flowVersionLabel(version)},`, 'latin1')));
      at = putBytes(buffer, at, label);
      at = putNumber(buffer, at, batch.startMs[row]!);
      buffer[at++] = COMMA;
      at = putNumber(buffer, at, batch.endMs[row]!);
      buffer[at++] = COMMA;
      at = putIpv4(buffer, at, batch.src4[row]!);
      buffer[at++] = COMMA;
      at = putIpv4(buffer, at, batch.dst4[row]!);
      buffer[at++] = COMMA;
      at = putNumber(buffer, at, batch.srcPort[row]!);
      buffer[at++] = COMMA;
      at = putNumber(buffer, at, batch.dstPort[row]!);
      buffer[at++] = COMMA;
      at = putNumber(buffer, at, batch.proto[row]!);
      buffer[at++] = COMMA;
      at = putNumber(buffer, at, batch.tcpFlags[row]!);
      buffer[at++] = COMMA;
      at = putNumber(buffer, at, batch.packets[row]!);
      buffer[at++] = COMMA;
      at = putNumber(buffer, at, batch.bytes[row]!);
      buffer[at++] = COMMA;
      at = putNumber(buffer, at, batch.samplingRate[row]!);
      buffer[at++] = NEWLINE;
      this.length = at;
    }
  }

  flush(): void {
    let offset = 0;
    while (offset < this.length) offset += writeSync(this.fd, this.buffer, offset, this.length - offset);
    this.written += this.length;
    this.length = 0;
  }
}

function csvText(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Copies `bytes` byte by byte: Buffer#copy costs more than a short loop for a few bytes. */
function putBytes(buffer: Buffer, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) buffer[at + i] = bytes[i]!;
  return at + bytes.length;
}

function putOctet(buffer: Buffer, at: number, octet: number): number {
  if (octet >= 100) {
    buffer[at++] = 48 + ((octet / 100) | 0);
    octet %= 100;
    buffer[at++] = 48 + ((octet / 10) | 0);
  } else if (octet >= 10) buffer[at++] = 48 + ((octet / 10) | 0);
  buffer[at++] = 48 + (octet % 10);
  return at;
}

function putIpv4(buffer: Buffer, at: number, address: number): number {
  at = putOctet(buffer, at, address >>> 24);
  buffer[at++] = DOT;
  at = putOctet(buffer, at, (address >>> 16) & 255);
  buffer[at++] = DOT;
  at = putOctet(buffer, at, (address >>> 8) & 255);
  buffer[at++] = DOT;
  return putOctet(buffer, at, address & 255);
}

/** Digits of a small non-negative integer (below 2^31), with integer arithmetic. */
function putSmall(buffer: Buffer, at: number, value: number, minDigits: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = (rest / 10) | 0) digits++;
  if (digits < minDigits) digits = minDigits;
  let end = at + digits;
  for (let rest = value; end > at; rest = (rest / 10) | 0) buffer[--end] = 48 + (rest % 10);
  return at + digits;
}

/** A number as `${value}` prints it: digits for safe non-negative integers, else its string. */
function putNumber(buffer: Buffer, at: number, value: number): number {
  if (value >= 0 && value < 2_147_483_648 && (value | 0) === value) return putSmall(buffer, at, value, 1);
  if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER && Number.isInteger(value)))
    return at + buffer.write(String(value), at, 'latin1');
  // Millisecond timestamps and large counters: the high part, then nine digits.
  const high = Math.floor(value / 1e9);
  at = putNumber(buffer, at, high);
  return putSmall(buffer, at, value - high * 1e9, 9);
}

/** One line as formatCsv writes it (its template), for the rows the byte path leaves out. */
function textLine(batch: FlowBatch, row: number): string {
  const [src, dst] = rowAddresses(batch, row);
  return (
    `${csvText(batch.exporters[batch.exporter[row]!]!)},${flowVersionLabel(batch.version[row]!)},` +
    `${batch.startMs[row]},${batch.endMs[row]},${src},${dst},${batch.srcPort[row]},${batch.dstPort[row]},` +
    `${batch.proto[row]},${batch.tcpFlags[row]},${batch.packets[row]},${batch.bytes[row]},${batch.samplingRate[row]}\n`
  );
}
