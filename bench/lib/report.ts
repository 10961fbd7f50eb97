/**
 * The one way a benchmark reports: it prints a markdown section (command, date, commit, machine,
 * load before and after, tables, caveats) and, with `--write FILE`, puts exactly that text into
 * FILE (BENCHMARKS.md) under its own "## " heading, leaving the other sections alone. Nothing in
 * BENCHMARKS.md is written by hand, so every figure there is one a command printed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** How busy the shared machine was at one moment. */
export interface MachineLoad {
  /** 1-minute load average. */
  loadavg1: number;
  /** `/proc/pressure/cpu` "some avg10" in percent; null where the kernel has no PSI. */
  cpuPressure: number | null;
}

export function machineLoad(): MachineLoad {
  return { loadavg1: loadavg()[0] ?? 0, cpuPressure: cpuPressure() };
}

function cpuPressure(): number | null {
  try {
    const match = /^some avg10=([\d.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export function describeLoad(load: MachineLoad): string {
  const pressure = load.cpuPressure === null ? 'no PSI' : `CPU pressure ${load.cpuPressure.toFixed(1)}%`;
  return `load ${load.loadavg1.toFixed(2)}, ${pressure}`;
}

/** The commit the measured code is at, marked when the work tree had uncommitted changes. */
export function commitOf(dir = repo): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
    // Markdown (BENCHMARKS.md as earlier sections rewrite it, READMEs) does not change what runs.
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: dir,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.endsWith('.md'));
    return dirty.length > 0 ? `${head} with uncommitted changes` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/**
 * The commit when the benchmark started (this module loads with it): a run takes minutes to an
 * hour, and commits made meanwhile are not what it measured.
 */
const COMMIT_AT_START = commitOf();

export function describeMachine(): string {
  const cores = cpus();
  const memory = (totalmem() / 2 ** 30).toFixed(0);
  return `${cores.length} cores (${cores[0]?.model.trim() ?? 'unknown CPU'}), ${memory} GiB; node ${process.version}`;
}

/** `npm run SCRIPT -- ARGS` as this process was started, to reproduce the run. */
export function commandLine(npmScript: string, argv = process.argv.slice(2)): string {
  const quoted = argv.map((arg) => (/^[\w./:=,@+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`));
  return `npm run ${npmScript}${quoted.length ? ' -- ' + quoted.join(' ') : ''}`;
}

export interface Report {
  /** The section's heading without "## ", e.g. "Flow collection". */
  title: string;
  /** The command that reproduces the section (see commandLine). */
  command: string;
  /** What was measured and how, one paragraph. */
  method: string;
  started: Date;
  loadBefore: MachineLoad;
  loadAfter: MachineLoad;
  /** Markdown tables or fenced blocks, printed in order. */
  tables: string[];
  /** What the figures do not show or where the comparison is not like for like. */
  caveats: string[];
}

export function renderReport(report: Report): string {
  const seconds = (Date.now() - report.started.getTime()) / 1000;
  const lines = [
    `## ${report.title}`,
    '',
    `\`${report.command}\` — run ${report.started.toISOString().slice(0, 16).replace('T', ' ')} UTC ` +
      `for ${seconds.toFixed(0)} s on commit ${COMMIT_AT_START}; ${describeMachine()}; ` +
      `${describeLoad(report.loadBefore)} before, ${describeLoad(report.loadAfter)} after.`,
    '',
    report.method.trim(),
    '',
    ...report.tables.flatMap((table) => [table.trim(), '']),
  ];
  const caveats = [...report.caveats, ...busyCaveat(report.loadBefore, report.loadAfter)];
  if (caveats.length > 0) lines.push('Caveats:', '', ...caveats.map((c) => `- ${c}`), '');
  return lines.join('\n');
}

/**
 * A caveat when the load figures show the machine was busy (a load average at three quarters of
 * the cores, or a quarter of the time with tasks waiting for a CPU), so a section never says the
 * machine was shared when it was not, nor stays silent when it was.
 */
export function busyCaveat(before: MachineLoad, after: MachineLoad, cores = cpus().length): string[] {
  const load = Math.max(before.loadavg1, after.loadavg1);
  const pressure = Math.max(before.cpuPressure ?? 0, after.cpuPressure ?? 0);
  if (load < cores * 0.75 && pressure < 25) return [];
  return [
    `The machine was busy during the run (load up to ${load.toFixed(2)} on ${cores} cores, CPU pressure up to ${pressure.toFixed(1)}%): ` +
      'other processes shared the CPU, so wall-clock figures are indicative; CPU-time figures are less affected.',
  ];
}

export const PREAMBLE =
  '# Benchmarks\n\n' +
  'Every section below was printed by its benchmark and put here by its `--write BENCHMARKS.md` ' +
  '(bench/lib/report.ts); none is edited by hand. The command at the top of a section reproduces it.\n';

/**
 * Replaces the section `## title` of `markdown` (up to the next "## " heading), or appends it,
 * and makes sure the file starts with the preamble.
 */
export function replaceSection(markdown: string, title: string, section: string): string {
  let text = markdown.trim() === '' ? PREAMBLE : markdown;
  if (!text.startsWith(PREAMBLE)) {
    const firstSection = text.indexOf('\n## ');
    text = PREAMBLE + (firstSection < 0 ? '' : text.slice(firstSection));
  }
  const heading = `## ${title}\n`;
  const body = section.trimEnd() + '\n';
  const start = text.startsWith(heading) ? 0 : text.indexOf(`\n${heading}`) + 1;
  if (start <= 0) return `${text.trimEnd()}\n\n${body}`;
  const next = text.indexOf('\n## ', start + heading.length);
  return text.slice(0, start) + body + (next < 0 ? '' : text.slice(next));
}

/**
 * Prints the report to stdout and, when `writePath` is given, writes the same text as its
 * section of that file (formatted by the project's prettier so `format:check` stays green).
 */
export function publishReport(report: Report, writePath?: string): string {
  const section = renderReport(report);
  process.stdout.write(`\n${section}\n`);
  if (writePath) {
    const path = resolve(writePath);
    const existing = existsSync(path) ? readFileSync(path, 'utf8') : '';
    writeFileSync(path, replaceSection(existing, report.title, section));
    const prettier = join(repo, 'node_modules', '.bin', 'prettier');
    if (existsSync(prettier)) spawnSync(prettier, ['--write', path], { stdio: 'ignore', timeout: 30_000 });
    process.stderr.write(`wrote the "${report.title}" section of ${path}\n`);
  }
  return section;
}

/** A markdown table from a header row and body rows (prettier aligns it on --write). */
export function markdownTable(header: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const rule = header.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'));
  return [header, rule, ...rows.map((row) => row.map(String))]
    .map((cells) => `| ${cells.join(' | ')} |`)
    .join('\n');
}
