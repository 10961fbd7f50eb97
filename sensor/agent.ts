/**
 * The sensor's run loop: scan, match, spool, send, refresh the signed documents, and keep
 * within the budgets. One tick at a time; the wait between ticks stretches when the CPU budget
 * is exceeded.
 */
import { IocListBody, PolicyBody, type SensorEvent } from '../src/sensor/protocol.ts';
import { BudgetKeeper, collectGarbage } from './budget.ts';
import {
  CentreChannel,
  RenewRefused,
  RetryableError,
  TransportError,
  type SealedBatch,
} from './client/uplink.ts';
import { Collector } from './collect.ts';
import { ExecutableHasher } from './hash/hasher.ts';
import { IocMatcher } from './ioc.ts';
import { applyAllowList, isEssential } from './policy.ts';
import { ProcReader } from './proc/scan.ts';
import { SentLog } from './sentlog.ts';
import { adoptSigned } from './signed.ts';
import { Spool } from './spool.ts';
import { utcDay, type Counters, type SensorState } from './state.ts';

export interface AgentOptions {
  /** How often batches go out when nothing urgent (an IoC match) is waiting. */
  sendIntervalMs: number;
  /** How often the policy and IoC list are fetched again. */
  refreshIntervalMs: number;
  /** How often a sensor.status event is spooled. */
  statusIntervalMs: number;
  spoolMaxBytes: number;
  /**
   * The client certificate is renewed when less than this is left of it; by default a third of
   * its lifetime (about 132 days of the centre's 397).
   */
  renewWithinMs?: number;
  /** Tests and the benchmark scan faster than a policy would; never used to scan slower. */
  scanIntervalMs?: number;
  procRoot: string;
  log: (line: string) => void;
}

export const AGENT_DEFAULTS = {
  sendIntervalMs: 60_000,
  refreshIntervalMs: 300_000,
  statusIntervalMs: 300_000,
  spoolMaxBytes: 16 * 1024 * 1024,
  procRoot: '/proc',
} as const;

/** What `status` prints and the run loop writes each tick to status.json. */
export interface AgentStatus {
  at: string;
  cpuPercent: number;
  rssMb: number;
  intervalMs: number;
  hashedBytes: number;
  sentBytesToday: number;
  spoolBytes: number;
  spoolEvents: number;
  droppedEvents: number;
  iocMatches: number;
  processes: number;
  sockets: number;
  policyVersion: number;
  iocVersion: number;
  /** The first scan's hashing, once every executable it found has a digest. */
  warmUp?: WarmUp;
  /** Executables waiting for their digest now. */
  hashPending: number;
  lastError?: string;
}

/** What the first scan cost: until every executable running at start has its digest. */
export interface WarmUp {
  completedAt: string;
  /** From the start of the first tick. */
  durationMs: number;
  /** CPU of the whole process until then (start-up included), seconds. */
  cpuSeconds: number;
  hashedBytes: number;
  hashedFiles: number;
  /** Digests the saved cache gave (a restart hashes only what changed). */
  cachedDigests: number;
}

/** The saved digest cache is written at most this often while it changes (and at stop). */
const DIGEST_SAVE_INTERVAL_MS = 60_000;

/** Back-off before the attempt-th retry: full jitter over an exponential bound (5 s to 15 min). */
export function backoffMs(attempt: number, random = Math.random): number {
  const bound = Math.min(15 * 60_000, 5_000 * 2 ** Math.min(attempt, 20));
  return Math.round(random() * bound);
}

/** HTTP headers and framing on top of the body: counted so the day's budget is not flattered. */
const REQUEST_OVERHEAD_BYTES = 400;

export class SensorAgent {
  private readonly channel: CentreChannel;
  private readonly spool: Spool;
  private readonly hasher: ExecutableHasher;
  private readonly collector: Collector;
  private readonly matcher = new IocMatcher();
  private readonly budgets: BudgetKeeper;
  private readonly sentLog: SentLog;
  private policy: PolicyBody;
  private counters: Counters;
  private readonly pinnedKey: string;
  private nextSendAt = 0;
  private nextRefreshAt = 0;
  private nextStatusAt = 0;
  private sendAttempt = 0;
  private lastError: string | undefined;
  private spoolDroppedSeen = 0;
  private processes = 0;
  private sockets = 0;
  private stopped = false;
  private wake: (() => void) | undefined;
  private firstTickAt: number | undefined;
  private warmUp: WarmUp | undefined;
  private readonly cachedDigests: number;
  private digestsSavedAt = 0;
  private hashedAtLastSample = 0;
  intervalMs: number;

  constructor(
    private readonly state: SensorState,
    private readonly options: AgentOptions,
  ) {
    this.pinnedKey = state.readText('policy-key.pem');
    const policy = adoptSigned(state.signedDocument('policy.json'), this.pinnedKey, PolicyBody, 0);
    if (!policy.adopted) throw new Error(`the stored policy does not verify: ${policy.reason}`);
    this.policy = policy.body;
    const iocs = adoptSigned(state.signedDocument('iocs.json'), this.pinnedKey, IocListBody, 0);
    if (iocs.adopted) this.matcher.load(iocs.body);
    this.counters = state.counters(utcDay());
    this.channel = new CentreChannel(state);
    this.spool = new Spool(state.path('spool'), options.spoolMaxBytes);
    this.budgets = new BudgetKeeper(this.policy.budgets);
    this.hasher = new ExecutableHasher({ bytesPerSecond: this.budgets.hashBytesPerSecond() });
    this.cachedDigests = this.loadDigests();
    this.collector = new Collector(new ProcReader(options.procRoot), this.hasher, {
      userKey: state.userKey(),
      hashExecutables: this.policy.hashExecutables,
    });
    this.sentLog = new SentLog(state.path('sent.log'));
    this.intervalMs = this.policyInterval();
  }

  /** The digests a previous run saved; a damaged file is logged and the cache starts empty. */
  private loadDigests(): number {
    try {
      return this.hasher.load(this.state.readJson('digests.json'));
    } catch (error) {
      this.log(`digests.json unreadable (${(error as Error).message}): executables are hashed again`);
      return 0;
    }
  }

  private saveDigests(now: number, force = false): void {
    if (!this.hasher.dirty) return;
    if (!force && now - this.digestsSavedAt < DIGEST_SAVE_INTERVAL_MS) return;
    this.state.writeJson('digests.json', this.hasher.save(), 0o600);
    this.digestsSavedAt = now;
  }

  /** Notes the end of the first scan's hashing, once: when every executable it queued has its digest. */
  private noteWarmUp(now: number): void {
    if (this.warmUp || this.firstTickAt === undefined || this.stopped) return;
    const cpu = process.cpuUsage();
    this.warmUp = {
      completedAt: new Date(now).toISOString(),
      durationMs: now - this.firstTickAt,
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1000) / 1000,
      hashedBytes: this.hasher.hashedBytes,
      hashedFiles: this.hasher.hashedFiles,
      cachedDigests: this.cachedDigests,
    };
    this.saveDigests(now, true);
    this.state.writeJson('status.json', this.status(now));
    this.log(
      `first scan hashed: ${this.warmUp.hashedFiles} executables, ${(this.warmUp.hashedBytes / 1e6).toFixed(1)} MB ` +
        `in ${(this.warmUp.durationMs / 1000).toFixed(1)} s (${this.warmUp.cachedDigests} digests from the saved cache)`,
    );
  }

  private policyInterval(): number {
    return Math.min(this.policy.scanIntervalMs, this.options.scanIntervalMs ?? Infinity);
  }

  /** Runs ticks until stop(). */
  async run(): Promise<void> {
    while (!this.stopped) {
      await this.tick();
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.intervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.close();
  }

  /** Ends the kept-alive connection and saves the digests; for a caller that ran ticks itself too. */
  close(): void {
    this.saveDigests(Date.now(), true);
    this.channel.close();
  }

  /** Resolves when every executable the scans so far found has its digest. */
  firstScanHashed(): Promise<void> {
    return this.collector.hashed();
  }

  stop(): void {
    this.stopped = true;
    this.hasher.stop();
    this.wake?.();
  }

  /** One scan, matched, spooled and (when due, or `send` is not false) sent. */
  async tick(now = Date.now(), send = true): Promise<void> {
    const first = this.firstTickAt === undefined;
    this.firstTickAt ??= now;
    this.budgets.sample(performance.now(), this.hasher.hashedBytes !== this.hashedAtLastSample);
    this.hashedAtLastSample = this.hasher.hashedBytes;
    if (now >= this.nextRefreshAt) await this.refresh(now);
    const scan = await this.collector.scan(now);
    if (first) void this.collector.hashed().then(() => this.noteWarmUp(Date.now()));
    this.processes = scan.processes.size;
    this.sockets = scan.sockets.length;
    const matches = this.matcher.match(scan.processes, scan.sockets, now);
    const events = [...scan.events, ...matches];
    if (now >= this.nextStatusAt) {
      events.push(this.statusEvent(now));
      this.nextStatusAt = now + this.options.statusIntervalMs;
    }
    this.spool.append(
      events.map((event) => applyAllowList(event, this.policy)),
      this.policy.batchMaxEvents,
    );
    if (this.budgets.memoryPressed()) this.relieveMemory();
    if (send && (now >= this.nextSendAt || matches.length > 0)) await this.flush(now);
    this.intervalMs = this.budgets.nextIntervalMs(this.policyInterval());
    this.saveDigests(now);
    this.saveCounters();
    this.state.writeJson('status.json', this.status(now));
  }

  private relieveMemory(): void {
    // The digest cache is what keeps hashing cheap: trimmed only when it is large.
    if (this.hasher.cacheSize > 1024) this.hasher.trimCache();
    collectGarbage();
    this.log(`memory near its budget (${this.budgets.rssMb().toFixed(1)} MB): heap collected`);
  }

  private statusEvent(at: number): SensorEvent {
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      type: 'sensor.status',
      at,
      cpuPercent: round(this.budgets.cpuPercent()),
      rssMb: round(this.budgets.rssMb()),
      hashedBytes: this.hasher.hashedBytes,
      sentBytesToday: this.counters.sentBytesToday,
      spoolBytes: this.spool.bytes,
      droppedEvents: this.droppedEvents(),
    };
  }

  private droppedEvents(): number {
    return this.counters.droppedEvents;
  }

  private saveCounters(): void {
    this.counters.droppedEvents += this.spool.droppedEvents - this.spoolDroppedSeen;
    this.spoolDroppedSeen = this.spool.droppedEvents;
    const today = utcDay();
    if (this.counters.day !== today) this.counters = { ...this.counters, day: today, sentBytesToday: 0 };
    this.state.setCounters(this.counters);
  }

  status(now = Date.now()): AgentStatus {
    return {
      at: new Date(now).toISOString(),
      cpuPercent: Math.round(this.budgets.cpuPercent() * 1000) / 1000,
      rssMb: Math.round(this.budgets.rssMb() * 10) / 10,
      intervalMs: this.intervalMs,
      hashedBytes: this.hasher.hashedBytes,
      sentBytesToday: this.counters.sentBytesToday,
      spoolBytes: this.spool.bytes,
      spoolEvents: this.spool.events,
      droppedEvents: this.droppedEvents(),
      iocMatches: this.matcher.matches,
      processes: this.processes,
      sockets: this.sockets,
      policyVersion: this.policy.version,
      iocVersion: this.matcher.version,
      ...(this.warmUp ? { warmUp: this.warmUp } : {}),
      hashPending: this.collector.awaitingHashes,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  private log(line: string): void {
    this.options.log(line);
  }

  /** Fetches the policy and IoC list; a document that does not verify is refused and the old one kept. */
  async refresh(now = Date.now()): Promise<void> {
    this.nextRefreshAt = now + this.options.refreshIntervalMs;
    try {
      const policyDocument = await this.channel.signed('policy');
      const policy = adoptSigned(policyDocument, this.pinnedKey, PolicyBody, this.policy.version);
      if (policy.adopted) {
        this.adoptPolicy(policy.body);
        // Kept verified on disk too, so a restart without the centre runs under it.
        this.state.writeJson('policy.json', policyDocument);
      } else this.refuse('policy', policy.reason);
      const iocDocument = await this.channel.signed('iocs');
      const iocs = adoptSigned(iocDocument, this.pinnedKey, IocListBody, this.matcher.version);
      if (iocs.adopted) {
        this.matcher.load(iocs.body);
        this.state.writeJson('iocs.json', iocDocument);
      } else this.refuse('IoC list', iocs.reason);
    } catch (error) {
      this.lastError = `refresh: ${(error as Error).message}`;
      this.log(this.lastError);
    }
    await this.renewIfDue(now);
  }

  /** Renews the client certificate when little of it is left; a refusal or failure is logged and retried at the next refresh. */
  private async renewIfDue(now: number): Promise<void> {
    const { notAfter, lifetimeMs } = this.channel.certificate();
    if (notAfter - now > (this.options.renewWithinMs ?? lifetimeMs / 3)) return;
    try {
      const renewedUntil = await this.channel.renew();
      this.sentLog.note(`client certificate renewed, valid until ${new Date(renewedUntil).toISOString()}`);
      this.log(`client certificate renewed until ${new Date(renewedUntil).toISOString()}`);
    } catch (error) {
      const refused = error instanceof RenewRefused ? 'refused' : 'failed';
      this.lastError = `certificate renewal ${refused}: ${(error as Error).message}`;
      this.log(this.lastError);
    }
  }

  private refuse(what: string, reason: string): void {
    this.lastError = `refused the centre's ${what}: ${reason}; keeping the previous one`;
    this.log(this.lastError);
    this.sentLog.note(this.lastError);
  }

  private adoptPolicy(policy: PolicyBody): void {
    if (policy.version !== this.policy.version)
      this.sentLog.note(`policy version ${policy.version} in force`);
    this.policy = policy;
    this.budgets.setBudgets(policy.budgets);
    this.hasher.setRate(this.budgets.hashBytesPerSecond());
    this.collector.setHashExecutables(policy.hashExecutables);
  }

  /** Sends what the spool holds, batch by batch, until it is empty or the centre cannot be reached. */
  async flush(now = Date.now()): Promise<void> {
    this.nextSendAt = now + this.options.sendIntervalMs;
    for (let batches = 0; batches < 64 && !this.stopped; batches++) {
      const batch = this.nextBatch();
      if (!batch) return;
      try {
        const outcome = await this.channel.send(batch);
        this.sendAttempt = 0;
        this.lastError = undefined;
        if (outcome.kind === 'accepted') {
          this.counters.sentBytesToday += outcome.compressedBytes + REQUEST_OVERHEAD_BYTES;
          this.sentLog.batch({ ...outcome.batch, compressedBytes: outcome.compressedBytes });
        } else if (outcome.kind === 'resealed') {
          this.sentLog.note(
            `the centre expected seq ${outcome.to}, not ${outcome.from}: the batch was sealed again`,
          );
        } else {
          this.counters.droppedEvents += outcome.batch.events.length;
          this.sentLog.note(
            `the centre refused batch seq ${outcome.batch.seq} (${outcome.reason}); its events are dropped`,
          );
        }
      } catch (error) {
        if (!(error instanceof RetryableError || error instanceof TransportError)) throw error;
        this.nextSendAt = Date.now() + backoffMs(this.sendAttempt++);
        this.lastError = `send: ${error.message}; retry in ${Math.round((this.nextSendAt - Date.now()) / 1000)} s`;
        this.log(this.lastError);
        return;
      }
    }
  }

  private nextBatch(): SealedBatch | null {
    while (true) {
      let segments: string[] = [];
      const batch = this.channel.sealed(() => {
        const taken = this.spool.peek(this.policy.batchMaxEvents);
        segments = taken.segments;
        if (!this.budgets.networkSpent(this.counters.sentBytesToday)) return taken.events;
        const essential = taken.events.filter(isEssential);
        this.counters.droppedEvents += taken.events.length - essential.length;
        return essential;
      }, this.policy.version);
      this.spool.remove(segments);
      if (batch || segments.length === 0) return batch;
      // Every event of those segments was non-essential on a spent day: look at the next ones.
    }
  }
}
