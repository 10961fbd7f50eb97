/**
 * Intel's change feed between processes over a message relay (NATS subjects when scaled out):
 * every change this process commits goes out on `<prefix>.<kind>` (`indicator.added`,
 * `indicator.updated`, `indicator.withdrawn`, `sighting.added`) as a JSON body checked against
 * the schemas below, and every change another process sent comes in as `local: false`.
 *
 * What goes on a subject is what the feed already announces in process and nothing more: the
 * indicator as committed (every field named by IndicatorBody; the schemas are strict, so a field
 * added to Indicator does not travel until it is named here) and, for a sighting, its source,
 * confidence and time. Relationships never travel, so no bot (a subscriber's address) is ever put
 * beside the C&C server it talked to on the subject (law rule 2).
 *
 * The relay is structural: intel imports no transport; the CLI hands it the NATS one.
 */
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import type { Logger } from '../core/index.ts';
import {
  createChangeFeed,
  cursorOf,
  type ChangeFeed,
  type ChangeKind,
  type IndicatorChange,
  type IndicatorChangeKind,
  type IntelChange,
  type SightingChange,
} from './feed.ts';
import { INDICATOR_KINDS, TIERS, TLPS, type Indicator } from './types.ts';

/** Moves opaque messages on subjects; `tsunagi start --nats` hands intel the NATS one. */
export interface ChangeRelay {
  /** Sends one message (fire and forget: a relay that cannot send counts it itself). */
  publish(subject: string, body: Uint8Array): void;
  /** Hands over every message on subjects under `prefix` (`<prefix>.>`) until the returned call. */
  subscribe(prefix: string, onMessage: (subject: string, body: Uint8Array) => void): () => void;
}

export const DEFAULT_CHANGE_SUBJECT_PREFIX = 'tsunagi.intel';

const CHANGE_KINDS: readonly ChangeKind[] = [
  'indicator.added',
  'indicator.updated',
  'indicator.withdrawn',
  'sighting.added',
];

export function changeSubject(prefix: string, kind: ChangeKind): string {
  return `${prefix}.${kind}`;
}

const timestamp = z.iso.datetime();
const IndicatorBody = z.strictObject({
  id: z.string().min(1).max(64),
  kind: z.enum(INDICATOR_KINDS),
  value: z.string().min(1).max(2048),
  port: z.number().int().min(0).max(65_535),
  proto: z.string().max(16),
  family: z.string().max(200),
  confidence: z.number().min(0).max(100),
  tier: z.enum(TIERS),
  tlp: z.enum(TLPS),
  asn: z.number().int().min(0).max(4_294_967_295).nullable(),
  attributes: z.record(z.string().max(64), z.string().max(4096)),
  firstSeen: timestamp,
  lastSeen: timestamp,
  expiresAt: timestamp,
  withdrawnAt: timestamp.nullable(),
  withdrawnReason: z.string().max(500).nullable(),
  createdAt: timestamp,
  modifiedAt: timestamp,
});
const IndicatorMessage = z.strictObject({
  kind: z.enum(['indicator.added', 'indicator.updated', 'indicator.withdrawn']),
  indicator: IndicatorBody,
});
const SightingMessage = z.strictObject({
  kind: z.literal('sighting.added'),
  indicatorId: z.string().min(1).max(64),
  source: z.string().min(1).max(100),
  confidence: z.number().min(0).max(100),
  observedAt: timestamp,
  newSource: z.boolean(),
});
const ChangeMessage = z.discriminatedUnion('kind', [IndicatorMessage, SightingMessage]);
/** A body larger than this is not a change intel sent (an indicator is at most a few kB). */
const MAX_BODY_BYTES = 64 * 1024;

/** The indicator's fields the schema names, copied one by one (nothing else rides along). */
function indicatorBody(i: Indicator): z.infer<typeof IndicatorBody> {
  return {
    id: i.id,
    kind: i.kind,
    value: i.value,
    port: i.port,
    proto: i.proto,
    family: i.family,
    confidence: i.confidence,
    tier: i.tier,
    tlp: i.tlp,
    asn: i.asn,
    attributes: i.attributes,
    firstSeen: i.firstSeen,
    lastSeen: i.lastSeen,
    expiresAt: i.expiresAt,
    withdrawnAt: i.withdrawnAt,
    withdrawnReason: i.withdrawnReason,
    createdAt: i.createdAt,
    modifiedAt: i.modifiedAt,
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The subject and body of one change. */
export function encodeChange(prefix: string, change: IntelChange): { subject: string; body: Uint8Array } {
  const message: z.infer<typeof ChangeMessage> =
    change.kind === 'sighting.added'
      ? {
          kind: change.kind,
          indicatorId: change.indicatorId,
          source: change.source,
          confidence: change.confidence,
          observedAt: change.observedAt,
          newSource: change.newSource,
        }
      : { kind: change.kind, indicator: indicatorBody(change.indicator) };
  return { subject: changeSubject(prefix, change.kind), body: encoder.encode(JSON.stringify(message)) };
}

/** A change read off a subject, or why it is not one. */
export function decodeChange(
  prefix: string,
  subject: string,
  body: Uint8Array,
): { change: IntelChange } | { error: string } {
  const kind = subject.startsWith(`${prefix}.`) ? subject.slice(prefix.length + 1) : '';
  if (!CHANGE_KINDS.includes(kind as ChangeKind)) return { error: `not a change subject: ${subject}` };
  if (body.byteLength > MAX_BODY_BYTES) return { error: `body of ${body.byteLength} bytes` };
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(body));
  } catch {
    return { error: 'not JSON' };
  }
  const parsed = ChangeMessage.safeParse(json);
  if (!parsed.success) return { error: parsed.error.issues[0]?.message ?? 'invalid' };
  const message = parsed.data;
  // The subject names the kind: a body of another kind is not trusted to say which it is.
  if (message.kind !== kind) return { error: `a ${message.kind} body on ${subject}` };
  if (message.kind === 'sighting.added') {
    const change: SightingChange = { ...message, local: false };
    return { change };
  }
  const indicator: Indicator = message.indicator;
  const change: IndicatorChange = {
    kind: message.kind as IndicatorChangeKind,
    indicator,
    cursor: cursorOf(indicator),
    local: false,
  };
  return { change };
}

/** What a relay link needs of a feed: its own changes to send, a way to announce received ones. */
export interface RelayedFeed {
  subscribe(listener: (change: IntelChange) => void): { unsubscribe(): void };
  /** Announces a change another process committed; false when this feed had already announced it. */
  receive(change: IntelChange): boolean;
}

export type RelayCounts = Record<'sent' | 'received' | 'duplicate' | 'malformed', number>;

export function relayCounts(): RelayCounts {
  return { sent: 0, received: 0, duplicate: 0, malformed: 0 };
}

/** The relay's counts as one metric, read when scraped. */
export function registerRelayMetrics(registry: Registry, counts: Readonly<RelayCounts>): void {
  new Counter({
    name: 'tsunagi_intel_feed_relay_messages_total',
    help: 'Intel change feed messages over the relay (NATS): sent, received and announced, received again (duplicate), malformed (dropped)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, n] of Object.entries(counts)) this.inc({ outcome }, n);
    },
  });
}

export interface RelayLinkOptions {
  prefix: string;
  logger: Logger;
  /** Counted into (see relayCounts). */
  counts: RelayCounts;
  /** Send this process's own changes (default true; a follower without a store sends nothing). */
  send?: boolean;
}

/**
 * Sends every change the feed's own process committed on the relay, and announces on the feed
 * every well-formed change other processes sent; returns the call that ends both. A malformed
 * message is counted, logged (the first and every 100th) and dropped.
 */
export function linkRelay(feed: RelayedFeed, relay: ChangeRelay, options: RelayLinkOptions): () => void {
  const { counts, prefix, logger } = options;
  const outgoing =
    options.send === false
      ? undefined
      : feed.subscribe((change) => {
          if (!change.local) return; // each change goes out once, from the process that wrote it
          const { subject, body } = encodeChange(prefix, change);
          relay.publish(subject, body);
          counts.sent++;
        });
  const stopReceiving = relay.subscribe(prefix, (subject, body) => {
    const decoded = decodeChange(prefix, subject, body);
    if ('error' in decoded) {
      counts.malformed++;
      if (counts.malformed === 1 || counts.malformed % 100 === 0)
        logger.warn(
          { subject, error: decoded.error, malformed: counts.malformed },
          'intel change message malformed; dropped',
        );
      return;
    }
    if (feed.receive(decoded.change)) counts.received++;
    else counts.duplicate++;
  });
  return () => {
    outgoing?.unsubscribe();
    stopReceiving();
  };
}

/** A change feed followed over a relay alone, for a process without intel's store. */
export interface RelayedChanges {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Every change other processes commit from start on; no history (`after` fails, `head` is none). */
  readonly changes: ChangeFeed;
  readonly counts: Readonly<RelayCounts>;
}

/**
 * Follows intel's changes from the relay's subjects alone (e.g. a detector worker keeping its bot
 * list without the hub's database). What was committed before it started is not on a subject:
 * such a follower starts from a list of its own (a file, a TAXII collection) and adds changes.
 */
export function followRelayedChanges(
  relay: ChangeRelay,
  options: { prefix?: string; logger: Logger; registry: Registry },
): RelayedChanges {
  const counts = relayCounts();
  registerRelayMetrics(options.registry, counts);
  const noHistory = new Error("intel's changes followed over NATS have no history to replay");
  const feed = createChangeFeed(
    { changedSince: () => Promise.reject(noHistory), newest: () => Promise.resolve(undefined) },
    options.logger,
  );
  let unlink: (() => void) | undefined;
  return {
    name: 'intel-changes-relayed',
    changes: feed,
    counts,
    async start() {
      unlink = linkRelay(feed, relay, {
        prefix: options.prefix ?? DEFAULT_CHANGE_SUBJECT_PREFIX,
        logger: options.logger,
        counts,
        send: false,
      });
    },
    async stop() {
      unlink?.();
      unlink = undefined;
    },
  };
}
