/**
 * Live updates as server-sent events on GET /console/api/live (the browser reads it with fetch so
 * the token travels in the Authorization header, never in a URL). One subscription to intel's
 * change feed serves every client; changes arriving within `live.batchMs` go out together, each
 * only to clients whose tier may see it, in the shape their tier may see, followed by one
 * "changed" summary. A client that stops reading is dropped, so memory stays bounded.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../core/index.ts';
import type { ChangeFeed, IndicatorChange, Tier } from '../intel/index.ts';
import { HttpError, principalOf, StreamSlots, type PublicNoticeDecision } from '../share/index.ts';
import type { ConsoleConfig } from './config.ts';
import type { ConsoleShare } from './deps.ts';
import { viewOf, visibleAt } from './view.ts';

interface Client {
  tier: Tier;
  write(chunk: string): boolean;
  bufferedBytes(): number;
  close(): void;
}

/** A client further behind than this is dropped rather than buffered without end. */
const MAX_BUFFERED_BYTES = 1 << 20;
/** At most this many indicators go out one by one per batch: a huge import is summarised by "changed". */
const MAX_SENT_PER_BATCH = 5000;

export interface LiveFeed {
  readonly clients: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Sends the changes waiting now instead of at the end of the batch window; returns how many there were. */
  flush(): Promise<number>;
}

export const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export function registerLive(
  app: FastifyInstance,
  feed: Pick<ChangeFeed, 'subscribe'>,
  share: Pick<ConsoleShare, 'publicNoticeDecisions' | 'recordAudit'>,
  config: ConsoleConfig,
  deps: { registry: Registry; logger: Logger; onChange: () => Promise<void> | void },
): LiveFeed {
  const clients = new Set<Client>();
  const counts = { sent: 0, dropped: 0 };
  let waiting: IndicatorChange[] = [];
  let waitingTotal = 0;
  let batchTimer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let sending: Promise<number> = Promise.resolve(0);

  registerLiveMetrics(deps.registry, clients, counts);

  function send(client: Client, event: string, data: unknown): void {
    client.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    counts.sent++;
    if (client.bufferedBytes() > MAX_BUFFERED_BYTES) {
      counts.dropped++;
      clients.delete(client);
      client.close();
    }
  }

  /** One change to every client whose tier may see it, in the shape that tier may see (built once a tier). */
  function sendChange(
    { kind, indicator }: IndicatorChange,
    decision: PublicNoticeDecision | undefined,
    now: Date,
  ): void {
    const views = new Map<Tier, unknown>();
    for (const client of clients) {
      // The release rule decides, per client, what this change may tell it.
      if (!visibleAt(indicator, client.tier, undefined, decision)) continue;
      let view = views.get(client.tier);
      if (!view)
        views.set(
          client.tier,
          (view = {
            change: kind === 'indicator.added' ? 'created' : 'updated',
            indicator: viewOf(indicator, client.tier, now, decision),
          }),
        );
      send(client, 'indicator', view);
    }
  }

  function onChangeEvent(change: IndicatorChange): void {
    waitingTotal++;
    if (waiting.length < MAX_SENT_PER_BATCH) waiting.push(change);
    batchTimer ??= setTimeout(() => {
      flush().catch((error: unknown) => deps.logger.error({ err: error }, 'console live batch failed'));
    }, config.live.batchMs);
  }

  async function sendBatch(changes: readonly IndicatorChange[], total: number): Promise<number> {
    if (total === 0) return 0;
    if (clients.size > 0 && changes.length > 0) {
      const now = new Date();
      // Public notice holds what the analysis centre approved: its decisions, when a public reader listens.
      const decisions = [...clients].some((c) => c.tier === 'public')
        ? await share.publicNoticeDecisions(changes.map((c) => c.indicator.id))
        : new Map<string, PublicNoticeDecision>();
      for (const change of changes) sendChange(change, decisions.get(change.indicator.id), now);
    }
    // Counts first, so a client refetching on "changed" sees the new numbers.
    await deps.onChange();
    for (const client of clients) send(client, 'changed', { count: total });
    return total;
  }

  function flush(): Promise<number> {
    if (batchTimer) clearTimeout(batchTimer);
    batchTimer = undefined;
    const changes = waiting;
    const total = waitingTotal;
    waiting = [];
    waitingTotal = 0;
    // Batches go out one after another, in the order intel committed them.
    sending = sending.catch(() => 0).then(() => sendBatch(changes, total));
    return sending;
  }

  const slots = new StreamSlots(
    config.live.maxClients,
    config.live.maxPerOrganisation,
    // A small server keeps at most half its streams back.
    Math.min(config.live.reservedForAnalysis, Math.floor(config.live.maxClients / 2)),
  );

  registerLiveRoute(app, slots, clients, share);

  return {
    get clients() {
      return clients.size;
    },
    async start() {
      unsubscribe = feed.subscribe(
        (change) => {
          if (change.kind !== 'sighting.added') onChangeEvent(change);
        },
        { kinds: ['indicator.added', 'indicator.updated', 'indicator.withdrawn'] },
      ).unsubscribe;
      heartbeat = setInterval(() => {
        for (const client of clients) client.write(': keep-alive\n\n');
      }, config.live.heartbeatMs);
      heartbeat.unref();
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      if (batchTimer) clearTimeout(batchTimer);
      batchTimer = undefined;
      if (heartbeat) clearInterval(heartbeat);
      await sending.catch(() => undefined);
      for (const client of clients) client.close();
      clients.clear();
    },
    flush,
  };
}

function registerLiveMetrics(
  registry: Registry,
  clients: Set<Client>,
  counts: { sent: number; dropped: number },
): void {
  new Gauge({
    name: 'tsunagi_console_live_clients',
    help: 'Open live-update streams',
    registers: [registry],
    collect() {
      this.set(clients.size);
    },
  });
  new Counter({
    name: 'tsunagi_console_live_events_total',
    help: 'Live-update events sent, and clients dropped for not reading',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ outcome: 'sent' }, counts.sent);
      this.inc({ outcome: 'dropped' }, counts.dropped);
    },
  });
}

/** GET /console/api/live: takes a stream slot, opens the event stream and joins `clients` (audited). */
function registerLiveRoute(
  app: FastifyInstance,
  slots: StreamSlots,
  clients: Set<Client>,
  share: Pick<ConsoleShare, 'recordAudit'>,
): void {
  app.get('/console/api/live', async (request, reply) => {
    const p = principalOf(request);
    const release = slots.take(p.org.id, p.org.role === 'analysis');
    if (!release)
      throw new HttpError(
        503,
        'Service Unavailable',
        'Too many live streams are open for your organisation or in all; try again later.',
      );
    request.raw.on('close', release);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const client: Client = {
      tier: p.org.tier,
      write: (chunk) => raw.write(chunk),
      bufferedBytes: () => raw.writableLength,
      close: () => raw.end(),
    };
    clients.add(client);
    request.raw.on('close', () => clients.delete(client));
    raw.write(`retry: 3000\nevent: hello\ndata: ${JSON.stringify({ tier: p.org.tier })}\n\n`);
    await share.recordAudit({
      actor: p.org.name,
      action: 'console.live',
      target: 'console:live',
      detail: { tier: p.org.tier, token: p.tokenId },
    });
  });
}
