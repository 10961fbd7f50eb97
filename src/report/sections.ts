/**
 * The five sections of a report, each computed from released indicators only. Every number a
 * section shows is added to the FigureBook with the query it came from and how it was derived.
 */
import type { Indicator, Sighting, Tier } from '../intel/index.ts';
import { isHostKind } from '../share/index.ts';
import type { Lang } from './config.ts';
import { type Cell, type Chart, countBy, type FigureBook, inRange, iso, type Section } from './figures.ts';
import type { KindData, Window } from './gather.ts';
import { formatDate, formatShortDay, type LabelKey } from './i18n.ts';

export interface SectionContext {
  book: FigureBook;
  window: Window;
  lang: Lang;
  t: (key: LabelKey) => string;
  tier: Tier;
  topN: number;
  surgeMinimum: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Series drawn in a trend chart: more lines than this cannot be told apart. */
const TREND_SERIES = 5;

const live = (i: Indicator) => i.withdrawnAt === null;
function activeAt(i: Indicator, at: Date): boolean {
  const t = at.toISOString();
  return live(i) && i.createdAt < t && i.expiresAt > t;
}
const range = (from: Date, to: Date) => `createdAt in [${iso(from)}, ${iso(to)})`;
const activeText = (at: Date) => `withdrawnAt is null and createdAt < ${iso(at)} and expiresAt > ${iso(at)}`;
const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * A C&C server as a reader writes it: `ip:port/proto`, `ip:port` when the source named no
 * protocol (an advisory's `203.0.113.5:8080`), the address alone when it named no port; an IPv6
 * address in brackets before a port.
 */
export function serverLabel(i: Pick<Indicator, 'value' | 'port' | 'proto'>): string {
  if (!i.port) return i.value;
  const host = i.value.includes(':') ? `[${i.value}]` : i.value;
  return `${host}:${i.port}${i.proto ? `/${i.proto}` : ''}`;
}

function blank(key: Section['key'], state: Section['state'], truncated = false): Section {
  return {
    key,
    state,
    headline: [],
    charts: [],
    tables: [],
    notes: [state === 'empty' ? 'noData' : 'notReleased'],
    truncated,
  };
}

/** Nothing released: a host kind below the full tier is the release rule's doing, anything else no data. */
function whenNothing(ctx: SectionContext, key: Section['key'], data: KindData): Section {
  return blank(key, ctx.tier !== 'full' && isHostKind(data.kind) ? 'not-released' : 'empty', data.truncated);
}

export function c2Section(ctx: SectionContext, data: KindData): Section {
  const { book, window: w, t } = ctx;
  if (data.items.length === 0) return whenNothing(ctx, 'c2', data);
  const q = data.query.id;
  const fresh = data.items.filter((i) => live(i) && inRange(i.createdAt, w.start, w.end));
  const active = book.add(
    t('activeC2'),
    data.items.filter((i) => activeAt(i, w.end)).length,
    q,
    `count where ${activeText(w.end)}`,
  );
  const newCount = book.add(
    t('newC2'),
    fresh.length,
    q,
    `count where withdrawnAt is null and ${range(w.start, w.end)}`,
  );
  const families = countBy(fresh, (i) => i.family).slice(0, ctx.topN);
  const chart: Chart = {
    kind: 'bar',
    title: 'c2Families',
    labels: families.map(([f]) => f || t('unknown')),
    series: [
      {
        name: t('newC2'),
        figures: families.map(([f, n]) =>
          book.add(
            `${t('c2Families')}: ${f || t('unknown')}`,
            n,
            q,
            `count where withdrawnAt is null and ${range(w.start, w.end)} and family = ${quote(f)}`,
          ),
        ),
      },
    ],
  };
  const servers = [...fresh]
    .sort((a, b) => b.confidence - a.confidence || a.value.localeCompare(b.value) || a.port - b.port)
    .slice(0, ctx.topN);
  const rows: Cell[][] = servers.map((i) => [
    serverLabel(i),
    i.family || t('unknown'),
    {
      figure: book.add(
        `${t('confidence')}: ${serverLabel(i)}`,
        i.confidence,
        q,
        `confidence where value = ${quote(i.value)} and port = ${i.port} and proto = ${quote(i.proto)}`,
      ),
    },
    formatDate(new Date(i.firstSeen), ctx.lang),
  ]);
  return {
    key: 'c2',
    state: 'ok',
    headline: [newCount, active],
    charts: families.length ? [chart] : [],
    tables: [{ title: 'newC2', table: { columns: ['server', 'family', 'confidence', 'firstSeen'], rows } }],
    notes: fresh.length ? [] : ['noData'],
    truncated: data.truncated,
  };
}

export function hostsSection(
  ctx: SectionContext,
  data: KindData,
  ispOf: (i: Indicator) => string,
  orgQuery: string,
): Section {
  const { book, window: w, t } = ctx;
  if (data.items.length === 0) return whenNothing(ctx, 'hosts', data);
  const q = `${data.query.id}+${orgQuery}`;
  const isp = new Map(data.items.map((i) => [i.id, ispOf(i)]));
  const ispText = (name: string) => `ISP (organisation holding the address or AS) = ${quote(name)}`;
  const active = data.items.filter((i) => activeAt(i, w.end));
  const fresh = data.items.filter((i) => live(i) && inRange(i.createdAt, w.start, w.end));
  const before = data.items.filter((i) => live(i) && inRange(i.createdAt, w.previousStart, w.start));
  const headline = [
    book.add(t('newBots'), fresh.length, q, `count where withdrawnAt is null and ${range(w.start, w.end)}`),
    book.add(t('activeBots'), active.length, q, `count where ${activeText(w.end)}`),
  ];
  const perIsp = countBy(active, (i) => isp.get(i.id)!).slice(0, ctx.topN);
  const count = (list: Indicator[], name: string) => list.filter((i) => isp.get(i.id) === name).length;
  const rows: Cell[][] = perIsp.map(([name, n]) => {
    const now = count(fresh, name);
    const previous = count(before, name);
    return [
      name,
      {
        figure: book.add(
          `${t('activeBots')}: ${name}`,
          n,
          q,
          `count where ${activeText(w.end)} and ${ispText(name)}`,
        ),
      },
      {
        figure: book.add(
          `${t('newBots')}: ${name}`,
          now,
          q,
          `count where withdrawnAt is null and ${range(w.start, w.end)} and ${ispText(name)}`,
        ),
      },
      {
        figure: book.add(
          `${t('previousPeriod')}: ${name}`,
          previous,
          q,
          `count where withdrawnAt is null and ${range(w.previousStart, w.start)} and ${ispText(name)}`,
        ),
      },
      {
        figure: book.add(
          `${t('change')}: ${name}`,
          now - previous,
          q,
          'new in period minus previous period (the two figures before)',
        ),
      },
    ];
  });
  return {
    key: 'hosts',
    state: 'ok',
    headline,
    charts: [trendChart(ctx, data.items, isp, q, ispText)],
    tables: [
      {
        title: 'perIsp',
        table: { columns: ['isp', 'active', 'newInPeriod', 'previousPeriod', 'change'], rows },
      },
    ],
    notes: [],
    truncated: data.truncated,
  };
}

function trendChart(
  ctx: SectionContext,
  items: readonly Indicator[],
  isp: Map<string, string>,
  q: string,
  ispText: (name: string) => string,
): Chart {
  const { book, window: w, t } = ctx;
  const days = w.trendDays;
  const first = days[0]!;
  const inTrend = items.filter((i) => live(i) && inRange(i.createdAt, first, w.end));
  const top = countBy(inTrend, (i) => isp.get(i.id)!)
    .slice(0, TREND_SERIES)
    .map(([name]) => name);
  return {
    kind: 'line',
    title: 'trend',
    labels: days.map((d) => formatShortDay(d, ctx.lang)),
    series: top.map((name) => ({
      name,
      figures: days.map((day) => {
        const next = new Date(day.getTime() + DAY);
        const n = inTrend.filter((i) => isp.get(i.id) === name && inRange(i.createdAt, day, next)).length;
        return book.add(
          `${t('newBotsOnDay')}: ${name}, ${formatShortDay(day, ctx.lang)}`,
          n,
          q,
          `count where withdrawnAt is null and ${range(day, next)} and ${ispText(name)}`,
        );
      }),
    })),
  };
}

/** Destination ports a darknet scanner was seen on (the darknet adapter's `ports` attribute). */
function portsOf(i: Indicator): string[] {
  return (i.attributes.ports ?? '')
    .split(/[;, ]+/)
    .map((p) => p.replace('+', ''))
    .filter((p) => /^\d{1,5}$/.test(p) && Number(p) <= 65535);
}

export function darknetSection(
  ctx: SectionContext,
  data: KindData,
  sightings: Map<string, Sighting[]>,
  sightingQuery: string,
): Section {
  const { book, window: w, t } = ctx;
  const fromDarknet = data.items.filter((i) =>
    (sightings.get(i.id) ?? []).some((s) => s.source.toLowerCase().includes('darknet')),
  );
  if (fromDarknet.length === 0) return whenNothing(ctx, 'darknet', data);
  const q = `${data.query.id}+${sightingQuery}`;
  const scope = "kind bot with a sighting whose source contains 'darknet' and withdrawnAt is null";
  const fresh = fromDarknet.filter((i) => live(i) && inRange(i.createdAt, w.start, w.end));
  const before = fromDarknet.filter((i) => live(i) && inRange(i.createdAt, w.previousStart, w.start));
  const headline = [
    book.add(t('darknetHosts'), fresh.length, q, `count ${scope} and ${range(w.start, w.end)}`),
  ];
  const step = w.period === 'daily' ? HOUR : DAY;
  const buckets = Array.from(
    { length: Math.round((w.end.getTime() - w.start.getTime()) / step) },
    (_, k) => new Date(w.start.getTime() + k * step),
  );
  const chart: Chart = {
    kind: 'column',
    title: 'newScannersChart',
    labels: buckets.map((b) =>
      step === HOUR ? String(b.getUTCHours()).padStart(2, '0') : formatShortDay(b, ctx.lang),
    ),
    series: [
      {
        name: t('newScannersChart'),
        figures: buckets.map((b) => {
          const next = new Date(b.getTime() + step);
          const n = fresh.filter((i) => inRange(i.createdAt, b, next)).length;
          return book.add(
            `${t('newScannersChart')}: ${iso(b)}`,
            n,
            q,
            `count ${scope} and ${range(b, next)}`,
          );
        }),
      },
    ],
  };
  const now = new Map(countBy(fresh, portsOf));
  const previous = new Map(countBy(before, portsOf));
  const rows: Cell[][] = [...now].slice(0, ctx.topN).map(([port, n]) => {
    const p = previous.get(port) ?? 0;
    const surge = n >= ctx.surgeMinimum && n >= 2 * p;
    const portText = `ports attribute holds ${port}`;
    return [
      port,
      {
        figure: book.add(
          `${t('newInPeriod')}: ${t('port')} ${port}`,
          n,
          q,
          `count ${scope} and ${range(w.start, w.end)} and ${portText}`,
        ),
      },
      {
        figure: book.add(
          `${t('previousPeriod')}: ${t('port')} ${port}`,
          p,
          q,
          `count ${scope} and ${range(w.previousStart, w.start)} and ${portText}`,
        ),
      },
      surge ? t('surgeYes') : '',
    ];
  });
  return {
    key: 'darknet',
    state: 'ok',
    headline,
    charts: [chart],
    tables: rows.length
      ? [
          {
            title: 'perPort',
            table: { columns: ['port', 'newInPeriod', 'previousPeriod', 'surge'], rows },
          },
        ]
      : [],
    notes: rows.length ? ['portsNote'] : ['noPorts'],
    truncated: data.truncated,
  };
}

/** One figure per (key, count) row of a breakdown, as table rows; `name` words a key for the reader. */
function breakdownRows(
  ctx: SectionContext,
  counts: [string, number][],
  label: string,
  q: string,
  derive: (key: string) => string,
  name: (key: string) => string = (key) => key || ctx.t('unknown'),
): Cell[][] {
  return counts
    .slice(0, ctx.topN)
    .map(([key, n]) => [name(key), { figure: ctx.book.add(`${label}: ${name(key)}`, n, q, derive(key)) }]);
}

/** A survey finding's status in words (the stored code when the dictionary has none). */
function findingName(ctx: SectionContext, status: string): string {
  if (status === 'weak-credential' || status === 'vulnerable-firmware' || status === 'exposed')
    return ctx.t(`finding_${status}`);
  return status || ctx.t('unknown');
}

export function surveySection(ctx: SectionContext, data: KindData): Section {
  const { book, window: w, t } = ctx;
  if (data.items.length === 0) return whenNothing(ctx, 'survey', data);
  const q = data.query.id;
  const active = data.items.filter((i) => activeAt(i, w.end));
  const fresh = data.items.filter((i) => live(i) && inRange(i.createdAt, w.start, w.end));
  const headline = [
    book.add(t('devices'), active.length, q, `count where ${activeText(w.end)}`),
    book.add(
      t('newDevices'),
      fresh.length,
      q,
      `count where withdrawnAt is null and ${range(w.start, w.end)}`,
    ),
  ];
  const activeWhere = (attr: string, key: string) =>
    `count where ${activeText(w.end)} and attributes.${attr} = ${quote(key)}`;
  const byProduct = countBy(active, (i) => i.attributes.product ?? '');
  const productRows = breakdownRows(ctx, byProduct, t('product'), q, (k) => activeWhere('product', k));
  const chart: Chart = {
    kind: 'bar',
    title: 'byProduct',
    labels: productRows.map((r) => r[0] as string),
    series: [{ name: t('devices'), figures: productRows.map((r) => (r[1] as { figure: string }).figure) }],
  };
  const cveRows = breakdownRows(
    ctx,
    countBy(active, (i) => i.attributes.cve ?? ''),
    t('cve'),
    q,
    (k) => activeWhere('cve', k),
    (k) => k || t('noCve'),
  );
  const statusRows = breakdownRows(
    ctx,
    countBy(active, (i) => i.attributes.status ?? ''),
    t('status'),
    q,
    (k) => activeWhere('status', k),
    (k) => findingName(ctx, k),
  );
  // Remediation: the devices found before the period, by what intel saw of them since.
  const older = data.items.filter((i) => i.createdAt < w.start.toISOString());
  const start = w.start.toISOString();
  const olderText = `createdAt < ${iso(w.start)}`;
  const remediation: Cell[][] = [
    [
      t('stillSeen'),
      {
        figure: book.add(
          t('stillSeen'),
          older.filter((i) => live(i) && i.lastSeen >= start).length,
          q,
          `count where ${olderText} and withdrawnAt is null and lastSeen >= ${iso(w.start)}`,
        ),
      },
    ],
    [
      t('notSeenAgain'),
      {
        figure: book.add(
          t('notSeenAgain'),
          older.filter((i) => live(i) && i.lastSeen < start).length,
          q,
          `count where ${olderText} and withdrawnAt is null and lastSeen < ${iso(w.start)}`,
        ),
      },
    ],
    [
      t('withdrawn'),
      {
        figure: book.add(
          t('withdrawn'),
          older.filter((i) => !live(i)).length,
          q,
          `count where ${olderText} and withdrawnAt is not null`,
        ),
      },
    ],
  ];
  return {
    key: 'survey',
    state: 'ok',
    headline,
    charts: productRows.length ? [chart] : [],
    tables: [
      { title: 'byCve', table: { columns: ['cve', 'count'], rows: cveRows } },
      { title: 'byStatus', table: { columns: ['status', 'count'], rows: statusRows } },
      { title: 'remediation', table: { columns: ['status', 'count'], rows: remediation } },
    ],
    notes: ['remediationNote'],
    truncated: data.truncated,
  };
}

/** Phishing: URL and domain indicators whose family names the brand they imitate (the web room's key). */
export function phishingSection(ctx: SectionContext, urls: KindData, domains: KindData): Section {
  const { book, window: w, t } = ctx;
  const branded = [...urls.items, ...domains.items].filter((i) => i.family !== '');
  const truncated = urls.truncated || domains.truncated;
  if (branded.length === 0) return blank('phishing', 'empty', truncated);
  const q = `${urls.query.id}+${domains.query.id}`;
  const scope = "kind in (url, domain) and family <> ''";
  const active = branded.filter((i) => activeAt(i, w.end));
  const fresh = branded.filter((i) => live(i) && inRange(i.createdAt, w.start, w.end));
  const headline = [
    book.add(t('phishingIndicators'), active.length, q, `count ${scope} and ${activeText(w.end)}`),
  ];
  const rows: Cell[][] = countBy(active, (i) => i.family)
    .slice(0, ctx.topN)
    .map(([brand, n]) => [
      brand,
      {
        figure: book.add(
          `${t('active')}: ${brand}`,
          n,
          q,
          `count ${scope} and ${activeText(w.end)} and family = ${quote(brand)}`,
        ),
      },
      {
        figure: book.add(
          `${t('newInPeriod')}: ${brand}`,
          fresh.filter((i) => i.family === brand).length,
          q,
          `count ${scope} and withdrawnAt is null and ${range(w.start, w.end)} and family = ${quote(brand)}`,
        ),
      },
    ]);
  const chart: Chart = {
    kind: 'bar',
    title: 'phishingIndicators',
    labels: rows.map((r) => r[0] as string),
    series: [{ name: t('active'), figures: rows.map((r) => (r[1] as { figure: string }).figure) }],
  };
  return {
    key: 'phishing',
    state: 'ok',
    headline,
    charts: rows.length ? [chart] : [],
    tables: [{ title: 'perBrand', table: { columns: ['brand', 'active', 'newInPeriod'], rows } }],
    notes: rows.length ? [] : ['noData'],
    truncated,
  };
}
