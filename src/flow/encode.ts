/**
 * NetFlow v5, v9 and IPFIX encoders: build export payloads for tests, benchmarks and scenario
 * generators. The low-level encoders take templates and raw field values; the *Flows helpers
 * take simple flow objects and a typical template.
 */
import { ipv4FromString, ipv6FromString } from '../core/index.ts';
import { IE } from './decoder/template/fields.ts';
import { VARIABLE_LENGTH } from './decoder/template/template.ts';

export interface Netflow5Header {
  sysUptime: number;
  unixSecs: number;
  unixNsecs?: number;
  sequence?: number;
  engineType?: number;
  engineId?: number;
  /** 14-bit interval; with `samplingMode` in the top 2 bits. */
  samplingInterval?: number;
  samplingMode?: number;
  /** Overrides the record count written in the header (to build inconsistent packets). */
  count?: number;
}

export interface Netflow5Record {
  src: string;
  dst: string;
  nextHop?: string;
  input?: number;
  output?: number;
  packets: number;
  bytes: number;
  /** sysUptime (ms) at the first and last packet. */
  first: number;
  last: number;
  srcPort: number;
  dstPort: number;
  tcpFlags?: number;
  proto: number;
  tos?: number;
  srcAs?: number;
  dstAs?: number;
  srcMask?: number;
  dstMask?: number;
}

export function encodeNetflow5(records: readonly Netflow5Record[], header: Netflow5Header): Buffer {
  const b = Buffer.alloc(24 + 48 * records.length);
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(header.count ?? records.length, 2);
  b.writeUInt32BE(header.sysUptime >>> 0, 4);
  b.writeUInt32BE(header.unixSecs >>> 0, 8);
  b.writeUInt32BE((header.unixNsecs ?? 0) >>> 0, 12);
  b.writeUInt32BE((header.sequence ?? 0) >>> 0, 16);
  b[20] = header.engineType ?? 0;
  b[21] = header.engineId ?? 0;
  b.writeUInt16BE((((header.samplingMode ?? 0) & 3) << 14) | ((header.samplingInterval ?? 0) & 0x3fff), 22);
  records.forEach((r, i) => {
    const o = 24 + 48 * i;
    b.writeUInt32BE(ipv4FromString(r.src), o);
    b.writeUInt32BE(ipv4FromString(r.dst), o + 4);
    b.writeUInt32BE(ipv4FromString(r.nextHop ?? '0.0.0.0'), o + 8);
    b.writeUInt16BE(r.input ?? 0, o + 12);
    b.writeUInt16BE(r.output ?? 0, o + 14);
    b.writeUInt32BE(r.packets >>> 0, o + 16);
    b.writeUInt32BE(r.bytes >>> 0, o + 20);
    b.writeUInt32BE(r.first >>> 0, o + 24);
    b.writeUInt32BE(r.last >>> 0, o + 28);
    b.writeUInt16BE(r.srcPort, o + 32);
    b.writeUInt16BE(r.dstPort, o + 34);
    b[o + 37] = r.tcpFlags ?? 0;
    b[o + 38] = r.proto;
    b[o + 39] = r.tos ?? 0;
    b.writeUInt16BE(r.srcAs ?? 0, o + 40);
    b.writeUInt16BE(r.dstAs ?? 0, o + 42);
    b[o + 44] = r.srcMask ?? 0;
    b[o + 45] = r.dstMask ?? 0;
  });
  return b;
}

export interface EncodeField {
  id: number;
  /** Bytes, or VARIABLE_LENGTH (65535, IPFIX). */
  length: number;
  /** Private enterprise number (IPFIX): sets the enterprise bit. */
  enterprise?: number;
}

export interface EncodeTemplate {
  id: number;
  fields: readonly EncodeField[];
  /** > 0 makes it an options template whose first `scopeCount` fields are scope fields. */
  scopeCount?: number;
}

/**
 * A field value: number/bigint (unsigned, big-endian in the field's length), address text
 * (4- or 16-byte fields), bytes, or text (variable-length fields, UTF-8).
 */
export type FieldValue = number | bigint | string | Uint8Array;

export type EncodeSet =
  | { templates: readonly EncodeTemplate[] }
  | { optionsTemplates: readonly EncodeTemplate[] }
  /** IPFIX withdrawal: template ids (2 or 3 withdraw all), in a template (or options) set. */
  | { withdraw: readonly number[]; options?: boolean }
  | { template: EncodeTemplate; records: readonly (readonly FieldValue[])[] }
  /** Arbitrary set bytes (for malformed cases). */
  | { rawSetId: number; body: Uint8Array };

export interface V9Header {
  sysUptime: number;
  unixSecs: number;
  sequence?: number;
  sourceId?: number;
}

export interface IpfixHeader {
  exportTime: number;
  sequence?: number;
  domain?: number;
}

/** Growable byte sink. */
class Bytes {
  private buf = Buffer.alloc(1024);
  length = 0;
  private ensure(n: number) {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }
  u8(v: number) {
    this.ensure(1);
    this.buf[this.length++] = v & 255;
  }
  u16(v: number) {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.length);
    this.length += 2;
  }
  u32(v: number) {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.length);
    this.length += 4;
  }
  bytes(v: Uint8Array) {
    this.ensure(v.length);
    this.buf.set(v, this.length);
    this.length += v.length;
  }
  uint(v: number | bigint, len: number) {
    let big = BigInt(v);
    if (big < 0n || big >= 1n << BigInt(8 * len))
      throw new RangeError(`value ${v} does not fit in ${len} bytes`);
    this.ensure(len);
    for (let i = len - 1; i >= 0; i--) {
      this.buf[this.length + i] = Number(big & 255n);
      big >>= 8n;
    }
    this.length += len;
  }
  setU16(at: number, v: number) {
    this.buf.writeUInt16BE(v, at);
  }
  done(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }
}

function addressBytes(text: string): Uint8Array {
  return text.includes(':') ? ipv6FromString(text) : beU32(ipv4FromString(text));
}

function beU32(v: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

function writeValue(out: Bytes, field: EncodeField, value: FieldValue, ipfix: boolean): void {
  if (field.length === VARIABLE_LENGTH) {
    const bytes =
      typeof value === 'string' ? Buffer.from(value, 'utf8') : value instanceof Uint8Array ? value : null;
    if (!bytes) throw new TypeError(`variable-length field ${field.id} needs text or bytes`);
    if (bytes.length < 255) out.u8(bytes.length);
    else {
      if (!ipfix && bytes.length > 65535) throw new RangeError('field too long');
      out.u8(255);
      out.u16(bytes.length);
    }
    out.bytes(bytes);
    return;
  }
  if (typeof value === 'string') {
    const bytes =
      field.length === 4 || field.length === 16 ? addressBytes(value) : Buffer.from(value, 'utf8');
    if (bytes.length !== field.length)
      throw new RangeError(`value "${value}" does not fit field ${field.id} (${field.length} bytes)`);
    out.bytes(bytes);
  } else if (value instanceof Uint8Array) {
    if (value.length !== field.length) throw new RangeError(`field ${field.id} wants ${field.length} bytes`);
    out.bytes(value);
  } else out.uint(value, field.length);
}

function templateRecord(out: Bytes, t: EncodeTemplate, ipfix: boolean): void {
  out.u16(t.id);
  const scope = t.scopeCount ?? 0;
  if (!ipfix && scope > 0) {
    out.u16(scope * 4);
    out.u16((t.fields.length - scope) * 4);
  } else {
    out.u16(t.fields.length);
    if (scope > 0) out.u16(scope);
  }
  for (const f of t.fields) {
    if (ipfix && f.enterprise) {
      out.u16(f.id | 0x8000);
      out.u16(f.length);
      out.u32(f.enterprise);
    } else {
      out.u16(f.id);
      out.u16(f.length);
    }
  }
}

function writeSets(out: Bytes, sets: readonly EncodeSet[], ipfix: boolean): number {
  let records = 0;
  for (const set of sets) {
    const start = out.length;
    let setId: number;
    if ('templates' in set) setId = ipfix ? 2 : 0;
    else if ('optionsTemplates' in set) setId = ipfix ? 3 : 1;
    else if ('withdraw' in set) setId = set.options ? 3 : 2;
    else if ('template' in set) setId = set.template.id;
    else setId = set.rawSetId;
    out.u16(setId);
    out.u16(0);
    if ('templates' in set || 'optionsTemplates' in set) {
      for (const t of 'templates' in set ? set.templates : set.optionsTemplates) {
        templateRecord(out, t, ipfix);
        records++;
      }
    } else if ('withdraw' in set) {
      for (const id of set.withdraw) {
        out.u16(id);
        out.u16(0);
        records++;
      }
    } else if ('template' in set) {
      for (const values of set.records) {
        if (values.length !== set.template.fields.length)
          throw new RangeError(`record has ${values.length} values for ${set.template.fields.length} fields`);
        set.template.fields.forEach((f, i) => writeValue(out, f, values[i]!, ipfix));
        records++;
      }
    } else out.bytes(set.body);
    // NetFlow v9 flowsets are padded to 4 bytes (RFC 3954 5.3).
    if (!ipfix) while ((out.length - start) % 4 !== 0) out.u8(0);
    out.setU16(start + 2, out.length - start);
  }
  return records;
}

/** A NetFlow v9 export packet. The header count is the number of records (templates + data). */
export function encodeV9(header: V9Header, sets: readonly EncodeSet[]): Buffer {
  const out = new Bytes();
  out.u16(9);
  out.u16(0);
  out.u32(header.sysUptime);
  out.u32(header.unixSecs);
  out.u32(header.sequence ?? 0);
  out.u32(header.sourceId ?? 0);
  const count = writeSets(out, sets, false);
  out.setU16(2, Math.min(count, 65535));
  return out.done();
}

/** An IPFIX message. */
export function encodeIpfix(header: IpfixHeader, sets: readonly EncodeSet[]): Buffer {
  const out = new Bytes();
  out.u16(10);
  out.u16(0);
  out.u32(header.exportTime);
  out.u32(header.sequence ?? 0);
  out.u32(header.domain ?? 0);
  writeSets(out, sets, true);
  if (out.length > 65535) throw new RangeError('IPFIX message longer than 65535 bytes');
  out.setU16(2, out.length);
  return out.done();
}

/** A flow as the convenience encoders take it. */
export interface SimpleFlow {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  proto: number;
  tcpFlags?: number;
  packets: number;
  bytes: number;
  startMs: number;
  endMs: number;
}

/** Typical IPv4 template of a router: addresses, ports, protocol, flags, counters, uptime start/end. */
export const V9_TEMPLATE_V4: EncodeTemplate = {
  id: 256,
  fields: [
    { id: IE.sourceIPv4Address, length: 4 },
    { id: IE.destinationIPv4Address, length: 4 },
    { id: IE.sourceTransportPort, length: 2 },
    { id: IE.destinationTransportPort, length: 2 },
    { id: IE.protocolIdentifier, length: 1 },
    { id: IE.tcpControlBits, length: 1 },
    { id: 10, length: 4 }, // ingressInterface
    { id: 14, length: 4 }, // egressInterface
    { id: IE.packetDeltaCount, length: 4 },
    { id: IE.octetDeltaCount, length: 4 },
    { id: IE.flowStartSysUpTime, length: 4 },
    { id: IE.flowEndSysUpTime, length: 4 },
  ],
};
/** The IPv6 twin of an IPv4 template: the same fields, with 16-byte addresses in place of the 4-byte ones. */
function ipv6Twin(v4: EncodeTemplate, id: number): EncodeTemplate {
  return {
    id,
    fields: v4.fields.map((f) =>
      f.id === IE.sourceIPv4Address
        ? { id: IE.sourceIPv6Address, length: 16 }
        : f.id === IE.destinationIPv4Address
          ? { id: IE.destinationIPv6Address, length: 16 }
          : f,
    ),
  };
}
export const V9_TEMPLATE_V6: EncodeTemplate = ipv6Twin(V9_TEMPLATE_V4, 257);
/** Typical IPFIX template: as V9_TEMPLATE_V4 with 64-bit counters and absolute ms times. */
export const IPFIX_TEMPLATE_V4: EncodeTemplate = {
  id: 256,
  fields: [
    { id: IE.sourceIPv4Address, length: 4 },
    { id: IE.destinationIPv4Address, length: 4 },
    { id: IE.sourceTransportPort, length: 2 },
    { id: IE.destinationTransportPort, length: 2 },
    { id: IE.protocolIdentifier, length: 1 },
    { id: IE.tcpControlBits, length: 2 },
    { id: 10, length: 4 },
    { id: 14, length: 4 },
    { id: IE.packetDeltaCount, length: 8 },
    { id: IE.octetDeltaCount, length: 8 },
    { id: IE.flowStartMilliseconds, length: 8 },
    { id: IE.flowEndMilliseconds, length: 8 },
  ],
};
export const IPFIX_TEMPLATE_V6: EncodeTemplate = ipv6Twin(IPFIX_TEMPLATE_V4, 257);

export interface V9FlowOptions {
  unixSecs: number;
  sysUptime: number;
  sourceId?: number;
  sequence?: number;
  /** Include the templates in the packet (default true). */
  withTemplate?: boolean;
}

/** NetFlow v5 packet from simple flows (IPv4 only; at most 30 per packet by convention). */
export function encodeNetflow5Flows(
  flows: readonly SimpleFlow[],
  opts: { unixSecs: number; sysUptime: number; sequence?: number; samplingInterval?: number },
): Buffer {
  const bootMs = opts.unixSecs * 1000 - opts.sysUptime;
  return encodeNetflow5(
    flows.map((f) => ({ ...f, first: f.startMs - bootMs, last: f.endMs - bootMs })),
    {
      unixSecs: opts.unixSecs,
      sysUptime: opts.sysUptime,
      sequence: opts.sequence,
      samplingInterval: opts.samplingInterval,
    },
  );
}

/**
 * A simple flow's values in the order of the V9_/IPFIX_TEMPLATE_V4/V6 fields. Times are
 * `startMs - bootMs`: NetFlow v9 gives sysUptime offsets (bootMs = the exporter's boot), IPFIX
 * absolute milliseconds (bootMs = 0).
 */
export function simpleFlowValues(f: SimpleFlow, bootMs = 0): FieldValue[] {
  return [
    f.src,
    f.dst,
    f.srcPort,
    f.dstPort,
    f.proto,
    f.tcpFlags ?? 0,
    0,
    0,
    f.packets,
    f.bytes,
    f.startMs - bootMs,
    f.endMs - bootMs,
  ];
}

/** NetFlow v9 packet from simple flows with V9_TEMPLATE_V4 / V6 (times as sysUptime offsets). */
export function encodeV9Flows(flows: readonly SimpleFlow[], opts: V9FlowOptions): Buffer {
  const bootMs = opts.unixSecs * 1000 - opts.sysUptime;
  const v4 = flows.filter((f) => !f.src.includes(':'));
  const v6 = flows.filter((f) => f.src.includes(':'));
  const sets: EncodeSet[] = [];
  if (opts.withTemplate !== false) sets.push({ templates: [V9_TEMPLATE_V4, V9_TEMPLATE_V6] });
  if (v4.length) sets.push({ template: V9_TEMPLATE_V4, records: v4.map((f) => simpleFlowValues(f, bootMs)) });
  if (v6.length) sets.push({ template: V9_TEMPLATE_V6, records: v6.map((f) => simpleFlowValues(f, bootMs)) });
  return encodeV9(
    { sysUptime: opts.sysUptime, unixSecs: opts.unixSecs, sourceId: opts.sourceId, sequence: opts.sequence },
    sets,
  );
}

/** IPFIX message from simple flows with IPFIX_TEMPLATE_V4 / V6. */
export function encodeIpfixFlows(
  flows: readonly SimpleFlow[],
  opts: { exportTime: number; domain?: number; sequence?: number; withTemplate?: boolean },
): Buffer {
  const v4 = flows.filter((f) => !f.src.includes(':'));
  const v6 = flows.filter((f) => f.src.includes(':'));
  const sets: EncodeSet[] = [];
  if (opts.withTemplate !== false) sets.push({ templates: [IPFIX_TEMPLATE_V4, IPFIX_TEMPLATE_V6] });
  if (v4.length) sets.push({ template: IPFIX_TEMPLATE_V4, records: v4.map((f) => simpleFlowValues(f)) });
  if (v6.length) sets.push({ template: IPFIX_TEMPLATE_V6, records: v6.map((f) => simpleFlowValues(f)) });
  return encodeIpfix({ exportTime: opts.exportTime, domain: opts.domain, sequence: opts.sequence }, sets);
}
