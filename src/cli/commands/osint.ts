/**
 * `tsunagi osint extract FILE...`: the indicators in documents (HTML, text, PDF), one JSON object
 * a line or CSV. `tsunagi osint fetch`: one round over the configured RSS/Atom feeds; documents
 * and their indicators are kept in the store with provenance, and addresses, domains and URLs go
 * into intel as low-confidence sightings of `osint:<feed>`.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { type Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { Registry } from 'prom-client';
import { z } from 'zod';
import {
  createLogger,
  InputError,
  loadConfig,
  RuntimeError,
  silentLogger,
  UsageError,
} from '../../core/index.ts';
import { createIntel, IntelConfig } from '../../intel/index.ts';
import {
  createOsint,
  documentKind,
  OsintConfig,
  type ExtractedIndicator,
  type Osint,
} from '../../osint/index.ts';
import { createAuditLog, loadSigner } from '../../share/index.ts';
import { requireDataDir, standardInput, type CliContext } from '../context.ts';
import { createOsintIntake } from '../osint-intake.ts';
import { cliDataDir, openCliStore } from '../hub-stack.ts';

const FileConfig = z.object({ osint: OsintConfig.default(OsintConfig.parse({})) }).loose();

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * One hit as a line. Every line names its file (the argument as given, `-` for stdin), one file
 * or many, so a script reading the lines (`jq 'select(.file == "a.pdf")'`) sees one shape
 * however many files it was given; the file comes last, after the issue's three fields and the
 * port.
 */
function formatHit(hit: ExtractedIndicator, format: 'jsonl' | 'csv', file: string): string {
  if (format === 'jsonl') {
    const line: Record<string, unknown> = { type: hit.type, value: hit.value, context: hit.context };
    if (hit.port !== undefined) line.port = hit.port;
    line.file = file;
    return JSON.stringify(line);
  }
  return [hit.type, hit.value, hit.port ?? '', hit.context, file].map((f) => csvField(String(f))).join(',');
}

const READ_FAILURES: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'a directory, not a file',
  EACCES: 'permission denied',
};

function readFailure(error: NodeJS.ErrnoException): string {
  return (error.code && READ_FAILURES[error.code]) ?? error.code ?? error.message;
}

/**
 * The largest document `osint extract` reads: the largest `osint.maxDocumentBytes` a feed may
 * have. Past a few hundred MiB the text no longer fits in one JavaScript string.
 */
export const MAX_EXTRACT_BYTES = 256 * 2 ** 20;

class TooLargeError extends Error {}

/** A stream's bytes, up to MAX_EXTRACT_BYTES: stdin, a pipe, a device. */
async function readCapped(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_EXTRACT_BYTES) {
      stream.destroy();
      throw new TooLargeError('');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/**
 * A file's bytes (stdin's for `-`): a regular file past MAX_EXTRACT_BYTES is refused before any
 * is read; anything else (a pipe from `<(curl ...)`, a device such as /dev/zero, which never
 * ends) is read as a stream up to the bound.
 */
async function readDocument(file: string, ctx: CliContext): Promise<Buffer> {
  if (file === '-') return readCapped(standardInput(ctx));
  const stat = statSync(file);
  if (stat.isDirectory()) return readFileSync(file); // EISDIR, said as such
  if (!stat.isFile()) return readCapped(createReadStream(file));
  if (stat.size > MAX_EXTRACT_BYTES) throw new TooLargeError(String(stat.size));
  return readFileSync(file);
}

const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;

/** One document's indicators as output lines; an InputError names what is wrong with it. */
async function extractOne(osint: Osint, file: string, format: 'jsonl' | 'csv', ctx: CliContext) {
  const name = file === '-' ? 'stdin' : file;
  let bytes: Buffer;
  try {
    bytes = await readDocument(file, ctx);
  } catch (error) {
    if (error instanceof TooLargeError)
      throw new InputError(
        `${name}: too large (${error.message ? mib(Number(error.message)) : `over ${mib(MAX_EXTRACT_BYTES)}`}; osint extract reads up to ${mib(MAX_EXTRACT_BYTES)})`,
      );
    throw new InputError(`cannot read ${name}: ${readFailure(error as NodeJS.ErrnoException)}`);
  }
  if (bytes.length === 0) {
    // Not an error (a feed's empty export, a placeholder), but said, so nothing is silent.
    ctx.stderr.write(`tsunagi: ${name} is empty: no indicators\n`);
    return;
  }
  // UTF-16 text (Windows PowerShell's Out-File writes it) has NULs but a byte-order mark.
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (!utf16 && documentKind(bytes, file) !== 'pdf' && bytes.subarray(0, 8192).includes(0))
    throw new InputError(`${name}: not a text, HTML or PDF document (binary content)`);
  let text: string;
  try {
    text = (await osint.read(bytes, file)).text;
  } catch (error) {
    throw error instanceof InputError ? new InputError(`${name}: ${error.message}`) : error;
  }
  const lines = osint.extract(text).map((hit) => formatHit(hit, format, file));
  if (lines.length > 0) ctx.stdout.write(lines.join('\n') + '\n');
}

/**
 * Every document in turn. One that cannot be read (missing, binary, too large, a broken PDF) is
 * one line on stderr and the others are still read, as `grep` does; the exit code is 2 when any
 * was not read. A single document's error is that one line alone.
 */
async function extractFiles(osint: Osint, files: string[], format: 'jsonl' | 'csv', ctx: CliContext) {
  const stdin = files.filter((f) => f === '-').length;
  if (stdin > 1) throw new UsageError(`- (stdin) given ${stdin} times; it can be read only once`);
  if (format === 'csv') ctx.stdout.write('type,value,port,context,file\n');
  let failed = 0;
  for (const file of files) {
    try {
      await extractOne(osint, file, format, ctx);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      osint.countInputError('document');
      if (files.length === 1) throw error;
      ctx.stderr.write(`tsunagi: ${error.message}\n`);
      failed += 1;
    }
  }
  if (failed > 0) throw new InputError(`${failed} of ${files.length} documents not read (said above)`);
}

/**
 * The round's warnings (a feed or document skipped) as one plain line each on stderr, so
 * `errors N` on the summary line says which feed and why; the counters stay as they are.
 */
function feedProblems(ctx: CliContext): NodeJS.WritableStream {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const o = JSON.parse(line) as { msg?: string; feed?: string; url?: string; err?: string };
          const where = [o.feed, o.url].filter(Boolean).join(' ');
          // The fetch's error starts with the URL the line already names in brackets.
          const err =
            o.url && o.err?.startsWith(`${o.url}: `) ? o.err.slice(o.url.length + 2) : (o.err ?? '');
          ctx.stderr.write(`tsunagi: ${o.msg ?? 'warning'}${where ? ` (${where})` : ''}: ${err}\n`);
        } catch {
          ctx.stderr.write(`tsunagi: ${line}\n`);
        }
      }
      done();
    },
  });
  return sink;
}

async function fetchFeeds(options: { config?: string; data?: string }, ctx: CliContext) {
  requireDataDir(options.data, ctx.env);
  const config = loadConfig(FileConfig, { file: options.config, env: ctx.env, flags: {} }).osint;
  if (config.feeds.length === 0) throw new UsageError('no feeds configured (osint.feeds in --config FILE)');
  const dataDir = cliDataDir(options.data, ctx.env);
  const store = await openCliStore(dataDir, ctx.env);
  const registry = new Registry();
  const logger = createLogger({ level: 'warn' }, feedProblems(ctx));
  try {
    const audit = createAuditLog({ store, signer: loadSigner(dataDir) });
    const intel = createIntel(IntelConfig.parse({}), { store, logger, registry, audit });
    const { osint, sightings } = createOsintIntake(config, { store, intel, logger, registry });
    const round = await osint.fetch();
    await audit.checkpoint();
    ctx.stdout.write(
      `feeds ${round.feeds} (unchanged ${round.unchanged}), items ${round.items}, new documents ${round.documents}, ` +
        `duplicates ${round.duplicates}, indicators ${round.indicators}, intel sightings ${sightings()}, errors ${round.errors}\n`,
    );
    // One feed down is a round like any other; none read at all is a failure a scheduler must see.
    if (round.feedsFailed === round.feeds)
      throw new RuntimeError(`no feed could be read (${round.feedsFailed} of ${round.feeds}, said above)`);
  } finally {
    await store.close();
  }
}

export function register(program: Command, ctx: CliContext): void {
  const osint = program.command('osint').description('threat information from published feeds and documents');
  osint
    .command('extract <file...>')
    .description(
      'indicators in documents (HTML, text, PDF; - for stdin; up to 256 MiB each): ipv4, ipv6, domain, url, md5, sha1, sha256, cve, attack',
    )
    .option(
      '--format <format>',
      'jsonl (one {"type","value","context"} a line, then "port" when written and "file": the argument as given, - for stdin) or csv (type,value,port,context,file)',
      'jsonl',
    )
    .action(async (files: string[], o: { format: string }) => {
      if (o.format !== 'jsonl' && o.format !== 'csv') throw new UsageError('--format must be jsonl or csv');
      const service = createOsint(OsintConfig.parse({}), {
        logger: silentLogger(),
        registry: new Registry(),
      });
      await extractFiles(service, files, o.format, ctx);
    });
  osint
    .command('fetch')
    .description(
      'read the configured RSS/Atom feeds once: documents kept with provenance, indicators into intel',
    )
    .option('-c, --config <file>', 'configuration file (osint.feeds)')
    .option('-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA)')
    .action(async (o: { config?: string; data?: string }) => {
      await fetchFeeds(o, ctx);
    });
}
