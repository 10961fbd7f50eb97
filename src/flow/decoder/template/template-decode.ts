/**
 * The part NetFlow v9 and IPFIX share: decoding data sets with a compiled template into FlowBatch
 * rows, resolving times and sampling per record, learning from options data, and holding or
 * replaying data sets whose template has not arrived yet.
 */
import type { FlowBatchWriter } from '../../../core/index.ts';
import type { DecoderStats } from '../decoder-stats.ts';
import { Op, Slot } from './fields.ts';
import { PendingSets } from './pending.ts';
import type { DomainState, TemplateCache } from './template-cache.ts';
import {
  applyField,
  compileTemplate,
  VARIABLE_LENGTH,
  type Template,
  type TemplateField,
} from './template.ts';

export interface TemplatedShared {
  cache: TemplateCache;
  pending: PendingSets;
  stats: DecoderStats;
  countError(protocol: 'netflow9' | 'ipfix', kind: string): void;
  defaultRate: number;
  /** Use generated straight-line readers for fixed templates (false: interpreter only). */
  generate: boolean;
  /** Per-record scratch slots. */
  readonly t: Float64Array;
  /** Per-record field offsets and lengths for the interpreted path; grown as templates need. */
  fieldOffsets: Int32Array;
  fieldLengths: Int32Array;
}

/** What one message's header says, needed to resolve record times and sampling. */
export interface MessageContext {
  protocol: 'netflow9' | 'ipfix';
  version: 9 | 10;
  exporter: string;
  domain: DomainState;
  /** Export time (ms since epoch) from the header. */
  exportMs: number;
  /** NetFlow v9 header sysUptime (ms); 0 for IPFIX. */
  sysUptime: number;
  receivedMs: number;
}

export function createTemplatedShared(
  cache: TemplateCache,
  stats: DecoderStats,
  countError: (protocol: string, kind: string) => void,
  config: { defaultSamplingRate: number; pending: { maxSets: number; maxBytes: number; ttlMs: number } },
  generate = true,
): TemplatedShared {
  const pending = new PendingSets(config.pending, {
    held: () => stats.pending.held++,
    dropped: (reason) => {
      if (reason === 'overflow') stats.pending.droppedOverflow++;
      else if (reason === 'expired') stats.pending.droppedExpired++;
      else stats.pending.droppedTooLarge++;
    },
  });
  return {
    cache,
    pending,
    stats,
    countError,
    defaultRate: config.defaultSamplingRate,
    generate,
    t: new Float64Array(Slot.COUNT),
    fieldOffsets: new Int32Array(64),
    fieldLengths: new Int32Array(64),
  };
}

const bit = (slot: number) => 1 << slot;
const SAMPLING_BITS =
  bit(Slot.SAMPLING_INTERVAL) |
  bit(Slot.SAMPLER_ID) |
  bit(Slot.RANDOM_INTERVAL) |
  bit(Slot.PACKET_INTERVAL) |
  bit(Slot.SAMPLING_SIZE);

/** Sampling rate stated by the record's own fields; 0 when it states none. */
function statedRate(m: number, t: Float64Array): number {
  if (m & bit(Slot.SAMPLING_INTERVAL) && t[Slot.SAMPLING_INTERVAL]! >= 1) return t[Slot.SAMPLING_INTERVAL]!;
  if (m & bit(Slot.RANDOM_INTERVAL) && t[Slot.RANDOM_INTERVAL]! >= 1) return t[Slot.RANDOM_INTERVAL]!;
  if (m & bit(Slot.PACKET_INTERVAL) && m & bit(Slot.PACKET_SPACE) && t[Slot.PACKET_INTERVAL]! >= 1) {
    // RFC 5476: select `interval` packets, then skip `space`.
    return (t[Slot.PACKET_INTERVAL]! + t[Slot.PACKET_SPACE]!) / t[Slot.PACKET_INTERVAL]!;
  }
  if (m & bit(Slot.SAMPLING_SIZE) && m & bit(Slot.SAMPLING_POPULATION) && t[Slot.SAMPLING_SIZE]! >= 1) {
    return t[Slot.SAMPLING_POPULATION]! / t[Slot.SAMPLING_SIZE]!;
  }
  return 0;
}

/** Converts a sysUpTime value of the record to epoch ms (NaN when the base is unknown). */
function upTimeToMs(ctx: MessageContext, m: number, t: Float64Array, value: number): number {
  if (ctx.version === 9) {
    // Difference in the 32-bit uptime clock, allowing wrap and small skew either way.
    let diff = ctx.sysUptime - value;
    if (diff > 2147483648) diff -= 4294967296;
    else if (diff < -2147483648) diff += 4294967296;
    return ctx.exportMs - diff;
  }
  const init = m & bit(Slot.INIT_MS) ? t[Slot.INIT_MS]! : ctx.domain.initMs;
  return init > 0 ? init + value : NaN;
}

/** Resolves times, address family and sampling of a row once its fields are read. */
function finishRow(
  ctx: MessageContext,
  tpl: Template,
  B: FlowBatchWriter['active'],
  row: number,
  t: Float64Array,
  packetRate: number,
): void {
  if (tpl.hasV6 && (!tpl.hasV4 || (B.src4[row] === 0 && B.dst4[row] === 0))) B.ipVersion[row] = 6;
  const m = tpl.slotMask;
  let start = NaN;
  let end = NaN;
  if (m !== 0) {
    if (m & bit(Slot.START_MS)) start = t[Slot.START_MS]!;
    else if (m & bit(Slot.START_UP)) start = upTimeToMs(ctx, m, t, t[Slot.START_UP]!);
    else if (m & bit(Slot.START_DELTA_US)) start = ctx.exportMs - t[Slot.START_DELTA_US]! / 1000;
    if (m & bit(Slot.END_MS)) end = t[Slot.END_MS]!;
    else if (m & bit(Slot.END_UP)) end = upTimeToMs(ctx, m, t, t[Slot.END_UP]!);
    else if (m & bit(Slot.END_DELTA_US)) end = ctx.exportMs - t[Slot.END_DELTA_US]! / 1000;
    if (m & bit(Slot.DURATION_MS)) {
      if (start !== start && end === end) start = end - t[Slot.DURATION_MS]!;
      else if (end !== end && start === start) end = start + t[Slot.DURATION_MS]!;
    }
  }
  if (start !== start)
    start = end === end ? end : m & bit(Slot.OBSERVATION_MS) ? t[Slot.OBSERVATION_MS]! : ctx.exportMs;
  if (end !== end) end = start;
  B.startMs[row] = Math.round(start);
  B.endMs[row] = Math.round(end);

  let rate = packetRate;
  if (m & SAMPLING_BITS) {
    const stated = statedRate(m, t);
    if (stated >= 1) rate = stated;
    else if (m & bit(Slot.SAMPLER_ID)) rate = ctx.domain.samplers.get(t[Slot.SAMPLER_ID]!) ?? packetRate;
    rate = Math.round(rate);
  }
  if (rate !== 1) {
    B.samplingRate[row] = rate;
    B.packets[row] = B.packets[row]! * rate;
    B.bytes[row] = B.bytes[row]! * rate;
  }
}

/**
 * Reads the field layout of one variable-length (or options) record at `o` into the shared
 * offset/length scratch. Returns the offset after the record, or -1 when it does not fit.
 */
function scanRecord(sh: TemplatedShared, tpl: Template, b: Uint8Array, o: number, end: number): number {
  const n = tpl.lengths.length;
  if (sh.fieldOffsets.length < n) {
    sh.fieldOffsets = new Int32Array(n);
    sh.fieldLengths = new Int32Array(n);
  }
  const offsets = sh.fieldOffsets;
  const lengths = sh.fieldLengths;
  for (let i = 0; i < n; i++) {
    let len = tpl.lengths[i]!;
    if (len === VARIABLE_LENGTH) {
      if (o >= end) return -1;
      len = b[o++]!;
      if (len === 255) {
        if (o + 2 > end) return -1;
        len = (b[o]! << 8) | b[o + 1]!;
        o += 2;
      }
    }
    offsets[i] = o;
    lengths[i] = len;
    o += len;
    if (o > end) return -1;
  }
  return o;
}

function allZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/** Decodes the records of one data set (bytes [start, end)) with `tpl`; returns rows written. */
export function decodeRecords(
  sh: TemplatedShared,
  ctx: MessageContext,
  tpl: Template,
  b: Uint8Array,
  start: number,
  end: number,
  out: FlowBatchWriter,
): number {
  const t = sh.t;
  const protocol = ctx.protocol;
  if (tpl.options) return decodeOptionsRecords(sh, ctx, tpl, b, start, end);
  const packetRate = ctx.domain.rate >= 1 ? ctx.domain.rate : sh.defaultRate;
  const version = ctx.version;
  const exporter = ctx.exporter;
  const hasAddress = tpl.hasV4 || tpl.hasV6;
  let rows = 0;
  let o = start;
  if (!tpl.variable) {
    const len = tpl.recordLength;
    const reader = tpl.reader;
    if (!hasAddress) {
      const n = Math.floor((end - start) / len);
      sh.stats.recordsWithoutAddress[protocol] += n;
      return 0;
    }
    while (o + len <= end) {
      // Rows are claimed for as many records as fit in the batch at once, not one by one.
      const claimed = out.rows(exporter, version, ((end - o) / len) | 0);
      const B = out.active;
      const last = B.length;
      for (let row = last - claimed; row < last; row++, o += len) {
        if (reader) reader(b, o, B, row, t);
        else {
          const ops = tpl.ops;
          const convs = tpl.convs;
          const lengths = tpl.lengths;
          const offsets = tpl.offsets;
          for (let i = 0; i < ops.length; i++) {
            if (ops[i] !== Op.SKIP)
              applyField(ops[i]!, convs[i]!, b, o + offsets[i]!, lengths[i]!, B, row, t);
          }
        }
        finishRow(ctx, tpl, B, row, t, packetRate);
      }
      rows += claimed;
    }
  } else {
    const ops = tpl.ops;
    const convs = tpl.convs;
    while (o + tpl.recordLength <= end) {
      const next = scanRecord(sh, tpl, b, o, end);
      if (next < 0) {
        if (!allZero(b, o, end)) sh.countError(protocol, 'record_truncated');
        break;
      }
      if (hasAddress) {
        const row = out.row(exporter, version);
        const B = out.active;
        const offsets = sh.fieldOffsets;
        const lengths = sh.fieldLengths;
        for (let i = 0; i < ops.length; i++) {
          if (ops[i] === Op.SKIP) continue;
          // A variable-length field shorter or longer than its mapping allows is left unset.
          const want = tpl.lengths[i] === VARIABLE_LENGTH ? -1 : lengths[i]!;
          if (want >= 0 || validVariableLength(ops[i]!, lengths[i]!)) {
            applyField(ops[i]!, convs[i]!, b, offsets[i]!, lengths[i]!, B, row, t);
          }
        }
        finishRow(ctx, tpl, B, row, t, packetRate);
        rows++;
      } else sh.stats.recordsWithoutAddress[protocol]++;
      o = next;
    }
  }
  sh.stats.records[protocol] += rows;
  return rows;
}

function validVariableLength(op: number, len: number): boolean {
  if (op === Op.SRC4 || op === Op.DST4) return len === 4;
  if (op === Op.SRC6 || op === Op.DST6) return len === 16;
  return len >= 1 && len <= 8;
}

/** Options data: learns sampling rates per sampler / domain and the IPFIX system init time. */
function decodeOptionsRecords(
  sh: TemplatedShared,
  ctx: MessageContext,
  tpl: Template,
  b: Uint8Array,
  start: number,
  end: number,
): number {
  const t = sh.t;
  const m = tpl.slotMask;
  let o = start;
  while (o + tpl.recordLength <= end) {
    const next = scanRecord(sh, tpl, b, o, end);
    if (next < 0) {
      if (!allZero(b, o, end)) sh.countError(ctx.protocol, 'record_truncated');
      break;
    }
    sh.stats.optionsRecords[ctx.protocol]++;
    if (m !== 0) {
      for (let i = 0; i < tpl.ops.length; i++) {
        const op = tpl.ops[i]!;
        if (op === Op.SKIP) continue;
        const len = sh.fieldLengths[i]!;
        if (tpl.lengths[i] === VARIABLE_LENGTH && !validVariableLength(op, len)) continue;
        applyField(op, tpl.convs[i]!, b, sh.fieldOffsets[i]!, len, undefined, 0, t);
      }
      const rate = Math.round(statedRate(m, t));
      if (rate >= 1) {
        if (m & bit(Slot.SAMPLER_ID)) ctx.domain.setSamplerRate(t[Slot.SAMPLER_ID]!, rate);
        else ctx.domain.rate = rate;
      }
      if (m & bit(Slot.INIT_MS) && t[Slot.INIT_MS]! > 0) ctx.domain.initMs = t[Slot.INIT_MS]!;
    }
    o = next;
  }
  return 0;
}

/** A data set: decoded when its template is known, otherwise held until it arrives. */
export function decodeDataSet(
  sh: TemplatedShared,
  ctx: MessageContext,
  setId: number,
  b: Uint8Array,
  start: number,
  end: number,
  out: FlowBatchWriter,
): number {
  const tpl = ctx.domain.templates.get(setId);
  if (tpl) return decodeRecords(sh, ctx, tpl, b, start, end, out);
  if (end > start) {
    sh.pending.hold(
      PendingSets.key(ctx.domain.key, setId),
      b.subarray(start, end),
      ctx.exportMs,
      ctx.sysUptime,
      ctx.receivedMs,
    );
  }
  return 0;
}

/**
 * Compiles and stores a template, then replays any data held for it. Returns rows written by
 * the replay.
 */
export function learnTemplate(
  sh: TemplatedShared,
  ctx: MessageContext,
  id: number,
  fields: TemplateField[],
  options: boolean,
  scopeCount: number,
  out: FlowBatchWriter,
): number {
  const existing = ctx.domain.templates.get(id);
  if (existing && existing.hasFields(fields, options, scopeCount)) {
    // Exporters resend templates often; an unchanged one keeps its compiled form.
    sh.cache.touch(ctx.domain, existing);
    sh.stats.templates.refreshed[ctx.protocol]++;
    return replayPending(sh, ctx, existing, out);
  }
  const compiled = compileTemplate(
    id,
    fields,
    { options, scopeCount, scopeIsIe: ctx.version === 10, generate: sh.generate },
    (kind) => sh.countError(ctx.protocol, kind),
  );
  if (typeof compiled === 'string') {
    sh.countError(ctx.protocol, compiled);
    return 0;
  }
  const changed = sh.cache.add(ctx.domain, compiled);
  if (changed) sh.stats.templates.learned[ctx.protocol]++;
  else sh.stats.templates.refreshed[ctx.protocol]++;
  return replayPending(sh, ctx, compiled, out);
}

/** Decodes the data sets that were waiting for `compiled`; returns rows written. */
function replayPending(
  sh: TemplatedShared,
  ctx: MessageContext,
  compiled: Template,
  out: FlowBatchWriter,
): number {
  if (sh.pending.sets === 0) return 0;
  const waiting = sh.pending.take(PendingSets.key(ctx.domain.key, compiled.id));
  if (waiting.length === 0) return 0;
  // Replayed sets resolve times against the header they arrived with.
  const savedExport = ctx.exportMs;
  const savedUptime = ctx.sysUptime;
  let rows = 0;
  for (const set of waiting) {
    ctx.exportMs = set.exportMs;
    ctx.sysUptime = set.sysUptime;
    const n = decodeRecords(sh, ctx, compiled, set.records, 0, set.records.length, out);
    rows += n;
    sh.stats.pending.replayed++;
    sh.stats.pending.replayedRecords += n;
  }
  ctx.exportMs = savedExport;
  ctx.sysUptime = savedUptime;
  return rows;
}
