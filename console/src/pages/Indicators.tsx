// C&C servers (or any kind): a server-side paginated, sortable, filterable table and a detail view.
import { lazy, Suspense, useEffect, useState } from 'react';
import { api, ApiError, type IndicatorDetailBody, type IndicatorPageBody, type Me } from '../api.ts';
import { formatTime } from '../format.ts';
import { useI18n } from '../i18n.ts';
import { useLiveTick } from '../live.tsx';
import { DocumentLink, Table } from '../view.tsx';

const FIRST: readonly string[] = [];

// The evidence vocabulary (two languages of explanations) loads with the first detail opened,
// not with the overview's first paint.
const EvidenceTable = lazy(() => import('../evidence.tsx').then((m) => ({ default: m.EvidenceTable })));

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
  const [page, setPage] = useState<IndicatorPageBody | null>(null);
  const [counted, setCounted] = useState<{ total: number; capped: boolean } | null>(null);
  const offset = trail.length * PAGE;
  const [error, setError] = useState<string | null>(null);
  const showConfidence = me.tier !== 'public';
  const filtered = Boolean(q.trim() || family.trim() || minConfidence);
  useEffect(() => {
    const timer = setTimeout(() => {
      api<IndicatorPageBody>('indicators', {
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
  const restart = () => setTrail(FIRST);
  const sortBy = (key: string) => {
    if (sort === key) setDir(dir === 'asc' ? 'desc' : 'asc');
    else {
      setSort(key);
      setDir(key === 'value' || key === 'family' || key === 'port' ? 'asc' : 'desc');
    }
    restart();
  };
  return (
    <section data-page={`list-${kind}`} className={detailRef ? 'split' : undefined}>
      <div className="split-main">
        <Filters
          kind={kind}
          q={q}
          family={family}
          minConfidence={showConfidence ? minConfidence : undefined}
          onQ={(v) => (setQ(v), restart())}
          onFamily={(v) => (setFamily(v), restart())}
          onMinConfidence={(v) => (setMinConfidence(v), restart())}
        />
        {error ? <p className="error">{error}</p> : null}
        {page && counted && page.items.length === 0 && !trail.length ? (
          <p className="empty" data-testid="empty">
            {filtered ? t('emptyFiltered') : t(`emptyList_${kind}`)}
          </p>
        ) : page && counted ? (
          <>
            <p className="muted" data-testid="total">
              {counted.total.toLocaleString()}
              {counted.capped ? '+' : ''} {t('rows')}
            </p>
            <IndicatorTable
              page={page}
              me={me}
              kind={kind}
              detailRef={detailRef}
              sort={sort}
              dir={dir}
              onSort={sortBy}
              onFamily={(f) => (setFamily(f), restart())}
            />
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
      </div>
      {detailRef ? <Detail refId={detailRef} back={kind === 'c2' ? '#/c2' : `#/list/${kind}`} /> : null}
    </section>
  );
}

/** What a list's value column holds, by kind: its heading, its filter's label and an example prefix. */
function valueWords(kind: string): { heading: string; search: string; example: string } {
  if (kind === 'url') return { heading: 'valueUrl', search: 'searchUrl', example: 'https://' };
  if (kind === 'domain') return { heading: 'valueDomain', search: 'searchDomain', example: 'login.' };
  return { heading: 'address', search: 'search', example: '203.0.113.' };
}

/** Whether a kind's indicators have ports (C&C servers and devices do; URLs and domains do not). */
const hasPorts = (kind: string) => kind !== 'url' && kind !== 'domain';

/** The table's filters; the confidence filter only where the tier shows confidence (undefined hides it). */
function Filters(props: {
  kind: string;
  q: string;
  family: string;
  minConfidence: string | undefined;
  onQ: (value: string) => void;
  onFamily: (value: string) => void;
  onMinConfidence: (value: string) => void;
}) {
  const { t } = useI18n();
  const words = valueWords(props.kind);
  return (
    <form className="filters" onSubmit={(e) => e.preventDefault()}>
      <label>
        {t(words.search)}
        <input
          name="q"
          value={props.q}
          onChange={(e) => props.onQ(e.target.value)}
          placeholder={words.example}
        />
      </label>
      <label>
        {t('family')}
        <input name="family" value={props.family} onChange={(e) => props.onFamily(e.target.value)} />
      </label>
      {props.minConfidence !== undefined ? (
        <label>
          {t('minConfidence')}
          <input
            name="minConfidence"
            type="number"
            min="0"
            max="100"
            value={props.minConfidence}
            onChange={(e) => props.onMinConfidence(e.target.value)}
          />
        </label>
      ) : null}
    </form>
  );
}

/** One page of indicators; sortable headers; with the detail open beside it, only the columns that find a row. */
function IndicatorTable({
  page,
  me,
  kind,
  detailRef,
  sort,
  dir,
  onSort,
  onFamily,
}: {
  page: IndicatorPageBody;
  me: Me;
  kind: string;
  detailRef?: string;
  sort: string;
  dir: 'asc' | 'desc';
  onSort: (key: string) => void;
  onFamily: (family: string) => void;
}) {
  const { t } = useI18n();
  const showConfidence = me.tier !== 'public';
  const narrow = Boolean(detailRef);
  const header = (key: string, label: string) => (
    <th className={`sortable ${sort === key ? 'sorted' : ''}`} onClick={() => onSort(key)}>
      {label}
      {sort === key ? (dir === 'asc' ? ' ▲' : ' ▼') : ''}
    </th>
  );
  return (
    <table className="table" data-testid="indicator-table">
      <thead>
        <tr>
          {header('value', t(valueWords(kind).heading))}
          {hasPorts(kind) ? header('port', t('port')) : null}
          {header('family', t('family'))}
          {showConfidence ? header('confidence', t('confidence')) : null}
          {narrow ? null : <th>{t('tlp')}</th>}
          {narrow ? null : header('created', t('created'))}
          {me.tier === 'full' ? header('lastSeen', t('lastSeen')) : null}
        </tr>
      </thead>
      <tbody>
        {page.items.map((i) => (
          <tr key={i.ref} className={detailRef === i.ref ? 'selected' : ''}>
            <td className="mono" translate="no">
              <a href={`#/${kind === 'c2' ? 'c2' : `list/${kind}`}/${i.ref}`}>{i.value}</a>
            </td>
            {hasPorts(kind) ? (
              <td translate="no">{i.port ? (i.proto ? `${i.port}/${i.proto}` : String(i.port)) : '—'}</td>
            ) : null}
            <td>
              <Family name={i.family} onPick={onFamily} />
            </td>
            {showConfidence ? <td>{i.confidence}</td> : null}
            {narrow ? null : (
              <td>
                <span className={`tlp tlp-${i.tlp.replace('+', '-')}`}>TLP:{i.tlp.toUpperCase()}</span>
              </td>
            )}
            {narrow ? null : <td>{i.createdDay}</td>}
            {me.tier === 'full' ? <td>{formatTime(i.lastSeen)}</td> : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A family name (data, untranslated) that filters the table when clicked; blank reads "unknown". */
export function Family({ name, onPick }: { name: string; onPick?: (family: string) => void }) {
  const { t } = useI18n();
  if (!name) return <span className="muted">{t('familyUnknown')}</span>;
  if (!onPick)
    return (
      <span className="family" translate="no">
        {name}
      </span>
    );
  return (
    <button type="button" className="family link" translate="no" onClick={() => onPick(name)}>
      {name}
    </button>
  );
}

function otherHref(other: { ref: string; kind: string }): string {
  return other.kind === 'c2' ? `#/c2/${other.ref}` : `#/list/${other.kind}/${other.ref}`;
}

/** `AS4730 Osaka University`, or "AS unknown". */
export function AsName({ asn, name }: { asn: number | null; name?: string }) {
  const { t } = useI18n();
  if (asn === null) return <span className="muted">{t('asUnknown')}</span>;
  return (
    <span translate="no">
      AS{asn}
      {name && name !== `AS${asn}` ? ` ${name}` : ''}
    </span>
  );
}

/** The published documents that name the indicator (OSINT), each once per feed and document. */
function NamingDocuments({
  documents,
  total,
}: {
  documents: NonNullable<IndicatorDetailBody['documents']>;
  total: number;
}) {
  const { t } = useI18n();
  return (
    <>
      <h3>
        {t('namingDocuments')} ({total})
      </h3>
      <Table
        className="table small"
        testId="naming-documents"
        headers={['firstSeen', 'source', 'osintTitle', 'namingDocumentContext'].map(t)}
      >
        {documents.map((d) => (
          <tr key={`${d.source} ${d.document}`}>
            <td>{formatTime(d.firstSeen)}</td>
            <td translate="no">{d.source}</td>
            <td>
              <DocumentLink url={d.url} title={d.title} />
            </td>
            <td translate="no">{d.context}</td>
          </tr>
        ))}
      </Table>
    </>
  );
}

function Detail({ refId, back }: { refId: string; back: string }) {
  const { t } = useI18n();
  const [body, setBody] = useState<IndicatorDetailBody | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setBody(null);
    api<IndicatorDetailBody>(`indicators/${refId}`).then(setBody, (e: ApiError) => setError(e.message));
  }, [refId]);
  return (
    <aside className="detail" data-testid="detail">
      <a className="close" href={back}>
        {t('close')}
      </a>
      {error ? <p className="error">{error}</p> : null}
      {body ? (
        <>
          <h2 className="mono" translate="no">
            {body.indicator.value}
            {body.indicator.port
              ? `:${body.indicator.port}${body.indicator.proto ? `/${body.indicator.proto}` : ''}`
              : ''}
          </h2>
          <dl>
            <dt>{t('family')}</dt>
            <dd>
              <Family name={body.indicator.family} />
            </dd>
            {body.network ? (
              <>
                <dt>{t('network')}</dt>
                <dd>
                  <AsName asn={body.network.asn} name={body.network.name} />
                  {body.network.byAddress ? <span className="muted"> {t('asByAddress')}</span> : null}
                </dd>
              </>
            ) : null}
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
                <dd>{formatTime(body.indicator.lastSeen)}</dd>
              </>
            ) : null}
          </dl>
          {body.evidence && Object.keys(body.evidence).length ? (
            <>
              <h3>{t('evidence')}</h3>
              <Suspense fallback={<p>{t('loading')}</p>}>
                <EvidenceTable evidence={body.evidence} />
              </Suspense>
            </>
          ) : null}
          {body.sightings ? (
            <>
              <h3>{t('sightings')}</h3>
              <table className="table small">
                <thead>
                  <tr>
                    <th>{t('source')}</th>
                    <th>{t('confidence')}</th>
                    <th>{t('count')}</th>
                    <th>{t('firstSeen')}</th>
                    <th>{t('lastSeen')}</th>
                  </tr>
                </thead>
                <tbody>
                  {body.sightings.map((s) => (
                    <tr key={s.source}>
                      <td translate="no">{s.source}</td>
                      <td>{s.confidence}</td>
                      <td>{s.count.toLocaleString()}</td>
                      <td>{formatTime(s.firstSeen)}</td>
                      <td>{formatTime(s.lastSeen)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
          {body.documents?.length ? (
            <NamingDocuments documents={body.documents} total={body.documentsTotal ?? 0} />
          ) : null}
          {body.relationships?.length ? (
            <>
              <h3>
                {t('relationships')} ({body.relationshipsTotal})
              </h3>
              <ul className="compact">
                {body.relationships.slice(0, 20).map((r, i) => (
                  <li key={i}>
                    {t(`rel_${r.direction}`)} {t(`rel_${r.type}`)}{' '}
                    {r.other ? (
                      <>
                        {t(`kind_${r.other.kind}`)}{' '}
                        <a className="mono" translate="no" href={otherHref(r.other)}>
                          {r.other.value}
                        </a>
                      </>
                    ) : null}
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
                    <strong>{t(`tier_${s.tier}`)}</strong>:{' '}
                    <span translate="no">{s.collections.join(', ') || '—'}</span> —{' '}
                    <span translate="no">{s.organisations.join(', ') || '—'}</span>
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
