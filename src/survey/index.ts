/** The survey component: runs an authorised plan over its scope and hands back findings per host. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Counter, type Registry } from 'prom-client';
import { type Logger, UsageError } from '../core/index.ts';
import type { SurveyConfig } from './config.ts';
import { VulnerableTable } from './firmware.ts';
import { EvidenceLog, Gate, RateLimiter, type GateCounters } from './gate.ts';
import type { AuthorisedPlan } from './plan.ts';
import { Recog } from './recog.ts';
import { surveyHost, type HostCounters } from './scanner.ts';
import type { HostResult } from './types.ts';

export { SurveyConfig, SurveyPlan } from './config.ts';
export { authorisePlan, loadPlan, Scope, Credential, type AuthorisedPlan } from './plan.ts';
export { Recog } from './recog.ts';
export { VulnerableTable } from './firmware.ts';
export type { Finding, HostResult, FindingStatus } from './types.ts';
export { formatFindings, readFindings } from './findings.ts';

/** The recog files the probes consult. */
export const RECOG_FILES = [
  'telnet_banners',
  'ssh_banners',
  'http_servers',
  'http_wwwauth',
  'html_title',
  'x509_subjects',
];

/**
 * recog's whole database (every file of Rapid7's xml/ directory), shipped as package data in
 * src/survey/recog/ with Rapid7's BSD licence beside it. The path is taken from the package root so that the compiled
 * dist/survey/index.js finds the same directory.
 */
export const DEFAULT_RECOG_PATH = fileURLToPath(new URL('../../src/survey/recog/', import.meta.url));

export interface SurveyDeps {
  logger: Logger;
  registry: Registry;
  /** Preloaded fingerprints (tests share one); loaded from config.recogPath otherwise. */
  recog?: Recog;
  vulnerable?: VulnerableTable;
}

export interface SurveyProgress {
  done: number;
  /** Known in advance only for explicit target lists and plain scopes. */
  total: number;
  vulnerable: number;
}

export interface RunOptions {
  /** Survey only these addresses; every one must be in scope or the run is refused before any packet. */
  targets?: readonly string[];
  /** Addresses finished by an earlier, interrupted run (resume). */
  skip?: ReadonlySet<string>;
  onHost?: (result: HostResult) => void;
  /** Every surveyed address once finished (after onHost), findings or not: for resume state. */
  onHostDone?: (ip: string) => void;
  onProgress?: (progress: SurveyProgress) => void;
  signal?: AbortSignal;
}

export interface SurveySummary {
  hosts: number;
  optedOut: number;
  vulnerable: number;
  connections: number;
  loginAttempts: Record<'accepted' | 'rejected' | 'error', number>;
}

export interface Survey {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  run(plan: AuthorisedPlan, options?: RunOptions): Promise<SurveySummary>;
}

export function createSurvey(config: SurveyConfig, deps: SurveyDeps): Survey {
  let recog = deps.recog;
  let vulnerable = deps.vulnerable;
  const gateCounters: GateCounters = { connects: 0, refused: 0, connectFailures: 0 };
  const hostCounters: HostCounters = { loginAttempts: { accepted: 0, rejected: 0, error: 0 }, hostile: 0 };
  let hostsDone = 0;
  const controller = new AbortController();

  registerSurveyMetrics(deps.registry, gateCounters, hostCounters, () => hostsDone);

  return {
    name: 'survey',
    async start() {
      if (!recog) {
        // Only listed here; each file is parsed when a probe first needs it (see Recog.open).
        const dir = config.recogPath ? resolve(config.recogPath) : DEFAULT_RECOG_PATH;
        recog = Recog.open(dir);
        const missing = RECOG_FILES.filter((name) => !recog!.names.includes(name));
        if (missing.length > 0)
          throw new UsageError(`recog path ${dir} lacks ${missing.map((n) => `${n}.xml`).join(', ')}`);
      }
      vulnerable ??= config.vulnerableTable
        ? VulnerableTable.load(config.vulnerableTable)
        : VulnerableTable.empty();
    },
    async stop() {
      controller.abort();
    },
    async run(plan, options = {}) {
      if (!recog || !vulnerable) throw new Error('survey.run() before start()');
      const evidence = new EvidenceLog(plan.evidenceLog);
      const limiter = new RateLimiter(
        plan.plan.rateLimits.connectionsPerSecond,
        plan.plan.rateLimits.perHostIntervalMs,
      );
      const gate = new Gate({
        surveyId: plan.plan.id,
        scope: plan.scope,
        evidence,
        limiter,
        bindAddress: plan.plan.bindAddress,
        sourceLabel: plan.plan.bindAddress ?? plan.plan.sourceAddresses[0]!,
        connectTimeoutMs: config.connectTimeoutMs,
        counters: gateCounters,
      });

      let optedOut = 0;
      const { targets, total } = runTargets(plan, options.targets, gate, gateCounters);

      const summary: SurveySummary = {
        hosts: 0,
        optedOut: 0,
        vulnerable: 0,
        connections: 0,
        loginAttempts: { accepted: 0, rejected: 0, error: 0 },
      };
      const startConnects = gateCounters.connects;
      const startAttempts = { ...hostCounters.loginAttempts };
      const iterator = targets[Symbol.iterator]();
      let done = 0;
      const userAgent = `${config.userAgent}; ${plan.plan.organisation.name}; ${plan.plan.organisation.contact}`;
      const scanDeps = { gate, recog, vulnerable, config, plan, counters: hostCounters, userAgent };

      const worker = async () => {
        for (;;) {
          if (options.signal?.aborted || controller.signal.aborted) return;
          const next = iterator.next();
          if (next.done) return;
          const ip = next.value;
          if (options.skip?.has(ip)) {
            done++;
            continue;
          }
          const verdict = plan.scope.check(ip);
          if (!verdict.ok) {
            // Opt-outs inside the scope are expected: count them, no evidence line per address.
            optedOut++;
            done++;
            continue;
          }
          let result: HostResult;
          try {
            result = await surveyHost(scanDeps, ip);
          } finally {
            limiter.release(ip);
          }
          done++;
          hostsDone++;
          summary.hosts++;
          if (result.findings.some((f) => f.status !== 'exposed')) summary.vulnerable++;
          if (result.findings.length > 0) options.onHost?.(result);
          options.onHostDone?.(ip);
          options.onProgress?.({ done, total, vulnerable: summary.vulnerable });
        }
      };
      await Promise.all(Array.from({ length: plan.plan.rateLimits.concurrency }, worker));
      summary.optedOut = optedOut;
      summary.connections = gateCounters.connects - startConnects;
      for (const k of ['accepted', 'rejected', 'error'] as const)
        summary.loginAttempts[k] = hostCounters.loginAttempts[k] - startAttempts[k];
      deps.logger.info({ survey: plan.plan.id, ...summary }, 'survey finished');
      return summary;
    },
  };
}

function registerSurveyMetrics(
  registry: Registry,
  gateCounters: GateCounters,
  hostCounters: HostCounters,
  hostsDone: () => number,
): void {
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  counter(
    'tsunagi_survey_connections_total',
    'TCP connections opened by the survey',
    () => gateCounters.connects,
  );
  counter(
    'tsunagi_survey_refused_total',
    'Targets refused by the scope check before any packet',
    () => gateCounters.refused,
  );
  counter(
    'tsunagi_survey_connect_failures_total',
    'Connections that were refused or timed out',
    () => gateCounters.connectFailures,
  );
  counter(
    'tsunagi_survey_hostile_services_total',
    'Services cut off for misbehaving (loops, oversize replies)',
    () => hostCounters.hostile,
  );
  counter('tsunagi_survey_hosts_total', 'Hosts surveyed', hostsDone);
  new Counter({
    name: 'tsunagi_survey_login_attempts_total',
    help: 'Weak-credential login attempts by outcome',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, n] of Object.entries(hostCounters.loginAttempts)) this.inc({ outcome }, n);
    },
  });
}

/**
 * The addresses a run visits: the given targets, every one checked against the scope first (one
 * outside refuses the run before any packet, each refusal in the evidence log), or the scope's
 * own addresses. `total` is for progress.
 */
function runTargets(
  plan: AuthorisedPlan,
  given: readonly string[] | undefined,
  gate: Gate,
  gateCounters: GateCounters,
): { targets: Iterable<string>; total: number } {
  if (!given) {
    let total = 0;
    for (const p of plan.scope.allowed.prefixes) total += p.family === 4 ? 2 ** (32 - p.bits) : 1;
    return { targets: plan.scope.addresses(), total };
  }
  const refused: string[] = [];
  for (const t of given) {
    const verdict = plan.scope.check(t);
    if (!verdict.ok) {
      gateCounters.refused++;
      gate.record(t, 0, 'scope', 'refused', verdict.reason);
      refused.push(`${t} (${verdict.reason})`);
    }
  }
  if (refused.length > 0)
    throw new UsageError(
      `refusing targets outside the plan's authorised scope: ${refused.slice(0, 10).join(', ')}${refused.length > 10 ? ` and ${refused.length - 10} more` : ''}`,
    );
  return { targets: given, total: given.length };
}
