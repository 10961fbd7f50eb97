// Infected hosts and vulnerable devices (map and charts), darknet statistics, survey findings.
import { lazy, Suspense, useEffect, useState } from 'react';
import { api, ApiError } from '../api.ts';
import { Bars, Series } from '../charts.tsx';
import { useI18n } from '../i18n.ts';
import { useLiveTick } from '../live.tsx';

const WorldMap = lazy(() => import('../worldmap.tsx'));

/** Fetches a full-tier view; a 403 becomes a plain message. */
function useView<T>(path: string): { data: T | null; error: string | null } {
  const tick = useLiveTick();
  const { t } = useI18n();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<T>(path).then(setData, (e: ApiError) => setError(e.status === 403 ? t('forbidden') : e.message));
  }, [path, tick, t]);
  return { data, error };
}

interface Hosts {
  totals: Record<string, number>;
  byAsn: { kind: string; asn: number | null; count: number }[];
  byCountry: { kind: string; country: string; count: number }[];
  byFamily: { kind: string; family: string; count: number }[];
}

export function HostsPage() {
  const { t } = useI18n();
  const { data, error } = useView<Hosts>('hosts');
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  const countries: Record<string, number> = {};
  for (const r of data.byCountry) if (r.country) countries[r.country] = (countries[r.country] ?? 0) + r.count;
  const color = (k: string) => (k === 'bot' ? '#f76b15' : '#ffc53d');
  return (
    <section data-page="hosts">
      <div className="cards">
        {['bot', 'vulnerable-device'].map((k) => (
          <div className="card" key={k}>
            <div className="card-title">{t(`kind_${k}`)}</div>
            <div className="card-value">{(data.totals[k] ?? 0).toLocaleString()}</div>
          </div>
        ))}
      </div>
      <h2>{t('map')}</h2>
      <Suspense fallback={<p>{t('loading')}</p>}>
        <WorldMap counts={countries} />
      </Suspense>
      <div className="grid2">
        <div>
          <h2>{t('byAsn')}</h2>
          <Bars
            rows={data.byAsn.slice(0, 15).map((r) => ({
              label: `${t(`kind_${r.kind}`).slice(0, 8)} AS${r.asn ?? '?'}`,
              value: r.count,
              color: color(r.kind),
            }))}
          />
        </div>
        <div>
          <h2>{t('byCountry')}</h2>
          <Bars
            rows={data.byCountry.slice(0, 15).map((r) => ({
              label: `${t(`kind_${r.kind}`).slice(0, 8)} ${r.country || '?'}`,
              value: r.count,
              color: color(r.kind),
            }))}
          />
        </div>
        <div>
          <h2>{t('byFamily')}</h2>
          <Bars
            rows={data.byFamily.slice(0, 15).map((r) => ({
              label: `${t(`kind_${r.kind}`).slice(0, 8)} ${r.family || '?'}`,
              value: r.count,
              color: color(r.kind),
            }))}
          />
        </div>
      </div>
    </section>
  );
}

interface Darknet {
  scanners: number;
  sampled: number;
  hours: string[];
  newScannersPerHour: number[];
  surges: { hour: string; count: number }[];
  topPorts: { port: number; count: number }[];
  fingerprints: { name: string; count: number }[];
}

export function DarknetPage() {
  const { t } = useI18n();
  const { data, error } = useView<Darknet>('darknet');
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  const surgeIndex = new Set(data.surges.map((s) => data.hours.indexOf(s.hour)).filter((i) => i >= 0));
  return (
    <section data-page="darknet">
      <div className="cards">
        <div className="card">
          <div className="card-title">{t('scanners')}</div>
          <div className="card-value">{data.scanners.toLocaleString()}</div>
        </div>
        <div className="card">
          <div className="card-title">{t('surges')}</div>
          <div className="card-value">{data.surges.length}</div>
          <div className="card-sub">
            {data.surges.map((s) => `${s.hour.slice(5).replace('T', ' ')}h (${s.count})`).join(', ')}
          </div>
        </div>
      </div>
      <h2>{t('newScanners')}</h2>
      <Series
        labels={data.hours}
        series={[{ name: t('scanners'), values: data.newScannersPerHour, color: '#f76b15' }]}
        highlight={surgeIndex}
      />
      <div className="grid2">
        <div>
          <h2>{t('topPorts')}</h2>
          <Bars rows={data.topPorts.map((p) => ({ label: `${p.port}`, value: p.count }))} />
        </div>
        <div>
          <h2>{t('fingerprints')}</h2>
          <Bars rows={data.fingerprints.map((f) => ({ label: f.name, value: f.count, color: '#8e4ec6' }))} />
        </div>
      </div>
    </section>
  );
}

interface Survey {
  byProduct: { product: string; count: number }[];
  byService: { service: string; count: number }[];
  notification: { state: string; count: number }[];
}

export function SurveyPage() {
  const { t } = useI18n();
  const { data, error } = useView<Survey>('survey');
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  const stateColor: Record<string, string> = {
    remediated: '#30a46c',
    sent: '#4c9aff',
    pending: '#ffc53d',
    'not-sent': '#e5484d',
  };
  return (
    <section data-page="survey">
      <h2>{t('notification')}</h2>
      <Bars
        rows={data.notification.map((n) => ({
          label: t(`state_${n.state}`),
          value: n.count,
          color: stateColor[n.state],
        }))}
      />
      <div className="grid2">
        <div>
          <h2>{t('byProduct')}</h2>
          <Bars
            rows={data.byProduct.map((p) => ({ label: p.product || '?', value: p.count, color: '#ffc53d' }))}
          />
        </div>
        <div>
          <h2>{t('byService')}</h2>
          <Bars
            rows={data.byService.map((p) => ({ label: p.service || '?', value: p.count, color: '#ffc53d' }))}
          />
        </div>
      </div>
      <p>
        <a href="#/list/vulnerable-device">{t('kind_vulnerable-device')} →</a>
      </p>
    </section>
  );
}
