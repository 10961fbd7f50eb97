/** `tsunagi flows decode FILE...`: decode captured or raw export packets to CSV or JSON lines. */
import type { Command } from 'commander';
import { type FlowBatch, InputError, UsageError } from '../../core/index.ts';
import {
  DecoderConfig,
  createFlowDecoder,
  FLOW_CSV_HEADER,
  formatCsv,
  formatJsonl,
  replayFiles,
} from '../../flow/index.ts';
import type { CliContext } from '../context.ts';
import { withHeader, writeOut } from '../output.ts';

interface DecodeOptions {
  format: string;
  raw?: boolean;
  exporter: string;
  samplingRate?: string;
  templateKeyPort?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  const flows = program.command('flows').description('work with flow export packets');
  flows
    .command('decode')
    .description(
      'decode NetFlow v5/v9, IPFIX and sFlow v5 from pcap/pcapng captures (or bare payloads with --raw), one row per flow record; files share one decoder state, in order',
    )
    .argument(
      '<file...>',
      'capture files (pcap or pcapng) or, with --raw, files each holding one UDP payload',
    )
    .option('-f, --format <format>', 'csv or jsonl', 'csv')
    .option('--raw', 'each FILE holds one bare UDP payload')
    .option('--exporter <address>', 'exporter address to report for --raw payloads', '0.0.0.0')
    .option('--sampling-rate <n>', 'sampling rate assumed when the export gives none')
    .option('--template-key-port', "include the exporter's UDP source port in template keys")
    .action(async (files: string[], options: DecodeOptions) => {
      if (options.format !== 'csv' && options.format !== 'jsonl') {
        throw new UsageError(`--format must be csv or jsonl, not "${options.format}"`);
      }
      const config = DecoderConfig.parse({
        defaultSamplingRate: options.samplingRate ? Number(options.samplingRate) : undefined,
        templateKeyIncludesPort: Boolean(options.templateKeyPort),
      });
      const decoder = createFlowDecoder(config, {});
      const format = options.format === 'csv' ? formatCsv : formatJsonl;
      // The CSV header waits for the first record, so input that decodes to nothing writes nothing.
      const out = withHeader(writeOut(ctx.stdout), options.format === 'csv' ? `${FLOW_CSV_HEADER}\n` : '');
      const summary = await replayFiles(
        files,
        decoder,
        (batch: FlowBatch) => {
          const rows = format(batch);
          if (rows !== '') out.write(rows);
        },
        {
          raw: options.raw ? true : 'auto',
          rawExporter: options.exporter,
        },
      );
      const errors = Object.entries(summary.errors);
      const errorCount = errors.reduce((sum, [, n]) => sum + n, 0);
      const nothingDecoded = summary.records === 0 && errorCount + summary.withoutTemplate > 0;
      if (!nothingDecoded) out.writeHeader();
      await out.end();
      if (errorCount > 0) {
        ctx.stderr.write(
          `tsunagi: ${summary.records} records from ${summary.payloads} payloads; ${errorCount} decode errors (${errors
            .map(([kind, n]) => `${kind} ${n}`)
            .join(', ')})\n`,
        );
      }
      if (summary.withoutTemplate > 0) {
        ctx.stderr.write(
          `tsunagi: ${summary.withoutTemplate} data sets had no template (give the file holding the templates first)\n`,
        );
      }
      if (nothingDecoded) {
        throw new InputError(`no flow record could be decoded from ${files.join(', ')}`);
      }
    });
}
