/** NetFlow v9 (RFC 3954): header, template and options template flowsets, data flowsets. */
import type { FlowBatchWriter } from '../core/flowbatch.ts';
import {
  decodeDataSet,
  learnTemplate,
  type MessageContext,
  type TemplatedShared,
} from './template-decode.ts';
import type { TemplateField } from './template.ts';
import type { PayloadSource } from './types.ts';

const HEADER_LENGTH = 20;

/** Decodes one NetFlow v9 export packet; returns rows written. Never throws on bad input. */
export function decodeNetflow9(
  sh: TemplatedShared,
  b: Buffer,
  source: PayloadSource,
  out: FlowBatchWriter,
): number {
  sh.stats.packets.netflow9++;
  if (b.length < HEADER_LENGTH) {
    sh.countError('netflow9', 'header_truncated');
    return 0;
  }
  const sysUptime = b.readUInt32BE(4);
  const unixSecs = b.readUInt32BE(8);
  const sourceId = b.readUInt32BE(16);
  const ctx: MessageContext = {
    protocol: 'netflow9',
    version: 9,
    exporter: source.exporter,
    domain: sh.cache.domain(source.exporter, source.exporterPort, 9, sourceId),
    exportMs: unixSecs * 1000,
    sysUptime,
    receivedMs: source.receivedMs,
  };
  let rows = 0;
  let o = HEADER_LENGTH;
  const end = b.length;
  while (o + 4 <= end) {
    const setId = (b[o]! << 8) | b[o + 1]!;
    const setLength = (b[o + 2]! << 8) | b[o + 3]!;
    if (setLength < 4) {
      // Some exporters pad the datagram with zeros after the last flowset.
      if (!allZero(b, o, end)) sh.countError('netflow9', 'set_length');
      return rows;
    }
    const body = o + 4;
    let setEnd = o + setLength;
    if (setEnd > end) {
      // Decode the records that fit (as other collectors do), but count the damage.
      sh.countError('netflow9', 'set_truncated');
      setEnd = end;
    }
    if (setId === 0) rows += templates(sh, ctx, b, body, setEnd, out);
    else if (setId === 1) rows += optionsTemplates(sh, ctx, b, body, setEnd, out);
    else if (setId >= 256) rows += decodeDataSet(sh, ctx, setId, b, body, setEnd, out);
    else sh.countError('netflow9', 'set_id_reserved');
    o = setEnd;
  }
  if (o < end && !allZero(b, o, end)) sh.countError('netflow9', 'trailing_bytes');
  return rows;
}

function allZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

function templates(
  sh: TemplatedShared,
  ctx: MessageContext,
  b: Buffer,
  o: number,
  end: number,
  out: FlowBatchWriter,
): number {
  let rows = 0;
  while (o + 4 <= end) {
    const id = b.readUInt16BE(o);
    const count = b.readUInt16BE(o + 2);
    o += 4;
    if (id === 0 && count === 0) return rows; // padding
    if (o + count * 4 > end) {
      sh.countError('netflow9', 'template_truncated');
      return rows;
    }
    if (id < 256) {
      sh.countError('netflow9', 'template_id_reserved');
      o += count * 4;
      continue;
    }
    const fields: TemplateField[] = new Array(count);
    for (let i = 0; i < count; i++, o += 4) {
      fields[i] = { id: b.readUInt16BE(o), length: b.readUInt16BE(o + 2), enterprise: 0 };
    }
    rows += learnTemplate(sh, ctx, id, fields, false, 0, out);
  }
  return rows;
}

function optionsTemplates(
  sh: TemplatedShared,
  ctx: MessageContext,
  b: Buffer,
  o: number,
  end: number,
  out: FlowBatchWriter,
): number {
  let rows = 0;
  while (o + 6 <= end) {
    const id = b.readUInt16BE(o);
    const scopeBytes = b.readUInt16BE(o + 2);
    const optionBytes = b.readUInt16BE(o + 4);
    o += 6;
    if (id === 0 && scopeBytes === 0 && optionBytes === 0) return rows; // padding
    if (scopeBytes % 4 !== 0 || optionBytes % 4 !== 0 || o + scopeBytes + optionBytes > end) {
      sh.countError('netflow9', 'template_truncated');
      return rows;
    }
    const scopeCount = scopeBytes / 4;
    const count = scopeCount + optionBytes / 4;
    if (id < 256) {
      sh.countError('netflow9', 'template_id_reserved');
      o += count * 4;
      continue;
    }
    const fields: TemplateField[] = new Array(count);
    for (let i = 0; i < count; i++, o += 4) {
      fields[i] = { id: b.readUInt16BE(o), length: b.readUInt16BE(o + 2), enterprise: 0 };
    }
    rows += learnTemplate(sh, ctx, id, fields, true, scopeCount, out);
  }
  return rows;
}
