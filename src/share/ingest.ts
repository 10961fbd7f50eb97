/**
 * Submissions into intel: STIX indicators posted to an ingesting collection, or a C&C list in
 * CSV (Feodo-style columns or plain `ip,port,proto,confidence,family`), become sightings by the
 * submitting organisation. Only simple patterns are understood; anything else is a named failure.
 */
import { InputError, splitCsvLine } from '../core/index.ts';
import { type Intel, SightingInput, type Tier, type Tlp, type WithinTransaction } from '../intel/index.ts';
import { tlpOf } from './collections.ts';
import { tierOf, type StixObject } from './stix.ts';

export interface Ingested {
  sightings: { objectId: string; sighting: SightingInput }[];
  /**
   * Revoked indicators: the submitter taking its report of that indicator back. Each names the
   * indicator as a sighting would (kind, value, port, protocol); it is no sighting.
   */
  withdrawals: { objectId: string; sighting: SightingInput }[];
  /** Indicators that could not be read, by object id. */
  failures: { id: string; message: string }[];
}

/**
 * Takes back `submitter`'s report of each revoked indicator (intel withdraws an indicator only
 * when no other source reports it). Returns the withdrawals that could not be applied, by
 * object id, and how many indicators went away entirely.
 */
export async function applyWithdrawals(
  intel: Pick<Intel, 'withdrawSource'>,
  withdrawals: Ingested['withdrawals'],
  submitter: string,
  actor: string,
  within?: WithinTransaction,
): Promise<{ failures: { id: string; message: string }[]; withdrawn: number }> {
  const failures: { id: string; message: string }[] = [];
  let withdrawn = 0;
  for (const w of withdrawals) {
    const check = SightingInput.safeParse(w.sighting);
    try {
      if (!check.success) throw new InputError(check.error.issues[0]!.message);
      const { type, value, port, proto } = check.data;
      const result = await intel.withdrawSource(
        { kind: type, value, ...(port !== undefined ? { port } : {}), ...(proto ? { proto } : {}) },
        submitter,
        `revoked by ${submitter} (${w.objectId})`,
        actor,
        within,
      );
      if (result.outcome === 'withdrawn') withdrawn++;
    } catch (error) {
      failures.push({ id: w.objectId, message: `cannot withdraw: ${(error as Error).message}` });
    }
  }
  return { failures, withdrawn };
}

const COMPARISON = /([a-z0-9-]+):([a-z0-9_.[\]*]+)\s*=\s*('(?:[^'\\]|\\.)*'|\d+)/g;

/** Reads a single-observation, AND-only STIX pattern into property -> value. */
export function readPattern(pattern: string): Map<string, string> | undefined {
  const body = pattern.trim();
  if (!body.startsWith('[') || !body.endsWith(']')) return undefined;
  // One observation expression joined by AND only: anything else would need real pattern logic.
  if (
    /\]\s*(AND|OR|FOLLOWEDBY)\s*\[/.test(body) ||
    /\sOR\s/.test(body) ||
    /\s(WITHIN|REPEATS|START)\s/.test(body)
  )
    return undefined;
  const out = new Map<string, string>();
  for (const m of body.matchAll(COMPARISON)) {
    const raw = m[3]!;
    out.set(`${m[1]}:${m[2]}`, raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
  }
  return out.size > 0 ? out : undefined;
}

/**
 * Reads submitted indicators. An indicator without a tier label takes `defaultTier`: an ISP's C&C
 * list exists to be shared with the council, so submissions default to 'council'.
 */
export function sightingsFromStix(
  objects: readonly StixObject[],
  source: string,
  defaultTier: Tier = 'council',
): Ingested {
  const result: Ingested = { sightings: [], withdrawals: [], failures: [] };
  const byId = new Map(objects.map((o) => [o.id, o]));
  const families = new Map<string, string>();
  for (const o of objects) {
    if (o.type !== 'relationship' || o.relationship_type !== 'indicates') continue;
    const target = byId.get(String(o.target_ref));
    if (target?.type === 'malware' && typeof target.name === 'string')
      families.set(String(o.source_ref), target.name);
  }
  for (const o of objects) {
    if (o.type !== 'indicator') continue;
    if (o.pattern_type !== 'stix' || typeof o.pattern !== 'string') {
      if (o.revoked === true) continue;
      result.failures.push({ id: o.id, message: 'only STIX patterns are read' });
      continue;
    }
    const props = readPattern(o.pattern);
    const types = Array.isArray(o.indicator_types) ? (o.indicator_types as string[]) : [];
    const labels = Array.isArray(o.labels) ? (o.labels as string[]) : [];
    const base = {
      source,
      confidence: typeof o.confidence === 'number' ? o.confidence : 50,
      tier: tierOf(o) ?? defaultTier,
      tlp: tlpOf(o) as Tlp,
      ...((families.get(o.id) ?? labels[0]) ? { family: families.get(o.id) ?? labels[0] } : {}),
    };
    let sighting: SightingInput | undefined;
    if (props?.has('network-traffic:dst_ref.value')) {
      const port = Number(props.get('network-traffic:dst_port') ?? 0);
      const proto = props.get('network-traffic:protocols[*]') ?? props.get('network-traffic:protocols[0]');
      sighting = {
        ...base,
        type: 'c2',
        value: props.get('network-traffic:dst_ref.value')!,
        port,
        ...(proto ? { proto } : {}),
      };
    } else if (props?.has('ipv4-addr:value') || props?.has('ipv6-addr:value')) {
      const value = props.get('ipv4-addr:value') ?? props.get('ipv6-addr:value')!;
      sighting = { ...base, type: types.includes('compromised') ? 'bot' : 'c2', value };
    } else if (props?.has('url:value')) {
      sighting = { ...base, type: 'url', value: props.get('url:value')! };
    } else if (props?.has('domain-name:value')) {
      sighting = { ...base, type: 'domain', value: props.get('domain-name:value')! };
    }
    // A revoked version is the submitter taking its report back, never a new sighting.
    if (sighting)
      (o.revoked === true ? result.withdrawals : result.sightings).push({ objectId: o.id, sighting });
    else if (o.revoked === true)
      continue; // nothing this hub could have recorded from it
    else
      result.failures.push({
        id: o.id,
        message:
          'pattern not understood (one observation of network-traffic, an address, url or domain-name)',
      });
  }
  return result;
}

/** Reads a C&C CSV. Lines starting with # are comments; a header row names the columns. */
export function sightingsFromCsv(
  text: string,
  source: string,
  defaults: { tier?: Tier; tlp?: Tlp } = {},
): SightingInput[] {
  const out: SightingInput[] = [];
  let columns = ['ip', 'port', 'proto', 'confidence', 'family'];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || line.startsWith('#')) continue;
    // Quoted cells as core/c2list.ts writes them (a family may hold a comma or a quote).
    const cells = splitCsvLine(line).map((c) => c.trim());
    if (out.length === 0 && cells.some((c) => /^(dst_ip|ip|ip_address|dst_port|port)$/i.test(c))) {
      columns = cells.map((c) => c.toLowerCase());
      continue;
    }
    const get = (...names: string[]) => {
      for (const n of names) {
        const idx = columns.indexOf(n);
        if (idx >= 0 && cells[idx] !== undefined && cells[idx] !== '') return cells[idx];
      }
      return undefined;
    };
    const ip = get('dst_ip', 'ip', 'ip_address');
    const port = Number(get('dst_port', 'port') ?? 0);
    const confidence = Number(get('confidence') ?? 50);
    if (!ip || !Number.isInteger(port) || !Number.isFinite(confidence))
      throw new InputError(`line ${i + 1}: expected ip,port[,proto,confidence,family]`);
    const proto = get('proto', 'protocol');
    const family = get('family', 'malware');
    out.push({
      type: 'c2',
      value: ip,
      port,
      source,
      confidence,
      tier: defaults.tier ?? 'council',
      tlp: defaults.tlp ?? 'amber+strict',
      ...(proto ? { proto } : {}),
      ...(family ? { family } : {}),
    });
  }
  return out;
}
