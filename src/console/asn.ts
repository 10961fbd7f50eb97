/**
 * AS numbers and names from the bundled @ip-location-db/asn database (DB-IP IP-to-ASN Lite and
 * Route Views, both CC-BY-4.0; the console's footer gives the attribution). Loaded on the first
 * question (a few hundred thousand ranges, about a second) and kept as sorted typed arrays that a
 * binary search answers; an indicator without an AS of its own gets the one its address is in.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ipaddr from 'ipaddr.js';

export const ASN_ATTRIBUTION = {
  name: '@ip-location-db/asn',
  sources: ['DB-IP IP to ASN Lite (db-ip.com)', 'Route Views (routeviews.org)'],
  licence: 'CC-BY-4.0',
} as const;

interface Table {
  v4Start: Uint32Array;
  v4End: Uint32Array;
  v4Asn: Uint32Array;
  /** IPv6 ranges by their upper 64 bits: routed prefixes are /64 or shorter. */
  v6Start: BigUint64Array;
  v6End: BigUint64Array;
  v6Asn: Uint32Array;
  names: Map<number, string>;
}

/**
 * Calls `onRow` for each line `start,end,asn,name` (the name may be quoted, with "" inside). The
 * files are sorted by start, so rows arrive in search order.
 */
function scan(text: string, onRow: (start: string, end: string, asn: number, name: string) => void) {
  for (let i = 0; i < text.length;) {
    const next = text.indexOf('\n', i);
    const lineEnd = next < 0 ? text.length : next;
    const a = text.indexOf(',', i);
    const b = text.indexOf(',', a + 1);
    const c = text.indexOf(',', b + 1);
    if (a > i && c > b && b > a && c < lineEnd) {
      const asn = Number(text.slice(b + 1, c));
      let name = text.slice(c + 1, lineEnd).trimEnd();
      if (name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1).replaceAll('""', '"');
      if (Number.isInteger(asn) && asn >= 0) onRow(text.slice(i, a), text.slice(a + 1, b), asn, name);
    }
    i = lineEnd + 1;
  }
}

async function load(dir: string): Promise<Table> {
  const [v4Text, v6Text] = await Promise.all([
    readFile(join(dir, 'asn-ipv4-num.csv'), 'utf8'),
    readFile(join(dir, 'asn-ipv6-num.csv'), 'utf8'),
  ]);
  const names = new Map<number, string>();
  const lines = (text: string) => text.split('\n', -1).length;
  const v4Start = new Uint32Array(lines(v4Text));
  const v4End = new Uint32Array(v4Start.length);
  const v4Asn = new Uint32Array(v4Start.length);
  let n4 = 0;
  scan(v4Text, (s, e, asn, name) => {
    v4Start[n4] = Number(s);
    v4End[n4] = Number(e);
    v4Asn[n4++] = asn;
    if (name && !names.has(asn)) names.set(asn, name);
  });
  const v6Start = new BigUint64Array(lines(v6Text));
  const v6End = new BigUint64Array(v6Start.length);
  const v6Asn = new Uint32Array(v6Start.length);
  let n6 = 0;
  scan(v6Text, (s, e, asn, name) => {
    v6Start[n6] = BigInt(s) >> 64n;
    v6End[n6] = BigInt(e) >> 64n;
    v6Asn[n6++] = asn;
    if (name && !names.has(asn)) names.set(asn, name);
  });
  return {
    v4Start: v4Start.subarray(0, n4),
    v4End: v4End.subarray(0, n4),
    v4Asn: v4Asn.subarray(0, n4),
    v6Start: v6Start.subarray(0, n6),
    v6End: v6End.subarray(0, n6),
    v6Asn: v6Asn.subarray(0, n6),
    names,
  };
}

/** The last range starting at or before `key`, if `key` is inside it. */
function search<T extends number | bigint>(
  starts: ArrayLike<T>,
  ends: ArrayLike<T>,
  asns: Uint32Array,
  key: T,
): number | null {
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! <= key) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && key <= ends[found]! ? asns[found]! : null;
}

export interface AsnDirectory {
  /** Reads the database (once; later calls share the first). */
  ready(): Promise<void>;
  /** The AS an address is announced from, or null when unknown or not yet loaded. */
  asnOf(ip: string): number | null;
  nameOf(asn: number): string | undefined;
}

/** The bundled database's directory, or undefined when the package is not installed. */
function packageDir(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'));
  } catch {
    return undefined;
  }
}

/** Nothing is read until `ready()`; without the package every answer is "unknown". */
export function createAsnDirectory(dir = packageDir()): AsnDirectory {
  let table: Table | null = null;
  let loading: Promise<void> | undefined;
  return {
    ready() {
      loading ??= dir
        ? load(dir).then(
            (t) => void (table = t),
            () => undefined,
          )
        : Promise.resolve();
      return loading;
    },
    asnOf(ip) {
      if (!table || !ipaddr.isValid(ip)) return null;
      const address = ipaddr.process(ip);
      if (address.kind() === 'ipv4') {
        const [a, b, c, d] = address.toByteArray();
        return search(
          table.v4Start,
          table.v4End,
          table.v4Asn,
          ((a! << 24) | (b! << 16) | (c! << 8) | d!) >>> 0,
        );
      }
      const bytes = address.toByteArray();
      let high = 0n;
      for (let i = 0; i < 8; i++) high = (high << 8n) | BigInt(bytes[i]!);
      return search(table.v6Start, table.v6End, table.v6Asn, high);
    },
    nameOf(asn) {
      return table?.names.get(asn);
    },
  };
}

let shared: AsnDirectory | undefined;
/** One directory per process: the console's routes share it. */
export function asnDirectory(): AsnDirectory {
  return (shared ??= createAsnDirectory());
}
