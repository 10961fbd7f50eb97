/**
 * `tsunagi report daily|weekly`: a self-contained HTML report (and a PDF with --pdf) from the
 * store's intel, made for one tier through share's release decision, in Japanese or English;
 * `--summarise URL --model NAME` adds marked AI prose from an OpenAI-compatible endpoint (key in
 * $TSUNAGI_SUMMARISE_API_KEY). `tsunagi report runbook`: the manual procedures for every
 * automated step, written from the configuration `tsunagi start` would use.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { chromiumPath, DEFAULT_CHROMIUM, loadConfig, UsageError, writeFileAtomic } from '../../core/index.ts';
import {
  buildRunbook,
  LANGS,
  makeReport,
  PERIODS,
  renderPdf,
  renderRunbookHtml,
  ReportConfig,
  type Lang,
  type Period,
} from '../../report/index.ts';
import { publicNoticeDecisions } from '../../share/index.ts';
import { requireDataDir, type CliContext } from '../context.ts';
import { outputFileOption } from '../output.ts';
import { runbookInputOf } from '../runbook-input.ts';
import { StackConfig } from '../stack.ts';
import { openHubParts } from './hub.ts';

interface ReportOptions {
  lang: string;
  out: string;
  pdf?: string;
  data?: string;
  tier: string;
  date?: string;
  top: string;
  summarise?: string;
  model?: string;
  summariseTimeout: string;
  chromium?: string;
}

interface RunbookOptions {
  lang: string;
  out: string;
  config?: string;
  data?: string;
  listen?: string[];
  hub?: string;
}

function langOf(text: string): Lang {
  if (!(LANGS as readonly string[]).includes(text))
    throw new UsageError(`--lang must be ja or en, not "${text}"`);
  return text as Lang;
}

/** The report's options from the flags; a bad value is a usage error naming the flag. */
function reportConfigOf(period: Period, o: ReportOptions, env: NodeJS.ProcessEnv): ReportConfig {
  const model = o.model ?? env.TSUNAGI_SUMMARISE_MODEL;
  if (o.summarise && !model)
    throw new UsageError('--summarise needs --model NAME (or $TSUNAGI_SUMMARISE_MODEL)');
  if (!o.summarise && o.model) throw new UsageError('--model is for --summarise URL');
  const parsed = ReportConfig.safeParse({
    period,
    lang: langOf(o.lang),
    tier: o.tier,
    ...(o.date ? { date: o.date } : {}),
    topN: Number(o.top),
    ...(o.summarise
      ? {
          summarise: {
            url: o.summarise,
            model,
            timeoutMs: Math.round(Number(o.summariseTimeout) * 1000),
            ...(env.TSUNAGI_SUMMARISE_API_KEY ? { apiKey: env.TSUNAGI_SUMMARISE_API_KEY } : {}),
          },
        }
      : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = {
      period: 'period',
      tier: '--tier',
      date: '--date',
      topN: '--top',
      summarise: '--summarise',
    }[String(issue.path[0])];
    throw new UsageError(`${flag ?? String(issue.path.join('.'))}: ${issue.message}`);
  }
  return parsed.data;
}

/** `--out -` is stdout, as `-` is stdin for `osint extract`; never a file named `-`. */
function writeHtml(out: string, html: string, mode: number, ctx: CliContext): void {
  if (out === '-') ctx.stdout.write(html);
  else writeFileAtomic(out, html, { mode });
}

const placeOf = (out: string) => (out === '-' ? 'on stdout' : `in ${out}`);

async function writeReport(period: Period, o: ReportOptions, ctx: CliContext): Promise<void> {
  const config = reportConfigOf(period, o, ctx.env);
  if (o.pdf === '-') throw new UsageError('--pdf: name the file to write (- is for --out, the HTML)');
  // Chromium for --pdf: a path that is not there is said before any work is done.
  const pdf = o.pdf
    ? { file: o.pdf, chromium: chromiumPath([{ name: '--chromium', path: o.chromium }], ctx.env, '--pdf') }
    : undefined;
  requireDataDir(o.data, ctx.env);
  const { store, audit, intel, hub } = await openHubParts(o.data, ctx);
  try {
    const { document, html, title } = await makeReport(config, {
      intel,
      publicNoticeDecisions: (ids) => publicNoticeDecisions(store.db, ids),
      // Organisation names travel only with the hosts they hold, which only the full tier reads.
      organisations: config.tier === 'full' ? () => hub.orgs.list() : undefined,
    });
    if (config.tier !== 'public') {
      await audit.record({
        // The local operator, named as the hub commands name them.
        actor: `cli:${ctx.env.USER ?? ctx.env.LOGNAME ?? 'operator'}`,
        action: 'cli.report',
        target: `report:${period}`,
        reason: 'cli',
        detail: {
          tier: config.tier,
          figures: document.book.all.length,
          date: document.window.start.toISOString(),
        },
      });
      await audit.checkpoint();
    }
    const mode = config.tier === 'public' ? 0o644 : 0o600;
    writeHtml(o.out, html, mode, ctx);
    const pdfNote = pdf ? await writePdf(html, pdf.file, pdf.chromium, mode) : '';
    const omitted = [...document.summaries.values()].flatMap((s) => (s.outcome === 'omitted' ? [s] : []));
    const reasons = omitted.flatMap((s) => (s.notAsked ? [] : [s.reason]));
    // Why they were left out, once each (sections not asked after a silent endpoint add no reason).
    const why = reasons.length ? ` (${[...new Set(reasons)].join('; ')})` : '';
    ctx.stderr.write(
      `tsunagi: ${title} (${config.tier}, TLP:${document.marking.tlp.toUpperCase()}): ${document.book.all.length} figures ${placeOf(o.out)}${pdfNote}` +
        (config.summarise
          ? `; AI summaries ${document.summaries.size - omitted.length} written, ${omitted.length} omitted${why}`
          : '') +
        '\n',
    );
  } finally {
    await store.close();
  }
}

async function writePdf(html: string, file: string, chromium: string, mode: number): Promise<string> {
  const pdf = await renderPdf(html, { executablePath: chromium });
  writeFileSync(file, pdf, { mode });
  return ` and ${file}`;
}

function writeRunbook(o: RunbookOptions, ctx: CliContext): void {
  const lang = langOf(o.lang);
  const flags: Record<string, unknown> = {};
  const data = o.data ?? ctx.env.TSUNAGI_DATA;
  if (data) flags.data = data;
  if (o.listen) flags.flow = { listen: o.listen };
  if (o.hub) flags.hub = { listen: o.hub };
  // The same sources `tsunagi start` reads: the file, TSUNAGI_* variables, then these flags.
  const config = loadConfig(StackConfig, { file: o.config, env: ctx.env, flags });
  const runbook = buildRunbook(runbookInputOf(config, ctx.env, o.config ?? ctx.env.TSUNAGI_CONFIG), lang);
  writeHtml(o.out, renderRunbookHtml(runbook, new Date()), 0o644, ctx);
  ctx.stderr.write(`tsunagi: runbook of ${runbook.procedures.length} procedures ${placeOf(o.out)}\n`);
}

export function register(program: Command, ctx: CliContext): void {
  const report = program.command('report').description('daily and weekly reports (HTML, PDF) and runbooks');
  for (const period of PERIODS) {
    report
      .command(period)
      .description(
        `the ${period} report: C&C servers, infected hosts per ISP, darknet surges, survey, phishing`,
      )
      .addOption(
        outputFileOption(
          '-o, --out <file>',
          'write the HTML report here (- for stdout)',
        ).makeOptionMandatory(),
      )
      .option('--lang <lang>', 'ja or en', 'ja')
      .addOption(
        outputFileOption(
          '--pdf <file>',
          'also write it as PDF (Chromium; TSUNAGI_CHROMIUM or --chromium names it)',
        ),
      )
      .option('--tier <tier>', 'the reader it is made for: full, council or public', 'full')
      .option(
        '--date <date>',
        `the day it covers${period === 'weekly' ? ' (the last day of the week)' : ''}, YYYY-MM-DD (UTC; default today)`,
      )
      .option('--top <n>', 'rows per table', '10')
      .option(
        '--summarise <url>',
        'OpenAI-compatible endpoint for marked AI summaries (key in $TSUNAGI_SUMMARISE_API_KEY)',
      )
      .option('--model <name>', 'the model the endpoint runs (with --summarise)')
      .option('--summarise-timeout <seconds>', 'per section', '30')
      .option('--chromium <path>', `Chromium for --pdf (default ${DEFAULT_CHROMIUM})`)
      .option('-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA)')
      .action((o: ReportOptions) => writeReport(period, o, ctx));
  }
  report
    .command('runbook')
    .description(
      'manual procedures for intake, detection, sharing and notification, from the configuration in use',
    )
    .addOption(
      outputFileOption(
        '-o, --out <file>',
        'write the HTML runbook here (- for stdout)',
      ).makeOptionMandatory(),
    )
    .option('--lang <lang>', 'ja or en', 'ja')
    .option('-c, --config <file>', 'configuration file (YAML or JSON), as given to tsunagi start')
    .option('-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA)')
    .option('--listen <host:port...>', 'flow listen addresses, as given to tsunagi start')
    .option('--hub <host:port>', 'hub address, as given to tsunagi start')
    .action((o: RunbookOptions) => writeRunbook(o, ctx));
}
