/**
 * The CLI contract, applied to every command in one place once all have registered:
 *
 * - a flag's value is checked by the type its placeholder names (`<cidr>`, `<host:port>`,
 *   `<n>`, `<url>`, `<address>` ...), so a bad value is a usage error naming the flag before the
 *   command runs;
 * - unknown options are reported before missing required ones (commander checks required
 *   options first, so `detect --wat` used to complain about `--bots`);
 * - a usage error is one line on stderr naming the command whose `--help` tells more.
 *
 * Exit codes and messages for everything thrown later are decided in `errors.ts`.
 */
import { Command, InvalidArgumentError, type Option } from 'commander';
import ipaddr from 'ipaddr.js';
import { parseHostPort, parsePrefix } from '../core/index.ts';

type Check = (value: string) => string;

const cidr: Check = (value) => {
  try {
    parsePrefix(value);
  } catch {
    throw new InvalidArgumentError('not a CIDR prefix (such as 192.0.2.0/24).');
  }
  return value;
};

const address: Check = (value) => {
  if (!ipaddr.isValid(value)) throw new InvalidArgumentError('not an IP address.');
  return value;
};

const hostPort: Check = (value) => {
  // An empty address turns a listener off (`--metrics ''`).
  if (value === '') return value;
  try {
    parseHostPort(value);
  } catch {
    throw new InvalidArgumentError('expected host:port with a port of 0-65535.');
  }
  return value;
};

const number: Check = (value) => {
  if (value.trim() === '' || !Number.isFinite(Number(value))) throw new InvalidArgumentError('not a number.');
  return value;
};

const url: Check = (value) => {
  try {
    new URL(value);
  } catch {
    throw new InvalidArgumentError('not a URL (such as nats://127.0.0.1:4222 or https://hub.example/).');
  }
  return value;
};

/** Checks by placeholder name: `<cidr...>` takes the check of `cidr`. */
const CHECKS: Record<string, Check> = {
  cidr,
  address,
  'host:port': hostPort,
  n: number,
  h: number,
  x: number,
  seconds: number,
  'flows/s': number,
  url,
};

/** Every command below `root` (root included), depth first. */
export function allCommands(root: Command): Command[] {
  return [root, ...root.commands.flatMap((c) => allCommands(c as Command))];
}

/** The full name of a command as typed, e.g. `tsunagi audit verify`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function applyContract(program: Command): void {
  for (const command of allCommands(program)) {
    for (const option of command.options) checkValues(option);
    const required = command.options.filter((o) => o.mandatory);
    for (const option of required) option.makeOptionMandatory(false);
    if (required.length > 0) command.hook('preAction', () => requireOptions(command, required));
    command.configureOutput({
      ...program.configureOutput(),
      outputError: (text, write) => write(usageLine(command, text)),
    });
    if (command !== program && command.commands.length > 0) askForSubcommand(command);
  }
}

/** A group such as `tsunagi org` without a subcommand names the ones it has, in one line. */
function askForSubcommand(group: Command): void {
  const names = group.commands.map((c) => c.name()).filter((name) => name !== 'help');
  group.allowExcessArguments(true).action((...args: unknown[]) => {
    const given = (args.at(-1) as Command).args[0];
    group.error(
      given
        ? `unknown command '${given}' (one of ${names.join(', ')})`
        : `give a subcommand: ${names.join(', ')}`,
      { code: 'commander.missingSubcommand', exitCode: 2 },
    );
  });
}

/** Wraps the option's own parser (if any) with the check its placeholder names. */
function checkValues(option: Option): void {
  const placeholder = /<([^>.]+)(\.\.\.)?>/.exec(option.flags)?.[1];
  const check = placeholder ? CHECKS[placeholder] : undefined;
  if (!check) return;
  const own = option.parseArg as ((value: string, previous: unknown) => unknown) | undefined;
  option.argParser((value: string, previous: unknown) => {
    check(value);
    if (own) return own(value, previous);
    if (!option.variadic) return value;
    // What commander does for a variadic option without a parser: a default is replaced.
    return previous === option.defaultValue || !Array.isArray(previous) ? [value] : [...previous, value];
  });
}

/** Runs after unknown options and arguments were checked, so those errors come first. */
function requireOptions(command: Command, required: Option[]): void {
  for (const option of required) {
    if (command.getOptionValue(option.attributeName()) === undefined)
      command.error(`required option '${option.flags}' not specified`, {
        code: 'commander.missingMandatoryOptionValue',
        exitCode: 2,
      });
  }
}

function usageLine(command: Command, text: string): string {
  const message = text
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ');
  return `tsunagi: ${message} (${commandPath(command)} --help)\n`;
}
