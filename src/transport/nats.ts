/** FlowBatches over NATS JetStream: a partitioning publisher with bounded in-flight publishes, and a pull-consumer subscriber. */
import {
  AckPolicy,
  ConsumerEvents,
  DeliverPolicy,
  DiscardPolicy,
  ErrorCode,
  RetentionPolicy,
  StorageType,
  connect,
  millis,
  nanos,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
  type StreamConfig,
} from 'nats';
import { randomBytes } from 'node:crypto';
import { Counter, Gauge, Registry } from 'prom-client';
import {
  type Component,
  type FlowBatch,
  type Logger,
  PrefixSet,
  silentLogger,
  totalCounter,
  UsageError,
} from '../core/index.ts';
import {
  DECODE_ERROR_KINDS,
  decodeFlowBatch,
  encodeExporterTable,
  encodeFlowRows,
  encodedSize,
  rowsPerMessage,
  type DecodeErrorKind,
  type ExporterTable,
} from './codec.ts';
import {
  effectiveStreamLimits,
  TransportConfig,
  type PublishSettings,
  type StreamSettings,
  type SubscribeSettings,
  type TransportConfigInput,
} from './config.ts';
import { assignPartitions, groupRows, type PartitionOptions } from './partition.ts';

export function parseTransportConfig(input: TransportConfigInput | TransportConfig = {}): TransportConfig {
  const result = TransportConfig.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new UsageError(`invalid transport configuration: ${problems.join('; ')}`);
  }
  return result.data;
}

export function partitionSubject(stream: StreamSettings, partition: number): string {
  return `${stream.subjectPrefix}.${partition}`;
}

async function connectTo(config: TransportConfig, role: string): Promise<NatsConnection> {
  try {
    return await connect({
      servers: config.url.split(',').map((s) => s.trim()),
      name: `${config.clientName}-${role}`,
      timeout: config.connectTimeoutMs,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
    });
  } catch (error) {
    throw new Error(`cannot connect to NATS at ${config.url}: ${(error as Error).message}`, { cause: error });
  }
}

function logStatus(nc: NatsConnection, logger: Logger): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'error')
        logger.warn({ event: s.type, data: String(s.data) }, 'NATS');
      else if (s.type === 'reconnect') logger.info({ event: s.type, data: String(s.data) }, 'NATS');
    }
  })().catch(() => {});
}

/** The stream configuration tsunagi wants: memory only, short max age, oldest dropped first. */
export function desiredStream(stream: StreamSettings): Partial<StreamConfig> & { name: string } {
  const limits = effectiveStreamLimits(stream);
  return {
    name: stream.name,
    subjects: [`${stream.subjectPrefix}.*`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.Memory,
    max_age: nanos(limits.maxAgeMs),
    max_bytes: limits.maxBytes,
    discard: DiscardPolicy.Old,
    num_replicas: stream.replicas,
    // Publishes carry message ids and are retried on timeout: the server drops a retry of a
    // message it already stored for as long as the message itself may live.
    duplicate_window: nanos(limits.maxAgeMs),
  };
}

/**
 * Creates the stream or brings its limits to the configured values. Refuses a stream that
 * keeps flows on disk or longer than configured when it may not correct it.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  stream: StreamSettings,
  logger: Logger,
): Promise<void> {
  const want = desiredStream(stream);
  let info;
  try {
    info = await jsm.streams.info(stream.name);
  } catch (error) {
    if ((error as { code?: string }).code !== '404') throw error;
    if (!stream.ensure)
      throw new UsageError(`NATS stream ${stream.name} does not exist (and stream.ensure is off)`);
    await jsm.streams.add(want);
    logger.info({ stream: stream.name, ...effectiveStreamLimits(stream) }, 'NATS stream created');
    return;
  }
  const have = info.config;
  if (have.storage !== StorageType.Memory) {
    throw new UsageError(
      `NATS stream ${stream.name} uses ${have.storage} storage; raw flows may only be kept in memory`,
    );
  }
  const subjectOk = have.subjects?.includes(want.subjects![0]!) ?? false;
  const limitsOk = have.max_age > 0 && have.max_age <= want.max_age! && have.max_bytes > 0;
  if (
    subjectOk &&
    limitsOk &&
    have.max_age === want.max_age &&
    have.max_bytes === want.max_bytes &&
    have.duplicate_window === want.duplicate_window
  )
    return;
  if (!stream.ensure) {
    if (subjectOk && limitsOk) return;
    throw new UsageError(
      `NATS stream ${stream.name} keeps flows ${have.max_age > 0 ? `${millis(have.max_age)} ms` : 'forever'} ` +
        `or lacks subject ${want.subjects![0]}; allow stream.ensure to correct it`,
    );
  }
  await jsm.streams.update(stream.name, { ...have, ...want, subjects: want.subjects! });
  logger.info({ stream: stream.name, ...effectiveStreamLimits(stream) }, 'NATS stream limits updated');
}

const DROP_REASONS = [
  'backpressure',
  'not_connected',
  'too_large',
  'encode_error',
  'publish_failed',
] as const;
type DropReason = (typeof DROP_REASONS)[number];
const PUBLISH_ERROR_KINDS = ['timeout', 'no_stream', 'other'] as const;
type PublishErrorKind = (typeof PUBLISH_ERROR_KINDS)[number];

export interface PublisherStats {
  /** Batches handed to publish(). */
  batches: number;
  /** Rows handed to publish(). */
  rowsIn: number;
  /** Messages, rows and bytes acknowledged by the stream. */
  messages: number;
  rows: number;
  bytes: number;
  /** Messages and bytes awaiting acknowledgement. */
  inFlight: number;
  inFlightBytes: number;
  /** Messages, rows and bytes waiting for in-flight room (memory, bounded by maxQueuedBytes). */
  queued: number;
  queuedRows: number;
  queuedBytes: number;
  /** Publishes tried again after a timeout or error (same message id). */
  retries: number;
  /** Rows acknowledged per partition (what balancePartitions weighs). */
  partitionRows: Float64Array;
  dropped: Record<DropReason, number>;
  errors: Record<PublishErrorKind, number>;
}

export interface FlowPublisher extends Component {
  readonly name: 'transport-publisher';
  /**
   * Splits the batch by partition and publishes it. Never blocks: what cannot be sent now
   * waits in a bounded memory queue; only rows past that bound are dropped, and every drop is
   * counted and logged. Returns the rows accepted (sent or queued). The batch may be reused
   * once this returns.
   */
  publish(batch: FlowBatch): number;
  /** Resolves when every message accepted so far has been acknowledged or has finally failed. */
  flush(): Promise<void>;
  /** Rows dropped so far, all reasons. */
  droppedRows(): number;
  readonly stats: PublisherStats;
  readonly config: TransportConfig;
}

export interface TransportDeps {
  logger?: Logger;
  registry?: Registry;
}

interface Pending {
  partition: number;
  data: Uint8Array;
  rows: number;
  id: string;
  attempt: number;
}

/** Logs drops at most once per interval per reason, with the rows dropped since the last line. */
function dropLogger(logger: Logger, intervalMs = 10_000) {
  const since = new Map<DropReason, { rows: number; at: number }>();
  return (reason: DropReason, rows: number, total: number) => {
    const now = Date.now();
    const entry = since.get(reason) ?? { rows: 0, at: 0 };
    entry.rows += rows;
    if (now - entry.at >= intervalMs) {
      logger.warn(
        { reason, rows: entry.rows, total },
        `flow rows dropped before the stream (${reason}); see tsunagi_transport_publish_dropped_rows_total`,
      );
      entry.rows = 0;
      entry.at = now;
    }
    since.set(reason, entry);
  };
}

function newPublisherStats(partitions: number): PublisherStats {
  return {
    batches: 0,
    rowsIn: 0,
    messages: 0,
    rows: 0,
    bytes: 0,
    inFlight: 0,
    inFlightBytes: 0,
    queued: 0,
    queuedRows: 0,
    queuedBytes: 0,
    retries: 0,
    partitionRows: new Float64Array(partitions),
    dropped: { backpressure: 0, not_connected: 0, too_large: 0, encode_error: 0, publish_failed: 0 },
    errors: { timeout: 0, no_stream: 0, other: 0 },
  };
}

/** Which side of a flow is the external key: the subscriber prefixes, checked as configuration. */
function publisherPartitioning(settings: PublishSettings): PartitionOptions {
  try {
    return { subscribers: new PrefixSet(settings.subscriberPrefixes), unknownSide: settings.unknownSide };
  } catch (error) {
    throw new UsageError(`transport.publish.subscriberPrefixes: ${(error as Error).message}`);
  }
}

function publishErrorKind(error: { code?: string }): PublishErrorKind {
  if (error.code === ErrorCode.Timeout) return 'timeout';
  if (error.code === ErrorCode.NoResponders) return 'no_stream';
  return 'other';
}

/**
 * Messages on their way to the stream: in flight up to maxInFlightBytes, the rest waiting in a
 * memory queue (bounded by the publisher), each tried again with its id until its attempts end.
 */
class Delivery {
  /** Set while connected. */
  client: JetStreamClient | undefined;
  private readonly queue: Pending[] = [];
  private head = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly stats: PublisherStats,
    private readonly settings: PublishSettings,
    private readonly subjects: readonly string[],
    private readonly logger: Logger,
    private readonly drop: (reason: DropReason, rows: number) => void,
  ) {}

  idle(): boolean {
    return this.stats.inFlight === 0 && this.stats.queued === 0;
  }

  /** Resolves when nothing is in flight or queued. */
  flush(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  hasRoom(size: number): boolean {
    return this.stats.inFlight === 0 || this.stats.inFlightBytes + size <= this.settings.maxInFlightBytes;
  }

  enqueue(message: Pending, front = false): void {
    const stats = this.stats;
    stats.queued++;
    stats.queuedRows += message.rows;
    stats.queuedBytes += message.data.length;
    if (front && this.head > 0) this.queue[--this.head] = message;
    else if (front) this.queue.unshift(message);
    else this.queue.push(message);
  }

  /** Forgets what is queued (at stop; the caller counts its rows as dropped). */
  clear(): void {
    this.queue.length = 0;
    this.head = 0;
    this.stats.queued = this.stats.queuedRows = this.stats.queuedBytes = 0;
  }

  send(client: JetStreamClient, message: Pending): void {
    const stats = this.stats;
    stats.inFlight++;
    stats.inFlightBytes += message.data.length;
    message.attempt++;
    client
      .publish(this.subjects[message.partition]!, message.data, {
        timeout: this.settings.timeoutMs,
        msgID: message.id,
      })
      .then(
        () => {
          stats.messages++;
          stats.rows += message.rows;
          stats.partitionRows[message.partition]! += message.rows;
          stats.bytes += message.data.length;
          this.settle(message.data.length);
        },
        (error: { code?: string; message?: string }) => this.failed(message, error),
      );
  }

  private failed(message: Pending, error: { code?: string; message?: string }): void {
    const stats = this.stats;
    const kind = publishErrorKind(error);
    stats.errors[kind]++;
    if (stats.errors[kind] === 1 || stats.errors[kind] % 1000 === 0) {
      this.logger.warn({ kind, err: error.message, count: stats.errors[kind] }, 'flow publish failed');
    }
    if (message.attempt < this.settings.attempts && this.client) {
      // Tried again first, with the same id: the stream drops it if the first one landed.
      stats.retries++;
      this.enqueue(message, true);
    } else {
      this.drop('publish_failed', message.rows);
    }
    this.settle(message.data.length);
  }

  private settle(size: number): void {
    this.stats.inFlight--;
    this.stats.inFlightBytes -= size;
    this.pump();
  }

  /** Sends queued messages while there is in-flight room. */
  private pump(): void {
    const client = this.client;
    const queue = this.queue;
    const stats = this.stats;
    while (this.head < queue.length && this.hasRoom(queue[this.head]!.data.length)) {
      const message = queue[this.head]!;
      queue[this.head++] = undefined as unknown as Pending;
      stats.queued--;
      stats.queuedRows -= message.rows;
      stats.queuedBytes -= message.data.length;
      if (!client) this.drop('not_connected', message.rows);
      else this.send(client, message);
    }
    if (this.head > 1024 && this.head * 2 > queue.length) {
      queue.splice(0, this.head);
      this.head = 0;
    }
    this.wakeIdle();
  }

  private wakeIdle(): void {
    if (this.idle() && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}

/**
 * Splits batches by partition into messages of at most maxMessageBytes, and hands them to the
 * delivery (at once when there is room, else queued, else dropped as backpressure).
 */
class BatchSplitter {
  maxMessageBytes: number;
  // Message ids: unique per publisher run, so the stream deduplicates retries only.
  private readonly runId = randomBytes(6).toString('base64url');
  private sequence = 0;
  // Scratch arrays, grown to the largest batch seen; reused for every batch.
  private ids = new Uint16Array(0);
  private rows = new Uint32Array(0);
  private readonly counts: Uint32Array;
  private readonly offsets: Uint32Array;

  constructor(
    private readonly partitions: number,
    private readonly partitionOptions: PartitionOptions,
    private readonly settings: PublishSettings,
    private readonly stats: PublisherStats,
    private readonly delivery: Delivery,
    private readonly drop: (reason: DropReason, rows: number) => void,
    private readonly logger: Logger,
  ) {
    this.maxMessageBytes = settings.maxMessageBytes;
    this.counts = new Uint32Array(partitions);
    this.offsets = new Uint32Array(partitions + 1);
  }

  /** Returns the rows accepted (sent or queued). */
  publish(batch: FlowBatch, client: JetStreamClient): number {
    const n = batch.length;
    if (this.ids.length < n) {
      this.ids = new Uint16Array(n);
      this.rows = new Uint32Array(n);
    }
    let table: ExporterTable;
    try {
      table = encodeExporterTable(batch.exporters);
    } catch (error) {
      this.drop('encode_error', n);
      this.logger.warn({ err: error }, 'batch cannot be encoded');
      return 0;
    }
    assignPartitions(batch, this.partitions, this.ids, this.counts, this.partitionOptions);
    groupRows(this.ids, n, this.counts, this.partitions, this.rows, this.offsets);
    let accepted = 0;
    for (let p = 0; p < this.partitions; p++) {
      const start = this.offsets[p]!;
      const end = this.offsets[p + 1]!;
      if (start !== end) accepted += this.publishPartition(batch, client, table, p, start, end);
    }
    return accepted;
  }

  /** The rows `rows[start, end)` of partition `p`, in as many messages as their size needs. */
  private publishPartition(
    batch: FlowBatch,
    client: JetStreamClient,
    table: ExporterTable,
    p: number,
    start: number,
    end: number,
  ): number {
    const rows = this.rows;
    let hasV6 = false;
    for (let k = start; k < end && !hasV6; k++) hasV6 = batch.ipVersion[rows[k]!] === 6;
    const perMessage = rowsPerMessage(this.maxMessageBytes, hasV6, table);
    if (perMessage === 0) {
      this.drop('too_large', end - start);
      return 0;
    }
    let accepted = 0;
    for (let k = start; k < end; k += perMessage) {
      const chunkEnd = Math.min(end, k + perMessage);
      const size = encodedSize(chunkEnd - k, hasV6, table);
      const direct = this.stats.queued === 0 && this.delivery.hasRoom(size);
      // Checked before encoding, so a message that would be dropped costs no work.
      if (!direct && this.stats.queuedBytes + size > this.settings.maxQueuedBytes) {
        this.drop('backpressure', chunkEnd - k);
        continue;
      }
      const message: Pending = {
        partition: p,
        data: encodeFlowRows(batch, rows, k, chunkEnd, table),
        rows: chunkEnd - k,
        id: `${this.runId}-${this.sequence++}`,
        attempt: 0,
      };
      if (direct) this.delivery.send(client, message);
      else this.delivery.enqueue(message);
      accepted += chunkEnd - k;
    }
    return accepted;
  }
}

/** Collector side: publishes FlowBatches, partitioned by external key, to the flow stream. */
export function createFlowPublisher(
  input: TransportConfigInput | TransportConfig,
  deps: TransportDeps = {},
): FlowPublisher {
  const config = parseTransportConfig(input);
  const logger = (deps.logger ?? silentLogger()).child({ component: 'transport-publisher' });
  const registry = deps.registry ?? new Registry();
  const { stream, publish: settings } = config;
  const partitions = stream.partitions;
  const subjects = Array.from({ length: partitions }, (_, p) => partitionSubject(stream, p));
  const partitionOptions = publisherPartitioning(settings);

  const stats = newPublisherStats(partitions);
  registerPublisherMetrics(registry, stats);
  const logDrop = dropLogger(logger);
  const drop = (reason: DropReason, rows: number) => {
    stats.dropped[reason] += rows;
    logDrop(reason, rows, stats.dropped[reason]);
  };
  const delivery = new Delivery(stats, settings, subjects, logger, drop);
  const splitter = new BatchSplitter(partitions, partitionOptions, settings, stats, delivery, drop, logger);
  let nc: NatsConnection | undefined;
  const flush = () => delivery.flush();

  return {
    name: 'transport-publisher',
    stats,
    config,
    droppedRows: () => DROP_REASONS.reduce((sum, reason) => sum + stats.dropped[reason], 0),
    async start() {
      nc = await connectTo(config, 'publisher');
      try {
        const jsm = await nc.jetstreamManager();
        await ensureStream(jsm, stream, logger);
        delivery.client = nc.jetstream();
      } catch (error) {
        await nc.close();
        nc = undefined;
        throw error;
      }
      splitter.maxMessageBytes = Math.min(
        settings.maxMessageBytes,
        nc.info?.max_payload ?? settings.maxMessageBytes,
      );
      logStatus(nc, logger);
      logger.info(
        { url: config.url, stream: stream.name, partitions, maxMessageBytes: splitter.maxMessageBytes },
        'flow publisher connected',
      );
    },
    async stop() {
      const connection = nc;
      if (!connection) return;
      // Everything accepted gets its chance to land, bounded by the attempts' time.
      const bound = settings.timeoutMs * settings.attempts + 500;
      await Promise.race([flush(), new Promise((resolve) => setTimeout(resolve, bound).unref())]);
      delivery.client = undefined;
      nc = undefined;
      if (stats.queuedRows > 0) drop('not_connected', stats.queuedRows);
      delivery.clear();
      await connection.drain().catch((error: unknown) => logger.warn({ err: error }, 'NATS drain failed'));
    },
    flush,
    publish(batch) {
      stats.batches++;
      if (batch.length === 0) return 0;
      stats.rowsIn += batch.length;
      const client = delivery.client;
      if (!client) {
        drop('not_connected', batch.length);
        return 0;
      }
      return splitter.publish(batch, client);
    },
  };
}

function registerPublisherMetrics(registry: Registry, stats: PublisherStats): void {
  const total = (name: string, help: string, value: () => number) =>
    totalCounter(registry, name, help, value);
  total(
    'tsunagi_transport_publish_batches_total',
    'FlowBatches handed to the publisher',
    () => stats.batches,
  );
  total(
    'tsunagi_transport_publish_messages_total',
    'Flow messages acknowledged by the stream',
    () => stats.messages,
  );
  total('tsunagi_transport_publish_rows_total', 'Flow rows acknowledged by the stream', () => stats.rows);
  total(
    'tsunagi_transport_publish_bytes_total',
    'Flow message bytes acknowledged by the stream',
    () => stats.bytes,
  );
  new Counter({
    name: 'tsunagi_transport_publish_dropped_rows_total',
    help: 'Flow rows not delivered to the stream, by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const reason of DROP_REASONS) this.inc({ reason }, stats.dropped[reason]);
    },
  });
  new Counter({
    name: 'tsunagi_transport_publish_errors_total',
    help: 'Failed flow publishes, by kind',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const kind of PUBLISH_ERROR_KINDS) this.inc({ kind }, stats.errors[kind]);
    },
  });
  new Gauge({
    name: 'tsunagi_transport_publish_in_flight_bytes',
    help: 'Bytes of flow messages awaiting the stream acknowledgement',
    registers: [registry],
    collect() {
      this.set(stats.inFlightBytes);
    },
  });
  new Counter({
    name: 'tsunagi_transport_publish_partition_rows_total',
    help: 'Flow rows acknowledged per partition (the load balancePartitions weighs)',
    labelNames: ['partition'],
    registers: [registry],
    collect() {
      this.reset();
      stats.partitionRows.forEach((rows, partition) => {
        if (rows > 0) this.inc({ partition: String(partition) }, rows);
      });
    },
  });
  new Gauge({
    name: 'tsunagi_transport_publish_queued_bytes',
    help: 'Bytes of flow messages waiting in memory for in-flight room (backpressure)',
    registers: [registry],
    collect() {
      this.set(stats.queuedBytes);
    },
  });
  total(
    'tsunagi_transport_publish_rows_in_total',
    'Flow rows handed to the publisher (= acknowledged + dropped + in flight + queued)',
    () => stats.rowsIn,
  );
  total(
    'tsunagi_transport_publish_retries_total',
    'Flow publishes tried again after a timeout or error (same message id, deduplicated by the stream)',
    () => stats.retries,
  );
}

const WARN_EVENTS = new Set<string>([
  ConsumerEvents.HeartbeatsMissed,
  ConsumerEvents.ConsumerNotFound,
  ConsumerEvents.StreamNotFound,
  ConsumerEvents.ConsumerDeleted,
  ConsumerEvents.NoResponders,
]);

/** Receives each decoded batch with its partition; the message is acknowledged when this returns (or resolves). */
export type FlowBatchHandler = (batch: FlowBatch, partition: number) => void | Promise<void>;

export interface SubscriberStats {
  messages: number;
  rows: number;
  bytes: number;
  decodeErrors: Record<DecodeErrorKind, number>;
  sinkErrors: number;
  /** Redelivered messages already folded (stream sequence at or below the last one): acknowledged, skipped. */
  duplicates: number;
  /** Messages waiting in the stream for each owned partition, as of its last delivery. */
  pending: Map<number, number>;
}

export interface FlowSubscriber extends Component {
  readonly name: 'transport-subscriber';
  /** The partitions this subscriber consumes. */
  readonly partitions: readonly number[];
  /** Stream sequence of the last message folded, per partition (for a checkpoint). */
  positions(): Map<number, number>;
  readonly stats: SubscriberStats;
  readonly config: TransportConfig;
}

/** The partitions a subscriber consumes: those configured (checked), or every one. */
function ownedPartitions(settings: SubscribeSettings, stream: StreamSettings): number[] {
  const owned = settings.partitions.length > 0 ? [...new Set(settings.partitions)].sort((a, b) => a - b) : [];
  if (owned.length === 0) for (let p = 0; p < stream.partitions; p++) owned.push(p);
  const outside = owned.filter((p) => p >= stream.partitions);
  if (outside.length > 0) {
    throw new UsageError(
      `transport.subscribe.partitions ${outside.join(',')} outside 0..${stream.partitions - 1}`,
    );
  }
  return owned;
}

function newSubscriberStats(): SubscriberStats {
  return {
    messages: 0,
    rows: 0,
    bytes: 0,
    decodeErrors: Object.fromEntries(DECODE_ERROR_KINDS.map((k) => [k, 0])) as Record<
      DecodeErrorKind,
      number
    >,
    sinkErrors: 0,
    duplicates: 0,
    pending: new Map(),
  };
}

/** A partition's consumer: durable (named per partition) or ephemeral, pull, explicit acks. */
function consumerConfigFor(
  settings: SubscribeSettings,
  stream: StreamSettings,
  partition: number,
): Partial<ConsumerConfig> {
  const consumerConfig: Partial<ConsumerConfig> = {
    ack_policy: AckPolicy.Explicit,
    deliver_policy: settings.deliver === 'all' ? DeliverPolicy.All : DeliverPolicy.New,
    filter_subject: partitionSubject(stream, partition),
    ack_wait: nanos(settings.ackWaitMs),
    max_ack_pending: settings.fetchMessages * 4,
  };
  if (settings.durable) consumerConfig.durable_name = `${settings.durable}-p${partition}`;
  else consumerConfig.inactive_threshold = nanos(settings.inactiveMs);
  return consumerConfig;
}

/**
 * Restored from a checkpoint: the durable consumer starts again after `resumeAt`, whatever it
 * acknowledged since (that state died with the process).
 */
async function resumeDurable(
  jsm: JetStreamManager,
  stream: StreamSettings,
  consumerConfig: Partial<ConsumerConfig>,
  partition: number,
  resumeAt: number,
  logger: Logger,
): Promise<void> {
  await jsm.consumers.delete(stream.name, consumerConfig.durable_name!).catch(() => false);
  const firstSeq = (await jsm.streams.info(stream.name)).state.first_seq;
  if (resumeAt + 1 < firstSeq)
    logger.error(
      { partition, checkpoint: resumeAt, firstInStream: firstSeq },
      'flows aged out of the stream while this worker was down: size stream.sizing for longer downtime',
    );
  consumerConfig.deliver_policy = DeliverPolicy.StartSequence;
  consumerConfig.opt_start_seq = resumeAt + 1;
}

/**
 * Missed heartbeats or a consumer deleted under us are worth a warning: the client keeps
 * retrying, but no flows arrive meanwhile.
 */
function watchConsumer(partition: number, messages: ConsumerMessages, logger: Logger): void {
  void (async () => {
    for await (const s of await messages.status()) {
      if (WARN_EVENTS.has(s.type))
        logger.warn({ partition, event: s.type, data: s.data }, 'flow consumer event');
    }
  })().catch(() => {});
}

/**
 * Folds one partition's messages in stream order: decodes each, hands it to the sink, then
 * acknowledges it; redeliveries of folded messages are acknowledged and skipped.
 */
async function consumeLoop(
  partition: number,
  messages: ConsumerMessages,
  sink: FlowBatchHandler,
  maxRows: number,
  stats: SubscriberStats,
  lastFolded: Map<number, number>,
  logger: Logger,
): Promise<void> {
  for await (const m of messages) {
    stats.messages++;
    stats.bytes += m.data.length;
    stats.pending.set(partition, m.info.pending);
    if (m.seq <= (lastFolded.get(partition) ?? 0)) {
      stats.duplicates++;
      m.ack();
      continue;
    }
    const result = decodeFlowBatch(m.data, { maxRows });
    if (!result.ok) {
      stats.decodeErrors[result.error]++;
      logger.debug({ partition, error: result.error, detail: result.detail }, 'flow message refused');
      m.term();
      continue;
    }
    try {
      await sink(result.batch, partition);
    } catch (error) {
      // A batch the sink cannot take is not retried: redelivery would fail the same way.
      stats.sinkErrors++;
      logger.warn({ err: error, partition }, 'flow sink failed; message dropped');
      m.term();
      continue;
    }
    stats.rows += result.batch.length;
    lastFolded.set(partition, m.seq);
    m.ack();
  }
}

/** Detector side: consumes the owned partitions and hands each batch to `sink`, acknowledging after it returns. */
export function createFlowSubscriber(
  input: TransportConfigInput | TransportConfig,
  deps: TransportDeps & {
    sink: FlowBatchHandler;
    /** Durable consumers restart after these stream sequences (a restored checkpoint). */
    resumeAfter?: ReadonlyMap<number, number>;
  },
): FlowSubscriber {
  const config = parseTransportConfig(input);
  const logger = (deps.logger ?? silentLogger()).child({ component: 'transport-subscriber' });
  const registry = deps.registry ?? new Registry();
  const { stream, subscribe: settings } = config;
  const owned = ownedPartitions(settings, stream);
  const stats = newSubscriberStats();
  // Stream sequence of the last message folded per partition: a consumer delivers a partition in
  // stream order, so anything at or below it is a redelivery of a folded message.
  const lastFolded = new Map<number, number>();
  registerSubscriberMetrics(registry, stats);

  let nc: NatsConnection | undefined;
  let jsm: JetStreamManager | undefined;
  const running: Array<{
    partition: number;
    consumer: string;
    messages: ConsumerMessages;
    done: Promise<void>;
  }> = [];

  const consume = async (manager: JetStreamManager, js: JetStreamClient, partition: number) => {
    const consumerConfig = consumerConfigFor(settings, stream, partition);
    const resumeAt = deps.resumeAfter?.get(partition);
    if (resumeAt !== undefined && settings.durable) {
      await resumeDurable(manager, stream, consumerConfig, partition, resumeAt, logger);
      lastFolded.set(partition, resumeAt);
    }
    const info = await manager.consumers.add(stream.name, consumerConfig);
    const consumer = await js.consumers.get(stream.name, info.name);
    const messages = await consumer.consume({ max_messages: settings.fetchMessages });
    const done = consumeLoop(
      partition,
      messages,
      deps.sink,
      settings.maxRows,
      stats,
      lastFolded,
      logger,
    ).catch((error: unknown) => {
      logger.error({ err: error, partition }, 'flow consumer stopped');
    });
    watchConsumer(partition, messages, logger);
    running.push({ partition, consumer: info.name, messages, done });
  };

  const stop = async (): Promise<void> => {
    const connection = nc;
    nc = undefined;
    const loops = running.splice(0);
    for (const r of loops) r.messages.stop();
    await Promise.all(loops.map((r) => r.done));
    if (jsm && !settings.durable) {
      for (const r of loops) await jsm.consumers.delete(stream.name, r.consumer).catch(() => false);
    }
    jsm = undefined;
    if (connection)
      await connection.drain().catch((error: unknown) => logger.warn({ err: error }, 'NATS drain failed'));
  };

  return {
    name: 'transport-subscriber',
    partitions: owned,
    positions: () => new Map(lastFolded),
    stats,
    config,
    async start() {
      nc = await connectTo(config, 'subscriber');
      try {
        jsm = await nc.jetstreamManager();
        await ensureStream(jsm, stream, logger);
        const js = nc.jetstream();
        for (const partition of owned) await consume(jsm, js, partition);
      } catch (error) {
        await stop();
        throw error;
      }
      logStatus(nc, logger);
      logger.info(
        { url: config.url, stream: stream.name, partitions: owned, durable: settings.durable || null },
        'flow subscriber started',
      );
    },
    stop,
  };
}

function registerSubscriberMetrics(registry: Registry, stats: SubscriberStats): void {
  const total = (name: string, help: string, value: () => number) =>
    totalCounter(registry, name, help, value);
  total('tsunagi_transport_consume_messages_total', 'Flow messages received', () => stats.messages);
  total(
    'tsunagi_transport_consume_rows_total',
    'Flow rows handed to the sink and acknowledged',
    () => stats.rows,
  );
  total('tsunagi_transport_consume_bytes_total', 'Flow message bytes received', () => stats.bytes);
  total(
    'tsunagi_transport_consume_duplicates_total',
    'Redelivered flow messages already folded (acknowledged and skipped)',
    () => stats.duplicates,
  );
  total(
    'tsunagi_transport_consume_sink_errors_total',
    'Batches the sink threw on (dropped)',
    () => stats.sinkErrors,
  );
  new Counter({
    name: 'tsunagi_transport_consume_decode_errors_total',
    help: 'Flow messages refused by the decoder, by kind',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const kind of DECODE_ERROR_KINDS) this.inc({ kind }, stats.decodeErrors[kind]);
    },
  });
  new Gauge({
    name: 'tsunagi_transport_consume_pending',
    help: 'Messages waiting in the stream per owned partition (consumer lag), as of its last delivery',
    labelNames: ['partition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [partition, pending] of stats.pending) this.set({ partition: String(partition) }, pending);
    },
  });
}
