/**
 * The two checkers as whole processes over the same domain file, each timed on the wall clock
 * and in CPU seconds (bash's `times` reports what the child used, user + system).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectedDmarc, expectedSpf, type BenchDomain } from './zones.ts';

export interface Pass {
  wallSeconds: number;
  cpuSeconds: number;
  /** Domain → [spf, dmarc] in tsunagi's categories. */
  verdicts: Map<string, [string, string]>;
  /** Domain → [spf, dmarc] error text, where the tool gave one (checkdmarc), for disagreements. */
  errors?: Map<string, [string, string]>;
}

/** Runs `command` under bash, its stdout to `out`; fails loudly with its stderr's tail. */
function timed(
  command: string[],
  out: string,
  env: NodeJS.ProcessEnv,
): { wallSeconds: number; cpuSeconds: number } {
  const script = '"$@" > "$OUT"; status=$?; times >&2; exit $status';
  const started = process.hrtime.bigint();
  const result = spawnSync('bash', ['-c', script, 'bash', ...command], {
    env: { ...env, OUT: out },
    encoding: 'utf8',
    maxBuffer: 256 * 2 ** 20,
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0)
    throw new Error(`${command.join(' ').slice(0, 200)}: ${result.stderr.slice(-500)}`);
  // The last line of `times` is the children's "user system", e.g. "0m1.234s 0m0.210s".
  const children = result.stderr.trim().split('\n').at(-1) ?? '';
  const cpuSeconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
    (sum, [, minutes, seconds]) => sum + Number(minutes) * 60 + Number(seconds),
    0,
  );
  return { wallSeconds, cpuSeconds };
}

export interface TsunagiRun {
  bin: string;
  domainFile: string;
  resolver: string;
  trustAnchorFile: string;
  concurrency: number;
  dir: string;
}

export function runTsunagi(run: TsunagiRun): Pass {
  const out = join(run.dir, 'tsunagi.csv');
  const command = [
    process.execPath,
    run.bin,
    'hygiene',
    'check',
    '--file',
    run.domainFile,
    '--resolver',
    run.resolver,
    '--trust-anchor',
    run.trustAnchorFile,
    '--concurrency',
    String(run.concurrency),
  ];
  const time = timed(command, out, process.env);
  const [header, ...rows] = readFileSync(out, 'utf8').trim().split('\n');
  const columns = header!.split(',');
  const at = (name: string) => columns.indexOf(name);
  const verdicts = new Map<string, [string, string]>();
  for (const row of rows) {
    const cells = row.split(',');
    verdicts.set(cells[at('domain')]!, [cells[at('spf')]!, cells[at('dmarc_policy')]!]);
  }
  return { ...time, verdicts };
}

export interface CheckdmarcRun {
  python: string;
  /** PYTHONPATH holding checkdmarc (5.9.3), pyleri and publicsuffixlist. */
  pythonPath: string;
  domains: readonly string[];
  address: string;
  dir: string;
}

interface CheckdmarcResult {
  domain: string;
  spf: { valid: boolean; error?: string; parsed?: { all?: string | null } };
  dmarc: { valid: boolean; error?: string; location?: string; tags?: Record<string, { value: string }> };
}

export function runCheckdmarc(run: CheckdmarcRun): Pass {
  const out = join(run.dir, 'checkdmarc.json');
  const main = 'import sys; from checkdmarc._cli import _main; sys.argv[0] = "checkdmarc"; _main()';
  // --skip-tls: neither side opens SMTP connections; -n after the domains (it takes a list).
  const command = [run.python, '-c', main, ...run.domains, '-f', 'json', '--skip-tls', '-n', run.address];
  const time = timed(command, out, { ...process.env, PYTHONPATH: run.pythonPath });
  const parsed = JSON.parse(readFileSync(out, 'utf8')) as CheckdmarcResult | CheckdmarcResult[];
  const verdicts = new Map<string, [string, string]>();
  const errors = new Map<string, [string, string]>();
  for (const result of Array.isArray(parsed) ? parsed : [parsed]) {
    verdicts.set(result.domain, [spfCategory(result.spf), dmarcCategory(result.domain, result.dmarc)]);
    errors.set(result.domain, [result.spf.error ?? '', result.dmarc.error ?? '']);
  }
  return { ...time, verdicts, errors };
}

/** checkdmarc's SPF result in tsunagi's words: the `all` qualifier decides the posture. */
export function spfCategory(spf: CheckdmarcResult['spf']): string {
  if (!spf.valid)
    return /does not have a? ?SPF|does not exist/i.test(spf.error ?? '') ? 'missing' : 'invalid';
  const all = spf.parsed?.all;
  const posture: Record<string, string> = {
    fail: 'strict',
    softfail: 'softfail',
    neutral: 'neutral',
    pass: 'permissive',
  };
  // No `all` term: a sender the record does not list gets neutral (RFC 7208 §4.7).
  return all ? (posture[all] ?? `unknown all=${all}`) : 'neutral';
}

/** checkdmarc's DMARC result in tsunagi's words: sp= applies when found at the organisational domain. */
export function dmarcCategory(domain: string, dmarc: CheckdmarcResult['dmarc']): string {
  if (!dmarc.valid)
    return /does not have a DMARC|does not exist/i.test(dmarc.error ?? '') ? 'missing' : 'invalid';
  const inherited = dmarc.location !== undefined && dmarc.location !== domain;
  return (inherited ? dmarc.tags?.['sp']?.value : undefined) ?? dmarc.tags?.['p']?.value ?? 'invalid';
}

export interface Agreement {
  field: 'spf' | 'dmarc';
  /** Domains where the two tools give the same category. */
  same: number;
  /** Domains where tsunagi gives what the generated record calls for. */
  tsunagiExpected: number;
  checkdmarcExpected: number;
  examples: string[];
}

export function compare(domains: readonly BenchDomain[], ours: Pass, theirs: Pass): Agreement[] {
  return (['spf', 'dmarc'] as const).map((field, index) => {
    const agreement: Agreement = { field, same: 0, tsunagiExpected: 0, checkdmarcExpected: 0, examples: [] };
    for (const domain of domains) {
      const expected = field === 'spf' ? expectedSpf(domain.spf) : expectedDmarc(domain.dmarc);
      const a = ours.verdicts.get(domain.name)?.[index] ?? 'absent';
      const b = theirs.verdicts.get(domain.name)?.[index] ?? 'absent';
      const error = theirs.errors?.get(domain.name)?.[index];
      if (a === b) agreement.same++;
      else if (agreement.examples.length < 8)
        agreement.examples.push(
          `${domain.name} (${field} ${field === 'spf' ? domain.spf : domain.dmarc}): tsunagi ${a}, checkdmarc ${b}${error ? ` ("${error}")` : ''}`,
        );
      if (a === expected) agreement.tsunagiExpected++;
      if (b === expected) agreement.checkdmarcExpected++;
    }
    return agreement;
  });
}
