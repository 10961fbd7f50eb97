// Published threat information (OSINT): the documents read from the configured feeds, the
// indicators found in them with the sentence around each, which became intel sightings, and
// indicators per day by type. The hub's release decision chose what the API returns; the page
// draws it and asks again when a filter changes.
import { useEffect, useState, type FormEvent } from 'react';
import type { OsintBody, OsintIndicatorRow } from '../../../src/console/api/types.ts';
import { api, ApiError } from '../api.ts';
import { axisTicks, Bars } from '../charts.tsx';
import { formatTime } from '../format.ts';
import { useI18n } from '../i18n.ts';
import { useLiveTick } from '../live.tsx';
import { Card, DocumentLink, Table } from '../view.tsx';

const TYPES = ['ipv4', 'ipv6', 'domain', 'url', 'md5', 'sha1', 'sha256', 'cve', 'attack'] as const;
const TYPE_COLORS: Record<string, string> = {
  ipv4: '#e5484d',
  ipv6: '#f76b15',
  domain: '#4c9aff',
  url: '#8e4ec6',
  md5: '#8b8d98',
  sha1: '#6e56cf',
  sha256: '#12a594',
  cve: '#ffc53d',
  attack: '#30a46c',
};

interface Filter {
  q: string;
  type: string;
  source: string;
  lang: string;
}

/**
 * The value as an advisory may have written it: defanged (`hxxp`, `[.]`, `(.)`, `{.}`, `[dot]`,
 * `[:]`, `[://]`), a full stop written fullwidth or ideographic. Case does not matter.
 */
function writtenAs(value: string): RegExp {
  const dot = String.raw`(?:\.|\[\.\]|\(\.\)|\{\.\}|\[dot\]|。|．)`;
  const pattern = value
    .split('')
    .map((c) =>
      c === '.' ? dot : c === ':' ? String.raw`(?:\[?:\]?)` : c.replace(/[\\^$*+?()[\]{}|/]/g, '\\$&'),
    )
    .join('')
    .replace(/^http/i, 'h(?:tt|xx)p')
    .replace(String.raw`(?:\[?:\]?)\/\/`, String.raw`(?:\[:\/\/\]|\[?:\]?\/\/)`);
  return new RegExp(pattern, 'i');
}

/** The sentence around a hit, the hit itself marked as written (the value may be refanged). */
function Context({ row }: { row: OsintIndicatorRow }) {
  const hit = writtenAs(row.value).exec(row.context);
  if (!hit) return <span translate="no">{row.context}</span>;
  const at = hit.index;
  const end = at + hit[0].length;
  return (
    <span translate="no">
      {row.context.slice(0, at)}
      <mark>{row.context.slice(at, end)}</mark>
      {row.context.slice(end)}
    </span>
  );
}

function IntelLink({ row }: { row: OsintIndicatorRow }) {
  const { t } = useI18n();
  if (!row.intel)
    return (
      <span className="muted">
        {['ipv4', 'ipv6', 'domain', 'url'].includes(row.type) ? '–' : t('osintNotInIntel')}
      </span>
    );
  const href =
    row.intel.kind === 'c2' ? `#/c2/${row.intel.ref}` : `#/list/${row.intel.kind}/${row.intel.ref}`;
  return (
    <a href={href} data-testid="osint-intel-link">
      {t('osintConfidence')} {row.intel.confidence}
    </a>
  );
}

function FilterBar({
  data,
  filter,
  onChange,
}: {
  data: OsintBody;
  filter: Filter;
  onChange: (f: Filter) => void;
}) {
  const { t } = useI18n();
  const [words, setWords] = useState(filter.q);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onChange({ ...filter, q: words.trim() });
  };
  return (
    <form className="filters" onSubmit={submit} data-testid="osint-filters">
      <input
        type="search"
        value={words}
        placeholder={t('osintSearchPlaceholder')}
        aria-label={t('osintSearch')}
        data-testid="osint-search"
        onChange={(e) => setWords(e.target.value)}
      />
      <button type="submit">{t('osintSearch')}</button>
      <select
        aria-label={t('osintType')}
        data-testid="osint-type"
        value={filter.type}
        onChange={(e) => onChange({ ...filter, type: e.target.value })}
      >
        <option value="">{t('osintAllTypes')}</option>
        {TYPES.map((type) => (
          <option key={type} value={type}>
            {t(`otype_${type}`)}
          </option>
        ))}
      </select>
      <select
        aria-label={t('osintSource')}
        data-testid="osint-source"
        value={filter.source}
        onChange={(e) => onChange({ ...filter, source: e.target.value })}
      >
        <option value="">{t('osintAllSources')}</option>
        {data.sources.map((source) => (
          <option key={source} value={source}>
            {source}
          </option>
        ))}
      </select>
      <select
        aria-label={t('osintLanguage')}
        data-testid="osint-lang"
        value={filter.lang}
        onChange={(e) => onChange({ ...filter, lang: e.target.value })}
      >
        <option value="">{t('osintAllLanguages')}</option>
        <option value="ja">{t('lang_ja')}</option>
        <option value="en">{t('lang_en')}</option>
      </select>
    </form>
  );
}

/** Indicators per day as stacked columns, one colour a type: equal counts of two types cannot hide each other. */
function PerDay({ data }: { data: OsintBody }) {
  const { t } = useI18n();
  const present = TYPES.filter((type) => data.daily.some((d) => d.type === type));
  const counts = new Map(data.daily.map((d) => [`${d.day}|${d.type}`, d.count]));
  const totals = data.labels.map((day) =>
    present.reduce((sum, type) => sum + (counts.get(`${day}|${type}`) ?? 0), 0),
  );
  const ticks = axisTicks(Math.max(0, ...totals));
  const top = ticks[ticks.length - 1]! || 1;
  const [w, h, left, bottom, head] = [640, 170, 40, 24, 10];
  const step = (w - left - 8) / Math.max(1, data.labels.length);
  const y = (v: number) => h - bottom - (v / top) * (h - head - bottom);
  const every = Math.ceil(data.labels.length / 8);
  return (
    <>
      <h2>{t('osintPerDay')}</h2>
      <svg
        className="series"
        viewBox={`0 0 ${w} ${h}`}
        role="img"
        aria-label={t('osintPerDay')}
        data-testid="osint-per-day"
      >
        {ticks.map((v) => (
          <g key={`y${v}`}>
            <line x1={left} y1={y(v)} x2={w - 8} y2={y(v)} className="axis" />
            <text x={left - 6} y={y(v) + 4} className="tick" textAnchor="end">
              {v.toLocaleString()}
            </text>
          </g>
        ))}
        {data.labels.map((day, i) => {
          let base = 0;
          return (
            <g key={day}>
              {present.map((type) => {
                const n = counts.get(`${day}|${type}`) ?? 0;
                if (n === 0) return null;
                const rect = (
                  <rect
                    key={type}
                    x={left + i * step + 1}
                    width={Math.max(1, step - 2)}
                    y={y(base + n)}
                    height={y(base) - y(base + n)}
                    fill={TYPE_COLORS[type]}
                  >
                    <title>{`${day} ${t(`otype_${type}`)} ${n}`}</title>
                  </rect>
                );
                base += n;
                return rect;
              })}
              {(data.labels.length - 1 - i) % every === 0 ? (
                <text x={left + i * step + step / 2} y={h - 6} className="tick" textAnchor="middle">
                  {day.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <p className="legend">
        {present.map((type) => (
          <span key={type} className="legend-item">
            <span className="swatch" style={{ background: TYPE_COLORS[type] }} />
            <span translate="no">{t(`otype_${type}`)}</span>
          </span>
        ))}
      </p>
    </>
  );
}

function Documents({ data }: { data: OsintBody }) {
  const { t } = useI18n();
  return (
    <>
      <h2>
        {t('osintDocuments')}{' '}
        <span className="muted">
          {data.documents.length.toLocaleString()}{' '}
          {t('osintShown').replace('{n}', data.documentCount.toLocaleString())}
        </span>
      </h2>
      <Table
        testId="osint-documents"
        headers={[
          'osintFetched',
          'osintSource',
          'osintTitle',
          'osintLanguage',
          'osintIndicators',
          'osintMarking',
        ].map(t)}
      >
        {data.documents.map((d) => (
          <tr key={d.id}>
            <td>{formatTime(d.fetchedAt)}</td>
            <td translate="no">{d.source}</td>
            <td>
              <DocumentLink url={d.url} title={d.title} />
            </td>
            <td>{t(`lang_${d.language}`)}</td>
            <td>{d.indicators.toLocaleString()}</td>
            <td>
              {t(`tier_${d.tier}`)} · TLP:{d.tlp.toUpperCase()}
            </td>
          </tr>
        ))}
      </Table>
    </>
  );
}

function Indicators({ data }: { data: OsintBody }) {
  const { t } = useI18n();
  const titles = new Map(data.documents.map((d) => [d.id, d.title || d.url]));
  return (
    <>
      <h2>{t('osintIndicators')}</h2>
      <Table
        testId="osint-indicators"
        headers={['osintType', 'osintValue', 'osintContext', 'osintDocument', 'osintIntel'].map(t)}
      >
        {data.indicators.map((i) => (
          <tr key={`${i.documentId} ${i.type} ${i.value} ${i.port}`}>
            <td className="osint-type">{t(`otype_${i.type}`)}</td>
            <td className="mono osint-value" translate="no">
              {i.value}
              {i.port ? `:${i.port}` : ''}
            </td>
            <td className="context">
              <Context row={i} />
            </td>
            <td>{titles.get(i.documentId) ?? i.source}</td>
            <td>
              <IntelLink row={i} />
            </td>
          </tr>
        ))}
      </Table>
    </>
  );
}

export function OsintPage() {
  const { t } = useI18n();
  const tick = useLiveTick();
  const [filter, setFilter] = useState<Filter>({ q: '', type: '', source: '', lang: '' });
  const [data, setData] = useState<OsintBody | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<OsintBody>('osint', {
      q: filter.q,
      type: filter.type,
      source: filter.source,
      lang: filter.lang,
    }).then(setData, (e: ApiError) => setError(e.status === 403 ? t('forbidden') : e.message));
  }, [tick, t, filter]);
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  const filtered = filter.q || filter.type || filter.source || filter.lang;
  if (data.documentCount === 0 && !filtered)
    return (
      <section data-page="osint">
        <p className="empty" data-testid="empty">
          {/* The configuration key is data, not words to translate. */}
          {t('emptyOsint')
            .split('{key}')
            .flatMap((part, i) =>
              i === 0
                ? [part]
                : [
                    <code key={i} translate="no">
                      osint.feeds
                    </code>,
                    part,
                  ],
            )}
        </p>
      </section>
    );
  const total = data.byType.reduce((sum, r) => sum + r.count, 0);
  return (
    <section data-page="osint">
      <p className="muted">{t('osintIntro')}</p>
      <FilterBar data={data} filter={filter} onChange={setFilter} />
      <div className="cards">
        <Card title={t('osintDocuments')} value={data.documentCount} testId="osint-document-count" />
        <Card title={t('osintIndicators')} value={total} testId="osint-indicator-count" />
        <Card title={t('osintInIntel')} value={data.inIntel} testId="osint-in-intel" />
      </div>
      {data.documentCount === 0 ? (
        <p className="empty" data-testid="osint-no-match">
          {t('osintNoMatch')}
        </p>
      ) : (
        <>
          <PerDay data={data} />
          <h2>{t('osintByType')}</h2>
          <Bars
            rows={data.byType.map((r) => ({
              label: t(`otype_${r.type}`),
              value: r.count,
              color: TYPE_COLORS[r.type],
            }))}
            label={t('osintByType')}
          />
          <Documents data={data} />
          <Indicators data={data} />
        </>
      )}
    </section>
  );
}
