/**
 * The C&C sharer: takes the detector's candidates (ip, port, proto, confidence, family and
 * nothing else: law rule 2) and POSTs them as STIX 2.1 to a hub's submission collection, batched
 * and retried with back-off; a withdrawal goes out as a revoked version of the same indicator.
 */
import { randomUUID } from 'node:crypto';
import { type Logger, protocolName, readStateFile, writeFileAtomic } from '../core/index.ts';
import { Counter, Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import { canonicalIp } from '../intel/index.ts';
import { patternFor, TIER_EXTENSION_ID, tlpMarkingId, uuidv5, type StixObject } from '../share/index.ts';
import { C2SharerConfig, type C2SharerConfigInput } from './config.ts';
import { createTaxiiClient, TaxiiClientError, type TaxiiClient } from './taxii-client.ts';

/**
 * What may leave the ISP, and only that: unknown members (times, evidence, subscriber
 * addresses) are stripped by the schema before anything is queued.
 */
export const ShareCandidate = z.object({
  ip: z.string().min(2).max(64),
  port: z.number().int().min(0).max(65535),
  /** tcp, udp... or the IANA protocol number. */
  proto: z.union([z.string().regex(/^[a-z0-9-]{1,16}$/i), z.number().int().min(0).max(255)]),
  confidence: z.number().min(0).max(100),
  /** Empty or absent when unknown. */
  family: z.string().max(100).optional(),
});
export type ShareCandidate = z.input<typeof ShareCandidate>;

interface NormalCandidate {
  ip: string;
  port: number;
  proto: string;
  confidence: number;
  family: string;
}

function normalise(input: unknown): NormalCandidate {
  const c = ShareCandidate.parse(input);
  const proto = protocolName(c.proto);
  return {
    ip: canonicalIp(c.ip),
    port: c.port,
    proto,
    confidence: Math.round(c.confidence),
    family: (c.family ?? '').trim(),
  };
}

function keyOf(c: NormalCandidate): string {
  return `${c.ip}|${c.port}|${c.proto}`;
}

/** One indicator the hub holds from us: its id and last version, so updates and revocations follow it. */
interface SharedEntry {
  id: string;
  created: string;
  modified: string;
  confidence: number;
  family: string;
}

interface QueuedAction {
  action: 'publish' | 'withdraw';
  candidate: NormalCandidate;
}

export interface C2SharerDeps {
  logger: Logger;
  registry?: Registry;
  now?: () => number;
  fetch?: typeof fetch;
}

export interface FlushResult {
  /** Indicators the hub stored (new, updated or revoked). */
  sent: number;
  /** Indicators the hub refused (not retried: the hub said why). */
  refused: { key: string; message: string }[];
  /** Still queued (after a failure that may pass, or more than one batch waiting). */
  pending: number;
  /** The failure that left them queued. */
  error?: TaxiiClientError;
}

export interface C2Sharer {
  readonly name: 'c2-sharer';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Queues a candidate to share (or an update of its confidence/family). Throws on a malformed one. */
  publish(candidate: ShareCandidate): void;
  /** Queues the withdrawal of a candidate shared before (a revoked version); a no-op for one never sent. */
  withdraw(candidate: ShareCandidate): void;
  /** Sends what is queued now (the timer calls it too); never rejects. */
  flush(): Promise<FlushResult>;
  /** Candidates waiting to be sent. */
  pending(): number;
  /** Keys (ip|port|proto) currently shared and not withdrawn. */
  shared(): string[];
  readonly client: TaxiiClient;
}

const STATE_FORMAT = 'tsunagi-c2-sharer';
const Candidate = z.object({
  ip: z.string(),
  port: z.number(),
  proto: z.string(),
  confidence: z.number(),
  family: z.string(),
});
const StateFile = z.object({
  format: z.literal(STATE_FORMAT),
  version: z.literal(1),
  source: z.string(),
  shared: z.array(
    z.object({
      key: z.string(),
      id: z.string(),
      created: z.string(),
      modified: z.string(),
      confidence: z.number(),
      family: z.string(),
    }),
  ),
  queue: z.array(z.object({ action: z.enum(['publish', 'withdraw']), candidate: Candidate })),
});

function startOfDay(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 10)}T00:00:00.000Z`;
}

/**
 * The next `modified`: the UTC day (no finer time leaves the ISP), or one millisecond after the
 * version it replaces when that is later (a second version on the same day).
 */
function nextModified(previous: string, nowMs: number): string {
  const day = startOfDay(nowMs);
  const after = new Date(Date.parse(previous) + 1).toISOString();
  return Date.parse(day) > Date.parse(previous) ? day : after;
}

function describe(c: NormalCandidate): string {
  return `C&C server ${c.ip.includes(':') ? `[${c.ip}]` : c.ip}:${c.port}/${c.proto}`;
}

/** The STIX objects for one version of a shared candidate (indicator, and its malware family). */
export function candidateObjects(
  c: NormalCandidate,
  entry: SharedEntry,
  options: { tier: string; tlp: string; revoked: boolean },
): StixObject[] {
  const stamp = {
    object_marking_refs: [tlpMarkingId(options.tlp as Parameters<typeof tlpMarkingId>[0])],
    extensions: { [TIER_EXTENSION_ID]: { extension_type: 'property-extension', tier: options.tier } },
  };
  const indicator: StixObject = {
    type: 'indicator',
    spec_version: '2.1',
    id: entry.id,
    created: entry.created,
    modified: entry.modified,
    name: describe(c),
    indicator_types: ['malicious-activity'],
    pattern: patternFor({ kind: 'c2', value: c.ip, port: c.port, proto: c.proto }),
    pattern_type: 'stix',
    pattern_version: '2.1',
    valid_from: entry.created,
    confidence: c.confidence,
    ...(c.family ? { labels: [c.family] } : {}),
    ...(options.revoked ? { revoked: true } : {}),
    ...stamp,
  };
  if (!c.family || options.revoked) return [indicator];
  // Ids derive from the indicator so each version of it names the same family objects.
  const uuid = entry.id.slice('indicator--'.length);
  const malwareId = `malware--${uuidv5(`malware|${c.family.toLowerCase()}`, uuid)}`;
  return [
    indicator,
    {
      type: 'malware',
      spec_version: '2.1',
      id: malwareId,
      created: entry.created,
      modified: entry.created,
      name: c.family,
      is_family: true,
      malware_types: ['bot'],
      ...stamp,
    },
    {
      type: 'relationship',
      spec_version: '2.1',
      id: `relationship--${uuidv5(`indicates|${malwareId}`, uuid)}`,
      created: entry.created,
      modified: entry.created,
      relationship_type: 'indicates',
      source_ref: entry.id,
      target_ref: malwareId,
      ...stamp,
    },
  ];
}

interface SharerCounts {
  sent: number;
  refused: number;
  failedPosts: number;
  dropped: number;
}

function registerSharerMetrics(registry: Registry, counts: SharerCounts, queued: () => number): void {
  new Counter({
    name: 'tsunagi_c2_sharer_indicators_total',
    help: 'Indicators the C&C sharer sent (stored by the hub) or had refused',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ outcome: 'sent' }, counts.sent);
      this.inc({ outcome: 'refused' }, counts.refused);
      this.inc({ outcome: 'dropped_queue_full' }, counts.dropped);
    },
  });
  new Counter({
    name: 'tsunagi_c2_sharer_failed_posts_total',
    help: 'POSTs that failed and will be retried',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(counts.failedPosts);
    },
  });
  new Gauge({
    name: 'tsunagi_c2_sharer_queue',
    help: 'Candidates waiting to be sent',
    registers: [registry],
    collect() {
      this.set(queued());
    },
  });
}

/** One version ready to send: the queued action, the entry it makes, and its STIX objects. */
interface PreparedVersion {
  key: string;
  action: QueuedAction;
  entry: SharedEntry;
  objects: StixObject[];
}

/**
 * Builds the next version of each queued candidate at `at`; withdrawals of unshared ones and
 * publications that change nothing vanish.
 */
function prepareVersions(
  batch: [string, QueuedAction][],
  shared: ReadonlyMap<string, SharedEntry>,
  at: number,
  stamp: { tier: string; tlp: string },
): PreparedVersion[] {
  const items: PreparedVersion[] = [];
  for (const [key, action] of batch) {
    const held = shared.get(key);
    const c = action.candidate;
    if (action.action === 'withdraw') {
      if (!held) continue;
      const entry = { ...held, modified: nextModified(held.modified, at) };
      items.push({ key, action, entry, objects: candidateObjects(c, entry, { ...stamp, revoked: true }) });
      continue;
    }
    if (held && held.confidence === c.confidence && held.family === c.family) continue;
    const created = held?.created ?? startOfDay(at);
    const entry: SharedEntry = held
      ? { ...held, modified: nextModified(held.modified, at), confidence: c.confidence, family: c.family }
      : {
          id: `indicator--${randomUUID()}`,
          created,
          modified: created,
          confidence: c.confidence,
          family: c.family,
        };
    items.push({ key, action, entry, objects: candidateObjects(c, entry, { ...stamp, revoked: false }) });
  }
  return items;
}

/** The shared entries and the queue, kept across restarts in config.stateFile (when set). */
function sharerStateFile(
  config: C2SharerConfig,
  source: string,
  shared: Map<string, SharedEntry>,
  queue: Map<string, QueuedAction>,
  log: Logger,
) {
  return {
    load(): void {
      if (!config.stateFile) return;
      const parsed = readStateFile(config.stateFile, StateFile, log, 'sharer state');
      if (!parsed || parsed.source !== source) return;
      for (const s of parsed.shared) {
        const { key, ...entry } = s;
        shared.set(key, entry);
      }
      for (const q of parsed.queue) queue.set(keyOf(q.candidate), q);
    },
    save(): void {
      if (!config.stateFile) return;
      const state: z.infer<typeof StateFile> = {
        format: STATE_FORMAT,
        version: 1,
        source,
        shared: [...shared].map(([key, e]) => ({ key, ...e })),
        queue: [...queue.values()],
      };
      writeFileAtomic(config.stateFile, JSON.stringify(state));
    },
  };
}

/** Takes the hub's answer: stored versions become what is shared, refusals are counted and kept in `result`. */
function applyAnswer(
  items: readonly PreparedVersion[],
  failures: readonly { id: string; message: string }[],
  shared: Map<string, SharedEntry>,
  counts: SharerCounts,
  result: FlushResult,
  log: Logger,
): void {
  const refusedIds = new Map(failures.map((f) => [f.id, f.message]));
  for (const item of items) {
    const refusal = refusedIds.get(item.entry.id);
    if (refusal) {
      counts.refused++;
      result.refused.push({ key: item.key, message: refusal });
      log.warn({ key: item.key, reason: refusal }, 'the hub refused a C&C candidate');
      continue;
    }
    counts.sent++;
    result.sent++;
    if (item.action.action === 'withdraw') shared.delete(item.key);
    else shared.set(item.key, item.entry);
  }
}

export function createC2Sharer(rawConfig: C2SharerConfigInput, deps: C2SharerDeps): C2Sharer {
  const config = C2SharerConfig.parse(rawConfig);
  const now = deps.now ?? Date.now;
  const client = createTaxiiClient(config, { registry: deps.registry, label: 'share', fetch: deps.fetch });
  const source = `${new URL(config.url).origin}|${config.apiRoot ?? ''}|${config.collection}`;
  const log = deps.logger.child({ component: 'c2-sharer', collection: config.collection });

  const shared = new Map<string, SharedEntry>();
  /** Latest action per key: a publish followed by a withdrawal before sending leaves one action. */
  const queue = new Map<string, QueuedAction>();
  const counts: SharerCounts = { sent: 0, refused: 0, failedPosts: 0, dropped: 0 };
  const state = sharerStateFile(config, source, shared, queue, log);
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<FlushResult> | undefined;
  let stopped = true;
  let abort: AbortController | undefined;
  if (deps.registry) registerSharerMetrics(deps.registry, counts, () => queue.size);

  function enqueue(action: QueuedAction): void {
    const key = keyOf(action.candidate);
    if (!queue.has(key) && queue.size >= config.maxQueue) {
      counts.dropped++;
      return;
    }
    // Delete first so the Map keeps the newest action last.
    queue.delete(key);
    queue.set(key, action);
    schedule(config.batchMs);
  }

  function schedule(delayMs: number): void {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void sharer.flush();
    }, delayMs);
  }

  function backoffMs(): number {
    const base = Math.min(config.retry.maxMs, config.retry.initialMs * 2 ** Math.min(failures - 1, 30));
    // Jitter keeps many ISPs from retrying in step against one hub.
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  /** A POST that failed: retriable ones go back in the queue (true: stop this flush), refusals are final. */
  function postFailed(
    error: unknown,
    batch: [string, QueuedAction][],
    items: PreparedVersion[],
    result: FlushResult,
  ): boolean {
    const e = error instanceof TaxiiClientError ? error : new TaxiiClientError('network', String(error));
    result.error = e;
    if (e.retriable) {
      // Put the batch back unless a newer action for the same key arrived meanwhile.
      for (const [key, action] of batch) if (!queue.has(key)) queue.set(key, action);
      counts.failedPosts++;
      failures++;
      log.warn({ err: e, retryInMs: backoffMs() }, 'sharing C&C candidates failed; will retry');
      return true;
    }
    // The hub refuses the request itself (credentials, collection): retrying unchanged cannot help.
    counts.refused += items.length;
    for (const item of items) result.refused.push({ key: item.key, message: e.message });
    log.error({ err: e }, 'the hub refused the C&C submission');
    return false;
  }

  async function flushOnce(): Promise<FlushResult> {
    const result: FlushResult = { sent: 0, refused: [], pending: 0 };
    // Candidates per envelope: each takes at most three objects.
    const perPost = Math.max(1, Math.floor(config.postBatchSize / 3));
    while (queue.size > 0 && !stopped) {
      const batch = [...queue].slice(0, perPost);
      for (const [key] of batch) queue.delete(key);
      const items = prepareVersions(batch, shared, now(), { tier: config.tier, tlp: config.tlp });
      if (items.length === 0) continue;
      abort = new AbortController();
      let post;
      try {
        post = await client.postObjects(
          items.flatMap((i) => i.objects),
          abort.signal,
        );
      } catch (error) {
        if (postFailed(error, batch, items, result)) break;
        continue;
      }
      failures = 0;
      applyAnswer(items, post.failures, shared, counts, result, log);
    }
    state.save();
    result.pending = queue.size;
    if (queue.size > 0) {
      if (result.error?.retriable) schedule(backoffMs());
      else schedule(0);
    }
    return result;
  }

  const sharer: C2Sharer = {
    name: 'c2-sharer',
    client,
    async start() {
      stopped = false;
      state.load();
      if (queue.size) schedule(0);
    },
    async stop() {
      // One last attempt to send what is queued, then keep the rest for the next start.
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (flushing) await flushing;
      else if (queue.size) await sharer.flush();
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      abort?.abort();
      state.save();
    },
    publish(candidate) {
      enqueue({ action: 'publish', candidate: normalise(candidate) });
    },
    withdraw(candidate) {
      const c = normalise(candidate);
      const key = keyOf(c);
      if (!shared.has(key)) {
        // Never sent: dropping the queued publication is the whole withdrawal.
        if (queue.get(key)?.action === 'publish') queue.delete(key);
        return;
      }
      enqueue({ action: 'withdraw', candidate: c });
    },
    flush() {
      if (flushing) return flushing;
      if (timer) clearTimeout(timer);
      timer = undefined;
      flushing = flushOnce().finally(() => {
        flushing = undefined;
      });
      return flushing;
    },
    pending: () => queue.size,
    shared: () => [...shared.keys()],
  };
  return sharer;
}
