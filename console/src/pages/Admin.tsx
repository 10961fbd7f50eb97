// Sharing (organisations, consent, collections, tokens), the audit log, and the correlation graph.
import { useEffect, useState } from 'react';
import { api, ApiError } from '../api.ts';
import { ForceGraph, type GraphEdge, type GraphNode } from '../charts.tsx';
import { useI18n } from '../i18n.ts';
import { useLiveTick } from '../live.tsx';

interface Sharing {
  organisations: {
    name: string;
    role: string;
    tier: string;
    consentAt: string | null;
    consentTerms: string | null;
    prefixes: number;
    asns: number;
  }[];
  collections: {
    id: string;
    apiRoot: string;
    title: string;
    ceiling: string;
    canRead: boolean;
    canWrite: boolean;
    objects: number;
  }[];
  tokens: {
    id: string;
    label: string;
    scopes: string[];
    createdAt: string;
    revokedAt: string | null;
    current: boolean;
  }[];
}

export function SharingPage() {
  const { t } = useI18n();
  const [data, setData] = useState<Sharing | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<Sharing>('sharing').then(setData, (e: Error) => setError(e.message));
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
              <td>{o.name}</td>
              <td>{o.role}</td>
              <td>{t(`tier_${o.tier}`)}</td>
              <td>{o.consentAt ? `${o.consentTerms} (${o.consentAt.slice(0, 10)})` : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{t('collections')}</h2>
      <table className="table">
        <thead>
          <tr>
            <th>{t('collections')}</th>
            <th>API root</th>
            <th>{t('tier')}</th>
            <th>{t('canRead')}</th>
            <th>{t('canWrite')}</th>
            <th>{t('objects')}</th>
          </tr>
        </thead>
        <tbody>
          {data.collections.map((c) => (
            <tr key={c.id}>
              <td title={c.id}>{c.title}</td>
              <td className="mono">/{c.apiRoot}/</td>
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
            <th>ID</th>
            <th>label</th>
            <th>{t('scopes')}</th>
            <th>{t('created')}</th>
            <th>{t('revoked')}</th>
          </tr>
        </thead>
        <tbody>
          {data.tokens.map((k) => (
            <tr key={k.id}>
              <td className="mono">
                {k.id.slice(0, 8)}… {k.current ? <span className="badge">{t('current')}</span> : null}
              </td>
              <td>{k.label}</td>
              <td>{k.scopes.join(', ')}</td>
              <td>{k.createdAt.slice(0, 10)}</td>
              <td>{k.revokedAt?.slice(0, 10) ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

interface Audit {
  verification: { ok: boolean; records: number; head: string; problem?: string };
  records: {
    seq: number;
    at: string;
    actor: string;
    action: string;
    target: string;
    reason: string;
    hash: string;
  }[];
}

export function AuditPage() {
  const { t } = useI18n();
  const tick = useLiveTick();
  const [before, setBefore] = useState<number | undefined>(undefined);
  const [data, setData] = useState<Audit | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<Audit>('audit', { before, limit: 50 }).then(setData, (e: ApiError) =>
      setError(e.status === 403 ? t('forbidden') : e.message),
    );
  }, [before, tick, t]);
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  const v = data.verification;
  return (
    <section data-page="audit">
      <p className={v.ok ? 'ok' : 'error'} data-testid="audit-verification">
        {v.ok ? t('chainOk') : t('chainBroken')} — {v.records.toLocaleString()} {t('records')} — head{' '}
        <span className="mono">{v.head.slice(0, 16)}…</span>
        {v.problem ? ` — ${v.problem}` : ''}
      </p>
      <table className="table small">
        <thead>
          <tr>
            <th>#</th>
            <th>{t('at')}</th>
            <th>{t('actor')}</th>
            <th>{t('action')}</th>
            <th>{t('target')}</th>
            <th>hash</th>
          </tr>
        </thead>
        <tbody>
          {data.records.map((r) => (
            <tr key={r.seq}>
              <td>{r.seq}</td>
              <td>{r.at.slice(0, 19).replace('T', ' ')}</td>
              <td>{r.actor}</td>
              <td className="mono">{r.action}</td>
              <td className="mono">{r.target.length > 48 ? `${r.target.slice(0, 47)}…` : r.target}</td>
              <td className="mono">{r.hash.slice(0, 12)}</td>
            </tr>
          ))}
        </tbody>
      </table>
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
  return (
    <section data-page="graph">
      <p className="muted">{t('graphHelp')}</p>
      {data.nodes.length ? <ForceGraph nodes={data.nodes} edges={data.edges} /> : <p>{t('noData')}</p>}
    </section>
  );
}
