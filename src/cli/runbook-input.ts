/**
 * The runbook's view of the configuration in use: what `tsunagi start` (StackConfig) or
 * `tsunagi serve` (ServeConfig) was given, reduced to the ports, paths, collections and commands a
 * person needs when the automation is down. The report room writes the runbook from it.
 */
import { join, resolve } from 'node:path';
import type { RunbookInput } from '../report/index.ts';
import { COLLECTION_IDS } from '../share/index.ts';
import { commandName } from './first-run.ts';
import type { StackConfig } from './stack-config.ts';

/** The parts of a configuration a runbook reads; `serve` has no flow or detector of its own. */
export type RunbookSource = Pick<StackConfig, 'data' | 'hub'> &
  Partial<
    Pick<StackConfig, 'flow' | 'detect' | 'source' | 'darknet' | 'nats' | 'shareTo' | 'metrics' | 'osint'>
  >;

/** Where a running process actually listens (a configured port 0 bound to a real one; TLS's https). */
export interface BoundAddresses {
  flowListen: readonly string[];
  hubUrl: string;
}

export function runbookInputOf(
  config: RunbookSource,
  env: NodeJS.ProcessEnv,
  configFile?: string,
  bound?: BoundAddresses,
): RunbookInput {
  const dataDir = resolve(config.data);
  const databaseUrl = env.TSUNAGI_DATABASE_URL;
  const collections = (['full', 'council', 'public'] as const).map((root) => ({
    apiRoot: root,
    id: COLLECTION_IDS[root],
    title: root,
  }));
  return {
    command: commandName(process.argv[1], process.cwd(), env.PATH),
    ...(configFile ? { configFile: resolve(configFile) } : {}),
    dataDir,
    store: databaseUrl
      ? `PostgreSQL ${postgresHost(databaseUrl)}`
      : `SQLite ${join(dataDir, 'tsunagi.sqlite')}`,
    flowListen: bound?.flowListen ?? config.flow?.listen ?? [],
    hubUrl: bound?.hubUrl ?? `http://${config.hub.listen}`,
    metricsListen: config.metrics?.listen ?? '',
    detectorSource: config.source ?? 'local-detector',
    botsFile: config.detect?.botsFile ?? '',
    subscriberPrefixes: config.detect?.subscriberPrefixes ?? [],
    darknet: {
      interface: config.darknet?.interface ?? '',
      prefixes: config.darknet?.prefixes ?? [],
      source: config.darknet?.source ?? 'darknet',
    },
    nats: { enabled: config.nats?.enabled ?? false, url: config.nats?.url ?? '' },
    collections,
    ...(config.shareTo
      ? {
          shareTo: {
            url: config.shareTo.url,
            apiRoot: config.shareTo.apiRoot ?? 'council',
            collection: config.shareTo.collection,
          },
        }
      : {}),
    notifyRouting: '',
    osint: {
      feeds: (config.osint?.feeds ?? []).map((f) => ({ name: f.name, url: f.url })),
      intervalMs: config.osint?.intervalMs ?? 0,
    },
  };
}

/** Host and database of a PostgreSQL URL, never its user or password. */
function postgresHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return '(TSUNAGI_DATABASE_URL)';
  }
}
