/**
 * C&C candidates from detector workers to the hub over NATS JetStream: `detect --nats` workers
 * announce and withdraw on `<subject>.<worker>`; the hub (`serve --nats`, `start --nats`, through
 * intake.ts) consumes them with one durable consumer that all its replicas share, and writes intel,
 * acknowledging only after the write. At-least-once: a
 * message seen twice records one more sighting of the same maximum confidence, or withdraws an
 * already withdrawn report (a no-op), so redelivery changes nothing.
 *
 * Only the shareable fields travel (address, port, protocol, confidence, family, the reason of a
 * withdrawal): no flow, time or subscriber address. The stream may therefore use file storage.
 */
import { randomBytes } from 'node:crypto';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  connect,
  nanos,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { type Component, type Logger, silentLogger, totalCounter, UsageError } from '../core/index.ts';

export const CandidateStreamConfig = z
  .object({
    /** Empty: the flow stream's server (or nats://127.0.0.1:4222). */
    url: z.string().default(''),
    name: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .default('TSUNAGI_CANDIDATES'),
    subjectPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/)
      .default('tsunagi.candidates'),
    /** Announcements older than this are gone: a hub down longer replays from workers' state only. */
    maxAgeMs: z
      .number()
      .int()
      .min(60_000)
      .default(7 * 24 * 3600_000),
    /** The hub's durable consumer. */
    durable: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,48}$/)
      .default('tsunagi-hub'),
    connectTimeoutMs: z.number().int().min(100).default(5000),
  })
  .prefault({});
export type CandidateStreamConfig = z.infer<typeof CandidateStreamConfig>;

export const CandidateMessage = z.discriminatedUnion('op', [
  z.object({
    v: z.literal(1),
    op: z.literal('announce'),
    worker: z.string().min(1).max(64),
    ip: z.string().min(2).max(45),
    port: z.number().int().min(0).max(65535),
    proto: z.number().int().min(0).max(255),
    confidence: z.number().min(0).max(100),
    family: z.string().max(100),
  }),
  z.object({
    v: z.literal(1),
    op: z.literal('withdraw'),
    worker: z.string().min(1).max(64),
    ip: z.string().min(2).max(45),
    port: z.number().int().min(0).max(65535),
    proto: z.number().int().min(0).max(255),
    reason: z.string().min(1).max(200),
  }),
]);
export type CandidateMessage = z.infer<typeof CandidateMessage>;

async function connectNats(config: CandidateStreamConfig, name: string): Promise<NatsConnection> {
  try {
    return await connect({
      servers: (config.url || 'nats://127.0.0.1:4222').split(',').map((s) => s.trim()),
      name,
      timeout: config.connectTimeoutMs,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
    });
  } catch (error) {
    throw new Error(`cannot connect to NATS at ${config.url}: ${(error as Error).message}`, { cause: error });
  }
}

async function ensureCandidateStream(nc: NatsConnection, config: CandidateStreamConfig): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const want = {
    name: config.name,
    subjects: [`${config.subjectPrefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(config.maxAgeMs),
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(120_000),
  };
  try {
    await jsm.streams.info(config.name);
    await jsm.streams.update(config.name, want);
  } catch (error) {
    if ((error as { code?: string }).code !== '404') throw error;
    await jsm.streams.add(want);
  }
}

export interface CandidatePublisher extends Component {
  readonly name: 'candidate-publisher';
  announce(c: { ip: string; port: number; proto: number; confidence: number; family: string }): void;
  withdraw(c: { ip: string; port: number; proto: number }, reason: string): void;
  /** Resolves once every message so far is stored in the stream (or finally failed). */
  flush(): Promise<void>;
  readonly stats: { sent: number; failed: number; pending: number };
}

/** Worker side: messages go out in order, each retried until stored (same id: deduplicated). */
export function createCandidatePublisher(
  input: z.input<typeof CandidateStreamConfig>,
  deps: { worker: string; logger?: Logger; registry?: Registry },
): CandidatePublisher {
  const config = CandidateStreamConfig.parse(input);
  const logger = (deps.logger ?? silentLogger()).child({ component: 'candidate-publisher' });
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(deps.worker))
    throw new UsageError(`worker name "${deps.worker}": letters, digits, _ and - only`);
  const subject = `${config.subjectPrefix}.${deps.worker}`;
  const stats = { sent: 0, failed: 0, pending: 0 };
  const registry = deps.registry ?? new Registry();
  totalCounter(
    registry,
    'tsunagi_candidates_sent_total',
    'Candidate messages stored in the hub stream',
    () => stats.sent,
  );
  totalCounter(
    registry,
    'tsunagi_candidates_send_failed_total',
    'Candidate messages given up after retries (logged)',
    () => stats.failed,
  );
  const runId = randomBytes(6).toString('base64url');
  let sequence = 0;
  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  let chain = Promise.resolve();

  const send = (message: CandidateMessage) => {
    const id = `${deps.worker}-${runId}-${sequence++}`;
    const data = new TextEncoder().encode(JSON.stringify(message));
    stats.pending++;
    chain = chain.then(async () => {
      for (let attempt = 1; ; attempt++) {
        const client = js;
        try {
          if (!client) throw new Error('not connected');
          await client.publish(subject, data, { msgID: id, timeout: 5000 });
          stats.sent++;
          break;
        } catch (error) {
          if (attempt >= 10 || !client) {
            stats.failed++;
            logger.error(
              { err: (error as Error).message, op: message.op, ip: message.ip, port: message.port },
              'candidate message not delivered to the hub stream',
            );
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 200 * 2 ** attempt)));
        }
      }
      stats.pending--;
    });
  };

  return {
    name: 'candidate-publisher',
    stats,
    async start() {
      nc = await connectNats(config, `tsunagi-worker-${deps.worker}`);
      try {
        await ensureCandidateStream(nc, config);
      } catch (error) {
        await nc.close();
        nc = undefined;
        throw error;
      }
      js = nc.jetstream();
    },
    async stop() {
      await chain;
      js = undefined;
      const connection = nc;
      nc = undefined;
      await connection?.drain().catch(() => undefined);
    },
    flush: () => chain,
    announce(c) {
      send({ v: 1, op: 'announce', worker: deps.worker, ...c });
    },
    withdraw(c, reason) {
      send({ v: 1, op: 'withdraw', worker: deps.worker, ip: c.ip, port: c.port, proto: c.proto, reason });
    },
  };
}

/**
 * The hub's durable consumer, shared by every hub replica (a work queue: each message goes to one
 * of them) and strictly ordered: one message unacknowledged at a time, across all replicas, so an
 * announcement and the withdrawal after it are written in the order the worker sent them even
 * when two replicas take them. Candidates are few (thousands a day), so one at a time is plenty.
 */
async function ensureHubConsumer(jsm: JetStreamManager, config: CandidateStreamConfig): Promise<void> {
  const want = { ack_wait: nanos(30_000), max_ack_pending: MAX_ACK_PENDING };
  try {
    const info = await jsm.consumers.info(config.name, config.durable);
    if (info.config.max_ack_pending !== want.max_ack_pending || info.config.ack_wait !== want.ack_wait)
      await jsm.consumers.update(config.name, config.durable, want);
  } catch (error) {
    if ((error as { code?: string }).code !== '404') throw error;
    // Two replicas starting together both add it: the same configuration is accepted twice.
    await jsm.consumers.add(config.name, {
      durable_name: config.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: `${config.subjectPrefix}.>`,
      ...want,
    });
  }
}
const MAX_ACK_PENDING = 1;

export interface CandidateConsumer extends Component {
  readonly name: 'candidate-consumer';
  readonly stats: { received: number; applied: number; invalid: number; failed: number };
}

/** Hub side: applies each message (announce or withdraw) and acknowledges after it is written. */
export function createCandidateConsumer(
  input: z.input<typeof CandidateStreamConfig>,
  deps: { apply: (message: CandidateMessage) => Promise<void>; logger?: Logger; registry?: Registry },
): CandidateConsumer {
  const config = CandidateStreamConfig.parse(input);
  const logger = (deps.logger ?? silentLogger()).child({ component: 'candidate-consumer' });
  const stats = { received: 0, applied: 0, invalid: 0, failed: 0 };
  const registry = deps.registry ?? new Registry();
  totalCounter(
    registry,
    'tsunagi_candidates_applied_total',
    'Worker candidate messages written to intel',
    () => stats.applied,
  );
  totalCounter(
    registry,
    'tsunagi_candidates_invalid_total',
    'Worker candidate messages refused (not a candidate message)',
    () => stats.invalid,
  );
  let nc: NatsConnection | undefined;
  let messages: ConsumerMessages | undefined;
  let done: Promise<void> | undefined;

  const loop = async (source: ConsumerMessages) => {
    for await (const m of source) {
      stats.received++;
      let message: CandidateMessage;
      try {
        message = CandidateMessage.parse(JSON.parse(new TextDecoder().decode(m.data)));
      } catch {
        stats.invalid++;
        if (stats.invalid === 1 || stats.invalid % 100 === 0)
          logger.warn({ subject: m.subject, count: stats.invalid }, 'candidate message refused');
        m.term();
        continue;
      }
      try {
        await deps.apply(message);
        stats.applied++;
        // Confirmed, so a reconnect in between cannot hand the message to another replica again.
        await m
          .ackAck()
          .catch((error: unknown) =>
            logger.warn({ err: error }, 'candidate acknowledgement not confirmed; it may be applied again'),
          );
      } catch (error) {
        // Intel unavailable (database down): delivered again later.
        stats.failed++;
        logger.warn({ err: error }, 'candidate message not applied; will be delivered again');
        m.nak(5000);
      }
    }
  };

  return {
    name: 'candidate-consumer',
    stats,
    async start() {
      nc = await connectNats(config, 'tsunagi-hub-candidates');
      try {
        await ensureCandidateStream(nc, config);
        await ensureHubConsumer(await nc.jetstreamManager(), config);
        const consumer = await nc.jetstream().consumers.get(config.name, config.durable);
        messages = await consumer.consume({ max_messages: 64 });
        done = loop(messages).catch((error: unknown) =>
          logger.error({ err: error }, 'candidate consumer stopped'),
        );
      } catch (error) {
        await nc.close();
        nc = undefined;
        throw error;
      }
      logger.info({ stream: config.name, durable: config.durable }, 'consuming worker candidates');
    },
    async stop() {
      messages?.stop();
      await done;
      const connection = nc;
      nc = undefined;
      await connection?.drain().catch(() => undefined);
    },
  };
}
