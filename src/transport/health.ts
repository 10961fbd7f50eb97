/**
 * Pipeline health over NATS: each process of the scaled-out shape (`collect --nats`,
 * `detect --nats`) publishes its report every few seconds on `tsunagi.health.<role>.<id>`
 * (core NATS, not JetStream: only the newest report matters), and the hub (`serve --nats`,
 * `start --nats`) subscribes to them all for its console. Also the transport's own sources:
 * the publisher's drops and queue, the subscriber's rows folded and lag.
 */
import { connect, type NatsConnection, type Subscription } from 'nats';
import { hostname } from 'node:os';
import { z } from 'zod';
import {
  type Component,
  type ComponentHealth,
  healthLevel,
  type Logger,
  type ProcessHealth,
  silentLogger,
} from '../core/index.ts';
import type { FlowPublisher, FlowSubscriber } from './nats.ts';

export const HEALTH_SUBJECT_PREFIX = 'tsunagi.health';

/** A subject token: NATS subjects split on dots and treat `*` and `>` as wildcards. */
function subjectToken(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || '_';
}

export function healthSubject(role: string, id: string): string {
  return `${HEALTH_SUBJECT_PREFIX}.${subjectToken(role)}.${subjectToken(id)}`;
}

/** The default id of a reporting process: its host and pid. */
export function defaultHealthId(): string {
  return `${hostname()}-${process.pid}`;
}

const ComponentHealthSchema = z.object({
  component: z.string().max(64),
  level: z.enum(['ok', 'warning', 'loss']),
  handled: z.number().finite().min(0),
  dropped: z.number().finite().min(0),
  counters: z.record(z.string().max(64), z.number().finite()),
});
const ProcessHealthSchema = z.object({
  role: z.string().min(1).max(64),
  id: z.string().min(1).max(128),
  at: z.number().int().min(0),
  intervalMs: z.number().int().min(100).max(3_600_000),
  components: z.array(ComponentHealthSchema).max(32),
});

/** The publisher's health: rows acknowledged, rows dropped for any reason (a loss), the queue. */
export function publisherHealth(publisher: FlowPublisher): ComponentHealth {
  const s = publisher.stats;
  const dropped = publisher.droppedRows();
  const droppedByReason: Record<string, number> = {};
  for (const [reason, n] of Object.entries(s.dropped)) if (n > 0) droppedByReason[`dropped.${reason}`] = n;
  return {
    component: 'publisher',
    level: healthLevel(dropped, s.queuedBytes > publisher.config.publish.maxQueuedBytes / 2),
    handled: s.rows,
    dropped,
    counters: {
      published: s.rows,
      dropped,
      queuedRows: s.queuedRows,
      queuedBytes: s.queuedBytes,
      retries: s.retries,
      ...droppedByReason,
    },
  };
}

/** A detector worker's intake: rows folded, messages it could not decode, and its lag. */
export function subscriberHealth(subscriber: FlowSubscriber): ComponentHealth {
  const s = subscriber.stats;
  let lag = 0;
  for (const pending of s.pending.values()) lag += pending;
  let decodeErrors = 0;
  for (const n of Object.values(s.decodeErrors)) decodeErrors += n;
  return {
    component: 'detector',
    // Undecodable messages are acknowledged and skipped: their rows are lost.
    level: healthLevel(decodeErrors, s.sinkErrors > 0),
    handled: s.rows,
    dropped: decodeErrors,
    counters: {
      rowsFolded: s.rows,
      lagMessages: lag,
      decodeErrors,
      sinkErrors: s.sinkErrors,
      duplicates: s.duplicates,
    },
  };
}

export interface HealthPublisherConfig {
  url: string;
  role: string;
  id: string;
  intervalMs: number;
}

/** Publishes `take()` every interval (and once at start) on the process's health subject. */
export function createHealthPublisher(
  config: HealthPublisherConfig,
  deps: { take: () => ProcessHealth; logger?: Logger },
): Component {
  const logger = (deps.logger ?? silentLogger()).child({ component: 'health-publisher' });
  const subject = healthSubject(config.role, config.id);
  let nc: NatsConnection | undefined;
  let timer: NodeJS.Timeout | undefined;
  const send = () => {
    try {
      nc?.publish(subject, JSON.stringify(deps.take()));
    } catch (error) {
      logger.warn({ err: error }, 'health report not sent');
    }
  };
  return {
    name: 'health-publisher',
    async start() {
      nc = await connectHealth(config.url, `health-${config.role}`);
      send();
      timer = setInterval(send, config.intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      send(); // the last counts, so the hub sees what this process ended with
      await nc?.drain().catch(() => {});
      nc = undefined;
    },
  };
}

/** Subscribes to every process's health reports; a report that does not parse is counted and skipped. */
export function createHealthSubscriber(
  config: { url: string },
  deps: { onReport: (report: ProcessHealth) => void; logger?: Logger },
): Component & { readonly rejected: number } {
  const logger = (deps.logger ?? silentLogger()).child({ component: 'health-subscriber' });
  let nc: NatsConnection | undefined;
  let subscription: Subscription | undefined;
  let rejected = 0;
  return {
    name: 'health-subscriber',
    get rejected() {
      return rejected;
    },
    async start() {
      nc = await connectHealth(config.url, 'health-hub');
      subscription = nc.subscribe(`${HEALTH_SUBJECT_PREFIX}.>`, {
        callback: (error, message) => {
          if (error) return;
          let parsed;
          try {
            parsed = ProcessHealthSchema.safeParse(JSON.parse(new TextDecoder().decode(message.data)));
          } catch {
            parsed = undefined;
          }
          if (!parsed?.success) {
            rejected++;
            if (rejected === 1 || rejected % 100 === 0)
              logger.warn({ subject: message.subject, rejected }, 'health report unreadable; skipped');
            return;
          }
          deps.onReport(parsed.data);
        },
      });
    },
    async stop() {
      subscription?.unsubscribe();
      await nc?.drain().catch(() => {});
      nc = undefined;
    },
  };
}

async function connectHealth(url: string, name: string): Promise<NatsConnection> {
  try {
    return await connect({
      servers: url.split(',').map((s) => s.trim()),
      name: `tsunagi-${name}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
    });
  } catch (error) {
    throw new Error(`cannot connect to NATS at ${url}: ${(error as Error).message}`, { cause: error });
  }
}
