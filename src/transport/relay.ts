/**
 * A relay of small messages on core NATS subjects (not JetStream: a follower that was away
 * catches up from its own store or list, not from the bus). `tsunagi start|serve --nats` hands it
 * to intel, whose change feed goes out and comes in on `tsunagi.intel.<kind>`; intel's relay
 * interface is structural, so neither room imports the other.
 */
import { connect, type NatsConnection, type Subscription } from 'nats';
import type { Component, Logger } from '../core/index.ts';

export interface NatsRelayConfig {
  /** NATS server URL(s), comma-separated. */
  url: string;
  /** Connection name shown by the server (`tsunagi-<name>`). */
  name: string;
}

export interface NatsRelay extends Component {
  publish(subject: string, body: Uint8Array): void;
  /** Every message on `<prefix>.>`; subscriptions made before start begin at start. */
  subscribe(prefix: string, onMessage: (subject: string, body: Uint8Array) => void): () => void;
  /** Messages handed to NATS, and those that could not be (not connected, or the client threw). */
  readonly stats: Readonly<{ published: number; unsent: number }>;
}

interface Wanted {
  subject: string;
  onMessage: (subject: string, body: Uint8Array) => void;
  subscription?: Subscription;
}

export function createNatsRelay(config: NatsRelayConfig, deps: { logger: Logger }): NatsRelay {
  const logger = deps.logger.child({ component: 'nats-relay' });
  const stats = { published: 0, unsent: 0 };
  const wanted = new Set<Wanted>();
  let nc: NatsConnection | undefined;

  const attach = (connection: NatsConnection, want: Wanted) => {
    want.subscription = connection.subscribe(want.subject, {
      callback: (error, message) => {
        if (error) {
          logger.warn({ err: error, subject: want.subject }, 'relay subscription failed');
          return;
        }
        want.onMessage(message.subject, message.data);
      },
    });
  };

  return {
    name: 'nats-relay',
    stats,
    async start() {
      try {
        nc = await connect({
          servers: config.url.split(',').map((s) => s.trim()),
          name: `tsunagi-${config.name}`,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1000,
          // This process announced its own changes already: its messages are not sent back to it.
          noEcho: true,
        });
      } catch (error) {
        throw new Error(`cannot connect to NATS at ${config.url}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      for (const want of wanted) attach(nc, want);
    },
    async stop() {
      const connection = nc;
      nc = undefined;
      for (const want of wanted) want.subscription = undefined;
      // Drain: what was published goes out before the connection closes.
      await connection?.drain().catch(() => {});
    },
    publish(subject, body) {
      if (!nc) {
        stats.unsent++;
        return;
      }
      try {
        nc.publish(subject, body);
        stats.published++;
      } catch (error) {
        stats.unsent++;
        if (stats.unsent === 1 || stats.unsent % 100 === 0)
          logger.warn({ err: error, subject, unsent: stats.unsent }, 'relay message not sent');
      }
    },
    subscribe(prefix, onMessage) {
      const want: Wanted = { subject: `${prefix}.>`, onMessage };
      wanted.add(want);
      if (nc) attach(nc, want);
      return () => {
        wanted.delete(want);
        want.subscription?.unsubscribe();
      };
    },
  };
}
