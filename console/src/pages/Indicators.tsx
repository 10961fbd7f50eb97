// C&C servers (or any kind): a server-side paginated, sortable, filterable table and a detail view.
import { useEffect, useState } from 'react';
import { api, ApiError, type IndicatorView, type Me } from '../api.ts';
import { useI18n } from '../i18n.ts';
import { useLiveTick } from '../live.tsx';

interface Page {
  items: IndicatorView[];
  /** Absent when the page was asked without a count (later pages keep the first page's). */
  total?: number;
  totalCapped?: boolean;
  limit: number;
  /** Keyset cursor of the next page; absent on the last. */
  next?: string;
}

const FIRST: readonly string[] = [];

const PAGE = 25;

export function IndicatorsPage({ me, kind, detailRef }: { me: Me; kind: string; detailRef?: string }) {
  const { t } = useI18n();
  const tick = useLiveTick();
  const [q, setQ] = useState('');
  const [family, setFamily] = useState('');
  const [minConfidence, setMinConfidence] = useState('');
  const [sort, setSort] = useState('created');
  const [dir, setDir] = useState<'asc' | 'desc'>('desc');
  // Cursors of the pages after the first (keyset pagination: page 201 costs what page 2 does).
  const [trail, setTrail] = useState<readonly string[]>(FIRST);
  const [page, setPage] = useState<Page | null>(null);
  const [counted, setCounted] = useState<{ total: number; capped: boolean } | null>(null);
  const offset = trail.length * PAGE;
  const [error, setError] = useState<string | null>(null);
  const showConfidence = me.tier !== 'public';
  useEffect(() => {
    const timer = setTimeout(() => {
      api<Page>('indicators', {
        kind,
        q: q.trim(),
        family: family.trim(),
        minConfidence: showConfidence && minConfidence ? Number(minConfidence) : undefined,
        sort,
        dir,
        after: trail[trail.length - 1],
        count: trail.length ? false : undefined,
        limit: PAGE,
      }).then(
        (p) => {
          setPage(p);
          if (p.total !== undefined) setCounted({ total: p.total, capped: p.totalCapped === true });
          setError(null);
        },
        (e: Error) => setError(e.message),
      );
    }, 150);
    return () => clearTimeout(timer);
  }, [kind, q, family, minConfidence, sort, dir, trail, tick, showConfidence]);
  const header = (key: string, label: string) => (
    <th
      className={`sortable ${sort === key ? 'sorted' : ''}`}
      onClick={() => {
        if (sort === key) setDir(dir === 'asc' ? 'desc' : 'asc');
        else {
          setSort(key);
          setDir(key === 'value' || key === 'family' || key === 'port' ? 'asc' : 'desc');
        }
        setTrail(FIRST);
      }}
    >
      {label}
      {sort === key ? (dir === 'asc' ? ' ▲' : ' ▼') : ''}
    </th>
  );
  return (
    <section data-page={`list-${kind}`}>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('search')}
          <input
            name="q"
            value={q}
            onChange={(e) => (setQ(e.target.value), setTrail(FIRST))}
            placeholder="203.0.113."
          />
        </label>
        <label>
          {t('family')}
          <input
            name="family"
            value={family}
            onChange={(e) => (setFamily(e.target.value), setTrail(FIRST))}
          />
        </label>
        {showConfidence ? (
          <label>
            {t('minConfidence')}
            <input
              name="minConfidence"
              type="number"
              min="0"
              max="100"
              value={minConfidence}
              onChange={(e) => (setMinConfidence(e.target.value), setTrail(FIRST))}
            />
          </label>
        ) : null}
      </form>
      {error ? <p className="error">{error}</p> : null}
      {page && counted ? (
        <>
          <p className="muted" data-testid="total">
            {counted.total.toLocaleString()}
            {counted.capped ? '+' : ''} {t('rows')}
          </p>
          <table className="table" data-testid="indicator-table">
            <thead>
              <tr>
                {header('value', t('address'))}
                {header('port', t('port'))}
                {header('family', t('family'))}
                {showConfidence ? header('confidence', t('confidence')) : null}
                <th>{t('tlp')}</th>
                {header('created', t('created'))}
                {me.tier === 'full' ? header('lastSeen', t('lastSeen')) : null}
              </tr>
            </thead>
            <tbody>
              {page.items.map((i) => (
                <tr key={i.ref} className={detailRef === i.ref ? 'selected' : ''}>
                  <td className="mono">
                    <a href={`#/${kind === 'c2' ? 'c2' : `list/${kind}`}/${i.ref}`}>{i.value}</a>
                  </td>
                  <td>{i.port ? `${i.port}/${i.proto}` : '—'}</td>
                  <td>{i.family || '—'}</td>
                  {showConfidence ? <td>{i.confidence}</td> : null}
                  <td>
                    <span className={`tlp tlp-${i.tlp.replace('+', '-')}`}>TLP:{i.tlp.toUpperCase()}</span>
                  </td>
                  <td>{i.createdDay}</td>
                  {me.tier === 'full' ? <td>{i.lastSeen?.slice(0, 16).replace('T', ' ')}</td> : null}
                </tr>
              ))}
            </tbody>
          </table>
          <div className="pager">
            <button disabled={trail.length === 0} onClick={() => setTrail(trail.slice(0, -1))}>
              {t('prev')}
            </button>
            <span>
              {page.items.length ? offset + 1 : 0}–{offset + page.items.length} {t('of')}{' '}
              {counted.total.toLocaleString()}
              {counted.capped ? '+' : ''}
            </span>
            <button disabled={!page.next} onClick={() => page.next && setTrail([...trail, page.next])}>
              {t('next')}
            </button>
          </div>
        </>
      ) : (
        <p>{t('loading')}</p>
      )}
      {detailRef ? <Detail refId={detailRef} back={kind === 'c2' ? '#/c2' : `#/list/${kind}`} /> : null}
    </section>
  );
}

interface DetailBody {
  indicator: IndicatorView;
  sightings?: { source: string; confidence: number; count: number; firstSeen: string; lastSeen: string }[];
  relationships?: {
    type: string;
    direction: string;
    other: { ref: string; kind: string; value: string; port: number } | null;
  }[];
  relationshipsTotal?: number;
  sharedWith?: { tier: string; collections: string[]; organisations: string[] }[];
  evidence?: Record<string, string>;
}

function Detail({ refId, back }: { refId: string; back: string }) {
  const { t } = useI18n();
  const [body, setBody] = useState<DetailBody | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setBody(null);
    api<DetailBody>(`indicators/${refId}`).then(setBody, (e: ApiError) => setError(e.message));
  }, [refId]);
  return (
    <aside className="detail" data-testid="detail">
      <a className="close" href={back}>
        {t('close')}
      </a>
      {error ? <p className="error">{error}</p> : null}
      {body ? (
        <>
          <h2 className="mono">
            {body.indicator.value}
            {body.indicator.port ? `:${body.indicator.port}/${body.indicator.proto}` : ''}
          </h2>
          <dl>
            <dt>{t('family')}</dt>
            <dd>{body.indicator.family || '—'}</dd>
            {body.indicator.confidence !== undefined ? (
              <>
                <dt>{t('confidence')}</dt>
                <dd>{body.indicator.confidence}</dd>
              </>
            ) : null}
            <dt>{t('tier')}</dt>
            <dd>{t(`tier_${body.indicator.releasableTo ?? body.indicator.tier}`)}</dd>
            <dt>{t('tlp')}</dt>
            <dd>TLP:{(body.indicator.tlp ?? '').toUpperCase()}</dd>
            <dt>{t('created')}</dt>
            <dd>{body.indicator.createdDay}</dd>
            {body.indicator.lastSeen ? (
              <>
                <dt>{t('lastSeen')}</dt>
                <dd>{body.indicator.lastSeen}</dd>
              </>
            ) : null}
          </dl>
          {body.evidence && Object.keys(body.evidence).length ? (
            <>
              <h3>{t('evidence')}</h3>
              <dl>
                {Object.entries(body.evidence).map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd className="mono">{v}</dd>
                  </div>
                ))}
              </dl>
            </>
          ) : null}
          {body.sightings ? (
            <>
              <h3>{t('sightings')}</h3>
              <table className="table small">
                <thead>
                  <tr>
                    <th>{t('sources')}</th>
                    <th>{t('confidence')}</th>
                    <th>{t('count')}</th>
                    <th>{t('lastSeen')}</th>
                  </tr>
                </thead>
                <tbody>
                  {body.sightings.map((s) => (
                    <tr key={s.source}>
                      <td>{s.source}</td>
                      <td>{s.confidence}</td>
                      <td>{s.count}</td>
                      <td>{s.lastSeen.slice(0, 16).replace('T', ' ')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
          {body.relationships?.length ? (
            <>
              <h3>
                {t('relationships')} ({body.relationshipsTotal})
              </h3>
              <ul className="compact">
                {body.relationships.slice(0, 20).map((r, i) => (
                  <li key={i} className="mono">
                    {r.direction === 'in' ? '←' : '→'} {r.type}{' '}
                    {r.other ? `${r.other.kind} ${r.other.value}` : ''}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {body.sharedWith ? (
            <>
              <h3>{t('sharedWith')}</h3>
              <ul className="compact">
                {body.sharedWith.map((s) => (
                  <li key={s.tier}>
                    <strong>{t(`tier_${s.tier}`)}</strong>: {s.collections.join(', ') || '—'} —{' '}
                    {s.organisations.join(', ') || '—'}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </>
      ) : null}
    </aside>
  );
}
