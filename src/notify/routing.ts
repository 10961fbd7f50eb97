/** Routes findings to ISPs (longest prefix, then origin AS), makers (by vendor) and integrators (by prefix). */
import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { parse as parseYaml } from 'yaml';
import { InputError, parsePrefix, type Prefix, prefixContains4, prefixContains6 } from '../core/index.ts';
import { RoutingFile, type Isp } from './config.ts';

export interface Route {
  isp: Isp;
  asn?: number | undefined;
  prefix: string;
}

interface PrefixRow<T> {
  prefix: Prefix;
  value: T;
}

/** Longest-prefix match over a small table, longest first. */
class PrefixTable<T> {
  private readonly rows: PrefixRow<T>[] = [];
  add(prefix: Prefix, value: T): void {
    this.rows.push({ prefix, value });
    this.rows.sort((a, b) => b.prefix.bits - a.prefix.bits);
  }
  lookup(address: string): PrefixRow<T> | undefined {
    if (!ipaddr.isValid(address)) return undefined;
    const parsed = ipaddr.process(address);
    if (parsed.kind() === 'ipv4') {
      const o = (parsed as ipaddr.IPv4).octets;
      const v = ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
      return this.rows.find((r) => prefixContains4(r.prefix, v));
    }
    const bytes = Uint8Array.from((parsed as ipaddr.IPv6).toByteArray());
    return this.rows.find((r) => prefixContains6(r.prefix, bytes));
  }
}

export class Routing {
  private readonly byAsn = new Map<number, Isp>();
  private readonly byId = new Map<string, Isp>();
  private readonly prefixes = new PrefixTable<{ asn?: number | undefined; isp?: string | undefined }>();
  private readonly integrators = new PrefixTable<{ name: string; contact: string }>();

  constructor(readonly file: RoutingFile) {
    for (const isp of file.isps) {
      if (this.byId.has(isp.id)) throw new InputError(`routing: ISP id ${isp.id} appears twice`);
      this.byId.set(isp.id, isp);
      for (const asn of isp.asns) {
        if (this.byAsn.has(asn)) throw new InputError(`routing: AS${asn} belongs to two ISPs`);
        this.byAsn.set(asn, isp);
      }
    }
    for (const p of file.prefixes) {
      if (p.isp && !this.byId.has(p.isp))
        throw new InputError(`routing: prefix ${p.prefix} names unknown ISP ${p.isp}`);
      this.prefixes.add(parseOrThrow(p.prefix), { asn: p.asn, isp: p.isp });
    }
    for (const i of file.integrators)
      this.integrators.add(parseOrThrow(i.prefix), { name: i.name, contact: i.contact });
  }

  static load(path: string): Routing {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new InputError(`cannot read routing file ${path}: ${(error as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    } catch (error) {
      throw new InputError(`routing file ${path} is not valid: ${(error as Error).message}`);
    }
    const parsed = RoutingFile.safeParse(raw);
    if (!parsed.success) {
      throw new InputError(
        `routing file ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    return new Routing(parsed.data);
  }

  isp(id: string): Isp | undefined {
    return this.byId.get(id);
  }

  /** The ISP responsible for `address`, or undefined when no prefix or AS maps to one. */
  route(address: string): Route | undefined {
    const row = this.prefixes.lookup(address);
    if (!row) return undefined;
    const isp = row.value.isp
      ? this.byId.get(row.value.isp)
      : row.value.asn !== undefined
        ? this.byAsn.get(row.value.asn)
        : undefined;
    if (!isp) return undefined;
    return { isp, asn: row.value.asn ?? isp.asns[0], prefix: row.prefix.text };
  }

  maker(vendor: string | undefined): { name: string; contact: string } | undefined {
    if (!vendor) return undefined;
    const v = vendor.toLowerCase();
    return this.file.makers.find((m) => m.vendor.toLowerCase() === v);
  }

  integrator(address: string): { name: string; contact: string } | undefined {
    return this.integrators.lookup(address)?.value;
  }
}

function parseOrThrow(text: string): Prefix {
  try {
    return parsePrefix(text);
  } catch {
    throw new InputError(`routing: "${text}" is not a CIDR prefix`);
  }
}
