/** A report from intel: read and release each kind, compute the sections, and summarise them when asked. */
import { type Tier, type Tlp, moreRestrictedTier, moreRestrictedTlp } from '../intel/index.ts';
import type { ReportConfig } from './config.ts';
import { FigureBook, SECTION_KEYS, type Section, type SectionKey } from './figures.ts';
import {
  ispNamer,
  readKind,
  type ReportDeps,
  sightingsOf,
  type SourceQuery,
  type Window,
  windowOf,
} from './gather.ts';
import { labels } from './i18n.ts';
import {
  c2Section,
  darknetSection,
  hostsSection,
  phishingSection,
  type SectionContext,
  surveySection,
} from './sections.ts';
import { notAsked, summarise, type Summary } from './summarise.ts';

export interface ReportDocument {
  config: ReportConfig;
  window: Window;
  generatedAt: Date;
  /** The report's own marking: never less strict than what it was made from, nor than its tier's floor. */
  marking: { tier: Tier; tlp: Tlp };
  sections: Section[];
  book: FigureBook;
  queries: SourceQuery[];
  summaries: Map<SectionKey, Summary>;
}

export interface BuildOptions {
  now?: Date;
  /** The summariser's HTTP client (the global fetch unless a caller passes its own). */
  fetch?: typeof fetch;
}

/** The least a report for each tier is marked: the tier itself, under the TLP its readers share. */
const FLOOR: Record<Tier, Tlp> = { full: 'amber+strict', council: 'amber+strict', public: 'clear' };

export async function buildReport(
  config: ReportConfig,
  deps: ReportDeps,
  options: BuildOptions = {},
): Promise<ReportDocument> {
  const now = options.now ?? new Date();
  const window = windowOf(config.period, config.date, now);
  const t = labels(config.lang);
  const read = (kind: Parameters<typeof readKind>[1], id: string) =>
    readKind(deps, kind, config.tier, config.maxIndicators, id);
  const [c2, bots, devices, urls, domains] = await Promise.all([
    read('c2', 'Q1'),
    read('bot', 'Q2'),
    read('vulnerable-device', 'Q3'),
    read('url', 'Q4'),
    read('domain', 'Q5'),
  ]);
  const sightings = await sightingsOf(deps, bots.items);
  const ispOf = await ispNamer(deps, t('unknownAs'));
  const queries: SourceQuery[] = [c2, bots, devices, urls, domains].map((k) => k.query);
  queries.push(
    {
      id: 'Q6',
      name: 'intel.sightingsOf',
      params: { indicatorIds: t('q6Ids') },
      release: t('q6Release'),
    },
    {
      id: 'Q7',
      name: 'share organisations',
      params: { fields: ['name', 'asns', 'prefixes'] },
      release: t('q7Release'),
    },
  );
  const book = new FigureBook();
  const ctx: SectionContext = {
    book,
    window,
    lang: config.lang,
    t,
    tier: config.tier,
    topN: config.topN,
    surgeMinimum: config.surgeMinimum,
  };
  const sections = [
    c2Section(ctx, c2),
    hostsSection(ctx, bots, ispOf, 'Q7'),
    darknetSection(ctx, bots, sightings, 'Q6'),
    surveySection(ctx, devices),
    phishingSection(ctx, urls, domains),
  ];
  let tier: Tier = config.tier;
  let tlp: Tlp = FLOOR[config.tier];
  for (const k of [c2, bots, devices, urls, domains]) {
    tier = moreRestrictedTier(tier, k.marking.tier);
    tlp = moreRestrictedTlp(tlp, k.marking.tlp);
  }
  const doc: ReportDocument = {
    config,
    window,
    generatedAt: now,
    marking: { tier, tlp },
    sections,
    book,
    queries,
    summaries: new Map(),
  };
  if (config.summarise) await summariseSections(doc, options.fetch);
  return doc;
}

/**
 * Every section with figures, one request each, in order (a local model server serves one at a
 * time). Once the endpoint gives no answer at all, the sections after it are not sent: a server
 * that is down would otherwise hold the report for its timeout once per section.
 */
async function summariseSections(doc: ReportDocument, fetchImpl?: typeof fetch): Promise<void> {
  const config = doc.config.summarise!;
  const t = labels(doc.config.lang);
  let down: (Summary & { outcome: 'omitted' }) | undefined;
  for (const key of SECTION_KEYS) {
    const section = doc.sections.find((s) => s.key === key)!;
    if (section.state !== 'ok') continue;
    const cells = section.tables.flatMap((x) => x.table.rows.flat());
    const ids = [...section.headline, ...cells.flatMap((c) => (typeof c === 'string' ? [] : [c.figure]))];
    const figures = [...new Set(ids)].map((id) => doc.book.byId.get(id)!);
    if (down) {
      doc.summaries.set(key, notAsked(doc.config.lang, down));
      continue;
    }
    const summary = await summarise(config, doc.config.lang, t(`sec_${key}`), figures, fetchImpl);
    if (summary.outcome === 'omitted' && summary.unreachable) down = summary;
    doc.summaries.set(key, summary);
  }
}
