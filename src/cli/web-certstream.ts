/**
 * `tsunagi web certstream --url ws://…`: certificate-transparency names from a certstream-compatible
 * websocket scored as they are logged, until Ctrl-C. Flagged names (at --min-verdict or worse) go
 * to stdout as `web score` CSV and, with a data directory, into its store under source
 * `certstream`; a rate line (names/s, flagged, reconnects, bad frames) goes to stderr.
 * `tsunagi start --certstream URL` runs the same intake beside the hub (stack.ts).
 */
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { createLogger, untilSignal, UsageError } from '../core/index.ts';
import { createWeb, WebConfig, type CertstreamStats, type WebTables } from '../web/index.ts';
import { scoreCsvLine, SCORE_COLUMNS } from './web-csv.ts';
import { requireDataDir, type CliContext } from './context.ts';
import { cliDataDir, openCliStore } from './hub-stack.ts';
import { formatRate, StatusLine } from './progress.ts';
import type { Store } from '../store/index.ts';

export interface CertstreamCliOptions {
  url: string;
  minVerdict: string;
  every: string;
  data?: string;
}

/** The rate line: names per second since the last line, and the totals. */
export function certstreamRateLine(stats: CertstreamStats, namesBefore: number, seconds: number): string {
  const rate = seconds > 0 ? (stats.names - namesBefore) / seconds : 0;
  return (
    `certstream names/s ${formatRate(rate)}  names ${stats.names}  flagged ${stats.kept}  ` +
    `reconnects ${stats.reconnects}  bad frames ${stats.badFrames}`
  );
}

export function registerWebCertstream(web: Command, ctx: CliContext): void {
  web
    .command('certstream')
    .description(
      'score certificate-transparency names from a certstream websocket until Ctrl-C; flagged names as CSV',
    )
    .requiredOption('--url <url>', 'the certstream-compatible websocket (ws:// or wss://)')
    .option(
      '--min-verdict <verdict>',
      'flag names scored at least this: suspicious or malicious',
      'suspicious',
    )
    .option('--every <seconds>', 'seconds between rate lines on stderr', '10')
    .option(
      '-d, --data <dir>',
      "also keep flagged names in this data directory's store (source certstream); $TSUNAGI_DATA too",
    )
    .action(async (options: CertstreamCliOptions) => runCertstream(options, ctx));
}

function parseOptions(options: CertstreamCliOptions) {
  const every = Number(options.every);
  if (!Number.isFinite(every) || every < 0.1 || every > 3600)
    throw new UsageError('--every: seconds between 0.1 and 3600');
  const parsed = WebConfig.shape.certstream.safeParse({ url: options.url, minVerdict: options.minVerdict });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(
      issue.path[0] === 'minVerdict'
        ? '--min-verdict must be suspicious or malicious'
        : `--url: ${issue.message}`,
    );
  }
  return { every, certstream: parsed.data! };
}

export async function runCertstream(
  options: CertstreamCliOptions,
  ctx: CliContext,
  until: () => Promise<unknown> = untilSignal,
): Promise<void> {
  const { every, certstream } = parseOptions(options);
  const stopped = until();
  const data = options.data ?? ctx.env.TSUNAGI_DATA;
  let store: Store | undefined;
  if (data !== undefined) {
    requireDataDir(data, ctx.env);
    store = await openCliStore(cliDataDir(data, ctx.env), ctx.env);
  }
  const status = new StatusLine(ctx, 0);
  const logger = createLogger({ level: 'warn' }, ctx.stderr);
  const web = createWeb(WebConfig.parse({ certstream }), {
    logger,
    registry: new Registry(),
    ...(store ? { db: store.db as unknown as Kysely<WebTables> } : {}),
  });
  // Its reader gone (`web certstream | head`): stop as at Ctrl-C, not with an EPIPE stack.
  let readerGone = false;
  let onReaderGone: (reason: string) => void = () => {};
  const gone = new Promise<string>((resolve) => (onReaderGone = resolve));
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    readerGone = true;
    onReaderGone('the reader of stdout closing it');
  };
  ctx.stdout.on('error', onError);
  const write = (text: string) => {
    if (!readerGone) ctx.stdout.write(text);
  };
  write(SCORE_COLUMNS.join(',') + '\n');
  const intake = web.certstream((scored) => write(scoreCsvLine(scored) + '\n'));
  let namesBefore = 0;
  let last = performance.now();
  const rateLine = () => {
    const now = performance.now();
    const line = certstreamRateLine(intake.stats, namesBefore, (now - last) / 1000);
    namesBefore = intake.stats.names;
    last = now;
    return line;
  };
  const timer = setInterval(() => status.update(rateLine()), every * 1000);
  try {
    ctx.stderr.write(
      `tsunagi: scoring certificate names from ${certstream.url}; flagging ${certstream.minVerdict} or worse` +
        (store ? `, kept in ${store.location}` : '') +
        '\n',
    );
    await intake.start();
    const reason = await Promise.race([stopped, gone]);
    await intake.stop();
    status.done(`${rateLine()}; stopped${typeof reason === 'string' ? ` by ${reason}` : ''}`);
  } finally {
    clearInterval(timer);
    await intake.stop();
    await store?.close();
    // The listener stays: the process's last flush of stdout would meet the same EPIPE.
  }
}
