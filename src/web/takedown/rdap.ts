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
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RdapInputError('RDAP: not JSON');
  }
  if (!isObject(json) || typeof json.objectClassName !== 'string')
    throw new RdapInputError('RDAP: no objectClassName (not an RDAP response)');
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
