/**
 * Abuse contacts from RDAP JSON (RFC 9083) that the operator fetched and hands over as files:
 * every entity with the `abuse` role and an email in its jCard (RFC 7095), at any depth (a
 * registrar's abuse contact sits inside the registrar entity), with the entity above it.
 */
import { InputError } from '../../core/index.ts';

export class RdapInputError extends InputError {
  override name = 'RdapInputError';
}

export interface AbuseContact {
  email: string;
  /** The abuse entity's own name (vCard fn), '' when none. */
  name: string;
  /** The role and name of the entity it belongs to (`registrar`, `GMO Internet`), when nested. */
  of: { role: string; name: string } | null;
  /** The RDAP object's handle or name (domain, IP network) the contact is for. */
  object: string;
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The top object of an RDAP response; RdapInputError (exit 2) when the text is none. */
function rdapObject(text: string): Record<string, Json> & { objectClassName: string } {
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RdapInputError('RDAP: not JSON');
  }
  if (!isObject(json) || typeof json.objectClassName !== 'string')
    throw new RdapInputError('RDAP: no objectClassName (not an RDAP response)');
  return json as Record<string, Json> & { objectClassName: string };
}

/** A jCard property's text values: `["email", {}, "text", "abuse@example"]`. */
function vcardValues(entity: Record<string, Json>, property: string): string[] {
  const card = entity.vcardArray;
  if (!Array.isArray(card) || card[0] !== 'vcard' || !Array.isArray(card[1])) return [];
  const values: string[] = [];
  for (const item of card[1] as Json[]) {
    if (!Array.isArray(item) || item[0] !== property) continue;
    const value = item[3];
    if (typeof value === 'string') values.push(value);
  }
  return values;
}

const EMAIL = /^[^\s@<>"]{1,64}@[a-z0-9.-]{1,253}\.[a-z]{2,63}$/i;

function rolesOf(entity: Record<string, Json>): string[] {
  return Array.isArray(entity.roles) ? entity.roles.filter((r): r is string => typeof r === 'string') : [];
}

function walk(
  entities: Json,
  parent: { role: string; name: string } | null,
  object: string,
  out: AbuseContact[],
  depth: number,
): void {
  if (!Array.isArray(entities) || depth > 8) return;
  for (const entity of entities) {
    if (!isObject(entity)) continue;
    const roles = rolesOf(entity);
    const name = vcardValues(entity, 'fn')[0] ?? '';
    if (roles.includes('abuse'))
      for (const raw of vcardValues(entity, 'email')) {
        const email = raw.replace(/^mailto:/i, '').trim();
        if (EMAIL.test(email)) out.push({ email: email.toLowerCase(), name, of: parent, object });
      }
    const here = roles.find((r) => r !== 'abuse');
    walk(entity.entities, here ? { role: here, name } : parent, object, out, depth + 1);
  }
}

/**
 * The abuse contacts in an RDAP response's text, registrar/hosting order as given, duplicates
 * removed. Throws RdapInputError (exit 2) when the text is not an RDAP object.
 */
export function abuseContacts(text: string): AbuseContact[] {
  const json = rdapObject(text);
  const object =
    (typeof json.ldhName === 'string' && json.ldhName) ||
    (typeof json.handle === 'string' && json.handle) ||
    (typeof json.name === 'string' && json.name) ||
    json.objectClassName;
  const contacts: AbuseContact[] = [];
  walk(json.entities, null, object.toLowerCase(), contacts, 0);
  const seen = new Set<string>();
  return contacts.filter((c) => !seen.has(c.email) && seen.add(c.email));
}

/** An IP address as a number within its family (IPv4 32 bits, IPv6 128), or null. */
function addressValue(text: string): { v6: boolean; value: bigint } | null {
  const address = text.trim().replace(/^\[|\]$/g, '');
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return null;
    return { v6: false, value: parts.reduce((n, p) => (n << 8n) | BigInt(p), 0n) };
  }
  if (!address.includes(':') || !/^[0-9a-f:.]+$/i.test(address)) return null;
  const [head = '', tail, extra] = address.split('::');
  if (extra !== undefined) return null;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  // An embedded IPv4 tail (::ffff:192.0.2.1) counts as two groups.
  const last = right.length ? right : left;
  const dotted = last.at(-1)?.includes('.') ? addressValue(last.pop()!) : null;
  if (dotted) last.push((dotted.value >> 16n).toString(16), (dotted.value & 0xffffn).toString(16));
  const fill = 8 - left.length - right.length;
  if (tail === undefined ? fill !== 0 : fill < 1) return null;
  const all = [...left, ...Array<string>(tail === undefined ? 0 : fill).fill('0'), ...right];
  if (all.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null;
  return { v6: true, value: all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/**
 * Why an RDAP response is not about this host, or null when it is (or cannot be told): a
 * domain object must be the host or a domain above it (its registrable domain, as a registry
 * answers), an IP network of an IP host must hold the address. An IP network or autonomous
 * system for a name is the hosting's contact and is taken as given. A letter sent on another
 * domain's RDAP would go to a registrar that has nothing to do with the host.
 */
export function rdapMismatch(
  text: string,
  host: string,
  hostKind: 'domain' | 'ipv4' | 'ipv6',
): string | null {
  const json = rdapObject(text);
  const kind = json.objectClassName.toLowerCase();
  if (kind === 'domain') {
    const raw = typeof json.ldhName === 'string' ? json.ldhName : '';
    const name = raw.toLowerCase().replace(/\.$/, '');
    if (name === '') return 'the RDAP domain object has no ldhName';
    if (hostKind !== 'domain') return `the RDAP data is for the domain ${name}, not for the address ${host}`;
    if (host === name || host.endsWith(`.${name}`)) return null;
    return `the RDAP data is for the domain ${name}, not for ${host}`;
  }
  if (kind === 'ip network' && hostKind !== 'domain') {
    const start = typeof json.startAddress === 'string' ? addressValue(json.startAddress) : null;
    const end = typeof json.endAddress === 'string' ? addressValue(json.endAddress) : null;
    const address = addressValue(host);
    if (!start || !end || !address) return null;
    if (start.v6 === address.v6 && start.value <= address.value && address.value <= end.value) return null;
    return `the RDAP data is for the network ${String(json.startAddress)} - ${String(json.endAddress)}, which does not hold ${host}`;
  }
  return null;
}
