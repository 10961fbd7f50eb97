// Sharing (organisations, consent, collections, tokens), the audit log, and the correlation graph.
import { useEffect, useState } from 'react';
import { api, ApiError, type SharingBody, type AuditBody } from '../api.ts';
import { formatTime } from '../format.ts';
import { CorrelationGraph, GraphLegend, type GraphEdge, type GraphNode } from '../graph.tsx';
import { useI18n } from '../i18n.ts';
import { useLiveTick } from '../live.tsx';
import { Table } from '../view.tsx';

export function SharingPage() {
  const { t, has } = useI18n();
  const [data, setData] = useState<SharingBody | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<SharingBody>('sharing').then(setData, (e: Error) => setError(e.message));
  }, []);
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  const yes = (b: boolean) => (b ? t('yes') : t('no'));
  return (
    <section data-page="sharing">
      <h2>{t('organisations')}</h2>
      <table className="table">
        <thead>
          <tr>
            <th>{t('organisations')}</th>
            <th>{t('role')}</th>
            <th>{t('tier')}</th>
            <th>{t('consent')}</th>
          </tr>
        </thead>
        <tbody>
          {data.organisations.map((o) => (
            <tr key={o.name}>
              <td translate="no">{o.name}</td>
              <td>{has(`role_${o.role}`) ? t(`role_${o.role}`) : <span translate="no">{o.role}</span>}</td>
              <td>{t(`tier_${o.tier}`)}</td>
              <td>
                {o.consentAt ? (
                  <>
                    <span translate="no">{o.consentTerms}</span> ({formatTime(o.consentAt)})
                  </>
                ) : (
                  '—'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{t('collections')}</h2>
      <table className="table">
        <thead>
          <tr>
            <th>{t('collections')}</th>
            <th>{t('apiRoot')}</th>
            <th>{t('tier')}</th>
            <th>{t('canRead')}</th>
            <th>{t('canWrite')}</th>
            <th>{t('objects')}</th>
          </tr>
        </thead>
        <tbody>
          {data.collections.map((c) => (
            <tr key={c.id}>
              <td title={c.id} translate="no">
                {c.title}
              </td>
              <td className="mono" translate="no">
                /{c.apiRoot}/
              </td>
              <td>{t(`tier_${c.ceiling}`)}</td>
              <td>{yes(c.canRead)}</td>
              <td>{yes(c.canWrite)}</td>
              <td>{c.objects.toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{t('tokens')}</h2>
      <table className="table">
        <thead>
          <tr>
            <th>{t('tokenId')}</th>
            <th>{t('tokenName')}</th>
            <th>{t('scopes')}</th>
            <th>{t('created')}</th>
            <th>{t('revoked')}</th>
          </tr>
        </thead>
        <tbody>
          {data.tokens.map((k) => (
            <tr key={k.id}>
              <td className="mono">
                <span translate="no">{k.id.slice(0, 8)}…</span>{' '}
                {k.current ? <span className="badge">{t('current')}</span> : null}
              </td>
              <td translate="no">{k.label}</td>
              <td>
                {k.scopes.map((scope) => (has(`scope_${scope}`) ? t(`scope_${scope}`) : scope)).join(', ')}
              </td>
              <td>{formatTime(k.createdAt)}</td>
              <td>{k.revokedAt ? formatTime(k.revokedAt) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function AuditPage() {
  const { t, has } = useI18n();
  const tick = useLiveTick();
  const [before, setBefore] = useState<number | undefined>(undefined);
  const [data, setData] = useState<AuditBody | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<AuditBody>('audit', { before, limit: 50 }).then(setData, (e: ApiError) =>
      setError(e.status === 403 ? t('forbidden') : e.message),
    );
  }, [before, tick, t]);
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  const v = data.verification;
  return (
    <section data-page="audit">
      <p className={v.ok ? 'ok' : 'error'} data-testid="audit-verification">
        {v.ok ? t('chainOk') : t('chainBroken')} — {v.records.toLocaleString()} {t('records')} —{' '}
        {t('chainHead')}{' '}
        <span className="mono" translate="no">
          {v.head.slice(0, 16)}…
        </span>
        {v.problem ? ` — ${v.problem}` : ''}
      </p>
      <Table
        className="table small"
        testId="audit-records"
        headers={['#', t('at'), t('actor'), t('action'), t('target'), t('hash')]}
      >
        {data.records.map((r) => (
          <tr key={r.seq}>
            <td>{r.seq}</td>
            <td>{formatTime(r.at)}</td>
            <td translate="no">{r.actor}</td>
            <td title={r.action}>
              {has(`action_${r.action}`) ? (
                t(`action_${r.action}`)
              ) : (
                <span className="mono" translate="no">
                  {r.action}
                </span>
              )}
            </td>
            <td className="mono" translate="no">
              {r.target.length > 48 ? `${r.target.slice(0, 47)}…` : r.target}
            </td>
            <td className="mono" translate="no">
              {r.hash.slice(0, 12)}
            </td>
          </tr>
        ))}
      </Table>
      {data.records.length ? (
        <button
          onClick={() => setBefore(data.records[data.records.length - 1]!.seq)}
          disabled={data.records[data.records.length - 1]!.seq <= 1}
        >
          {t('older')}
        </button>
      ) : null}
    </section>
  );
}

export function GraphPage() {
  const { t } = useI18n();
  const [data, setData] = useState<{ nodes: GraphNode[]; edges: GraphEdge[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ nodes: GraphNode[]; edges: GraphEdge[] }>('graph', { limit: 60 }).then(setData, (e: Error) =>
      setError(e.message),
    );
  }, []);
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  if (!data.nodes.length)
    return (
      <section data-page="graph">
        <p className="empty" data-testid="empty">
          {t('emptyGraph')}
        </p>
      </section>
    );
  return (
    <section data-page="graph">
      <GraphLegend />
      <CorrelationGraph nodes={data.nodes} edges={data.edges} />
    </section>
  );
}
