/**
 * The `tsunagi` command. Each subcommand lives in commands/ and registers itself on the
 * program; contract.ts checks flags the same way for all of them, and this file is the one
 * error path: exit code 0 ok, 1 runtime error, 2 bad usage or bad input, with one line on
 * stderr (and the stack only with --verbose or $TSUNAGI_DEBUG).
 */
import { Command, CommanderError } from 'commander';
import { classifyError } from '../core/index.ts';
import { defaultContext, type CliContext } from './context.ts';
import { applyContract } from './contract.ts';
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
import * as hygiene from './commands/hygiene.ts';
import * as osint from './commands/osint.ts';
import * as sensor from './commands/sensor.ts';

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
  hygiene,
  osint,
  sensor,
];

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('tsunagi')
    .description('Finds the infrastructure of cyber attacks and shares it with the people who must act on it')
    .version('0.1.0')
    .option('--verbose', 'print the stack trace of an error')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
    });
  for (const command of COMMANDS) command.register(program, ctx);
  // Subcommands inherit exitOverride and output settings from the program.
  applyContract(program);
  return program;
}

export async function main(argv: string[], ctx: CliContext = defaultContext()): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    // Commander has printed its one line already; help and version end with 0.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const { exitCode, message } = classifyError(error);
    ctx.stderr.write(`tsunagi: ${message}\n`);
    if (argv.includes('--verbose') || ctx.env.TSUNAGI_DEBUG) ctx.stderr.write(`${(error as Error)?.stack}\n`);
    return exitCode;
  }
}
