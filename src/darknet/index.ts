/**
 * Darknet observation, the front door: `createDarknet(config, deps)` builds the analyzer as a
 * component that may capture live (`interface`) and offers files, bot lists and indicators.
 */
import type { Component } from '../core/index.ts';
import { DarknetAnalyzer, type BotIndicator, type DarknetDeps } from './analyzer.ts';
import type { DarknetConfig } from './config.ts';
import { analyzeFiles, type AnalyzeFilesOptions, type AnalyzeFilesResult } from './input-file.ts';
import { openLiveCapture, type LiveCapture } from './live.ts';
import type { SourceRecord } from './source-record.ts';

export { DarknetConfig, FingerprintRule, SourceClass } from './config.ts';
export { DarknetAnalyzer, ZMAP_IP_ID, type BotIndicator, type DarknetDeps } from './analyzer.ts';
export { loadAsnFile, loadCountryFile, loadScannerFile, RangeTable } from './ranges.ts';
export { loadRuleFile } from './rules.ts';
export { HOSTS_CSV_HEADER, type SourceRecord } from './source-record.ts';
export { formatBotList, formatHostsCsv, formatSummary, sourceTotal } from './output.ts';
export {
  formatStatsBatch,
  formatStatsRow,
  STATS_CSV_HEADER,
  statsRowAt,
  type StatsRow,
  type StatsRowBatch,
  type Surge,
} from './stats.ts';
export { SyntheticDarknet } from './synth.ts';
export {
  analyzeFiles,
  type AnalyzeFilesOptions,
  type AnalyzeFilesResult,
  type FileProgress,
} from './input-file.ts';

export interface DarknetLiveOptions {
  /** Interface to capture on when started; empty: files only. */
  interface?: string;
  filter?: string;
}

export interface Darknet extends Component {
  readonly analyzer: DarknetAnalyzer;
  /** Streams capture files through the analyzer (statistics stay open for more input). */
  analyzeFiles(files: string[], options?: AnalyzeFilesOptions): Promise<AnalyzeFilesResult>;
  sources(): SourceRecord[];
  /** The infected-host list for the C&C detector's bot list. */
  infectedHosts(): string[];
  infectedHostsByIsp(): Map<string, string[]>;
  indicators(): BotIndicator[];
  /** Frames captured live so far. */
  liveFrames(): number;
}

export function createDarknet(
  config: DarknetConfig,
  deps: DarknetDeps & { live?: DarknetLiveOptions } = {},
): Darknet {
  const analyzer = new DarknetAnalyzer(config, deps);
  let capture: LiveCapture | undefined;
  let frames = 0;
  return {
    name: 'darknet',
    analyzer,
    async start() {
      const live = deps.live;
      if (!live?.interface) return;
      capture = openLiveCapture(
        { interface: live.interface, filter: live.filter ?? '' },
        (linkType, data, ts) => {
          frames++;
          analyzer.observeFrame(linkType, data, ts);
        },
      );
      deps.logger?.info({ interface: live.interface }, 'darknet live capture started');
    },
    async stop() {
      capture?.close();
      capture = undefined;
    },
    analyzeFiles: (files, options) => analyzeFiles(files, analyzer, options),
    sources: () => analyzer.sources(),
    infectedHosts: () => analyzer.infectedHosts(),
    infectedHostsByIsp: () => analyzer.infectedHostsByIsp(),
    indicators: () => analyzer.indicators(),
    liveFrames: () => frames,
  };
}
