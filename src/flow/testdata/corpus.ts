/**
 * Real exporter payloads shipped with the repository (each folder keeps its upstream LICENSE;
 * corpus/README.md says where they come from).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CORPUS = fileURLToPath(new URL('./corpus/', import.meta.url));
/** Logstash's netflow codec specs: one export packet per `.dat` file. */
export const LOGSTASH = join(CORPUS, 'logstash');
/** Telegraf's netflow input test cases: `*.bin` payloads with `expected.out` line protocol. */
export const TELEGRAF = join(CORPUS, 'telegraf');

/** Export payloads grouped by vendor (Logstash) or case (Telegraf, not sFlow), templates before data. */
export function vendorGroups(): [string, Buffer[]][] {
  const byVendor = new Map<string, string[]>();
  for (const file of readdirSync(LOGSTASH).filter((f) => f.endsWith('.dat'))) {
    const vendor = file.replace(/\.dat$/, '').replace(/_(tpl|data|opttpl|tplopt|tpls|tpldata).*$/, '');
    byVendor.set(vendor, [...(byVendor.get(vendor) ?? []), file]);
  }
  const rank = (f: string) => (/_(tpl|opttpl|tpls|tplopt)/.test(f) && !/_tpldata|_tpl_data/.test(f) ? 0 : 1);
  const out: [string, Buffer[]][] = [];
  for (const [vendor, files] of byVendor) {
    files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    out.push([vendor, files.map((f) => readFileSync(join(LOGSTASH, f)))]);
  }
  for (const dir of readdirSync(TELEGRAF)) {
    if (dir.startsWith('sflow') || !existsSync(join(TELEGRAF, dir, 'expected.out'))) continue;
    const files = readdirSync(join(TELEGRAF, dir))
      .filter((f) => f.endsWith('.bin'))
      .sort();
    out.push([`telegraf/${dir}`, files.map((f) => readFileSync(join(TELEGRAF, dir, f)))]);
  }
  return out;
}
