/**
 * `tsunagi hygiene check`: DNSSEC, mail authentication, DANE, IPv6 and HTTPS/HSTS per domain,
 * as CSV, and with `--record` kept in the data directory's store (the hygiene room's tables) so
 * surveys can be compared over time. `tsunagi hygiene rpki`: route origin validation of announced prefixes against VRPs.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import {
  createLogger,
  createRegistry,
  InputError,
  makeDirectories,
  RuntimeError,
  UsageError,
  writeFileAtomic,
} from '../../core/index.ts';
import {
  createHygiene,
  CSV_COLUMNS,
  HygieneConfig,
  normaliseDomain,
  parseRoutes,
  parseMrtRib,
  isMrt,
  TrustAnchorError,
  parseVrps,
  toCsvLine,
  type Hygiene,
  type HygieneTables,
  type SurveyRow,
  type SurveyTarget,
} from '../../hygiene/index.ts';
import type { Store } from '../../store/index.ts';
import type { CliContext } from '../context.ts';
import { outputDirectoryOption, outputFileOption, writeOut } from '../output.ts';
import { openCliStore } from '../hub-stack.ts';

interface CheckOptions {
  file?: string;
  resolver: string;
  trustAnchor?: string;
  dkimSelector: string[];
  httpsPort: string;
  ca: string[];
  timeout: string;
  concurrency: string;
  out?: string;
  letters?: string;
  sender: string;
  org?: string;
  sector?: string;
  record?: boolean;
  data?: string;
}

const FLAGS: Record<string, string> = {
  resolver: 'resolver',
  timeoutMs: 'timeout',
  dkimSelectors: 'dkim-selector',
  https: 'https-port',
  concurrency: 'concurrency',
};
function flagOf(key: PropertyKey | undefined): string {
  return FLAGS[String(key)] ?? String(key);
}

interface RpkiOptions {
  vrps: string;
  routes: string;
  out?: string;
}

function readInput<T>(path: string, parse: (text: string) => T, onError: () => void): T {
  const text = readFileSync(path, 'utf8');
  return parseOrThrow(path, text, parse, onError);
}

function parseOrThrow<I, T>(path: string, text: I, parse: (text: I) => T, onError: () => void): T {
  try {
    return parse(text);
  } catch (error) {
    onError();
    throw new InputError(`${path}: ${(error as Error).message}`);
  }
}

export function register(program: Command, ctx: CliContext): void {
  const hygiene = program
    .command('hygiene')
    .description('Internet hygiene: DNSSEC, SPF/DKIM/DMARC, MTA-STS, DANE, IPv6, HTTPS and RPKI adoption');

  hygiene
    .command('check')
    .description('check domains through a resolver and write CSV (' + CSV_COLUMNS.join(',') + ')')
    .argument('[domains...]', 'domains to check')
    .option('-f, --file <file>', 'domains, one a line: domain[,organisation[,sector]]')
    .option('--resolver <host:port>', 'recursive resolver to ask', '127.0.0.1:53')
    .option('--trust-anchor <file>', 'DNSSEC trust anchors (DS or DNSKEY lines); the IANA root when absent')
    .option('--dkim-selector <selector...>', 'DKIM selectors to look up', [])
    .option('--https-port <n>', 'port for HTTPS and MTA-STS policy fetches', '443')
    .option('--ca <file...>', 'extra CA certificates (PEM) trusted for HTTPS', [])
    .option('--timeout <seconds>', 'per DNS attempt', '2')
    .option('--concurrency <n>', 'domains checked at once', '16')
    .addOption(
      outputDirectoryOption(
        '--letters <dir>',
        'also write a letter per organisation (ORG.ja.txt, ORG.en.txt) here',
      ),
    )
    .option('--sender <name>', 'who signs the letters', 'tsunagi hygiene survey')
    .option('--org <name>', 'the organisation the DOMAIN arguments belong to')
    .option('--sector <name>', 'the sector of that organisation')
    .option('--record', 'keep the survey in the store (--data DIR, or TSUNAGI_DATABASE_URL)')
    .option(
      '--data <dir>',
      'data directory whose store --record writes to (default TSUNAGI_DATA or .tsunagi)',
    )
    .addOption(outputFileOption('-o, --out <file>', 'write the CSV here instead of stdout'))
    .action((domains: string[], options: CheckOptions) => runCheck(domains, options, ctx));

  hygiene
    .command('rpki')
    .description('route origin validation (RFC 6811) of announced prefixes against VRPs')
    .requiredOption('--vrps <file>', 'VRPs as rpki-client or Routinator JSON')
    .requiredOption(
      '--routes <file>',
      'routes: CSV (prefix,origin_asn) or an MRT RIB dump (TABLE_DUMP_V2, gzip too)',
    )
    .addOption(outputFileOption('-o, --out <file>', 'write the CSV here instead of stdout'))
    .action((options: RpkiOptions) => runRpki(options, ctx));
}

/** The survey's targets from the DOMAIN arguments (with --org and --sector), checked as names. */
function argumentTargets(domains: readonly string[], options: CheckOptions): SurveyTarget[] {
  if (options.data !== undefined && !options.record) throw new UsageError('--data needs --record');
  if ((options.org !== undefined || options.sector !== undefined) && domains.length === 0)
    throw new UsageError(
      '--org and --sector name the DOMAIN arguments; in --file give domain,organisation,sector',
    );
  const owner = {
    ...(options.org ? { organisation: options.org } : {}),
    ...(options.sector ? { sector: options.sector } : {}),
  };
  return domains.map((name) => {
    const domain = normaliseDomain(name);
    if (!domain) throw new UsageError(`"${name}" is not a domain name`);
    return { domain, ...owner };
  });
}

/** The room's configuration from the flags; a bad flag is a usage error naming it. */
function checkConfig(options: CheckOptions): HygieneConfig {
  const trustAnchors = options.trustAnchor ? readFileSync(options.trustAnchor, 'utf8') : undefined;
  const httpsPort = Number(options.httpsPort);
  const concurrency = Number(options.concurrency);
  if (!Number.isInteger(httpsPort) || httpsPort < 1 || httpsPort > 65535)
    throw new UsageError(`--https-port must be 1-65535, not ${options.httpsPort}`);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024)
    throw new UsageError(`--concurrency must be 1-1024, not ${options.concurrency}`);
  const config = HygieneConfig.safeParse({
    resolver: options.resolver,
    timeoutMs: Math.round(Number(options.timeout) * 1000),
    trustAnchors,
    dkimSelectors: options.dkimSelector,
    https: { port: httpsPort, ca: options.ca.map((file) => readFileSync(file, 'utf8')) },
    concurrency,
  });
  if (!config.success) {
    const issue = config.error.issues[0]!;
    throw new UsageError(`--${flagOf(issue.path[0])}: ${issue.message}`);
  }
  return config.data;
}

/**
 * The hygiene service over the store (when recording) and every target, the --file's too; the
 * store is closed again when either fails.
 */
async function openSurvey(
  targets: SurveyTarget[],
  list: string | undefined,
  config: HygieneConfig,
  options: CheckOptions,
  ctx: CliContext,
): Promise<{ service: Hygiene; store: Store | undefined }> {
  // Opened before the survey runs, so a store that cannot be opened costs no survey; the store
  // has migrated the hygiene room's own tables (the CLI hands it every room's migrations).
  const store: Store | undefined = options.record ? await openCliStore(options.data, ctx.env) : undefined;
  let service: Hygiene;
  try {
    service = createHygiene(config, {
      logger: createLogger({ level: 'warn' }, ctx.stderr),
      registry: createRegistry(),
      ...(store ? { db: store.db as unknown as Kysely<HygieneTables> } : {}),
    });
  } catch (error) {
    await store?.close();
    if (error instanceof TrustAnchorError) throw new InputError(`${options.trustAnchor}: ${error.message}`);
    throw error;
  }
  if (list !== undefined) {
    try {
      targets.push(...service.readTargets(list));
    } catch (error) {
      await store?.close();
      throw new InputError(`${options.file}: ${(error as Error).message}`);
    }
    if (targets.length === 0) {
      await store?.close();
      throw new InputError(`${options.file}: no domains in the file`);
    }
  }
  return { service, store };
}

async function runCheck(domains: readonly string[], options: CheckOptions, ctx: CliContext): Promise<void> {
  const targets = argumentTargets(domains, options);
  const list = options.file ? readFileSync(options.file, 'utf8') : undefined;
  if (targets.length === 0 && list === undefined) throw new UsageError('give domains or --file');
  const config = checkConfig(options);
  const { service, store } = await openSurvey(targets, list, config, options, ctx);
  await service.start();
  try {
    await service.probeResolver(targets[0]!.domain).catch((error: Error) => {
      throw new RuntimeError(error.message);
    });
    const startedAt = new Date();
    const rows = await service.check(targets);
    if (store) {
      const surveyId = randomUUID();
      await service.record(surveyId, startedAt, rows);
      ctx.stderr.write(
        `tsunagi: survey ${surveyId} of ${rows.length} domains recorded in ${store.location}\n`,
      );
    }
    if (options.letters) writeLetters(service, rows, options.letters, options.sender, ctx);
    const csv = [CSV_COLUMNS.join(','), ...rows.map(toCsvLine)].join('\n') + '\n';
    if (options.out) {
      writeFileAtomic(options.out, csv);
      ctx.stderr.write(`tsunagi: ${rows.length} domains checked, CSV written to ${options.out}\n`);
    } else {
      const out = writeOut(ctx.stdout);
      out.write(csv);
      await out.end();
    }
  } finally {
    await service.stop();
    await store?.close();
  }
}

/** A letter per organisation and language, as ORG.LANG.txt in `dir`. */
function writeLetters(
  service: Hygiene,
  rows: readonly SurveyRow[],
  dir: string,
  sender: string,
  ctx: CliContext,
): void {
  makeDirectories(dir);
  let written = 0;
  for (const lang of ['ja', 'en'] as const)
    for (const letter of service.letters(rows, lang, sender)) {
      const name = letter.organisation.replace(/[^\p{L}\p{N}._-]+/gu, '_');
      writeFileAtomic(join(dir, `${name}.${lang}.txt`), `${letter.subject}\n\n${letter.body}`);
      written++;
    }
  ctx.stderr.write(`tsunagi: ${written} letters written to ${dir}\n`);
}

async function runRpki(options: RpkiOptions, ctx: CliContext): Promise<void> {
  const service = createHygiene(HygieneConfig.parse({}), {
    logger: createLogger({ level: 'warn' }, ctx.stderr),
    registry: createRegistry(),
  });
  const vrps = readInput(options.vrps, parseVrps, () => service.countInputError('vrps'));
  const raw = readFileSync(options.routes);
  const routes = parseOrThrow(
    options.routes,
    raw,
    (bytes) => (isMrt(bytes) ? parseMrtRib(bytes).routes : parseRoutes(bytes.toString('utf8'))),
    () => service.countInputError('routes'),
  );
  const results = service.validateRoutes(vrps, routes);
  const lines = [
    'prefix,origin_asn,state,roa_prefix,roa_max_length,roa_asn,roa_ta,reason',
    ...results.map((r) =>
      [
        r.route.prefix,
        `AS${r.route.originAsn}`,
        r.state,
        r.roa?.prefix ?? '',
        r.roa?.maxLength ?? '',
        r.roa ? `AS${r.roa.asn}` : '',
        r.roa?.ta ?? '',
        `"${r.reason.replace(/"/g, '""')}"`,
      ].join(','),
    ),
  ];
  const csv = lines.join('\n') + '\n';
  if (options.out) {
    writeFileAtomic(options.out, csv);
    const counts = { valid: 0, invalid: 0, 'not-found': 0 };
    for (const r of results) counts[r.state]++;
    ctx.stderr.write(
      `tsunagi: ${results.length} routes: ${counts.valid} valid, ${counts.invalid} invalid, ${counts['not-found']} not-found; written to ${options.out}\n`,
    );
    return;
  }
  const out = writeOut(ctx.stdout);
  out.write(csv);
  await out.end();
}
