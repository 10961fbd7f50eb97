/** The caveats the TAXII benchmark prints under its table, from what the run measured. */
import type { Timing, WalkPlan } from './measure.ts';

export interface RunFacts {
  largeOnly: boolean;
  plan: WalkPlan;
  /** tsunagi's first pages on their own, per size. */
  firstPages: number;
  posts: number;
  small: number;
  /** The second shared size (writes only), when it ran. */
  middle?: number;
  /** The tsunagi-only size asked for (0: none) and the one its load reached. */
  asked: number;
  reached?: number;
  loadStep: number;
  loadBudgetMin: number;
  /** Why medallion did not run, when it did not. */
  medallionSkipped?: string;
  medallionFirst?: Timing;
  medallionWalk?: Timing;
  medallionObjects?: number;
  tsunagiNext?: Timing;
  phasePressure: string[];
}

const s = (n: number) => (n === 1 ? '' : 's');
const en = (n: number) => n.toLocaleString('en-US');
const MACHINE =
  'The machine has 2 cores shared with other sessions: wall times (latencies, req/s) move by tens of percent between runs; ' +
  "the server's CPU time per request moves much less (waiting for a core is not counted), which is why it is the ratio.";
const CPU_CLOCK =
  "Server CPU is read from /proc/PID/stat (utime + stime of every thread, ended threads included) before and after each block of requests; the kernel counts it in 10 ms ticks, so it is summed over a whole row's blocks before dividing by the requests. " +
  "The client's own CPU (JSON parsing, in the benchmark's process) is in neither server's figure, and the same code for both.";
const SERVERS =
  "Both servers run as processes of their own: tsunagi as `tsunagi serve --data DIR` (as an operator runs it; the benchmark's process fills the store first and closes it; its rate limit is raised out of the client's way and its log level is error), " +
  "medallion as `python3 -m medallion.scripts.run` (Flask's threaded server, log level ERROR). Neither is restarted between the GET and POST phases of a size.";

/** Why medallion's first page is slow, with this run's own measurement of it. */
function firstPageCaveat(f: RunFacts): string[] {
  const first = f.medallionFirst;
  if (!first || first.requests === 0) return [];
  const walk = f.medallionWalk;
  return [
    `medallion's first page at ${en(f.small)} indicators (${en(f.medallionObjects ?? 0)} objects) took ${(first.max / 1000).toFixed(1)} s of wall time and ${(first.cpuMs / first.requests / 1000).toFixed(1)} s of its process's CPU here. ` +
      "It is its memory backend's own work, not the machine: `BasicFilter.sort_and_paginate` sorts the manifest by date_added, then for each manifest entry scans the object list for the matching id and version, parsing both timestamps with `strptime` on every comparison (`find_att`), about objects² / 2 parses per first page whatever the page size; `filter_by_spec_version` before it also compares every object with every other. " +
      '`bench/taxii/medallion-profile.ts` reproduces this alone (the backend asked directly, no Flask, no other request, then under cProfile). It is not worked around: every client of medallion pays it on each first page.' +
      (walk && first.seconds > walk.seconds / 2
        ? ` Its whole-walk figures are mostly that one request (${first.seconds.toFixed(0)} s of the walk's ${walk.seconds.toFixed(0)} s); the \`next\`-page row (${walk.requests - first.requests} requests each) is the steady-state comparison.`
        : ''),
  ];
}

function aloneAtScale(f: RunFacts): string {
  return `${en(f.reached ?? f.asked)} indicators are tsunagi alone, without a ratio: medallion's memory backend holds its collection in one JSON document and its first page is quadratic in it (minutes of CPU already at ${en(f.small)} indicators), so it was not run at that size.`;
}

export function caveatsOf(f: RunFacts): string[] {
  const p = f.plan;
  const pressure = `CPU pressure (Linux PSI, some avg10) around each timed phase, which other sessions' load moves: ${f.phasePressure.join('; ')}.`;
  if (f.largeOnly)
    return [
      ...(f.reached !== undefined && f.reached < f.asked
        ? [
            `Measured at ${en(f.reached)} indicators, not the ${en(f.asked)} asked for: loading (recording, then publishing, in steps of ${en(f.loadStep)}) ran past its budget of ${f.loadBudgetMin} min (TAXII_BENCH_LOAD_BUDGET_MIN) on this shared machine, so the run stopped growing after that step.`,
          ]
        : []),
      "The machine has 2 cores shared with other sessions: wall times (latencies, req/s) move by tens of percent between runs; the server's CPU time per request moves much less (waiting for a core is not counted).",
      aloneAtScale(f),
      `Every percentile is printed with the number of requests it is over: GET rows over ${f.firstPages} first pages and ${p.nextPages} \`next\` pages from the first (\`limit=${p.page}\`), POST rows over ${f.posts} requests after one untimed warm-up, their tail printed as the maximum ("max").`,
      "tsunagi runs as `tsunagi serve --data DIR`, a process of its own (the benchmark's process fills the store first and closes it; the rate limit is raised out of the client's way, the log level is error).",
      CPU_CLOCK,
      pressure,
    ];
  return [
    ...(f.medallionSkipped
      ? [`medallion was not run (${f.medallionSkipped}), so this run has no ratio.`]
      : []),
    MACHINE,
    `The servers take turns over the same request plan, so a change in the machine's load falls on both: a GET turn is one first page, or up to ${p.blockPages} \`next\` pages of the server's walk; a POST turn is one envelope; who goes first alternates from round to round. Load before and after is in the line above; CPU pressure per phase is below.`,
    SERVERS,
    CPU_CLOCK,
    `Every percentile is printed with the number of requests it is over; a tail over fewer than ${100} is the maximum, labelled "max". Both servers make the same ${p.walks} whole walk${s(p.walks)} of the collection with \`limit=${p.page}\` (at least ${p.nextPages} \`next\` pages each), so the whole-walk, first-page and \`next\`-page rows are the same requests on both. tsunagi alone also makes ${f.firstPages} first pages on their own (no ratio: medallion's take minutes each). POST rows are over ${f.posts} requests each after one untimed warm-up: medallion's POST slows as its collection grows, so 100 POSTs would measure a different size.`,
    ...firstPageCaveat(f),
    "medallion's paging sessions are kept for an hour (`session_timeout`; its default of 30 s would expire a walk on a loaded machine).",
    "medallion 3.0.0 fails on the extension-definition's `version` property, so it holds one object fewer than tsunagi.",
    ...(f.middle
      ? [
          `At ${en(f.middle)} indicators only POSTs are compared: medallion's first page there would be about ${((f.middle / f.small) ** 2).toFixed(0)} times its cost at ${en(f.small)}. tsunagi's GET rows at that size are tsunagi alone.`,
        ]
      : []),
    f.asked > (f.middle ?? f.small)
      ? aloneAtScale(f)
      : 'tsunagi alone at 1,000,000 indicators (no ratio) is measured by `npm run bench:taxii -- --large-only 1000000`, into a section of its own.',
    `medallion's \`next\` page costs about the same at any page size (it looks the page's first and last objects up in the whole manifest for its headers), so its per-object figures depend on \`limit=${p.page}\`; both servers get the same page size.`,
    pressure,
  ];
}
