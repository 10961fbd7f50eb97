/**
 * Plain lookups (no validation) for the mail and web checks, cached for the life of one survey
 * so that SPF includes and DMARC fallbacks shared by many domains are asked once.
 */
import type { RecordType } from 'dns-packet';
import { DnsTimeoutError, recordsOf, txtStrings, type DnsClient } from './client.ts';

export type LookupOutcome<T> =
  | { status: 'ok'; records: T[] }
  /** NXDOMAIN or no records of the type: a "void" lookup in SPF's terms (RFC 7208 §4.6.4). */
  | { status: 'empty'; nxdomain: boolean; records: [] }
  | { status: 'error'; reason: string; records: [] };

export interface Lookup {
  txt(name: string): Promise<LookupOutcome<string>>;
  addresses(name: string, family: 4 | 6): Promise<LookupOutcome<string>>;
  mx(name: string): Promise<LookupOutcome<{ preference: number; exchange: string }>>;
  records<T>(name: string, type: RecordType): Promise<LookupOutcome<T>>;
}

export function createLookup(client: DnsClient): Lookup {
  const cache = new Map<string, Promise<LookupOutcome<unknown>>>();

  function records<T>(name: string, type: RecordType): Promise<LookupOutcome<T>> {
    const key = `${name.toLowerCase()} ${type}`;
    let cached = cache.get(key);
    if (!cached) {
      cached = ask(name, type);
      cache.set(key, cached);
    }
    return cached as Promise<LookupOutcome<T>>;
  }

  async function ask(name: string, type: RecordType): Promise<LookupOutcome<unknown>> {
    try {
      const response = await client.query(name, type);
      if (response.rcode === 'NXDOMAIN') return { status: 'empty', nxdomain: true, records: [] };
      if (response.rcode !== 'NOERROR')
        return { status: 'error', reason: `${response.rcode} for ${name} ${type}`, records: [] };
      const found =
        type === 'TXT'
          ? txtStrings(response.answers, followCname(response.answers, name))
          : recordsOf(response.answers, followCname(response.answers, name), type);
      return found.length > 0
        ? { status: 'ok', records: found }
        : { status: 'empty', nxdomain: false, records: [] };
    } catch (error) {
      if (error instanceof DnsTimeoutError) return { status: 'error', reason: error.message, records: [] };
      throw error;
    }
  }

  return {
    records,
    txt: (name) => records<string>(name, 'TXT'),
    addresses: (name, family) => records<string>(name, family === 4 ? 'A' : 'AAAA'),
    mx: (name) => records(name, 'MX'),
  };
}

/** The owner the answer's records sit at once CNAMEs are followed. */
function followCname(
  answers: readonly { type: string; name: string; data?: unknown }[],
  name: string,
): string {
  let owner = name.replace(/\.$/, '').toLowerCase();
  for (let hops = 0; hops < 8; hops++) {
    const cname = answers.find((a) => a.type === 'CNAME' && a.name.toLowerCase() === owner);
    if (!cname) break;
    owner = String(cname.data).toLowerCase();
  }
  return owner;
}
