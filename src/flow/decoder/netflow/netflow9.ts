/** NetFlow v9 (RFC 3954): header, template and options template flowsets, data flowsets. */
import type { FlowBatchWriter } from '../../../core/index.ts';
import { decodeDataSet, type MessageContext, type TemplatedShared } from '../template/template-decode.ts';
import { parseTemplateSet, V9_OPTIONS_TEMPLATE_SET, V9_TEMPLATE_SET } from '../template/template-set.ts';
import type { PayloadSource } from '../../types.ts';

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
    if (setId === V9_TEMPLATE_SET) rows += parseTemplateSet(sh, ctx, b, body, setEnd, false, out);
    else if (setId === V9_OPTIONS_TEMPLATE_SET) rows += parseTemplateSet(sh, ctx, b, body, setEnd, true, out);
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
