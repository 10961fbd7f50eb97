/**
 * NetFlow v9 / IPFIX templates: validation, compilation into a decode plan (and, for fixed-length
 * templates, a generated straight-line reader), and the bounded cache keyed by exporter, version,
 * observation domain and template id.
 */
import { Conv, FIELD_MAP, Op, Slot } from './fields.ts';

/** Template field length announcing a variable-length field (RFC 7011 7). */
export const VARIABLE_LENGTH = 65535;

export interface TemplateField {
  /** Information element id without the enterprise bit. */
  id: number;
  length: number;
  /** Private enterprise number; 0 for IANA elements. */
  enterprise: number;
}

/** Reads one fixed-length record at `o` into row `row` of batch `B` and scratch slots `t`. */
export type RecordReader = (b: Uint8Array, o: number, B: BatchColumns, row: number, t: Float64Array) => void;

/** The FlowBatch columns a record reader writes (a structural subset of FlowBatch). */
export interface BatchColumns {
  src4: Uint32Array;
  dst4: Uint32Array;
  src6: Uint8Array;
  dst6: Uint8Array;
  srcPort: Uint16Array;
  dstPort: Uint16Array;
  proto: Uint8Array;
  tcpFlags: Uint8Array;
  packets: Float64Array;
  bytes: Float64Array;
}

/** A validated, compiled template. Immutable once built. */
export class Template {
  /** Operation per field (Op), conversion (Conv), length (VARIABLE_LENGTH for variable). */
  readonly ops: Uint8Array;
  readonly convs: Uint8Array;
  readonly lengths: Uint16Array;
  /** Byte offset of each field within a record; only meaningful when `variable` is false. */
  readonly offsets: Int32Array;
  /** Record length for fixed templates; minimum length (1 byte per variable field) otherwise. */
  readonly recordLength: number;
  readonly variable: boolean;
  /** Bit per Slot that some field of this template fills. */
  readonly slotMask: number;
  readonly hasV4: boolean;
  readonly hasV6: boolean;
  /** Straight-line reader for fixed-length templates (undefined: use the interpreter). */
  reader: RecordReader | undefined;

  constructor(
    readonly id: number,
    readonly fields: readonly TemplateField[],
    /** Options templates carry exporter metadata (sampling, init time), not flows. */
    readonly options: boolean,
    readonly scopeCount: number,
    plan: { ops: number[]; convs: number[] },
  ) {
    const n = fields.length;
    this.ops = Uint8Array.from(plan.ops);
    this.convs = Uint8Array.from(plan.convs);
    this.lengths = new Uint16Array(n);
    this.offsets = new Int32Array(n);
    let offset = 0;
    let variable = false;
    let slotMask = 0;
    let hasV4 = false;
    let hasV6 = false;
    for (let i = 0; i < n; i++) {
      const length = fields[i]!.length;
      this.lengths[i] = length;
      this.offsets[i] = variable ? -1 : offset;
      if (length === VARIABLE_LENGTH) {
        variable = true;
        offset += 1;
      } else offset += length;
      const op = this.ops[i]!;
      if (op >= Op.FIRST_SLOT_OP) slotMask |= 1 << (op - Op.FIRST_SLOT_OP);
      if (op === Op.SRC4 || op === Op.DST4) hasV4 = true;
      if (op === Op.SRC6 || op === Op.DST6) hasV6 = true;
    }
    this.recordLength = offset;
    this.variable = variable;
    this.slotMask = slotMask;
    this.hasV4 = hasV4;
    this.hasV6 = hasV6;
  }

  /** True when this template has exactly these fields (a refresh needs no recompilation). */
  hasFields(fields: readonly TemplateField[], options: boolean, scopeCount: number): boolean {
    if (options !== this.options || scopeCount !== this.scopeCount || fields.length !== this.fields.length)
      return false;
    for (let i = 0; i < fields.length; i++) {
      const a = this.fields[i]!;
      const b = fields[i]!;
      if (a.id !== b.id || a.length !== b.length || a.enterprise !== b.enterprise) return false;
    }
    return true;
  }

  /** True when `other` describes the same fields (a refresh, not a change). */
  sameAs(other: Template): boolean {
    if (other.options !== this.options || other.scopeCount !== this.scopeCount) return false;
    if (other.fields.length !== this.fields.length) return false;
    for (let i = 0; i < this.fields.length; i++) {
      const a = this.fields[i]!;
      const b = other.fields[i]!;
      if (a.id !== b.id || a.length !== b.length || a.enterprise !== b.enterprise) return false;
    }
    return true;
  }
}

export interface CompileOptions {
  options: boolean;
  scopeCount: number;
  /** NetFlow v9 scope fields are scope types (system, interface...), not information elements. */
  scopeIsIe: boolean;
  /** Generate a straight-line reader for fixed-length templates. */
  generate: boolean;
}

/** Largest record a template may describe: one UDP datagram minus the smallest header. */
const MAX_RECORD_LENGTH = 65535 - 16 - 4;

/** Kinds of template rejection (error counter labels). */
export type TemplateProblem = 'template_empty' | 'template_zero_length' | 'template_too_long';

/**
 * Validates and compiles a template. Returns the problem label when the template is absurd.
 * `onFieldProblem` is told about mapped fields whose length cannot be right (they are skipped).
 */
export function compileTemplate(
  id: number,
  fields: TemplateField[],
  options: CompileOptions,
  onFieldProblem: (kind: string) => void,
): Template | TemplateProblem {
  if (fields.length === 0) return 'template_empty';
  let fixed = 0;
  let anyBytes = false;
  for (const f of fields) {
    if (f.length === VARIABLE_LENGTH) anyBytes = true;
    else {
      fixed += f.length;
      if (f.length > 0) anyBytes = true;
    }
  }
  if (!anyBytes) return 'template_zero_length';
  if (fixed > MAX_RECORD_LENGTH) return 'template_too_long';

  const ops: number[] = new Array(fields.length).fill(Op.SKIP);
  const convs: number[] = new Array(fields.length).fill(Conv.UINT);
  // For each op/slot, the winning field index and its priority (lower wins; first on ties).
  const best = new Map<number, { index: number; priority: number }>();
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.enterprise !== 0) continue;
    if (i < options.scopeCount && !options.scopeIsIe) continue;
    const mapping = FIELD_MAP.get(f.id);
    if (!mapping) continue;
    if (options.options && mapping.op < Op.FIRST_SLOT_OP) continue;
    const ok =
      mapping.kind === 'addr4'
        ? f.length === 4
        : mapping.kind === 'addr6'
          ? f.length === 16
          : mapping.conv === Conv.NTP
            ? f.length === 8
            : f.length >= 1 && f.length <= 8;
    if (!ok) {
      // Zero-length fields are legal padding in the wild; other wrong lengths are worth counting.
      if (f.length !== 0) onFieldProblem('field_length');
      continue;
    }
    const current = best.get(mapping.op);
    if (current && current.priority <= mapping.priority) continue;
    best.set(mapping.op, { index: i, priority: mapping.priority });
  }
  for (const [op, { index }] of best) {
    ops[index] = op;
    convs[index] = FIELD_MAP.get(fields[index]!.id)!.conv;
  }
  const template = new Template(id, fields, options.options, options.scopeCount, { ops, convs });
  if (options.generate && !template.variable && !template.options) template.reader = generateReader(template);
  return template;
}

/** JavaScript expression reading an unsigned integer of `len` bytes at record offset `off`. */
function readExpression(off: number, len: number): string {
  const at = (k: number) => `b[o+${off + k}]`;
  switch (len) {
    case 1:
      return at(0);
    case 2:
      return `((${at(0)}<<8)|${at(1)})`;
    case 3:
      return `((${at(0)}<<16)|(${at(1)}<<8)|${at(2)})`;
    case 4:
      return `(((${at(0)}<<24)|(${at(1)}<<16)|(${at(2)}<<8)|${at(3)})>>>0)`;
    default: {
      // Up to 8 bytes: high part times 2^32 plus the low 32 bits; exact below 2^53.
      const high = readExpression(off, len - 4);
      const low = readExpression(off + len - 4, 4);
      return `(${high}*4294967296+${low})`;
    }
  }
}

/**
 * Builds a straight-line reader for a fixed-length template. Only numbers chosen here (offsets,
 * lengths, slot indexes) go into the generated source; nothing an exporter sends is copied in
 * as text.
 */
function generateReader(t: Template): RecordReader {
  const lines: string[] = [];
  for (let i = 0; i < t.ops.length; i++) {
    const op = t.ops[i]!;
    if (op === Op.SKIP) continue;
    const off = t.offsets[i]! | 0;
    const len = t.lengths[i]! | 0;
    const read = readExpression(off, len);
    switch (op) {
      case Op.SRC4:
        lines.push(`B.src4[row]=${read};`);
        break;
      case Op.DST4:
        lines.push(`B.dst4[row]=${read};`);
        break;
      case Op.SRC6:
      case Op.DST6: {
        const column = op === Op.SRC6 ? 'src6' : 'dst6';
        lines.push(`{const c=B.${column},r=row*16;`);
        for (let k = 0; k < 16; k++) lines.push(`c[r+${k}]=b[o+${off + k}];`);
        lines.push('}');
        break;
      }
      case Op.SRC_PORT:
        lines.push(`B.srcPort[row]=${read};`);
        break;
      case Op.DST_PORT:
        lines.push(`B.dstPort[row]=${read};`);
        break;
      case Op.PROTO:
        lines.push(`B.proto[row]=${read};`);
        break;
      case Op.TCP_FLAGS:
        lines.push(`B.tcpFlags[row]=${read}&255;`);
        break;
      case Op.BYTES:
        lines.push(`B.bytes[row]=${read};`);
        break;
      case Op.PACKETS:
        lines.push(`B.packets[row]=${read};`);
        break;
      default: {
        const slot = (op - Op.FIRST_SLOT_OP) | 0;
        const conv = t.convs[i]!;
        if (conv === Conv.NTP) {
          lines.push(
            `t[${slot}]=(${readExpression(off, 4)}-2208988800)*1000+Math.floor(${readExpression(off + 4, 4)}*1000/4294967296);`,
          );
        } else if (conv === Conv.SECONDS) lines.push(`t[${slot}]=${read}*1000;`);
        else if (conv === Conv.MICROS) lines.push(`t[${slot}]=${read}/1000;`);
        else lines.push(`t[${slot}]=${read};`);
      }
    }
  }
  // The source is built from numbers only (see above).
  return new Function('b', 'o', 'B', 'row', 't', `"use strict";${lines.join('')}`) as RecordReader;
}

/**
 * Interpreted field read (variable-length templates, options records, and the reference the
 * generated readers are tested against). `B` may be undefined for options records.
 */
export function applyField(
  op: number,
  conv: number,
  b: Uint8Array,
  o: number,
  len: number,
  B: BatchColumns | undefined,
  row: number,
  t: Float64Array,
): void {
  if (op === Op.SKIP) return;
  if (op >= Op.FIRST_SLOT_OP) {
    const slot = op - Op.FIRST_SLOT_OP;
    if (conv === Conv.NTP) {
      if (len !== 8) return;
      const seconds = readU(b, o, 4);
      t[slot] = (seconds - 2208988800) * 1000 + Math.floor((readU(b, o + 4, 4) * 1000) / 4294967296);
    } else if (conv === Conv.SECONDS) t[slot] = readU(b, o, len) * 1000;
    else if (conv === Conv.MICROS) t[slot] = readU(b, o, len) / 1000;
    else t[slot] = readU(b, o, len);
    return;
  }
  if (!B) return;
  switch (op) {
    case Op.SRC4:
      B.src4[row] = readU(b, o, 4);
      break;
    case Op.DST4:
      B.dst4[row] = readU(b, o, 4);
      break;
    case Op.SRC6:
      for (let k = 0; k < 16; k++) B.src6[row * 16 + k] = b[o + k]!;
      break;
    case Op.DST6:
      for (let k = 0; k < 16; k++) B.dst6[row * 16 + k] = b[o + k]!;
      break;
    case Op.SRC_PORT:
      B.srcPort[row] = readU(b, o, len);
      break;
    case Op.DST_PORT:
      B.dstPort[row] = readU(b, o, len);
      break;
    case Op.PROTO:
      B.proto[row] = readU(b, o, len);
      break;
    case Op.TCP_FLAGS:
      B.tcpFlags[row] = readU(b, o, len) & 255;
      break;
    case Op.BYTES:
      B.bytes[row] = readU(b, o, len);
      break;
    case Op.PACKETS:
      B.packets[row] = readU(b, o, len);
      break;
  }
}

function readU(b: Uint8Array, o: number, len: number): number {
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + b[o + i]!;
  return v;
}

/** Slot bit helper for `Template.slotMask`. */
export const slotBit = (slot: number): number => 1 << slot;
export const SLOT_COUNT = Slot.COUNT;
