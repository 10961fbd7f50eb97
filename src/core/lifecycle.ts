/**
 * The component lifecycle (after Akvorado): each component is built by `createX(config, deps)`
 * and returns `{ name, start(), stop() }`. A Lifecycle starts components in order and stops
 * them in reverse, so a component may rely on those started before it.
 */
import type { Logger } from './logger.ts';

export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class Lifecycle {
  private readonly started: Component[] = [];

  constructor(private readonly logger: Logger) {}

  async start(components: readonly Component[]): Promise<void> {
    for (const component of components) {
      try {
        await component.start();
      } catch (error) {
        // The caller reports it (the CLI in one line, naming the component); the stack is for debugging.
        if (error && typeof error === 'object')
          (error as { component?: string }).component ??= component.name;
        this.logger.debug({ err: error, component: component.name }, 'component failed to start');
        await this.stop();
        throw error;
      }
      this.started.push(component);
      this.logger.debug({ component: component.name }, 'component started');
    }
  }

  async stop(): Promise<void> {
    while (this.started.length > 0) {
      const component = this.started.pop()!;
      try {
        await component.stop();
        this.logger.debug({ component: component.name }, 'component stopped');
      } catch (error) {
        this.logger.error({ err: error, component: component.name }, 'component failed to stop');
      }
    }
  }
}

/** How long a command may take to stop after SIGINT/SIGTERM before the process ends anyway. */
export const STOP_DEADLINE_MS = 4_000;

/**
 * Resolves on the first SIGINT or SIGTERM. A second one exits at once; and if stopping takes
 * longer than STOP_DEADLINE_MS (a peer that does not answer, a socket that will not close) the
 * process ends with exit code 1, so every long-running command is gone within 5 s of a signal.
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      setTimeout(() => {
        process.stderr.write(`tsunagi: not stopped ${STOP_DEADLINE_MS / 1000} s after ${signal}; exiting\n`);
        process.exit(1);
      }, STOP_DEADLINE_MS).unref();
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
