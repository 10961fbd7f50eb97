/**
 * Live updates as server-sent events on GET /console/api/live (the browser reads it with fetch so
 * the token travels in the Authorization header, never in a URL). One poller follows intel's
 * change feed for every client; each change goes only to clients whose tier may see it, in the
 * shape their tier may see. A client that stops reading is dropped, so memory stays bounded.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../core/logger.ts';
import type { Tier } from '../intel/index.ts';
import { HttpError, principalOf, type HubContext } from '../share/http.ts';
import { StreamSlots } from '../share/ratelimit.ts';
import type { ConsoleConfig } from './config.ts';
import { viewOf, visibleAt } from './view.ts';
import type { PublicNoticeDecision } from '../share/release/index.ts';
import { publicNoticeDecisions } from '../share/review.ts';

interface Client {
  tier: Tier;
  write(chunk: string): boolean;
  bufferedBytes(): number;
  close(): void;
}

/** A client further behind than this is dropped rather than buffered without end. */
const MAX_BUFFERED_BYTES = 1 << 20;
const PAGE = 500;

export interface LiveFeed {
  readonly clients: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Runs one poll now (tests, and after a known write). */
  poll(): Promise<number>;
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
  ctx: HubContext,
  config: ConsoleConfig,
  deps: { registry: Registry; logger: Logger; onChange: () => Promise<void> | void },
): LiveFeed {
  const clients = new Set<Client>();
  const counts = { sent: 0, dropped: 0 };
  let watermark: { modifiedAt: string; id: string } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let polling: Promise<number> | undefined;

  new Gauge({
    name: 'tsunagi_console_live_clients',
    help: 'Open live-update streams',
    registers: [deps.registry],
    collect() {
      this.set(clients.size);
    },
  });
  new Counter({
    name: 'tsunagi_console_live_events_total',
    help: 'Live-update events sent, and clients dropped for not reading',
    labelNames: ['outcome'],
    registers: [deps.registry],
    collect() {
      this.reset();
      this.inc({ outcome: 'sent' }, counts.sent);
      this.inc({ outcome: 'dropped' }, counts.dropped);
    },
  });

  function send(client: Client, event: string, data: unknown): void {
    client.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    counts.sent++;
    if (client.bufferedBytes() > MAX_BUFFERED_BYTES) {
      counts.dropped++;
      clients.delete(client);
      client.close();
    }
  }

  async function initialWatermark() {
    const last = await ctx.store.db
      .selectFrom('indicators')
      .select(['modified_at', 'id'])
      .orderBy('modified_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    watermark = last ? { modifiedAt: last.modified_at, id: last.id } : undefined;
  }

  async function pollOnce(): Promise<number> {
    let handled = 0;
    // A bounded number of pages per poll: a huge import is summarised by one "changed" event.
    for (let page = 0; page < 10; page++) {
      const changed = await ctx.intel.changedSince(watermark, PAGE);
      if (changed.length === 0) break;
      const last = changed[changed.length - 1]!;
      watermark = { modifiedAt: last.modifiedAt, id: last.id };
      handled += changed.length;
      if (clients.size === 0) continue;
      const now = new Date();
      // Public notice holds what the analysis centre approved: its decisions, when a public reader listens.
      const decisions = [...clients].some((c) => c.tier === 'public')
        ? await publicNoticeDecisions(
            ctx.store.db,
            changed.map((i) => i.id),
          )
        : new Map<string, PublicNoticeDecision>();
      for (const indicator of changed) {
        const created = indicator.createdAt === indicator.modifiedAt;
        const decision = decisions.get(indicator.id);
        const views = new Map<Tier, unknown>();
        for (const client of clients) {
          // The release rule decides, per client, what this change may tell it.
          if (!visibleAt(indicator, client.tier, ctx.hub, decision)) continue;
          let view = views.get(client.tier);
          if (!view)
            views.set(
              client.tier,
              (view = {
                change: created ? 'created' : 'updated',
                indicator: viewOf(indicator, client.tier, now, decision),
              }),
            );
          send(client, 'indicator', view);
        }
      }
      if (changed.length < PAGE) break;
    }
    if (handled > 0) {
      // Counts first, so a client refetching on "changed" sees the new numbers.
      await deps.onChange();
      for (const client of clients) send(client, 'changed', { count: handled });
    }
    return handled;
  }

  function poll(): Promise<number> {
    polling ??= pollOnce().finally(() => {
      polling = undefined;
    });
    return polling;
  }

  const slots = new StreamSlots(
    config.live.maxClients,
    config.live.maxPerOrganisation,
    // A small server keeps at most half its streams back.
    Math.min(config.live.reservedForAnalysis, Math.floor(config.live.maxClients / 2)),
  );

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
    await ctx.audit.record({
      actor: p.org.name,
      action: 'console.live',
      target: 'console:live',
      detail: { tier: p.org.tier, token: p.tokenId },
    });
  });

  return {
    get clients() {
      return clients.size;
    },
    async start() {
      await initialWatermark();
      timer = setInterval(() => {
        poll().catch((error: unknown) => deps.logger.error({ err: error }, 'console live poll failed'));
      }, config.live.pollMs);
      heartbeat = setInterval(() => {
        for (const client of clients) client.write(': keep-alive\n\n');
      }, config.live.heartbeatMs);
      timer.unref();
      heartbeat.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      if (heartbeat) clearInterval(heartbeat);
      await polling?.catch(() => undefined);
      for (const client of clients) client.close();
      clients.clear();
    },
    poll,
  };
}
