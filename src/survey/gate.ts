/**
 * The one door every survey connection goes through: scope check, rate limits, evidence record,
 * then the TCP connect. Nothing in survey/ opens a socket any other way.
 */
import { appendFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Socket, connect as netConnect } from 'node:net';
import { TLSSocket, connect as tlsConnect } from 'node:tls';
import { makeDirectories } from '../core/index.ts';
import type { Scope } from './plan.ts';

export interface EvidenceRecord {
  time: string;
  survey: string;
  source: string;
  destination: string;
  port: number;
  /** `discover:telnet`, `banner:http`, or the credential rule id of a login attempt. */
  rule: string;
  action: 'connect' | 'login' | 'refused';
  /** connect: open/closed/timeout; login: accepted/rejected/error; refused: the reason. */
  outcome: string;
}

/** Appends evidence as JSON lines, synchronously, so a crash loses nothing already attempted. */
export class EvidenceLog {
  constructor(readonly path: string) {
    makeDirectories(dirname(path));
  }
  write(record: EvidenceRecord): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }
}

/**
 * Connection pacing: a global rate (connections per second) and a minimum gap per host. A
 * caller is granted only when both gaps have passed at the moment of granting (re-checked after
 * every wake-up, since timers fire late and unevenly), so the limits hold at any concurrency.
 */
export class RateLimiter {
  private lastGlobal = -Infinity;
  private readonly lastByHost = new Map<string, number>();
  private readonly gapMs: number;

  constructor(
    connectionsPerSecond: number,
    private readonly perHostIntervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.gapMs = 1000 / connectionsPerSecond;
  }

  /** Resolves, with the grant time, once `host` may be connected to. */
  async acquire(host: string): Promise<number> {
    for (;;) {
      const now = this.now();
      const ready = Math.max(
        this.lastGlobal + this.gapMs,
        (this.lastByHost.get(host) ?? -Infinity) + this.perHostIntervalMs,
      );
      if (now >= ready) {
        this.lastGlobal = now;
        this.lastByHost.set(host, now);
        return now;
      }
      await sleep(Math.max(1, ready - now));
    }
  }

  /** Forget a host once it is done, so memory stays bounded by the hosts in flight. */
  release(host: string): void {
    this.lastByHost.delete(host);
  }
}

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

export class OutOfScopeError extends Error {}

export interface GateOptions {
  surveyId: string;
  scope: Scope;
  evidence: EvidenceLog;
  limiter: RateLimiter;
  /** The published source address we bind to, if any. */
  bindAddress?: string | undefined;
  /** Recorded as `source`; the bind address or the first published source address. */
  sourceLabel: string;
  connectTimeoutMs: number;
  counters: GateCounters;
}

export interface GateCounters {
  connects: number;
  refused: number;
  connectFailures: number;
}

export class Gate {
  constructor(readonly options: GateOptions) {}

  record(
    destination: string,
    port: number,
    rule: string,
    action: EvidenceRecord['action'],
    outcome: string,
  ): void {
    const o = this.options;
    o.evidence.write({
      time: new Date().toISOString(),
      survey: o.surveyId,
      source: o.sourceLabel,
      destination,
      port,
      rule,
      action,
      outcome,
    });
  }

  /** Throws OutOfScopeError (recorded, before any packet) when the plan does not cover `host`. */
  assertInScope(host: string, port: number, rule: string): void {
    const verdict = this.options.scope.check(host);
    if (!verdict.ok) {
      this.options.counters.refused++;
      this.record(host, port, rule, 'refused', verdict.reason);
      throw new OutOfScopeError(`${host} is refused: ${verdict.reason}`);
    }
  }

  /**
   * Opens a TCP (or TLS) connection after the scope check and rate limit; resolves undefined
   * when the port is closed or silent. `action` says whether this is discovery or a login.
   */
  async connect(
    host: string,
    port: number,
    rule: string,
    options: { tls?: boolean; action?: 'connect' | 'login' } = {},
  ): Promise<Socket | undefined> {
    this.assertInScope(host, port, rule);
    await this.options.limiter.acquire(host);
    // Scope again after the wait: nothing may slip through a reload between check and packet.
    this.assertInScope(host, port, rule);
    this.options.counters.connects++;
    const socket = await openSocket(
      host,
      port,
      this.options.bindAddress,
      this.options.connectTimeoutMs,
      options.tls === true,
    );
    const outcome = socket ? 'open' : 'closed';
    if (!socket) this.options.counters.connectFailures++;
    // Login attempts are recorded by the caller with their outcome.
    if ((options.action ?? 'connect') === 'connect') this.record(host, port, rule, 'connect', outcome);
    return socket;
  }
}

function openSocket(
  host: string,
  port: number,
  localAddress: string | undefined,
  timeoutMs: number,
  tls: boolean,
): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const base = { host, port, ...(localAddress ? { localAddress } : {}) };
    const socket: Socket | TLSSocket = tls
      ? tlsConnect({ ...base, rejectUnauthorized: false })
      : netConnect(base);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.off('error', onError);
      if (ok) {
        // Readers watch 'close'; a late error must not crash the process.
        socket.on('error', () => {});
        resolve(socket);
      } else {
        socket.destroy();
        resolve(undefined);
      }
    };
    const onError = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('error', onError);
    socket.once(tls ? 'secureConnect' : 'connect', () => done(true));
  });
}
