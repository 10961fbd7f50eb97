/** The notify component: routes survey findings to ISPs, makers and integrators; writes reports and letters; tracks remediation. */
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../core/index.ts';
import type { Finding } from './types.ts';
import type { NotifyConfig } from './config.ts';
import { buildLetters, type Lang, type Letter } from './letters.ts';
import { ispReports, routeFindings, toCsv, type IspReport } from './report.ts';
import { Routing } from './routing.ts';
import {
  compareSurveys,
  monthlyStatistics,
  type MonthlyRow,
  type SurveyRound,
  type Tracked,
} from './tracking.ts';

export { NotifyConfig, RoutingFile } from './config.ts';
export { Routing } from './routing.ts';
export { toCsv, REPORT_COLUMNS, type IspReport, type ReportRow } from './report.ts';
export { deviceKind, type Letter, type Lang } from './letters.ts';
export { compareSurveys, monthlyStatistics, type Tracked, type MonthlyRow } from './tracking.ts';

export interface NotifyDeps {
  logger: Logger;
  registry: Registry;
  /** A routing table built elsewhere (tests); loaded from config.routing otherwise. */
  routing?: Routing;
}

export interface Notify {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Per-ISP reports of the findings someone must act on. */
  reports(findings: readonly Finding[]): Map<string, IspReport & { csv: string }>;
  letters(findings: readonly Finding[], lang: Lang): Letter[];
  track(before: readonly Finding[], after: readonly Finding[]): Tracked[];
  monthly(rounds: readonly SurveyRound[]): MonthlyRow[];
}

export function createNotify(config: NotifyConfig, deps: NotifyDeps): Notify {
  let routing = deps.routing;
  const counts = { routed: 0, unrouted: 0, letters: 0 };
  new Counter({
    name: 'tsunagi_notify_findings_total',
    help: 'Findings to act on, by whether an ISP was found for them',
    labelNames: ['routed'],
    registers: [deps.registry],
    collect() {
      this.reset();
      this.inc({ routed: 'yes' }, counts.routed);
      this.inc({ routed: 'no' }, counts.unrouted);
    },
  });
  new Counter({
    name: 'tsunagi_notify_letters_total',
    help: 'Subscriber letters written',
    registers: [deps.registry],
    collect() {
      this.reset();
      this.inc(counts.letters);
    },
  });
  const need = () => {
    if (!routing) throw new Error('notify used before start()');
    return routing;
  };
  return {
    name: 'notify',
    async start() {
      if (!routing) {
        if (!config.routing) throw new Error('notify needs a routing file (notify.routing)');
        routing = Routing.load(config.routing);
      }
    },
    async stop() {},
    reports(findings) {
      const r = need();
      const { routed, unrouted } = routeFindings(findings, r);
      counts.routed += routed.length;
      counts.unrouted += unrouted.length;
      if (unrouted.length > 0)
        deps.logger.warn(
          { unrouted: unrouted.length, sample: unrouted.slice(0, 5).map((f) => f.ip) },
          'findings with no ISP route',
        );
      const out = new Map<string, IspReport & { csv: string }>();
      for (const [id, report] of ispReports(findings, r)) out.set(id, { ...report, csv: toCsv(report.rows) });
      return out;
    },
    letters(findings, lang) {
      const letters = buildLetters(findings, need(), lang, {
        name: config.sender,
        contact: config.senderContact,
      });
      counts.letters += letters.length;
      return letters;
    },
    track: compareSurveys,
    monthly: monthlyStatistics,
  };
}
