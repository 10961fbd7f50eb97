/** `tsunagi notify letters`: subscriber letters (ja or en) for findings someone must act on. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createLogger, createRegistry, makeDirectories, UsageError } from '../../core/index.ts';
import { createNotify, NotifyConfig } from '../../notify/index.ts';
import { readFindings } from '../../survey/index.ts';
import type { CliContext } from '../context.ts';
import { outputDirectoryOption, writeOut } from '../output.ts';

interface LetterOptions {
  lang: string;
  findings: string[];
  routing: string;
  outDir?: string;
  isp?: string;
  sender: string;
  senderContact?: string;
}

export function register(program: Command, ctx: CliContext): void {
  const notify = program
    .command('notify')
    .description('tell the people who can fix it: ISPs, subscribers, makers');
  notify
    .command('letters')
    .description('one letter per subscriber address, with remediation steps for the device type')
    .requiredOption('--lang <lang>', 'ja or en')
    .requiredOption('-f, --findings <file...>', 'findings JSONL file(s)')
    .requiredOption('-r, --routing <file>', 'routing file (YAML or JSON)')
    .addOption(
      outputDirectoryOption('--out-dir <dir>', 'write ISP/ADDRESS.LANG.txt files here instead of stdout'),
    )
    .option('--isp <id>', 'only letters for this ISP')
    .option('--sender <name>', 'who signs the letters', 'tsunagi survey team')
    .option('--sender-contact <text>', 'how to reach the sender')
    .action(async (options: LetterOptions) => {
      if (options.lang !== 'ja' && options.lang !== 'en')
        throw new UsageError(`--lang must be ja or en, not "${options.lang}"`);
      const service = createNotify(
        NotifyConfig.parse({
          routing: options.routing,
          sender: options.sender,
          senderContact: options.senderContact ?? '',
        }),
        {
          logger: createLogger({ level: 'warn' }, ctx.stderr),
          registry: createRegistry(),
        },
      );
      await service.start();
      const letters = service
        .letters(options.findings.flatMap(readFindings), options.lang)
        .filter((l) => !options.isp || l.ispId === options.isp);
      if (options.outDir) {
        makeDirectories(options.outDir);
        for (const letter of letters) {
          const dir = join(options.outDir, letter.ispId);
          makeDirectories(dir);
          writeFileSync(
            join(dir, `${letter.ip.replace(/:/g, '_')}.${letter.lang}.txt`),
            `${letter.subject}\n\n${letter.body}`,
          );
        }
        ctx.stderr.write(`tsunagi: ${letters.length} letters written to ${options.outDir}\n`);
        return;
      }
      const out = writeOut(ctx.stdout);
      for (const letter of letters)
        out.write(`=== ${letter.ispId} ${letter.ip}\n${letter.subject}\n\n${letter.body}\n`);
      await out.end();
    });
}
