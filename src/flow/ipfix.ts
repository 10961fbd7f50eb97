/**
 * IPFIX (RFC 7011): message header, template and options template sets (enterprise fields,
 * variable-length fields, withdrawal), data sets.
 */
import type { FlowBatchWriter } from '../core/flowbatch.ts';
import {
  decodeDataSet,
  learnTemplate,
  type MessageContext,
  type TemplatedShared,
} from './template-decode.ts';
import type { TemplateField } from './template.ts';
import type { PayloadSource } from './types.ts';

const HEADER_LENGTH = 16;
const TEMPLATE_SET = 2;
const OPTIONS_TEMPLATE_SET = 3;

/** Decodes one IPFIX message; returns rows written. Never throws on bad input. */
export function decodeIpfix(
  sh: TemplatedShared,
  b: Buffer,
  source: PayloadSource,
  out: FlowBatchWriter,
): number {
  sh.stats.packets.ipfix++;
  if (b.length < HEADER_LENGTH) {
    sh.countError('ipfix', 'header_truncated');
    return 0;
  }
  const length = b.readUInt16BE(2);
  let end = b.length;
  if (length < HEADER_LENGTH) {
    sh.countError('ipfix', 'length_mismatch');
    return 0;
  }
  if (length > b.length) sh.countError('ipfix', 'length_mismatch');
  else end = length;
  const exportSecs = b.readUInt32BE(4);
  const domainId = b.readUInt32BE(12);
  const ctx: MessageContext = {
    protocol: 'ipfix',
    version: 10,
    exporter: source.exporter,
    domain: sh.cache.domain(source.exporter, source.exporterPort, 10, domainId),
    exportMs: exportSecs * 1000,
    sysUptime: 0,
    receivedMs: source.receivedMs,
  };
  let rows = 0;
  let o = HEADER_LENGTH;
  while (o + 4 <= end) {
    const setId = (b[o]! << 8) | b[o + 1]!;
    const setLength = (b[o + 2]! << 8) | b[o + 3]!;
    if (setLength < 4) {
      sh.countError('ipfix', 'set_length');
      return rows;
    }
    const body = o + 4;
    let setEnd = o + setLength;
    if (setEnd > end) {
      // Decode the records that fit (as other collectors do), but count the damage.
      sh.countError('ipfix', 'set_truncated');
      setEnd = end;
    }
    if (setId === TEMPLATE_SET) rows += templates(sh, ctx, b, body, setEnd, false, out);
    else if (setId === OPTIONS_TEMPLATE_SET) rows += templates(sh, ctx, b, body, setEnd, true, out);
    else if (setId >= 256) rows += decodeDataSet(sh, ctx, setId, b, body, setEnd, out);
    else sh.countError('ipfix', 'set_id_reserved');
    o = setEnd;
  }
  if (o < end) sh.countError('ipfix', 'trailing_bytes');
  return rows;
}

function templates(
  sh: TemplatedShared,
  ctx: MessageContext,
  b: Buffer,
  o: number,
  end: number,
  options: boolean,
  out: FlowBatchWriter,
): number {
  let rows = 0;
  while (o + 4 <= end) {
    const id = b.readUInt16BE(o);
    const count = b.readUInt16BE(o + 2);
    o += 4;
    if (id === 0 && count === 0) return rows; // padding
    if (count === 0) {
      withdraw(sh, ctx, id, options);
      continue;
    }
    let scopeCount = 0;
    if (options) {
      if (o + 2 > end) {
        sh.countError('ipfix', 'template_truncated');
        return rows;
      }
      scopeCount = b.readUInt16BE(o);
      o += 2;
      if (scopeCount === 0 || scopeCount > count) {
        sh.countError('ipfix', 'template_scope_count');
        return rows;
      }
    }
    // Each specifier takes at least 4 bytes: a count beyond the set cannot be right.
    if (o + count * 4 > end) {
      sh.countError('ipfix', 'template_truncated');
      return rows;
    }
    const fields: TemplateField[] = new Array(count);
    for (let i = 0; i < count; i++) {
      if (o + 4 > end) {
        sh.countError('ipfix', 'template_truncated');
        return rows;
      }
      const raw = b.readUInt16BE(o);
      const length = b.readUInt16BE(o + 2);
      o += 4;
      let enterprise = 0;
      if (raw & 0x8000) {
        if (o + 4 > end) {
          sh.countError('ipfix', 'template_truncated');
          return rows;
        }
        enterprise = b.readUInt32BE(o);
        o += 4;
      }
      fields[i] = { id: raw & 0x7fff, length, enterprise };
    }
    if (id < 256) {
      sh.countError('ipfix', 'template_id_reserved');
      continue;
    }
    rows += learnTemplate(sh, ctx, id, fields, options, scopeCount, out);
  }
  return rows;
}

/** RFC 7011 8.1: field count 0 withdraws one template; template id 2 or 3 withdraws them all. */
function withdraw(sh: TemplatedShared, ctx: MessageContext, id: number, options: boolean): void {
  if (id === (options ? OPTIONS_TEMPLATE_SET : TEMPLATE_SET)) {
    sh.stats.templates.withdrawn.ipfix += sh.cache.withdrawAll(ctx.domain, options);
  } else if (id >= 256) {
    if (sh.cache.withdraw(ctx.domain, id)) sh.stats.templates.withdrawn.ipfix++;
    else sh.countError('ipfix', 'withdraw_unknown');
  } else sh.countError('ipfix', 'template_id_reserved');
}
