/** Passive firmware check: identified vendor/model/version against the operator's vulnerable-version table. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError } from '../core/index.ts';
import { parseCsv } from './plan.ts';

export const Severity = z.enum(['none', 'low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;
const SEVERITY_RANK: Record<Severity, number> = { none: 0, low: 1, medium: 2, high: 3, critical: 4 };

const optionalText = z.preprocess((v) => (v === '' || v === null ? undefined : v), z.string().optional());

export const VulnerableEntry = z
  .object({
    vendor: z.string().min(1),
    /** Exact model (case-insensitive) or `*` for every model of the vendor. */
    model: z.string().min(1).default('*'),
    /** Affected when version >= versionMin (if given) ... */
    versionMin: optionalText,
    /** ... and version <= versionMax (if given) ... */
    versionMax: optionalText,
    /** ... and version < fixedIn (if given). */
    fixedIn: optionalText,
    cve: z.string().regex(/^CVE-\d{4}-\d{4,}$/, 'a CVE id like CVE-2024-12345'),
    severity: Severity,
    cvss: z.preprocess(
      (v) => (v === '' || v === undefined ? undefined : Number(v)),
      z.number().min(0).max(10).optional(),
    ),
    summary: z.string().default(''),
  })
  .strict();
export type VulnerableEntry = z.infer<typeof VulnerableEntry>;

export interface CveMatch {
  cve: string;
  severity: Severity;
  cvss?: number | undefined;
  summary: string;
}

/** Compares dotted versions piecewise: numbers numerically, other pieces as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const pb = b.split(/[^A-Za-z0-9]+/).filter(Boolean);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    const c = Number.isNaN(nx) || Number.isNaN(ny) ? x.localeCompare(y) : nx - ny;
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  return 0;
}

export class VulnerableTable {
  constructor(readonly entries: readonly VulnerableEntry[]) {}

  static empty(): VulnerableTable {
    return new VulnerableTable([]);
  }

  /** Loads a JSON array or a CSV (`vendor,model,versionMin,versionMax,fixedIn,cve,severity,cvss,summary`). */
  static load(path: string): VulnerableTable {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new InputError(`cannot read vulnerable-version table ${path}: ${(error as Error).message}`);
    }
    let rows: unknown[];
    try {
      rows = path.endsWith('.csv') ? parseCsv(text) : (JSON.parse(text) as unknown[]);
    } catch (error) {
      throw new InputError(`vulnerable-version table ${path} is not valid: ${(error as Error).message}`);
    }
    if (!Array.isArray(rows)) throw new InputError(`vulnerable-version table ${path} must be a list`);
    const entries = rows.map((row, index) => {
      const parsed = VulnerableEntry.safeParse(row);
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
        throw new InputError(`vulnerable-version table ${path} entry ${index + 1}: ${why}`);
      }
      return parsed.data;
    });
    return new VulnerableTable(entries);
  }

  /** CVEs that apply to this device; nothing when the version is unknown (we never guess). */
  match(vendor: string | undefined, model: string | undefined, version: string | undefined): CveMatch[] {
    if (!vendor || !version) return [];
    const out: CveMatch[] = [];
    for (const e of this.entries) {
      if (e.vendor.toLowerCase() !== vendor.toLowerCase()) continue;
      if (e.model !== '*' && e.model.toLowerCase() !== (model ?? '').toLowerCase()) continue;
      if (e.versionMin && compareVersions(version, e.versionMin) < 0) continue;
      if (e.versionMax && compareVersions(version, e.versionMax) > 0) continue;
      if (e.fixedIn && compareVersions(version, e.fixedIn) >= 0) continue;
      if (!e.versionMin && !e.versionMax && !e.fixedIn) continue;
      if (!out.some((m) => m.cve === e.cve))
        out.push({ cve: e.cve, severity: e.severity, cvss: e.cvss, summary: e.summary });
    }
    return out;
  }
}

export function maxSeverity(matches: readonly { severity: Severity }[]): Severity {
  let best: Severity = 'none';
  for (const m of matches) if (SEVERITY_RANK[m.severity] > SEVERITY_RANK[best]) best = m.severity;
  return best;
}
