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
