/**
 * The bot feed: polls a remote TAXII collection for infected hosts (indicators of type
 * `compromised` with a single `[ipv4-addr:value = '…']` or ipv6 pattern, as src/share/stix.ts
 * writes them; optionally bare address observables), keeps the current set (valid_until and
 * revocation honoured) and hands it to `onBots` whenever it changes. The watermark and the set
 * survive restarts in a small JSON file.
 */
import { type Logger, readStateFile, writeFileAtomic } from '../core/index.ts';
import ipaddr from 'ipaddr.js';
import { Counter, Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import { readPattern, type StixObject } from '../share/index.ts';
import { BotFeedConfig, type BotFeedConfigInput } from './config.ts';
import { createTaxiiClient, TaxiiClientError, type TaxiiClient } from './taxii-client.ts';

export interface BotFeedDeps {
  logger: Logger;
  registry?: Registry;
  /** Called with the whole current set (addresses or CIDRs, sorted) each time it changes. */
  onBots: (addresses: string[]) => void;
  /** Wall clock (tests move it to pass valid_until). */
  now?: () => number;
  fetch?: typeof fetch;
}

export interface BotFeedPoll {
  /** Objects received this poll. */
  objects: number;
  /** Bots in the set after the poll. */
  bots: number;
  changed: boolean;
  /** The added_after watermark for the next poll. */
  watermark?: string;
  truncated: boolean;
}

export interface BotFeed {
  readonly name: 'bot-feed';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** One poll now (the timer also calls it); rejects with TaxiiClientError when the server fails. */
  poll(): Promise<BotFeedPoll>;
  /** The current set, sorted. */
  bots(): string[];
  readonly client: TaxiiClient;
}

interface HeldIndicator {
  address: string;
  modified: string;
  /** ms since epoch; 0 when the indicator has no end. */
  validUntilMs: number;
}

const STATE_FORMAT = 'tsunagi-bot-feed';
const StateFile = z.object({
  format: z.literal(STATE_FORMAT),
  version: z.literal(1),
  /** Where the state came from: a different server or collection starts afresh. */
  source: z.string(),
  watermark: z.string().max(40).optional(),
  indicators: z.array(z.tuple([z.string().max(300), z.string().max(64), z.string().max(40), z.number()])),
  observables: z.array(z.tuple([z.string().max(64), z.number()])),
});

const HOST_PATTERN_KEYS = new Set(['ipv4-addr:value', 'ipv6-addr:value']);

/** Canonical address or CIDR text, or undefined when the value is neither. */
export function canonicalAddress(value: string): string | undefined {
  try {
    if (value.includes('/')) {
      const [addr, bits] = ipaddr.parseCIDR(value);
      const full = addr.kind() === 'ipv4' ? 32 : 128;
      if (bits === full) return addr.toString();
      const network =
        addr.kind() === 'ipv4'
          ? ipaddr.IPv4.networkAddressFromCIDR(value)
          : ipaddr.IPv6.networkAddressFromCIDR(value);
      return `${network.toString()}/${bits}`;
    }
    if (!ipaddr.isValid(value)) return undefined;
    const parsed = ipaddr.parse(value);
    if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
      return (parsed as ipaddr.IPv6).toIPv4Address().toString();
    return parsed.toString();
  } catch {
    return undefined;
  }
}

/** The host an indicator names when it is a bot indicator; undefined for anything else. */
export function botAddressOf(indicator: StixObject): string | undefined {
  if (indicator.type !== 'indicator' || indicator.pattern_type !== 'stix') return undefined;
  if (typeof indicator.pattern !== 'string' || indicator.pattern.length > 2000) return undefined;
  const types = Array.isArray(indicator.indicator_types) ? indicator.indicator_types : [];
  // The same pattern without `compromised` is a C&C or a device on a tsunagi hub (see ingest.ts).
  if (!types.includes('compromised')) return undefined;
  const props = readPattern(indicator.pattern);
  if (!props || props.size !== 1) return undefined;
  const [key, value] = [...props][0]!;
  if (!HOST_PATTERN_KEYS.has(key)) return undefined;
  const address = canonicalAddress(value);
  if (!address || address.includes(':') !== (key === 'ipv6-addr:value')) return undefined;
  return address;
}

interface FeedCounts {
  polls: number;
  failures: number;
  ignored: number;
  overflow: number;
}

function registerBotFeedMetrics(registry: Registry, counts: FeedCounts, bots: () => number): void {
  new Counter({
    name: 'tsunagi_bot_feed_polls_total',
    help: 'Bot feed polls by outcome',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ outcome: 'ok' }, counts.polls);
      this.inc({ outcome: 'error' }, counts.failures);
    },
  });
  new Counter({
    name: 'tsunagi_bot_feed_dropped_total',
    help: 'Objects the bot feed did not take: ignored (not a bot indicator) or overflow (over maxIndicators)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ reason: 'ignored' }, counts.ignored);
      this.inc({ reason: 'overflow' }, counts.overflow);
    },
  });
  new Gauge({
    name: 'tsunagi_bot_feed_bots',
    help: 'Addresses in the bot set from the TAXII feed',
    registers: [registry],
    collect() {
      this.set(bots());
    },
  });
}

/**
 * What the feed holds: bot indicators by id (newest version wins, revocation removes) and, when
 * configured, bare address observables by when they were last seen; bounded by maxIndicators.
 */
class HeldBots {
  readonly indicators = new Map<string, HeldIndicator>();
  readonly observables = new Map<string, number>();

  constructor(
    private readonly config: BotFeedConfig,
    private readonly counts: FeedCounts,
  ) {}

  get size(): number {
    return this.indicators.size + this.observables.size;
  }

  take(object: StixObject, receivedMs: number): void {
    if (object.type === 'indicator') this.takeIndicator(object);
    else if (this.config.observables && (object.type === 'ipv4-addr' || object.type === 'ipv6-addr'))
      this.takeObservable(object, receivedMs);
    else this.counts.ignored++;
  }

  /** Drops what has expired at `at` and returns the current set, sorted. */
  current(at: number): string[] {
    const set = new Set<string>();
    for (const [id, held] of this.indicators) {
      if (held.validUntilMs && held.validUntilMs <= at) this.indicators.delete(id);
      else set.add(held.address);
    }
    for (const [address, seen] of this.observables) {
      if (seen + this.config.observableTtlMs <= at) this.observables.delete(address);
      else set.add(address);
    }
    return [...set].sort();
  }

  private takeIndicator(object: StixObject): void {
    const indicators = this.indicators;
    const held = indicators.get(object.id);
    const modified = typeof object.modified === 'string' ? object.modified : '';
    // An older version arriving late (match[version]=all servers, overlap) never undoes a newer one.
    if (held && modified && Date.parse(modified) < Date.parse(held.modified)) return;
    const address = object.revoked === true ? undefined : botAddressOf(object);
    if (!address) {
      if (!held && object.revoked !== true) this.counts.ignored++;
      indicators.delete(object.id);
      return;
    }
    const until = typeof object.valid_until === 'string' ? Date.parse(object.valid_until) : NaN;
    if (!held && indicators.size >= this.config.maxIndicators) {
      this.counts.overflow++;
      return;
    }
    indicators.set(object.id, { address, modified, validUntilMs: Number.isFinite(until) ? until : 0 });
  }

  private takeObservable(object: StixObject, receivedMs: number): void {
    const address = typeof object.value === 'string' ? canonicalAddress(object.value) : undefined;
    if (!address) {
      this.counts.ignored++;
      return;
    }
    if (!this.observables.has(address) && this.observables.size >= this.config.maxIndicators) {
      this.counts.overflow++;
      return;
    }
    this.observables.set(address, receivedMs);
  }
}

/** The watermark and the held bots, kept across restarts in config.stateFile (when set). */
function stateFile(config: BotFeedConfig, source: string, held: HeldBots, log: Logger) {
  return {
    /** Fills the held bots from the file and returns its watermark; undefined when nothing was read. */
    load(): { watermark: string | undefined } | undefined {
      if (!config.stateFile) return undefined;
      const parsed = readStateFile(config.stateFile, StateFile, log, 'bot feed state');
      if (!parsed) return undefined;
      if (parsed.source !== source) {
        log.info({ file: config.stateFile }, 'bot feed state is from another collection; starting afresh');
        return undefined;
      }
      for (const [id, address, modified, validUntilMs] of parsed.indicators) {
        const canonical = canonicalAddress(address);
        if (canonical) held.indicators.set(id, { address: canonical, modified, validUntilMs });
      }
      for (const [address, seen] of parsed.observables) {
        const canonical = canonicalAddress(address);
        if (canonical) held.observables.set(canonical, seen);
      }
      return { watermark: parsed.watermark };
    },
    save(watermark: string | undefined): void {
      if (!config.stateFile) return;
      const state: z.infer<typeof StateFile> = {
        format: STATE_FORMAT,
        version: 1,
        source,
        ...(watermark ? { watermark } : {}),
        indicators: [...held.indicators].map(([id, h]) => [id, h.address, h.modified, h.validUntilMs]),
        observables: [...held.observables],
      };
      writeFileAtomic(config.stateFile, JSON.stringify(state));
    },
  };
}

export function createBotFeed(rawConfig: BotFeedConfigInput, deps: BotFeedDeps): BotFeed {
  const config = BotFeedConfig.parse(rawConfig);
  const now = deps.now ?? Date.now;
  const client = createTaxiiClient(config, { registry: deps.registry, label: 'bots', fetch: deps.fetch });
  const source = `${new URL(config.url).origin}|${config.apiRoot ?? ''}|${config.collection}`;
  const log = deps.logger.child({ component: 'bot-feed', collection: config.collection });

  const counts: FeedCounts = { polls: 0, failures: 0, ignored: 0, overflow: 0 };
  const held = new HeldBots(config, counts);
  const state = stateFile(config, source, held, log);
  let watermark: string | undefined;
  let lastEmitted = '';
  let current: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<unknown> | undefined;
  let abort: AbortController | undefined;
  let stopped = true;
  if (deps.registry) registerBotFeedMetrics(deps.registry, counts, () => current.length);

  /** Drops what has expired, rebuilds the set and tells onBots when it differs from the last one told. */
  function refresh(): boolean {
    current = held.current(now());
    const key = current.join('\n');
    if (key === lastEmitted) return false;
    lastEmitted = key;
    try {
      deps.onBots(current.slice());
    } catch (error) {
      log.error({ err: error }, 'onBots failed');
    }
    return true;
  }

  async function pollOnce(): Promise<BotFeedPoll> {
    abort = new AbortController();
    const receivedMs = now();
    const since = watermark
      ? new Date(Math.max(0, Date.parse(watermark) - config.overlapMs)).toISOString()
      : undefined;
    const types = config.observables ? ['indicator', 'ipv4-addr', 'ipv6-addr'] : ['indicator'];
    const summary = await client.forEachPage(
      { ...(since ? { addedAfter: since } : {}), types, signal: abort.signal },
      (objects) => {
        for (const o of objects) held.take(o, receivedMs);
      },
    );
    // Only move forward: a server clock going back must not make us re-read everything.
    if (summary.dateAddedLast && (!watermark || Date.parse(summary.dateAddedLast) > Date.parse(watermark)))
      watermark = new Date(Date.parse(summary.dateAddedLast)).toISOString();
    const changed = refresh();
    state.save(watermark);
    counts.polls++;
    return {
      objects: summary.objects,
      bots: current.length,
      changed,
      ...(watermark ? { watermark } : {}),
      truncated: summary.truncated,
    };
  }

  /** Polls now, then every intervalMs (at once again while the server has more). */
  async function loop(): Promise<void> {
    if (stopped) return;
    try {
      const result = await feed.poll();
      if (result.changed) log.info({ bots: result.bots }, 'bot list from TAXII changed');
      // More waiting on the server: fetch it without waiting a whole interval.
      if (result.truncated && !stopped) {
        timer = setTimeout(() => void loop(), 0);
        return;
      }
    } catch (error) {
      if (!stopped) log.warn({ err: error }, 'bot feed poll failed; will try again');
    }
    if (!stopped) timer = setTimeout(() => void loop(), config.intervalMs);
  }

  const feed: BotFeed = {
    name: 'bot-feed',
    client,
    async start() {
      stopped = false;
      const saved = state.load();
      if (saved) watermark = saved.watermark;
      // The detector gets the last known set at once, before the first poll answers.
      if (held.size) refresh();
      timer = setTimeout(() => void loop(), 0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      abort?.abort();
      await inFlight?.catch(() => {});
      state.save(watermark);
    },
    poll() {
      if (inFlight) return inFlight as Promise<BotFeedPoll>;
      const running = pollOnce()
        .catch((error: unknown) => {
          counts.failures++;
          // Expired indicators leave the set even while the server is down.
          refresh();
          throw error instanceof TaxiiClientError ? error : new TaxiiClientError('network', String(error));
        })
        .finally(() => {
          inFlight = undefined;
        });
      inFlight = running;
      return running;
    },
    bots: () => current.slice(),
  };
  return feed;
}
