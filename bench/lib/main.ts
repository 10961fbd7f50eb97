/**
 * A benchmark script's entry: what stops it (a missing data directory, a bad flag, a model fitted
 * for another split) is one line on stderr and exit code 2, not a stack trace. TSUNAGI_VERBOSE=1
 * keeps the stack for a bug hunt (the scripts' flags are parsed strictly, so it is not a flag).
 */
export async function runBench(name: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    const message =
      error instanceof Error
        ? process.env.TSUNAGI_VERBOSE === '1'
          ? (error.stack ?? error.message)
          : error.message
        : String(error);
    process.stderr.write(`${name}: ${message}\n`);
    process.exitCode = 2;
  }
}
