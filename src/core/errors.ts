/** Errors that carry the CLI exit code they should end with (0 ok, 1 runtime, 2 usage/input). */

export class TsunagiError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad command-line usage or configuration: exit code 2. */
export class UsageError extends TsunagiError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** An input file that cannot be read or is not what it claims to be: exit code 2. */
export class InputError extends TsunagiError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** A failure while running (a port taken, a service down, a broken audit chain): exit code 1. */
export class RuntimeError extends TsunagiError {
  constructor(message: string) {
    super(message, 1);
  }
}

/** System error codes that mean a file named on the command line is not there or not readable. */
const INPUT_CODES = new Set(['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EPERM', 'ELOOP', 'ENAMETOOLONG']);
/** System error codes that mean a listener could not be opened. */
const LISTEN_CODES: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this machine',
  EACCES: 'permission denied',
};

/**
 * The one mapping from anything thrown to an exit code and a one-line message: tsunagi's own
 * errors keep theirs; a file that cannot be opened is bad input (2); anything else is a runtime
 * error (1).
 */
export function classifyError(error: unknown): { exitCode: 1 | 2; message: string } {
  const { exitCode, message } = classify(error);
  // Lifecycle names the component that failed to start.
  const component = (error as { component?: unknown } | null)?.component;
  return { exitCode, message: typeof component === 'string' ? `${component}: ${message}` : message };
}

function classify(error: unknown): { exitCode: 1 | 2; message: string } {
  if (error instanceof TsunagiError) return { exitCode: error.exitCode, message: error.message };
  const system = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (system?.syscall === 'listen' || system?.syscall === 'bind') {
    const where = system.address ? `${system.address}:${system.port ?? ''}` : '';
    return {
      exitCode: 1,
      message: `cannot listen on ${where}: ${LISTEN_CODES[system.code ?? ''] ?? system.message}`,
    };
  }
  if (system?.code && system.path && INPUT_CODES.has(system.code)) {
    const reason = system.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
    return { exitCode: 2, message: `cannot open ${system.path}: ${reason}` };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { exitCode: 1, message: message.split('\n')[0]! };
}
