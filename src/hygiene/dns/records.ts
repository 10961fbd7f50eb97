/** Names and RRsets as the validator reads them from answers. */
import type { Answer } from 'dns-packet';
import { sameName, type RrsigData } from './signature.ts';

/** Lowercase, no trailing dot; the root is ''. */
export function normalise(name: string): string {
  return name === '.' ? '' : name.toLowerCase().replace(/\.$/, '');
}

export function isBelowOrAt(name: string, zone: string): boolean {
  return zone === '' || name === zone || name.endsWith(`.${zone}`);
}

export function rrsetOf(records: readonly Answer[], name: string, type: string): Answer[] {
  return records.filter((r) => r.type === type && sameName(r.name, name));
}

export function rrsigsOf(records: readonly Answer[], name: string, type: string): RrsigData[] {
  return records
    .filter((r) => r.type === 'RRSIG' && sameName(r.name, name))
    .map((r) => (r as { data: RrsigData }).data)
    .filter((s) => s.typeCovered === type);
}
