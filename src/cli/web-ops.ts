/**
 * `tsunagi web check URL...` (the optional page check, plain or in headless Chromium),
 * `tsunagi web campaigns` (malicious hosts grouped by what ties them, with statistics) and
 * `tsunagi web takedown draft|status` (abuse requests per host): the web room's operations.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import {
  chromiumPath,
  createLogger,
  DEFAULT_CHROMIUM,
  InputError,
  RuntimeError,
  UsageError,
} from '../core/index.ts';
import {
  abuseContacts,
  rdapMismatch,
  BrowserStartError,
  checkPage,
  loadFavicons,
  noBrowserCounters,
  openPageBrowser,
  type PageBrowser,
  PageCheckError,
  PageTimeoutError,
  draftTakedown,
  getTakedown,
  isTakedownStatus,
  LETTER_LANGUAGES,
  renderLetter,
  TAKEDOWN_STATUSES,
  UrlInputError,
  type LetterFacts,
  type StoredVerdict,
  type TakedownStatus,
  type TakedownTables,
  campaignHostOf,
  carriedTies,
  clusterCampaigns,
  createBrandIndex,
  createWeb,
  groundsOf,
  kitPathOnlyHosts,
  suffixRiskOf,
  parseInfrastructure,
  webStatistics,
  withKitPaths,
  WebConfig,
  type Campaign,
  type CampaignHost,
  type HostInfrastructure,
  type Web,
  type WebStatistics,
  type WebTables,
} from '../web/index.ts';
import { requireDataDir, type CliContext } from './context.ts';
import { printOut } from './output.ts';
import { cliDataDir, openCliStore } from './hub-stack.ts';
import { CONFIG_OPTION, webConfigOf } from './web-config.ts';

interface CampaignOptions {
  infra?: string;
  json?: boolean;
  data?: string;
}

export function registerWebOps(web: Command, ctx: CliContext): void {
  web
    .command('campaigns')
    .description(
      "group malicious hosts into campaigns by shared infrastructure, naming template, brand-bearing subdomain, kit, kit path and a path on a risky suffix (a host whose name is not malicious joins by the kit-path, registered-domain or suffix-path tie that made its URL malicious, alone; two or more a registered-domain tie made malicious, on a domain no campaign holds, are that domain's campaign)",
    )
    .option('--infra <file>', 'JSON array of {host, ip?, asn?, country?, kitMarkers?} the operator knows')
    .option('--json', 'write the campaigns and statistics as JSON')
    .option('-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA)')
    .action(async (options: CampaignOptions) => campaignsCommand(options, ctx));
  web
    .command('check')
    .description(
      'read pages (plain GET without JavaScript, or --browser: headless Chromium) under 2 MB and 10 s each, and look for a login form, a brand favicon, kit markers',
    )
    .argument('<url...>', 'the pages')
    .option(
      '--favicons <file>',
      "more brand icons, joined to the shipped table: {icons: [{brand, sha256?, mmh3?, source?}]} (mmh3: Shodan's http.favicon.hash)",
    )
    .option(
      '--browser',
      'render each page in headless Chromium, its JavaScript run (config web.page.browser)',
    )
    .option(
      '--chromium <path>',
      `the Chromium for --browser (config web.page.chromium, else $TSUNAGI_CHROMIUM, else ${DEFAULT_CHROMIUM})`,
    )
    .option('-c, --config <file>', 'configuration file (YAML or JSON); its web.page section is read')
    .action(async (urls: string[], options: CheckOptions) => checkCommand(urls, options, ctx));
  const takedown = web.command('takedown').description('abuse requests to take malicious hosts down');
  takedown
    .command('draft')
    .description(
      'draft a takedown request for a malicious host: abuse contact from RDAP, letters in ja and en',
    )
    .argument('<host>', 'the host (as stored by web ingest)')
    .requiredOption('--rdap <file>', 'the RDAP JSON of the domain or IP network (fetched by the operator)')
    .option('--from <sender>', 'who signs the letters', 'tsunagi')
    .option('-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA)')
    .action(async (host: string, options: DraftOptions) => takedownDraftCommand(host, options, ctx));
  takedown
    .command('status')
    .description(`show a takedown request, or move it on with --set (${TAKEDOWN_STATUSES.join(' → ')})`)
    .argument('<host>', 'the host')
    .option('--set <status>', `one of ${TAKEDOWN_STATUSES.join(', ')}`)
    .option('-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA)')
    .option(...CONFIG_OPTION)
    .action(async (host: string, options: StatusOptions) => takedownStatusCommand(host, options, ctx));
}

interface CheckOptions {
  favicons?: string;
  browser?: boolean;
  chromium?: string;
  config?: string;
}

/** Which browser, if any: the flag, else the config; a Chromium that is not there is said up front. */
function checkBrowserOf(options: CheckOptions, ctx: CliContext): string | null {
  const flags: Record<string, unknown> = {};
  if (options.browser) flags.browser = true;
  if (options.chromium !== undefined) flags.chromium = options.chromium;
  const page = webConfigOf(
    options.config,
    ctx,
    Object.keys(flags).length > 0 ? { web: { page: flags } } : {},
  ).page;
  if (!page.browser) {
    if (options.chromium !== undefined)
      throw new UsageError('--chromium needs --browser (or web.page.browser: true in the config)');
    return null;
  }
  // The flag is merged into the setting; named first, it is what the setting holds when given.
  return chromiumPath(
    [
      { name: '--chromium', path: options.chromium },
      { name: 'web.page.chromium', path: page.chromium },
    ],
    ctx.env,
    '--browser',
  );
}

/**
 * `tsunagi web check URL...`: one JSON object a line on stdout per page read, a page that cannot
 * be read one line on stderr (the rest are read, exit 2), one line of counters on stderr saying
 * which way the pages were read, then the last error again when there was one. The browser, when there is one, is closed on every way
 * out: done, an error, Ctrl-C or SIGTERM (exit 1, "interrupted").
 */
async function checkCommand(urls: string[], options: CheckOptions, ctx: CliContext): Promise<void> {
  const chromium = checkBrowserOf(options, ctx);
  const favicons = options.favicons ? loadFavicons(options.favicons) : undefined;
  const counts = { pages: 0, errors: 0, timeouts: 0, loginForms: 0, brands: 0, kits: 0, truncated: 0 };
  const total = noBrowserCounters();
  let pageBrowser: PageBrowser | undefined;
  let interrupted: NodeJS.Signals | undefined;
  let lastError = '';
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = signal;
    void pageBrowser?.close();
  };
  // Only a browser needs closing: without one Ctrl-C ends the command as it always does.
  if (chromium) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    if (chromium) {
      try {
        pageBrowser = await openPageBrowser(chromium);
      } catch (error) {
        if (error instanceof BrowserStartError) throw new RuntimeError(error.message);
        throw error;
      }
      if (interrupted) throw new RuntimeError(`interrupted (${interrupted}); the browser is closed`);
    }
    for (const url of urls) {
      if (interrupted) break;
      try {
        const check = pageBrowser
          ? await pageBrowser.check(url, favicons ? { favicons } : {})
          : await checkPage(url, favicons ? { favicons } : {});
        counts.pages++;
        if (check.loginForm) counts.loginForms++;
        if (check.favicon?.brand) counts.brands++;
        if (check.kitMarkers.length > 0) counts.kits++;
        if (check.truncated) counts.truncated++;
        for (const key of Object.keys(total) as (keyof typeof total)[])
          total[key] += check.browser?.[key] ?? 0;
        await printOut(ctx.stdout, JSON.stringify(check) + '\n');
      } catch (error) {
        if (interrupted) break;
        if (!(error instanceof PageCheckError)) throw error;
        counts.errors++;
        lastError = error.message;
        if (error instanceof PageTimeoutError) counts.timeouts++;
        // One URL: its error is the command's last line, said once.
        if (urls.length > 1) ctx.stderr.write(`tsunagi: ${error.message}\n`);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await pageBrowser?.close();
  }
  if (interrupted) throw new RuntimeError(`interrupted (${interrupted}); the browser is closed`);
  const way = pageBrowser
    ? `in headless Chromium ${pageBrowser.version} (JavaScript run)`
    : 'by plain fetch (no JavaScript)';
  const browserCounts = pageBrowser
    ? `, requests ${total.requests}, aborted over the byte cap ${total.abortedOverCap}, ` +
      `other schemes refused ${total.blockedSchemes}, WebSockets refused ${total.webSocketsRefused}, ` +
      `downloads refused ${total.downloadsBlocked}, ` +
      `dialogs dismissed ${total.dialogsDismissed}, popups closed ${total.popupsClosed}`
    : '';
  ctx.stderr.write(
    `tsunagi: read ${counts.pages} of ${urls.length} pages ${way}: login forms ${counts.loginForms}, ` +
      `brand favicons ${counts.brands}, kit markers ${counts.kits}, cut at the byte cap ${counts.truncated}` +
      `${browserCounts}, timeouts ${counts.timeouts}, errors ${counts.errors}\n`,
  );
  if (counts.errors > 0)
    throw new InputError(
      urls.length === 1
        ? lastError
        : `${counts.errors} of ${urls.length} pages could not be read; the last: ${lastError}`,
    );
}

interface DraftOptions {
  rdap: string;
  from: string;
  data?: string;
}

interface StatusOptions {
  set?: string;
  data?: string;
  config?: string;
}

async function withWeb<T>(
  options: { data?: string; config?: string },
  ctx: CliContext,
  work: (web: Web, db: Kysely<TakedownTables>, config: WebConfig) => Promise<T>,
): Promise<T> {
  requireDataDir(options.data, ctx.env);
  const config = webConfigOf(options.config, ctx);
  const store = await openCliStore(cliDataDir(options.data, ctx.env), ctx.env);
  try {
    const web = createWeb(config, {
      logger: createLogger({ level: 'warn' }, ctx.stderr),
      registry: new Registry(),
      db: store.db as unknown as Kysely<WebTables>,
    });
    return await work(web, store.db as unknown as Kysely<TakedownTables>, config);
  } finally {
    await store.close();
  }
}

function hostArgument(web: Web, text: string): string {
  try {
    return web.normalise(text).host;
  } catch (error) {
    if (error instanceof UrlInputError) throw new UsageError(`"${text.slice(0, 80)}" is not a host name`);
    throw error;
  }
}

async function takedownDraftCommand(hostText: string, options: DraftOptions, ctx: CliContext): Promise<void> {
  const rdap = readText(options.rdap);
  const contacts = abuseContacts(rdap);
  if (contacts.length === 0)
    throw new InputError(`${options.rdap}: no abuse contact with an email in the RDAP data`);
  const contact = contacts[0]!;
  await withWeb(options, ctx, async (web, db) => {
    const host = hostArgument(web, hostText);
    const urls: StoredVerdict[] = [];
    for await (const v of web.verdicts({ verdicts: ['malicious', 'suspicious'] }))
      if (v.host === host) urls.push(v);
    if (urls.length === 0)
      throw new InputError(`${host}: not a malicious or suspicious host in the store (web ingest it first)`);
    // A letter drafted on another domain's RDAP would go to a registrar with nothing to do with it.
    const keys = web.normalise(host);
    const mismatch = rdapMismatch(rdap, host, keys.hostKind);
    if (mismatch)
      throw new InputError(
        `${options.rdap}: ${mismatch}` +
          (keys.hostKind === 'domain' ? ` (fetch the RDAP data of ${keys.registrableDomain ?? host})` : ''),
      );
    const brandKey = urls.find((u) => u.brand)?.brand ?? null;
    const brand = brandKey ? web.brand(brandKey) : undefined;
    const facts: LetterFacts = {
      host,
      urls: urls.slice(0, 20).map((u) => u.url),
      brandName: brand ? { ja: brand.ja, en: brand.en } : null,
      official: brand?.official ?? [],
      reasons: groundsOf(urls[0]!.reasons)
        .slice(0, 4)
        .map((r) => r.feature),
      firstSeen: urls.map((u) => u.firstSeen).sort()[0]!,
      lastSeen: urls
        .map((u) => u.lastSeen)
        .sort()
        .at(-1)!,
      abuse: { email: contact.email, name: contact.of?.name || contact.name },
      sender: options.from,
    };
    const letters = LETTER_LANGUAGES.map((language) => renderLetter(language, facts));
    const request = await draftTakedown(
      db,
      { host, brand: brandKey, abuse: { ...facts.abuse, rdapObject: contact.object }, letters },
      new Date(),
    );
    await printOut(
      ctx.stdout,
      letters
        .map(
          (letter) =>
            `To: ${letter.to}\nSubject: ${letter.subject}\nContent-Language: ${letter.language}\n\n${letter.body}\n`,
        )
        .join(''),
    );
    ctx.stderr.write(
      `tsunagi: takedown request for ${host} is ${request.status}: to ${contact.email} (${contact.of ? `${contact.of.role} ${contact.of.name}` : contact.object})\n`,
    );
  });
}

async function takedownStatusCommand(
  hostText: string,
  options: StatusOptions,
  ctx: CliContext,
): Promise<void> {
  if (options.set !== undefined && !isTakedownStatus(options.set))
    throw new UsageError(`--set must be one of ${TAKEDOWN_STATUSES.join(', ')}`);
  await withWeb(options, ctx, async (web, db, config) => {
    const host = hostArgument(web, hostText);
    // Through the room: a request sent confirms its host, and the room's kit-path memory learns it.
    const request =
      options.set !== undefined
        ? await web.takedownStatus(host, options.set as TakedownStatus)
        : await getTakedown(db, host);
    if (!request) throw new InputError(`${host}: no takedown request`);
    await printOut(
      ctx.stdout,
      `${request.host}: ${request.status} (abuse contact ${request.abuse.email}), last change ${request.updatedAt}\n` +
        request.history.map((h) => `  ${h.at} ${h.status}\n`).join(''),
    );
    if (options.set === 'sent' && config.kitPaths.takedowns)
      ctx.stderr.write(
        `tsunagi: ${host} is confirmed phishing: with web.kitPaths.takedowns on (the default), its stored URLs' kit paths count against other domains\n`,
      );
  });
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/**
 * The store's malicious hosts as clustering input, with their stored URLs' kit paths, and the
 * hosts whose name is not malicious but whose stored URLs a kit path made malicious (tied by
 * those paths alone; not malicious hosts, so not counted among them).
 */
export async function campaignHosts(
  web: Web,
  infrastructure: ReadonlyMap<string, HostInfrastructure> = new Map(),
): Promise<{ malicious: CampaignHost[]; kitPathOnly: CampaignHost[] }> {
  const hosts: CampaignHost[] = [];
  for await (const summary of web.hosts({ verdicts: ['malicious'] })) {
    if (summary.verdict !== 'malicious') continue;
    hosts.push(campaignHostOf(summary, web.normalise(summary.host), infrastructure.get(summary.host)));
  }
  const malicious = await withKitPaths(hosts, (names) => web.hostUrls(names), suffixRiskOf(web.model.risk));
  const kitPathOnly = await kitPathOnlyHosts(
    web.kitPathTies(),
    new Set(malicious.map((h) => h.host)),
    carriedTies(malicious),
  );
  return { malicious, kitPathOnly };
}

/** Hosts a tie shows in the text: a month's tie can hold thousands, and --json has them all. */
const TIE_HOSTS_SHOWN = 10;

function tieHosts(hosts: readonly string[]): string {
  const shown = hosts.slice(0, TIE_HOSTS_SHOWN).join(' ');
  const more = hosts.length - TIE_HOSTS_SHOWN;
  return more > 0 ? `${shown} … and ${more} more (--json lists every host)` : shown;
}

export function campaignsText(campaigns: readonly Campaign[], stats: WebStatistics): string {
  const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  const lines = [`${plural(stats.hosts, 'malicious host')}, ${plural(stats.campaigns, 'campaign')}`];
  for (const c of campaigns) {
    lines.push(
      `campaign ${c.id}: ${c.hosts.length} hosts, brands ${c.brands.join(' ') || '-'}, ${c.firstSeen.slice(0, 10)}..${c.lastSeen.slice(0, 10)}`,
    );
    for (const t of c.ties) lines.push(`  tie ${t.kind} ${t.value}: ${tieHosts(t.hosts)}`);
    if (c.kitPathOnly)
      lines.push(`  by its URLs alone (host name not malicious): ${tieHosts(c.kitPathOnly)}`);
  }
  const top = (title: string, rows: WebStatistics['byBrand']) =>
    `${title}: ${
      rows
        .slice(0, 10)
        .map((r) => `${r.key} ${r.hosts}`)
        .join(', ') || '-'
    }`;
  lines.push(
    top('by brand', stats.byBrand),
    top('by TLD', stats.byTld),
    top('by platform', stats.byPlatform),
    top('by country', stats.byCountry),
  );
  return lines.join('\n') + '\n';
}

async function campaignsCommand(options: CampaignOptions, ctx: CliContext): Promise<void> {
  const infrastructure = options.infra ? parseInfrastructure(readText(options.infra)) : undefined;
  requireDataDir(options.data, ctx.env);
  const store = await openCliStore(cliDataDir(options.data, ctx.env), ctx.env);
  try {
    const web = createWeb(WebConfig.parse({}), {
      logger: createLogger({ level: 'warn' }, ctx.stderr),
      registry: new Registry(),
      db: store.db as unknown as Kysely<WebTables>,
    });
    const hosts = await campaignHosts(web, infrastructure);
    const campaigns = clusterCampaigns([...hosts.malicious, ...hosts.kitPathOnly], createBrandIndex());
    const stats = webStatistics(hosts.malicious, campaigns);
    await printOut(
      ctx.stdout,
      options.json
        ? JSON.stringify({ campaigns, statistics: stats }, null, 1) + '\n'
        : campaignsText(campaigns, stats),
    );
  } finally {
    await store.close();
  }
}
