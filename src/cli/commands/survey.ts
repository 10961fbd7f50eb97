/**
 * `tsunagi survey run|report|track`: run an authorised IoT survey plan (resumable, with a
 * progress bar on stderr), write per-ISP reports, and compare a re-survey with the last one.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { createLogger, createRegistry, loadConfig, LogConfig, UsageError } from '../../core/index.ts';
import { createNotify, NotifyConfig, toCsv } from '../../notify/index.ts';
import { createSurvey, formatFindings, loadPlan, readFindings, SurveyConfig } from '../../survey/index.ts';
import type { CliContext } from '../context.ts';
import { outputFileOption, writeOut } from '../output.ts';
import { progressBar, StatusLine } from '../progress.ts';

export const SurveyCliConfig = z.object({
  log: LogConfig.prefault({ level: 'warn' }),
  survey: SurveyConfig,
  notify: NotifyConfig,
});

interface RunOptions {
  plan: string;
  out?: string;
  state?: string;
  config?: string;
  recog?: string;
  vulnerable?: string;
  target?: string[];
}

export function register(program: Command, ctx: CliContext): void {
  const survey = program
    .command('survey')
    .description('authorised IoT survey: weak credentials and vulnerable firmware inside a signed scope');

  survey
    .command('run')
    .description('survey every address of the plan (or --target ones); findings as JSON lines')
    .requiredOption('-p, --plan <file>', 'survey plan (YAML or JSON)')
    .addOption(
      outputFileOption(
        '-o, --out <file>',
        'findings JSONL file (default stdout); with it the run is resumable',
      ),
    )
    .option('--state <file>', 'addresses already done, for resuming (default OUT.state)')
    .option('-c, --config <file>', 'configuration file (survey.* settings)')
    .option('--recog <dir>', 'recog XML directory')
    .option('--vulnerable <file>', 'vulnerable-version table (JSON or CSV)')
    .option('-t, --target <address...>', 'survey only these addresses (each must be in scope)')
    .action(async (options: RunOptions) => {
      const surveyFlags: Record<string, unknown> = {};
      if (options.recog) surveyFlags.recogPath = options.recog;
      if (options.vulnerable) surveyFlags.vulnerableTable = options.vulnerable;
      const config = loadConfig(SurveyCliConfig, {
        file: options.config,
        env: ctx.env,
        flags: { survey: surveyFlags },
      });
      await runSurvey(config, options, ctx);
    });

  survey
    .command('report')
    .description("one ISP's report of findings to act on, Shadowserver-like CSV or JSON")
    .requiredOption('--isp <id>', 'ISP id from the routing file')
    .requiredOption('-f, --findings <file...>', 'findings JSONL file(s)')
    .requiredOption('-r, --routing <file>', 'routing file (YAML or JSON)')
    .option('--format <format>', 'csv or json', 'csv')
    .action(async (options: { isp: string; findings: string[]; routing: string; format: string }) => {
      if (options.format !== 'csv' && options.format !== 'json')
        throw new UsageError(`--format must be csv or json, not "${options.format}"`);
      const notify = createNotify(NotifyConfig.parse({ routing: options.routing }), {
        logger: createLogger({ level: 'warn' }, ctx.stderr),
        registry: createRegistry(),
      });
      await notify.start();
      const findings = options.findings.flatMap(readFindings);
      const reports = notify.reports(findings);
      const report = reports.get(options.isp);
      const out = writeOut(ctx.stdout);
      if (options.format === 'csv') out.write(report ? report.csv : toCsv([]));
      else {
        const body = report
          ? {
              isp: report.isp,
              generated: report.generated,
              surveys: report.surveys,
              count: report.count,
              rows: report.rows,
            }
          : { isp: { id: options.isp }, count: 0, rows: [] };
        out.write(`${JSON.stringify(body, null, 2)}\n`);
      }
      await out.end();
    });

  survey
    .command('track')
    .description(
      'compare a re-survey with earlier ones: fixed / still vulnerable / gone, and monthly statistics',
    )
    .requiredOption('-f, --findings <file...>', 'findings JSONL files, oldest first (one per survey round)')
    .option('--format <format>', 'json or csv (the per-service states of the last two rounds as CSV)', 'json')
    .action(async (options: { findings: string[]; format: string }) => {
      if (options.format !== 'csv' && options.format !== 'json')
        throw new UsageError(`--format must be json or csv, not "${options.format}"`);
      if (options.findings.length < 2)
        throw new UsageError('track needs at least two findings files (before and after)');
      const rounds = options.findings.map((file) => ({ findings: readFindings(file) }));
      const notify = createNotify(NotifyConfig.parse({}), {
        logger: createLogger({ level: 'warn' }, ctx.stderr),
        registry: createRegistry(),
      });
      const tracked = notify.track(rounds.at(-2)!.findings, rounds.at(-1)!.findings);
      const out = writeOut(ctx.stdout);
      if (options.format === 'csv') {
        out.write('ip,port,service,before,after,state\n');
        for (const t of tracked)
          out.write(`${t.ip},${t.port},${t.service},${t.before},${t.after ?? ''},${t.state}\n`);
      } else out.write(`${JSON.stringify({ tracked, monthly: notify.monthly(rounds) }, null, 2)}\n`);
      await out.end();
    });
}

async function runSurvey(
  config: z.infer<typeof SurveyCliConfig>,
  options: RunOptions,
  ctx: CliContext,
): Promise<void> {
  // Every refusal (scope, period, credential hash) happens here, before any packet.
  const plan = loadPlan(options.plan);
  const logger = createLogger(config.log, ctx.stderr);
  const survey = createSurvey(config.survey, { logger, registry: createRegistry() });
  await survey.start();

  const statePath = options.state ?? (options.out ? `${options.out}.state` : undefined);
  const skip = new Set<string>();
  if (statePath && existsSync(statePath)) {
    for (const line of readFileSync(statePath, 'utf8').split('\n')) if (line.trim()) skip.add(line.trim());
  }
  // A fresh run starts a fresh output; a resumed one appends to what it already wrote.
  if (options.out && skip.size === 0) writeFileSync(options.out, '');
  if (statePath && skip.size === 0) writeFileSync(statePath, '');
  const stdout = options.out ? undefined : writeOut(ctx.stdout);

  const status = new StatusLine(ctx);
  let lastDraw = 0;
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    const summary = await survey.run(plan, {
      ...(options.target ? { targets: options.target } : {}),
      skip,
      signal: controller.signal,
      onHost: (host) => {
        const text = formatFindings(host.findings);
        if (options.out) appendFileSync(options.out, text);
        else stdout!.write(text);
      },
      onProgress: (p) => {
        const now = performance.now();
        if (now - lastDraw < (ctx.interactive ? 200 : 5000) && p.done < p.total) return;
        lastDraw = now;
        status.update(
          `survey ${plan.plan.id} ${progressBar(p.done + skip.size, p.total)} ${p.done + skip.size}/${p.total} hosts, ${p.vulnerable} vulnerable`,
          p.done >= p.total,
        );
      },
      onHostDone: (ip) => {
        // Called after the host's findings are written: only then may a resume skip it.
        if (statePath) appendFileSync(statePath, `${ip}\n`);
      },
    });
    status.done(
      `survey ${plan.plan.id}: ${summary.hosts} hosts surveyed, ${summary.vulnerable} vulnerable, ${summary.optedOut} opted out, ${summary.connections} connections, logins accepted ${summary.loginAttempts.accepted}/${summary.loginAttempts.accepted + summary.loginAttempts.rejected + summary.loginAttempts.error}; evidence in ${plan.evidenceLog}`,
    );
  } finally {
    process.off('SIGINT', onSignal);
    await stdout?.end();
    await survey.stop();
  }
}
