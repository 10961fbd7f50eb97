/** Text forms of darknet results: hosts.csv, bot lists (one address per line) and a summary. */
import type { DarknetAnalyzer } from './analyzer.ts';
import type { SourceClass } from './config.ts';
import { formatHostRow, HOSTS_CSV_HEADER, type SourceRecord } from './source-record.ts';

export function formatHostsCsv(records: SourceRecord[]): string {
  return HOSTS_CSV_HEADER + '\n' + records.map(formatHostRow).join('');
}

/** The bot list the C&C detector reads: a header `ip` then one address per line. */
export function formatBotList(addresses: string[]): string {
  return 'ip\n' + addresses.map((a) => `${a}\n`).join('');
}

/** All sources of a count per class. */
export function sourceTotal(byClass: Record<SourceClass, number>): number {
  return byClass.infected + byClass.benign + byClass.backscatter + byClass.unknown;
}

/** A human summary of a finished run; `byClass` counts its sources (e.g. from writeHostsCsv). */
export function formatSummary(
  analyzer: DarknetAnalyzer,
  byClass: Record<SourceClass, number>,
  topPorts: number,
): string {
  const c = analyzer.counters;
  const lines = [
    `packets: ${c.frames} frames, ${c.darknet} to the darknet, ${c.notDarknet} elsewhere (ignored)`,
    `skipped: ${c.notIp} not IP, ${c.unsupportedLink} unknown link type, ${c.badHeader} bad headers; ${c.truncated} truncated, ${c.fragments} fragments, ${c.untracked} untracked (table full)`,
    `analysis: ${analyzer.nativeFrames} frames in the C hot loop, ${c.frames - analyzer.nativeFrames} in TypeScript${analyzer.usesNative ? '' : ` (C loop not used: ${analyzer.nativeUnavailable})`}`,
    `sources: ${sourceTotal(byClass)} (${(['infected', 'benign', 'backscatter', 'unknown'] as const).map((k) => `${k} ${byClass[k]}`).join(', ')})`,
    'top ports:',
    ...analyzer.stats
      .topPorts(topPorts)
      .map((p) => `  ${p.protocol}/${p.port}\t${p.packets} packets\t${p.sources} sources`),
  ];
  for (const kind of ['asn', 'country'] as const) {
    const groups = analyzer.groups(kind, 10);
    if (groups.length === 0) continue;
    lines.push(`top ${kind === 'asn' ? 'ASNs' : 'countries'}:`);
    for (const g of groups)
      lines.push(`  ${g.key}${g.name ? ` ${g.name}` : ''}\t${g.packets} packets\t${g.sources} sources`);
  }
  const surges = analyzer.stats.surges;
  if (surges.length > 0) {
    lines.push(`surges: ${surges.length}`);
    for (const s of surges.slice(0, 20)) {
      lines.push(
        `  ${new Date(s.start).toISOString()} ${s.protocol}/${s.port}: ${s.sources} sources vs baseline ${s.baseline}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}
