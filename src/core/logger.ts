/** Structured JSON logs (pino) on stderr, so stdout stays free for command output. */
import { pino, type Logger } from 'pino';
import { z } from 'zod';

export type { Logger } from 'pino';

export const LogConfig = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .prefault({});
export type LogConfig = z.infer<typeof LogConfig>;

export function createLogger(config: LogConfig, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    { level: config.level, base: { app: 'tsunagi' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination as pino.DestinationStream,
  );
}

/** A logger that drops everything: for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
