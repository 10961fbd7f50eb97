/**
 * `tsunagi web campaigns` (malicious hosts grouped by what ties them, with statistics) and
 * `tsunagi web takedown draft|status` (abuse requests per host): the web room's operations.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { createLogger, InputError } from '../core/index.ts';
import {
  campaignHostOf,
  clusterCampaigns,
  createBrandIndex,
  createWeb,
  parseInfrastructure,
  webStatistics,
  WebConfig,
  type Campaign,
  type CampaignHost,
  type HostInfrastructure,
  type Web,
  type WebStatistics,
  type WebTables,
} from '../web/index.ts';
import type { CliContext } from './context.ts';
import { cliDataDir, openCliStore } from './commands/serve.ts';

interface CampaignOptions {
  infra?: string;
  json?: boolean;
  data?: string;
}

export function registerWebOps(web: Command, ctx: CliContext): void {
  web
    .command('campaigns')
    .description('group malicious hosts into campaigns by shared infrastructure, naming template and kit')
    .option('--infra <file>', 'JSON array of {host, ip?, asn?, country?, kitMarkers?} the operator knows')
    .option('--json', 'write the campaigns and statistics as JSON')
    .option('-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA)')
    .action(async (options: CampaignOptions) => campaignsCommand(options, ctx));
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** The store's malicious hosts as clustering input. */
export async function campaignHosts(
  web: Web,
  infrastructure: ReadonlyMap<string, HostInfrastructure> = new Map(),
): Promise<CampaignHost[]> {
  const hosts: CampaignHost[] = [];
  for await (const summary of web.hosts({ verdicts: ['malicious'] })) {
    if (summary.verdict !== 'malicious') continue;
    hosts.push(campaignHostOf(summary, web.normalise(summary.host), infrastructure.get(summary.host)));
  }
  return hosts;
}

export function campaignsText(campaigns: readonly Campaign[], stats: WebStatistics): string {
  const lines = [`${stats.hosts} malicious hosts, ${stats.campaigns} campaigns`];
  for (const c of campaigns) {
    lines.push(
      `campaign ${c.id}: ${c.hosts.length} hosts, brands ${c.brands.join(' ') || '-'}, ${c.firstSeen.slice(0, 10)}..${c.lastSeen.slice(0, 10)}`,
    );
    for (const t of c.ties) lines.push(`  tie ${t.kind} ${t.value}: ${t.hosts.join(' ')}`);
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
  const store = await openCliStore(cliDataDir(options.data, ctx.env), ctx.env);
  try {
    const web = createWeb(WebConfig.parse({}), {
      logger: createLogger({ level: 'warn' }, ctx.stderr),
      registry: new Registry(),
      db: store.db as unknown as Kysely<WebTables>,
    });
    const hosts = await campaignHosts(web, infrastructure);
    const campaigns = clusterCampaigns(hosts, createBrandIndex());
    const stats = webStatistics(hosts, campaigns);
    ctx.stdout.write(
      options.json
        ? JSON.stringify({ campaigns, statistics: stats }, null, 1) + '\n'
        : campaignsText(campaigns, stats),
    );
  } finally {
    await store.close();
  }
}
