/**
 * Template and options template sets: the one parser NetFlow v9 (RFC 3954 5.2, 6.1) and IPFIX
 * (RFC 7011 3.4) share. The two wire forms differ only in each template record's header (v9
 * options give scope and option lengths in bytes; IPFIX gives a field count, a scope count and
 * withdraws with a count of 0) and in IPFIX's enterprise bit; bounds, reserved ids and learning
 * are the same, so both protocols count the same errors for the same damage.
 */
import type { FlowBatchWriter } from '../../../core/index.ts';
import { learnTemplate, type MessageContext, type TemplatedShared } from './template-decode.ts';
import type { TemplateField } from './template.ts';

/** Set ids that carry templates (data sets are 256 and up). */
export const V9_TEMPLATE_SET = 0;
export const V9_OPTIONS_TEMPLATE_SET = 1;
export const IPFIX_TEMPLATE_SET = 2;
export const IPFIX_OPTIONS_TEMPLATE_SET = 3;

/** Template ids below this are reserved for set ids. */
const FIRST_TEMPLATE_ID = 256;
/** IPFIX: a field id with this bit set is followed by a 4-byte enterprise number. */
const ENTERPRISE_BIT = 0x8000;

/**
 * Learns every template record in one template set (`options`: an options template set) of the
 * message `ctx` describes, from `b[o, end)`; returns the rows of held data sets the new templates
 * let through. Never throws: damage is counted and ends the set.
 */
export function parseTemplateSet(
  sh: TemplatedShared,
  ctx: MessageContext,
  b: Buffer,
  o: number,
  end: number,
  options: boolean,
  out: FlowBatchWriter,
): number {
  const ipfix = ctx.version === 10;
  const v9Options = !ipfix && options;
  const recordHeader = v9Options ? 6 : 4;
  let rows = 0;
  while (o + recordHeader <= end) {
    const id = b.readUInt16BE(o);
    let count: number;
    let scopeCount = 0;
    if (v9Options) {
      const scopeBytes = b.readUInt16BE(o + 2);
      const optionBytes = b.readUInt16BE(o + 4);
      o += 6;
      if (id === 0 && scopeBytes === 0 && optionBytes === 0) return rows; // padding
      if (scopeBytes % 4 !== 0 || optionBytes % 4 !== 0) {
        sh.countError(ctx.protocol, 'template_truncated');
        return rows;
      }
      scopeCount = scopeBytes / 4;
      count = scopeCount + optionBytes / 4;
    } else {
      count = b.readUInt16BE(o + 2);
      o += 4;
      if (id === 0 && count === 0) return rows; // padding
      if (ipfix && count === 0) {
        withdraw(sh, ctx, id, options);
        continue;
      }
      if (ipfix && options) {
        if (o + 2 > end) {
          sh.countError(ctx.protocol, 'template_truncated');
          return rows;
        }
        scopeCount = b.readUInt16BE(o);
        o += 2;
        if (scopeCount === 0 || scopeCount > count) {
          sh.countError(ctx.protocol, 'template_scope_count');
          return rows;
        }
      }
    }
    // Each specifier takes at least 4 bytes: a count beyond the set cannot be right.
    if (o + count * 4 > end) {
      sh.countError(ctx.protocol, 'template_truncated');
      return rows;
    }
    const fields: TemplateField[] = new Array(count);
    for (let i = 0; i < count; i++) {
      if (o + 4 > end) {
        sh.countError(ctx.protocol, 'template_truncated');
        return rows;
      }
      const raw = b.readUInt16BE(o);
      const length = b.readUInt16BE(o + 2);
      o += 4;
      let enterprise = 0;
      if (ipfix && raw & ENTERPRISE_BIT) {
        if (o + 4 > end) {
          sh.countError(ctx.protocol, 'template_truncated');
          return rows;
        }
        enterprise = b.readUInt32BE(o);
        o += 4;
      }
      fields[i] = { id: ipfix ? raw & ~ENTERPRISE_BIT : raw, length, enterprise };
    }
    if (id < FIRST_TEMPLATE_ID) {
      sh.countError(ctx.protocol, 'template_id_reserved');
      continue;
    }
    rows += learnTemplate(sh, ctx, id, fields, options, scopeCount, out);
  }
  return rows;
}

/** RFC 7011 8.1: field count 0 withdraws one template; template id 2 or 3 withdraws them all. */
function withdraw(sh: TemplatedShared, ctx: MessageContext, id: number, options: boolean): void {
  if (id === (options ? IPFIX_OPTIONS_TEMPLATE_SET : IPFIX_TEMPLATE_SET)) {
    sh.stats.templates.withdrawn.ipfix += sh.cache.withdrawAll(ctx.domain, options);
  } else if (id >= FIRST_TEMPLATE_ID) {
    if (sh.cache.withdraw(ctx.domain, id)) sh.stats.templates.withdrawn.ipfix++;
    else sh.countError('ipfix', 'withdraw_unknown');
  } else sh.countError('ipfix', 'template_id_reserved');
}
