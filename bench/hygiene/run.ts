/**
 * bench:hygiene — issue #21: tsunagi's hygiene check beside checkdmarc (5.9.3) on the same
 * generated domains, through the same caching Unbound, in the same run: SPF/DMARC verdicts per
 * domain, domains/s and CPU seconds of each whole process.
 *
 *   npm run bench:hygiene -- [--domains 10000] [--seed 21] [--checkdmarc PYTHONPATH]
 *                            [--python python3] [--address 127.0.0.153] [--write BENCHMARKS.md]
 *
 * --checkdmarc (or CHECKDMARC_PATH) is a PYTHONPATH holding checkdmarc 5.9.3 and the two
 * dependencies Debian lacks, pyleri and publicsuffixlist (bench/hygiene/README.md); --python (or
 * CHECKDMARC_PYTHON) must see Debian's python3-dnspython & co. Without it only tsunagi runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { labUnavailable } from '../../src/hygiene/testing.ts';
import { commandLine, machineLoad, markdownTable, publishReport } from '../lib/report.ts';
import { startBenchResolver } from './lab.ts';
import { compare, runCheckdmarc, runTsunagi, type Pass } from './peers.ts';
import { DMARC_KINDS, generateDomains, SPF_KINDS, zoneRecords } from './zones.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// No name below the anchor's zone is checked, so tsunagi spends no queries on DNSSEC (the zone is
// unsigned and the IANA root is out of reach here); checkdmarc's DNSSEC test is one DNSKEY query.
const UNUSED_TRUST_ANCHOR = `anchor.invalid. IN DS 12345 13 2 ${'ab'.repeat(32)}\n`;

function options() {
  const { values } = parseArgs({
    options: {
      domains: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '21' },
      checkdmarc: { type: 'string', default: process.env['CHECKDMARC_PATH'] },
      python: { type: 'string', default: process.env['CHECKDMARC_PYTHON'] ?? 'python3' },
      address: { type: 'string', default: '127.0.0.153' },
      concurrency: { type: 'string', default: '16' },
      write: { type: 'string' },
    },
  });
  const count = Number(values.domains);
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`--domains must be a positive integer, not ${values.domains}`);
  if (!/^127\.\d+\.\d+\.\d+$/.test(values.address))
    throw new Error('--address must be a loopback IPv4 address');
  return { ...values, count, seed: Number(values.seed), concurrency: Number(values.concurrency) };
}

function rate(count: number, pass: Pass): string {
  return (count / pass.wallSeconds).toFixed(1);
}

async function main(): Promise<void> {
  const o = options();
  const missing = labUnavailable();
  if (missing) throw new Error(`bench:hygiene ${missing}`);
  const started = new Date();
  const loadBefore = machineLoad();
  const domains = generateDomains(o.count, o.seed);
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-bench-hygiene-run-'));
  const domainFile = join(dir, 'domains.txt');
  writeFileSync(domainFile, domains.map((d) => d.name).join('\n') + '\n');
  const trustAnchorFile = join(dir, 'anchor.txt');
  writeFileSync(trustAnchorFile, UNUSED_TRUST_ANCHOR);
  const lab = await startBenchResolver(zoneRecords(domains), o.address);
  try {
    const tsunagi = () =>
      runTsunagi({
        bin: join(repo, 'bin', 'tsunagi'),
        domainFile,
        resolver: lab.resolver,
        trustAnchorFile,
        concurrency: o.concurrency,
        dir,
      });
    const checkdmarc = o.checkdmarc
      ? () =>
          runCheckdmarc({
            python: o.python,
            pythonPath: o.checkdmarc!,
            domains: domains.map((d) => d.name),
            address: lab.address,
            dir,
          })
      : undefined;
    if (!checkdmarc)
      console.log('bench:hygiene: checkdmarc skipped (give --checkdmarc PYTHONPATH or CHECKDMARC_PATH)');
    // One untimed pass of each fills Unbound's cache with every name either asks for.
    console.error('warm-up passes...');
    tsunagi();
    checkdmarc?.();
    console.error('timed passes...');
    const ours = tsunagi();
    const theirs = checkdmarc?.();
    const rows: (string | number)[][] = [
      [
        'tsunagi hygiene check',
        `--concurrency ${o.concurrency}`,
        ours.wallSeconds.toFixed(1),
        ours.cpuSeconds.toFixed(1),
        rate(o.count, ours),
      ],
    ];
    if (theirs)
      rows.push([
        'checkdmarc 5.9.3',
        'sequential (it has no concurrency option)',
        theirs.wallSeconds.toFixed(1),
        theirs.cpuSeconds.toFixed(1),
        rate(o.count, theirs),
      ]);
    const tables = [
      markdownTable(['tool', 'concurrency', 'wall s', 'CPU s', 'domains/s'], rows, ['l', 'l', 'r', 'r', 'r']),
    ];
    if (theirs) {
      tables.push(
        `tsunagi / checkdmarc throughput: **${(theirs.wallSeconds / ours.wallSeconds).toFixed(1)}x** (goal >= 10x); CPU seconds per domain ${((ours.cpuSeconds / o.count) * 1000).toFixed(2)} ms vs ${((theirs.cpuSeconds / o.count) * 1000).toFixed(2)} ms.`,
      );
      const agreements = compare(domains, ours, theirs);
      tables.push(
        markdownTable(
          ['verdict', 'same category', 'tsunagi as generated', 'checkdmarc as generated'],
          agreements.map((a) => [
            a.field.toUpperCase(),
            `${a.same} / ${o.count}`,
            a.tsunagiExpected,
            a.checkdmarcExpected,
          ]),
          ['l', 'r', 'r', 'r'],
        ),
      );
      const examples = agreements.flatMap((a) => a.examples);
      if (examples.length)
        tables.push(['Disagreements (first of each):', '', ...examples.map((e) => `- ${e}`)].join('\n'));
    }
    publishReport(
      {
        title: 'Hygiene check vs checkdmarc',
        command: commandLine('bench:hygiene'),
        method:
          `${o.count} generated domains (seed ${o.seed}; SPF kinds ${SPF_KINDS.join('/')}, DMARC kinds ${DMARC_KINDS.join('/')}, ` +
          'the fallback kind checked as mail.dN.test under dN.test) served by BIND through one caching Unbound on the loopback. ' +
          'Each tool runs as a whole process over the same domain list: one untimed warm-up pass each, then one timed pass each; ' +
          "wall clock from Node, CPU seconds from bash's `times` (user + system of the process and its children). " +
          "Verdicts: checkdmarc's JSON mapped to tsunagi's categories (SPF `all` qualifier, invalid/missing from its error; DMARC `p`, or `sp` when found at the organisational domain).",
        started,
        loadBefore,
        loadAfter: machineLoad(),
        tables,
        caveats: [
          'Neither tool can restrict itself to SPF and DMARC, so each does its full default domain check without TLS connections: ' +
            'tsunagi MX, SPF, DMARC, MTA-STS and TLS-RPT records, IPv6 and HTTPS lookups (no A/AAAA, so no connection), DKIM with no selectors, DNSSEC skipped (trust anchor outside the zone); ' +
            'checkdmarc (`--skip-tls`) NS, MX, SPF, DMARC, DNSSEC (DNSKEY), MTA-STS, TLS-RPT and BIMI.',
          'A fallback name (mail.dN.test) whose own SPF kind is missing has no records at all, so it does not exist (NXDOMAIN): ' +
            'tsunagi still applies the organisational domain\'s DMARC policy, checkdmarc stops at "The domain ... does not exist" (missing). Those disagreements are that, kept on purpose.',
          'tsunagi starts through tsx (TypeScript compiled at start-up), about a second of each pass.',
          ...(o.count < 10_000
            ? [
                `Run with --domains ${o.count}, not the default 10000 (checkdmarc's sequential passes did not fit the time).`,
              ]
            : []),
        ],
      },
      o.write,
    );
  } finally {
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench:hygiene: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
