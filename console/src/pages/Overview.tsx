// Overview: live counters, the last 24 hours, and the newest C&C servers (updated live).
import { useEffect, useState } from 'react';
import { api, type OverviewBody } from '../api.ts';
import { Series } from '../charts.tsx';
import { useI18n } from '../i18n.ts';
import { Family } from './Indicators.tsx';
import { useLiveTick, type LiveItem } from '../live.tsx';

const KINDS = ['c2', 'bot', 'vulnerable-device', 'url', 'domain'];
const COLORS: Record<string, string> = {
  c2: '#e5484d',
  bot: '#f76b15',
  'vulnerable-device': '#ffc53d',
  url: '#4c9aff',
  domain: '#30a46c',
};

export function OverviewPage({ recent }: { recent: LiveItem[] }) {
  const { t } = useI18n();
  const tick = useLiveTick();
  const [data, setData] = useState<OverviewBody | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<OverviewBody>('overview').then(setData, (e: Error) => setError(e.message));
  }, [tick]);
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  const kinds = KINDS.filter((k) => data.active[k] !== undefined || data.trend[k]);
  const liveC2 = recent
    .filter((r) => r.indicator.kind === 'c2' && r.change === 'created')
    .map((r) => r.indicator);
  const seen = new Set<string>();
  const newest = [...liveC2, ...data.newestC2]
    .filter((i) => (seen.has(i.ref) ? false : (seen.add(i.ref), true)))
    .slice(0, 10);
  return (
    <section data-page="overview">
      <div className="cards">
        {(kinds.length ? kinds : ['c2']).map((k) => (
          <div className="card" key={k} data-kind={k}>
            <div className="card-title">{t(`kind_${k}`)}</div>
            <div className="card-value" data-testid={`active-${k}`}>
              {(data.active[k] ?? 0).toLocaleString()}
            </div>
            <div className="card-sub">
              {t('new24h')}: {(data.new24h[k] ?? 0).toLocaleString()}
            </div>
          </div>
        ))}
      </div>
      <h2>{t('trend24h')}</h2>
      <Series
        labels={data.hours}
        series={
          kinds.some((k) => data.trend[k])
            ? kinds
                .filter((k) => data.trend[k])
                .map((k) => ({ name: t(`kind_${k}`), values: data.trend[k]!, color: COLORS[k]! }))
            : [{ name: t('kind_c2'), values: data.hours.map(() => 0), color: COLORS.c2! }]
        }
      />
      <h2>{t('newestC2')}</h2>
      {newest.length === 0 ? (
        <p className="empty" data-testid="empty">
          {t('emptyNewestC2')}
        </p>
      ) : (
        <table className="table" data-testid="newest-c2">
          <thead>
            <tr>
              <th>{t('address')}</th>
              <th>{t('port')}</th>
              <th>{t('family')}</th>
              <th>{t('confidence')}</th>
              <th>{t('created')}</th>
            </tr>
          </thead>
          <tbody>
            {newest.map((i) => (
              <tr key={i.ref}>
                <td className="mono" translate="no">
                  <a href={`#/c2/${i.ref}`}>{i.value}</a>
                </td>
                <td translate="no">
                  {i.port}/{i.proto}
                </td>
                <td>
                  <Family name={i.family} />
                </td>
                <td>{i.confidence ?? '—'}</td>
                <td>{i.createdDay}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
