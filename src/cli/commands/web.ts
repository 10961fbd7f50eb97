/**
 * `tsunagi web score FILE|-`: one URL a line in, CSV `url,host,score,verdict,brand,reasons` out.
 * `tsunagi web ingest FILE --source NAME`: a URL list (TXT, CSV with a url column such as
 * JPCERT/CC's `date,URL,description`, JSON array, NDJSON) scored and kept in the web room's
 * tables with first/last seen per source; `--record` also records the malicious verdicts in
 * intel (kinds url and domain), whence the hub's publisher shares them over TAXII.
 */
import { closeSync, createReadStream, fstatSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { createLogger, InputError, silentLogger, UsageError } from '../../core/index.ts';
import { createIntel, IntelConfig, recordWebVerdicts, type Tlp } from '../../intel/index.ts';
import { createAuditLog, loadSigner } from '../../share/index.ts';
import {
  createLineReader,
  createWeb,
  detectFormat,
  EXPORT_FORMATS,
  ListFormatError,
  parseJsonArray,
  UrlInputError,
  type ExplainLanguage,
  type IngestRecord,
  type IngestResult,
  type ListFormat,
  type Web,
  type WebTables,
  SUFFIX_PATH_MIN_DOMAINS,
  withWholeHost,
} from '../../web/index.ts';
import { requireDataDir, standardInput, type CliContext } from '../context.ts';
import { webExportCommand, type WebExportOptions } from '../web-export.ts';
import { registerWebCertstream } from '../web-certstream.ts';
import { registerWebOps } from '../web-ops.ts';
import { outputFileOption, withHeader, writeOut } from '../output.ts';
import { cliDataDir, openCliStore } from '../hub-stack.ts';
import { SCORE_COLUMNS, scoreCsvLine } from '../web-csv.ts';
import { CONFIG_OPTION, webConfigOf } from '../web-config.ts';

/** `1 URL`, `2 URLs`: counts on stderr read as English. An entry is a line, a CSV row or a JSON item. */
const counted = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const FORMATS: readonly ListFormat[] = ['txt', 'csv', 'json', 'ndjson'];
/** Progress goes to stderr every this many URLs. */
const PROGRESS_EVERY = 50_000;

interface IngestOptions {
  source: string;
  format?: string;
  record?: boolean;
  tlp: string;
  data?: string;
  config?: string;
}

/** A readable for FILE or `-` (stdin); InputError (exit 2) when the file cannot be opened. */
function openInput(file: string, ctx: CliContext): Readable {
  if (file === '-') return standardInput(ctx);
  let fd: number;
  try {
    fd = openSync(file, 'r');
    if (fstatSync(fd).isDirectory()) {
      closeSync(fd);
      throw new Error('is a directory');
    }
  } catch (error) {
    throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
  }
  return createReadStream('', { fd, encoding: 'utf8' });
}

async function* lines(input: Readable, file: string): AsyncGenerator<string> {
  try {
    yield* createInterface({ input, crlfDelay: Infinity });
  } catch (error) {
    throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

export function register(program: Command, ctx: CliContext): void {
  const web = program
    .command('web')
    .description(
      'malicious websites: score and ingest URL lists and certificate-transparency names; block lists, campaigns and takedowns',
    );
  web
    .command('score')
    .description(
      `score the URLs of a list (as web ingest reads it) and write CSV (${SCORE_COLUMNS.join(',')})`,
    )
    .argument(
      '[file]',
      'the URL list (as web ingest reads it: TXT, CSV with a url column, JSON, NDJSON), or - for stdin',
      '-',
    )
    .option('--format <format>', `one of ${FORMATS.join(', ')} (guessed from the first line when absent)`)
    .option('--lang <lang>', 'write the reasons in words, ja or en (default: feature keys, for programs)')
    .option(
      '--known <file>',
      "a list of confirmed phishing URLs (JPCERT/CC's CSV, as web ingest reads it): a URL on a kit path it names on 2 other domains within 30 days is malicious",
    )
    .option(...CONFIG_OPTION)
    .action(async (file: string, options: ScoreOptions) => scoreCommand(file, options, ctx));
  web
    .command('ingest')
    .description('score a URL list (TXT, CSV with a url column, JSON array, NDJSON) and keep it in the store')
    .argument('<file>', 'the URL list, or - for stdin')
    .requiredOption('--source <name>', 'who gave the list (e.g. jpcert); first-seen is kept per source')
    .option('--format <format>', `one of ${FORMATS.join(', ')} (guessed from the first line when absent)`)
    .option(
      '--record',
      'also record malicious verdicts in intel (url and domain indicators, shared over TAXII)',
    )
    .option(
      '--tlp <level>',
      'TLP of recorded sightings: green, or clear for a source that is itself public',
      'green',
    )
    .option('-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA)')
    .option(...CONFIG_OPTION)
    .action(async (file: string, options: IngestOptions) => ingestCommand(file, options, ctx));
  web
    .command('export')
    .description(
      'malicious hosts as an RPZ zone, Unbound config or hosts file; malicious URLs as a hash-prefix list',
    )
    .requiredOption('--format <format>', `one of ${EXPORT_FORMATS.join(', ')}`)
    .option(
      '--tier <tier>',
      'who receives it: public, council or full (the hub decides what each may read)',
      'public',
    )
    .addOption(outputFileOption('--out <file>', 'write here instead of stdout'))
    .option('--origin <zone>', 'the RPZ zone name', 'rpz.tsunagi.')
    .option('-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA)')
    .action(async (options: WebExportOptions) => webExportCommand(options, ctx));
  registerWebOps(web, ctx);
  registerWebCertstream(web, ctx);
}

interface ScoreOptions {
  lang?: string;
  format?: string;
  known?: string;
  config?: string;
}

/**
 * Scores the URLs of a list read as `web ingest` reads it (JPCERT/CC's monthly CSV as it is
 * published, not only one URL a line), without a store.
 */
async function scoreCommand(file: string, options: ScoreOptions, ctx: CliContext): Promise<void> {
  if (options.lang !== undefined && options.lang !== 'ja' && options.lang !== 'en')
    throw new UsageError(`--lang must be ja or en, not "${options.lang.slice(0, 20)}"`);
  if (options.format !== undefined && !FORMATS.includes(options.format as ListFormat))
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  const language = options.lang as ExplainLanguage | undefined;
  const service = createWeb(webConfigOf(options.config, ctx), {
    logger: silentLogger(),
    registry: new Registry(),
  });
  if (options.known !== undefined) await learnKnown(service, options.known, ctx);
  const name = file === '-' ? 'stdin' : file;
  // The header waits for the first row, so a file that is not a URL list writes nothing to stdout.
  const out = withHeader(writeOut(ctx.stdout), SCORE_COLUMNS.join(',') + '\n');
  let scored = 0;
  const counts = { bad: 0 };
  for await (const record of recordsOf(ctx, file, options.format as ListFormat | undefined, counts, name)) {
    try {
      const at = record.seenAt ? new Date(record.seenAt) : undefined;
      out.write(scoreCsvLine(service.score(record.url, null, at), language) + '\n');
      scored++;
    } catch (error) {
      if (!(error instanceof UrlInputError)) throw error;
      service.countInputError('url');
      counts.bad++;
    }
  }
  const bad = counts.bad;
  if (scored === 0 && bad > 0) {
    await out.end();
    throw new InputError(`${name}: no URL could be read (${counted(bad, 'entry', 'entries')})`);
  }
  out.writeHeader();
  await out.end();
  // An empty list is not an error (a quiet day's feed), but said, so an empty CSV is explained.
  if (scored === 0) ctx.stderr.write(`tsunagi: ${name} holds no URL\n`);
  if (bad > 0)
    ctx.stderr.write(
      `tsunagi: ${counted(bad, 'entry', 'entries')} of ${name} skipped: not an http(s) URL, or a row without its URL or date\n`,
    );
}

/** `--known FILE`: each listing teaches the kit-path memory at the time it was listed (or now). */
async function learnKnown(service: Web, file: string, ctx: CliContext): Promise<void> {
  if (file === '-') throw new UsageError('--known needs a file: stdin is the list to score');
  const counts = { bad: 0 };
  let listed = 0;
  for await (const record of recordsOf(ctx, file, undefined, counts)) {
    try {
      service.learnKitPath(record.url, record.seenAt ? new Date(record.seenAt) : new Date());
      listed++;
    } catch (error) {
      if (!(error instanceof UrlInputError)) throw error;
      counts.bad++;
    }
  }
  if (listed === 0) throw new InputError(`${file}: no URL could be read for --known`);
  ctx.stderr.write(
    `tsunagi: ${counted(listed, 'known URL')} from ${file}, ${counted(service.kitPaths, 'kit path')} to tie others to` +
      (counts.bad > 0 ? ` (${counted(counts.bad, 'entry', 'entries')} skipped)` : '') +
      '\n',
  );
}

function parseIngestOptions(options: IngestOptions): { format?: ListFormat; tlp: Tlp } {
  if (!/^[\w.:@/-]{1,100}$/.test(options.source))
    throw new UsageError(`--source "${options.source.slice(0, 80)}": letters, digits and . : @ / - only`);
  if (options.format !== undefined && !FORMATS.includes(options.format as ListFormat))
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  if (options.tlp !== 'green' && options.tlp !== 'clear')
    throw new UsageError('--tlp must be green or clear (a URL for public notice is never amber or red)');
  if (options.tlp !== 'green' && !options.record) throw new UsageError('--tlp needs --record');
  return { ...(options.format ? { format: options.format as ListFormat } : {}), tlp: options.tlp };
}

/** The file's records, the format guessed from its first line; `counts.bad` grows as lines fail. */
async function* recordsOf(
  ctx: CliContext,
  file: string,
  format: ListFormat | undefined,
  counts: { bad: number },
  label = file,
): AsyncGenerator<IngestRecord> {
  const input = openInput(file, ctx);
  if (format === 'json') {
    yield* jsonRecords(label, input, counts);
    return;
  }
  let reader: ReturnType<typeof createLineReader> | undefined;
  let buffered: string[] | undefined;
  for await (const line of lines(input, label)) {
    if (!reader) {
      if (line.trim() === '') continue;
      const guessed = format ?? detectFormat(line);
      if (guessed === 'json') {
        buffered = [line];
        continue;
      }
      reader = createLineReader(guessed);
    }
    if (buffered) {
      buffered.push(line);
      continue;
    }
    let record;
    try {
      record = reader.line(line);
    } catch (error) {
      if (error instanceof ListFormatError) throw new InputError(`${label}: ${error.message}`);
      throw error;
    }
    if (record === 'bad') counts.bad++;
    else if (record) yield record;
  }
  if (buffered) yield* fromJsonText(label, buffered.join('\n'), counts);
}

async function* jsonRecords(
  file: string,
  input: Readable,
  counts: { bad: number },
): AsyncGenerator<IngestRecord> {
  const parts: string[] = [];
  for await (const line of lines(input, file)) parts.push(line);
  yield* fromJsonText(file, parts.join('\n'), counts);
}

function* fromJsonText(file: string, text: string, counts: { bad: number }): Generator<IngestRecord> {
  try {
    const { records, bad } = parseJsonArray(text);
    counts.bad += bad;
    yield* records;
  } catch (error) {
    if (error instanceof ListFormatError) throw new InputError(`${file}: ${error.message}`);
    throw error;
  }
}

async function ingestCommand(file: string, options: IngestOptions, ctx: CliContext): Promise<void> {
  const { format, tlp } = parseIngestOptions(options);
  // It changes the hub's store, so like the hub's commands it refuses a data directory that is not there.
  requireDataDir(options.data, ctx.env);
  const dataDir = cliDataDir(options.data, ctx.env);
  // Opened before the store, so an unreadable file costs no store. Not stdin: destroyed here, it
  // would give the list's reader no line and no end, and `web ingest -` waited for ever.
  if (file !== '-') openInput(file, ctx).destroy();
  const store = await openCliStore(dataDir, ctx.env);
  const registry = new Registry();
  const logger = createLogger({ level: 'warn' }, ctx.stderr);
  const audit = options.record ? createAuditLog({ store, signer: loadSigner(dataDir) }) : undefined;
  const intel = audit ? createIntel(IntelConfig.parse({}), { store, logger, registry, audit }) : undefined;
  const service: Web = createWeb(webConfigOf(options.config, ctx), {
    logger,
    registry,
    db: store.db as unknown as Kysely<WebTables>,
  });
  const counts = { bad: 0 };
  const recorded = { sightings: 0, created: 0 };
  let nextProgress = PROGRESS_EVERY;
  try {
    const result = await service.ingest(
      recordsOf(ctx, file, format, counts),
      options.source,
      async (batch, sofar) => {
        if (intel) {
          const done = await recordWebVerdicts(intel, withWholeHost(batch), options.source, { tlp });
          recorded.sightings += done.sightings;
          recorded.created += done.created;
        }
        if (sofar.urls >= nextProgress) {
          ctx.stderr.write(`tsunagi: ${sofar.urls} URLs scored and stored...\n`);
          nextProgress += PROGRESS_EVERY;
        }
      },
    );
    const bad = counts.bad + result.bad;
    if (result.urls === 0 && bad > 0)
      throw new InputError(`${file}: no URL could be read (${counted(bad, 'bad entry', 'bad entries')})`);
    const v = result.verdicts;
    ctx.stderr.write(
      `tsunagi: ${counted(result.urls, 'URL')} from ${options.source} (${result.newUrls} new to the store, ${counted(bad, 'bad entry', 'bad entries')}): ` +
        `malicious ${v.malicious}${kitPathNote(result)}, suspicious ${v.suspicious}, benign ${v.benign}; stored in ${store.location}\n`,
    );
    if (intel)
      ctx.stderr.write(
        `tsunagi: ${recorded.sightings} sightings of malicious URLs and hosts recorded in intel as web:${options.source} ` +
          `(${recorded.created} new indicators, TLP:${tlp.toUpperCase()})\n`,
      );
  } finally {
    try {
      await audit?.checkpoint();
    } finally {
      await store.close();
    }
  }
}

/**
 * How many malicious URLs a kit path made so, how many of those stood on the room's own verdicts,
 * how many the room's verdicts on other hosts of their registered domain made so, and how many its
 * verdicts on other domains under their risky suffix and path.
 */
function kitPathNote(result: IngestResult): string {
  const notes: string[] = [];
  if (result.kitPathTies > 0) {
    const judged =
      result.kitPathTiesJudged > 0
        ? `, ${result.kitPathTiesJudged} of them near suspicious and on a path this room itself judged on other domains`
        : '';
    notes.push(`${result.kitPathTies} on a kit path other domains were listed with${judged}`);
  }
  if (result.domainTies > 0)
    notes.push(
      `${result.domainTies} near suspicious under a registered domain whose other hosts this room itself judged`,
    );
  if (result.suffixPathTies > 0)
    notes.push(
      `${result.suffixPathTies} near suspicious on a risky suffix and path this room itself judged on ${SUFFIX_PATH_MIN_DOMAINS} or more other domains`,
    );
  return notes.length > 0 ? ` (${notes.join('; ')})` : '';
}
