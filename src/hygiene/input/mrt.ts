/**
 * Announced routes from an MRT RIB dump (RFC 6396 TABLE_DUMP_V2, as RouteViews, RIPE RIS,
 * BIRD and GoBGP write it; gzip-compressed files too): every (prefix, origin AS) pair seen from
 * any peer. The origin is the last AS of the AS_PATH when it ends in an AS_SEQUENCE; a path
 * ending in an AS_SET has no single origin and is left out (RFC 6811 §2: it cannot be valid).
 */
import { gunzipSync } from 'node:zlib';
import ipaddr from 'ipaddr.js';
import type { Route } from './routes.ts';

export class MrtFormatError extends Error {}

const TABLE_DUMP_V2 = 13;
const RIB_SUBTYPES: Record<number, { family: 4 | 6; addPath: boolean }> = {
  2: { family: 4, addPath: false },
  4: { family: 6, addPath: false },
  8: { family: 4, addPath: true }, // RFC 8050
  10: { family: 6, addPath: true },
};
const AS_PATH = 2;
const AS_SEQUENCE = 2;

export function isMrt(bytes: Buffer): boolean {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return true;
  return bytes.length >= 12 && bytes.readUInt16BE(4) === TABLE_DUMP_V2;
}

export function parseMrtRib(input: Buffer): { routes: Route[]; skippedAsSets: number } {
  const bytes = input[0] === 0x1f && input[1] === 0x8b ? gunzip(input) : input;
  const seen = new Set<string>();
  const routes: Route[] = [];
  let skippedAsSets = 0;
  let offset = 0;
  let record = 0;
  while (offset < bytes.length) {
    record++;
    if (offset + 12 > bytes.length) throw new MrtFormatError(`record ${record}: truncated header`);
    const type = bytes.readUInt16BE(offset + 4);
    const subtype = bytes.readUInt16BE(offset + 6);
    const length = bytes.readUInt32BE(offset + 8);
    const body = offset + 12;
    const end = body + length;
    if (end > bytes.length) throw new MrtFormatError(`record ${record}: length ${length} runs past the end`);
    offset = end;
    if (type !== TABLE_DUMP_V2)
      throw new MrtFormatError(`record ${record}: type ${type} is not TABLE_DUMP_V2 (13)`);
    const rib = RIB_SUBTYPES[subtype];
    if (!rib) continue; // PEER_INDEX_TABLE and multicast/generic RIBs name no unicast routes
    let at = body + 4; // sequence number
    const bits = bytes[at++]!;
    const max = rib.family === 4 ? 32 : 128;
    const prefixBytes = Math.ceil(bits / 8);
    if (bits > max || at + prefixBytes + 2 > end) throw new MrtFormatError(`record ${record}: bad prefix`);
    const address = new Uint8Array(rib.family === 4 ? 4 : 16);
    address.set(bytes.subarray(at, at + prefixBytes));
    at += prefixBytes;
    const prefix = `${ipaddr.fromByteArray([...address]).toString()}/${bits}`;
    const entries = bytes.readUInt16BE(at);
    at += 2;
    for (let e = 0; e < entries; e++) {
      at += 2 + 4 + (rib.addPath ? 4 : 0); // peer index, originated time, path id
      if (at + 2 > end) throw new MrtFormatError(`record ${record}: entry ${e + 1} truncated`);
      const attributesLength = bytes.readUInt16BE(at);
      at += 2;
      if (at + attributesLength > end)
        throw new MrtFormatError(`record ${record}: attributes run past the record`);
      const origin = originOf(bytes.subarray(at, at + attributesLength), record);
      at += attributesLength;
      if (origin === undefined) {
        skippedAsSets++;
        continue;
      }
      const key = `${prefix} ${origin}`;
      if (seen.has(key)) continue;
      seen.add(key);
      routes.push({ prefix, originAsn: origin });
    }
  }
  return { routes, skippedAsSets };
}

function gunzip(bytes: Buffer): Buffer {
  try {
    return gunzipSync(bytes);
  } catch {
    throw new MrtFormatError('gzip data is corrupt');
  }
}

/** The origin AS in BGP path attributes (4-octet AS numbers, as TABLE_DUMP_V2 always has). */
function originOf(attributes: Buffer, record: number): number | undefined {
  let at = 0;
  while (at < attributes.length) {
    if (at + 3 > attributes.length) throw new MrtFormatError(`record ${record}: attribute header truncated`);
    const flags = attributes[at]!;
    const type = attributes[at + 1]!;
    const extended = (flags & 0x10) !== 0;
    const length = extended ? attributes.readUInt16BE(at + 2) : attributes[at + 2]!;
    const start = at + (extended ? 4 : 3);
    if (start + length > attributes.length)
      throw new MrtFormatError(`record ${record}: attribute runs past the entry`);
    if (type === AS_PATH) {
      let segment = start;
      let last: { type: number; asns: number[] } | undefined;
      while (segment < start + length) {
        const segmentType = attributes[segment]!;
        const count = attributes[segment + 1]!;
        const asns: number[] = [];
        for (let i = 0; i < count; i++) asns.push(attributes.readUInt32BE(segment + 2 + 4 * i));
        last = { type: segmentType, asns };
        segment += 2 + 4 * count;
      }
      if (segment !== start + length) throw new MrtFormatError(`record ${record}: AS_PATH segments overrun`);
      // An empty AS_PATH is a route the dumping router originates itself: no origin AS here.
      return last?.type === AS_SEQUENCE ? last.asns.at(-1) : undefined;
    }
    at = start + length;
  }
  return undefined;
}
