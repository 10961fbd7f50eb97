/**
 * `tsunagi web export --format rpz|unbound|hosts|urls [--tier] [--out]`: the web room's malicious
 * hosts and URLs as filtering outputs. What a tier may receive is the hub's release decision on
 * the intel indicators the web room recorded (`web ingest --record`: kind `domain` for a host,
 * `url` for a URL); the web room then says which released hosts are wholly malicious (the host's
 * own verdict) and never a suffix, a shared platform or a brand's official domain.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { createLogger, makeDirectories, UsageError, writeFileAtomic } from '../core/index.ts';
import {
  createIntel,
  IntelConfig,
  moreRestrictedTlp,
  TIERS,
  type Indicator,
  type IndicatorKind,
  type Intel,
  type Tier,
  type Tlp,
} from '../intel/index.ts';
import { createAuditLog, loadSigner, release, tierReader } from '../share/index.ts';
import {
  createBrandIndex,
  createWeb,
  EXPORT_FORMATS,
  hostRefusal,
  hostsFile,
  rpzZone,
  unboundConfig,
  urlList,
  WebConfig,
  type ExportFormat,
  type UrlEntry,
  type Web,
  type WebTables,
} from '../web/index.ts';
import { requireDataDir, type CliContext } from './context.ts';
import { printOut } from './output.ts';
import { cliDataDir, openCliStore } from './hub-stack.ts';

export interface WebExportOptions {
  format: string;
  tier: string;
  out?: string;
  origin: string;
  data?: string;
}

export interface WebExportResult {
  text: string;
  hosts: number;
  urls: number;
  /** Released hosts left out, by why (a suffix, a shared platform, an official domain, not wholly malicious). */
  refused: Record<string, number>;
  serial?: number;
  /**
   * The most restrictive marking among the entries (TLP:CLEAR for an empty list): the whole file
   * goes out under it, written in its header (the URL list's `tlp`), since a resolver's block
   * list cannot carry a marking per line.
   */
  tlp: Tlp;
}

/** The header line that says how far the file may travel. */
export function tlpComment(tlp: Tlp): string {
  return `TLP:${tlp.toUpperCase()} (the most restrictive marking of its entries: share this file only as TLP:${tlp.toUpperCase()} allows)`;
}

/** Every indicator of a kind that the hub releases to the tier, with the marking it releases under. */
export async function releasedIndicators(
  intel: Pick<Intel, 'list'>,
  kind: IndicatorKind,
  tier: Tier,
): Promise<Map<string, { indicator: Indicator; tlp: Tlp }>> {
  const reader = tierReader(tier);
  const released = new Map<string, { indicator: Indicator; tlp: Tlp }>();
  let cursor: string | undefined;
  do {
    const page = await intel.list({ kinds: [kind], limit: 5000, ...(cursor ? { cursor } : {}) });
    for (const indicator of page.items) {
      const decision = release({ type: 'indicator', indicator }, reader);
      if (decision.outcome !== 'deny') released.set(indicator.value, { indicator, tlp: decision.copy.tlp });
    }
    cursor = page.next;
  } while (cursor);
  return released;
}

/**
 * The next RPZ serial: above the last one written from this data directory and at least the
 * clock's seconds. It is kept (`keepSerial`) only once the zone has gone out, so a write that
 * failed does not move the serial secondaries compare against.
 */
export function nextSerial(stateFile: string, now: Date): number {
  let previous = 0;
  try {
    previous = Number(readFileSync(stateFile, 'utf8').trim()) || 0;
  } catch {
    previous = 0;
  }
  return Math.max(previous + 1, Math.floor(now.getTime() / 1000));
}

export function keepSerial(stateFile: string, serial: number): void {
  makeDirectories(dirname(stateFile));
  writeFileSync(stateFile, `${serial}\n`);
}

/**
 * Malicious in the web room but not given to this tier by the release decision: never recorded
 * in intel (`web ingest` without `--record`), or recorded under a marking the tier may not read
 * (TLP:GREEN, the default, is the council's; `--tlp clear` is public notice).
 */
export const NOT_RELEASED = 'not-recorded-or-not-for-this-tier';

export async function buildWebExport(
  web: Web,
  intel: Pick<Intel, 'list'>,
  options: { format: ExportFormat; tier: Tier; origin: string; serialFile: string; now: Date },
): Promise<WebExportResult> {
  const generated = options.now.toISOString();
  const comments = [`tsunagi web export ${options.format}, tier ${options.tier}, ${generated}`];
  if (options.format === 'urls') {
    const released = await releasedIndicators(intel, 'url', options.tier);
    const entries: UrlEntry[] = [];
    const refused: Record<string, number> = {};
    let tlp: Tlp = 'clear';
    for await (const v of web.verdicts({ verdicts: ['malicious'] })) {
      const r = released.get(v.url);
      if (!r) {
        refused[NOT_RELEASED] = (refused[NOT_RELEASED] ?? 0) + 1;
        continue;
      }
      tlp = moreRestrictedTlp(tlp, r.tlp);
      entries.push({
        url: v.url,
        host: v.host,
        brand: v.brand,
        score: v.score,
        firstSeen: v.firstSeen,
        tlp: r.tlp,
      });
    }
    const list = urlList(entries, { generated, tier: options.tier, tlp });
    return { text: JSON.stringify(list, null, 1) + '\n', hosts: 0, urls: list.urls.length, refused, tlp };
  }
  const released = await releasedIndicators(intel, 'domain', options.tier);
  const brands = createBrandIndex();
  const hosts: string[] = [];
  const refused: Record<string, number> = {};
  let tlp: Tlp = 'clear';
  for await (const h of web.hosts({ verdicts: ['malicious'] })) {
    const r = released.get(h.host);
    if (!r) {
      refused[NOT_RELEASED] = (refused[NOT_RELEASED] ?? 0) + 1;
      continue;
    }
    if (h.verdict !== 'malicious') {
      refused['not-wholly-malicious'] = (refused['not-wholly-malicious'] ?? 0) + 1;
      continue;
    }
    const keys = web.normalise(h.host);
    const why = hostRefusal(keys, brands.officialBrand);
    if (why) refused[why] = (refused[why] ?? 0) + 1;
    else {
      hosts.push(h.host);
      tlp = moreRestrictedTlp(tlp, r.tlp);
    }
  }
  hosts.sort();
  comments.push(tlpComment(tlp));
  if (options.format === 'hosts')
    return { text: hostsFile(hosts, comments), hosts: hosts.length, urls: 0, refused, tlp };
  if (options.format === 'unbound')
    return { text: unboundConfig(hosts, comments), hosts: hosts.length, urls: 0, refused, tlp };
  const serial = nextSerial(options.serialFile, options.now);
  const text = rpzZone(hosts, { origin: options.origin, serial, comments });
  return { text, hosts: hosts.length, urls: 0, refused, serial, tlp };
}

export function parseWebExportOptions(options: WebExportOptions): { format: ExportFormat; tier: Tier } {
  if (!EXPORT_FORMATS.includes(options.format as ExportFormat))
    throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}`);
  if (!TIERS.includes(options.tier as Tier))
    throw new UsageError(`--tier must be one of ${TIERS.join(', ')}`);
  if (!/^([a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}\.?$/i.test(options.origin))
    throw new UsageError('--origin must be a domain name (e.g. rpz.tsunagi.)');
  return { format: options.format as ExportFormat, tier: options.tier as Tier };
}

export async function webExportCommand(options: WebExportOptions, ctx: CliContext): Promise<void> {
  const { format, tier } = parseWebExportOptions(options);
  requireDataDir(options.data, ctx.env);
  const dataDir = cliDataDir(options.data, ctx.env);
  const store = await openCliStore(dataDir, ctx.env);
  try {
    const registry = new Registry();
    const logger = createLogger({ level: 'warn' }, ctx.stderr);
    const audit = createAuditLog({ store, signer: loadSigner(dataDir) });
    const intel = createIntel(IntelConfig.parse({}), { store, logger, registry, audit });
    const web = createWeb(WebConfig.parse({}), {
      logger,
      registry,
      db: store.db as unknown as Kysely<WebTables>,
    });
    const serialFile = join(dataDir, 'web', 'rpz-serial');
    const result = await buildWebExport(web, intel, {
      format,
      tier,
      origin: options.origin,
      serialFile,
      now: new Date(),
    });
    // Whole or not at all: a resolver reloading the file never reads half a zone.
    if (options.out) writeFileAtomic(options.out, result.text);
    else await printOut(ctx.stdout, result.text);
    if (result.serial) keepSerial(serialFile, result.serial);
    const refused = Object.entries(result.refused)
      .map(([why, n]) => `${why} ${n}`)
      .join(', ');
    ctx.stderr.write(
      `tsunagi: web ${format} for tier ${tier}, TLP:${result.tlp.toUpperCase()}: ${format === 'urls' ? `${result.urls} URLs` : `${result.hosts} hosts`}` +
        (result.serial ? `, serial ${result.serial}` : '') +
        (refused ? `; left out: ${refused}` : '') +
        (options.out ? `; written to ${options.out}` : '') +
        '\n',
    );
    // An empty list because nothing was released to this tier: say how hosts get there.
    const held = result.refused[NOT_RELEASED] ?? 0;
    if (held > 0 && (format === 'urls' ? result.urls : result.hosts) === 0)
      ctx.stderr.write(
        tier === 'public'
          ? `tsunagi: the public tier gets what was recorded in intel as TLP:CLEAR (web ingest --record --tlp clear, for a public source); --tier council reads TLP:GREEN\n`
          : `tsunagi: hosts reach the ${tier} tier once recorded in intel (web ingest --record)\n`,
      );
  } finally {
    await store.close();
  }
}
