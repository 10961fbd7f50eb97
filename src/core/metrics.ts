/**
 * Prometheus metrics. Each component registers its own metrics on the registry it is given
 * (never the global one), so tests and several instances in one process stay apart.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { z } from 'zod';
import { UsageError } from './errors.ts';
import type { Component } from './lifecycle.ts';
import type { Logger } from './logger.ts';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * A counter read from a running total the component already keeps (`value`), at each scrape,
 * so the hot path pays nothing for it.
 */
export function totalCounter(registry: Registry, name: string, help: string, value: () => number): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(value());
    },
  });
}

export const MetricsConfig = z
  .object({
    /** host:port for the /metrics endpoint; empty disables it. */
    listen: z.string().default(''),
    processMetrics: z.boolean().default(true),
  })
  .prefault({});
export type MetricsConfig = z.infer<typeof MetricsConfig>;

export function createRegistry(options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'tsunagi_' });
  return registry;
}

/** Splits `host:port` (IPv6 hosts in brackets). */
export function parseHostPort(text: string, defaultHost = '127.0.0.1'): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  // A bad address comes from configuration: usage (exit 2), wherever it is found.
  if (!match || !(port >= 0 && port <= 65535)) throw new UsageError(`expected host:port, got "${text}"`);
  return { host: match[1] || match[2] || defaultHost, port };
}

/** Serves GET /metrics and nothing else. */
export function createMetricsServer(
  config: MetricsConfig,
  deps: { registry: Registry; logger: Logger },
): Component {
  let server: Server | undefined;
  return {
    name: 'metrics',
    async start() {
      if (!config.listen) return;
      const { host, port } = parseHostPort(config.listen);
      server = createServer((req, res) => {
        if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
          return;
        }
        deps.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': deps.registry.contentType }).end(text),
          (error: unknown) => {
            deps.logger.error({ err: error }, 'metrics collection failed');
            res.writeHead(500).end();
          },
        );
      });
      server.requestTimeout = 10_000;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, host, () => resolve());
      });
      deps.logger.info({ listen: config.listen }, 'metrics endpoint listening');
    },
    async stop() {
      if (!server) return;
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    },
  };
}
