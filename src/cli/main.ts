/**
 * The `tsunagi` command. Each subcommand lives in commands/ and registers itself on the
 * program; this file only maps errors to exit codes (0 ok, 1 runtime error, 2 bad usage or
 * bad input) with a one-line message on stderr.
 */
import { Command, CommanderError } from 'commander';
import { TsunagiError } from '../core/errors.ts';
import { defaultContext, type CliContext } from './context.ts';
import * as collect from './commands/collect.ts';
import * as darknet from './commands/darknet.ts';
import * as demo from './commands/demo.ts';
import * as detect from './commands/detect.ts';
import * as flows from './commands/flows.ts';
import * as scenario from './commands/scenario.ts';
import * as start from './commands/start.ts';
import * as survey from './commands/survey.ts';
import * as notify from './commands/notify.ts';
import * as serve from './commands/serve.ts';
import * as hubAdmin from './commands/hub.ts';

/** Every command module; each exports `register(program, ctx)`. */
const COMMANDS: { register(program: Command, ctx: CliContext): void }[] = [
  start,
  demo,
  collect,
  flows,
  darknet,
  survey,
  notify,
  detect,
  scenario,
  serve,
  hubAdmin,
];

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('tsunagi')
    .description('Finds the infrastructure of cyber attacks and shares it with the people who must act on it')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
    });
  for (const command of COMMANDS) command.register(program, ctx);
  // Subcommands inherit exitOverride and output settings from the program.
  return program;
}

export async function main(argv: string[], ctx: CliContext = defaultContext()): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version output end with exit code 0; anything else commander rejects is usage.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof TsunagiError) {
      ctx.stderr.write(`tsunagi: ${error.message}\n`);
      return error.exitCode;
    }
    ctx.stderr.write(`tsunagi: ${(error as Error)?.message ?? String(error)}\n`);
    if (ctx.env.TSUNAGI_DEBUG) ctx.stderr.write(`${(error as Error)?.stack}\n`);
    return 1;
  }
}
