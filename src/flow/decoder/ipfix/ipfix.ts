/**
 * IPFIX (RFC 7011): message header, template and options template sets (enterprise fields,
 * variable-length fields, withdrawal), data sets.
 */
import type { FlowBatchWriter } from '../../../core/index.ts';
import { decodeDataSet, type MessageContext, type TemplatedShared } from '../template/template-decode.ts';
import {
  IPFIX_OPTIONS_TEMPLATE_SET,
  IPFIX_TEMPLATE_SET,
  parseTemplateSet,
} from '../template/template-set.ts';
import type { PayloadSource } from '../../types.ts';

const HEADER_LENGTH = 16;

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
    if (setId === IPFIX_TEMPLATE_SET) rows += parseTemplateSet(sh, ctx, b, body, setEnd, false, out);
    else if (setId === IPFIX_OPTIONS_TEMPLATE_SET)
      rows += parseTemplateSet(sh, ctx, b, body, setEnd, true, out);
    else if (setId >= 256) rows += decodeDataSet(sh, ctx, setId, b, body, setEnd, out);
    else sh.countError('ipfix', 'set_id_reserved');
    o = setEnd;
  }
  if (o < end) sh.countError('ipfix', 'trailing_bytes');
  return rows;
}
