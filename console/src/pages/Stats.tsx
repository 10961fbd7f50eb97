// Infected hosts and vulnerable devices (map and charts), darknet statistics, survey findings.
import { lazy, Suspense } from 'react';
import type { HostsBody, DarknetBody, SurveyBody } from '../api.ts';
import { Bars, Series } from '../charts.tsx';
import { countryName, formatDayHour } from '../format.ts';
import { useI18n } from '../i18n.ts';
import { useView } from '../view.tsx';

const WorldMap = lazy(() => import('../worldmap.tsx'));

export function HostsPage() {
  const { t, lang } = useI18n();
  const { data, error } = useView<HostsBody>('hosts');
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  const total = Object.values(data.totals).reduce((a, b) => a + b, 0);
  const countries: Record<string, number> = {};
  for (const r of data.byCountry) if (r.country) countries[r.country] = (countries[r.country] ?? 0) + r.count;
  const color = (k: string) => (k === 'bot' ? '#f76b15' : '#ffc53d');
  const kind = (k: string) => t(`kindShort_${k}`);
  return (
    <section data-page="hosts">
      <div className="cards">
        {['bot', 'vulnerable-device'].map((k) => (
          <div className="card" key={k}>
            <div className="card-title">{t(`kind_${k}`)}</div>
            <div className="card-value">{(data.totals[k] ?? 0).toLocaleString()}</div>
            <div className="card-sub">
              <a href={`#/list/${k}`}>{t('detail')} →</a>
            </div>
          </div>
        ))}
      </div>
      {total === 0 ? (
        <p className="empty" data-testid="empty">
          {t('emptyHosts')}
        </p>
      ) : (
        <>
          <h2>{t('map')}</h2>
          <p className="muted">{t('markersHelp')}</p>
          <Suspense fallback={<p>{t('loading')}</p>}>
            <WorldMap counts={countries} />
          </Suspense>
          <div className="grid2">
            <div>
              <h2>{t('byAsn')}</h2>
              <Bars
                rows={data.byAsn.slice(0, 15).map((r) => ({
                  label: `${kind(r.kind)} ${r.asn === null ? t('asUnknown') : `AS${r.asn}${r.name && r.name !== `AS${r.asn}` ? ` ${r.name}` : ''}`}`,
                  value: r.count,
                  color: color(r.kind),
                  dataLabel: r.asn !== null,
                }))}
              />
            </div>
            <div>
              <h2>{t('byCountry')}</h2>
              <Bars
                rows={data.byCountry.slice(0, 15).map((r) => ({
                  label: `${kind(r.kind)} ${r.country ? countryName(r.country, lang) : t('familyUnknown')}`,
                  value: r.count,
                  color: color(r.kind),
                }))}
              />
            </div>
            <div>
              <h2>{t('byFamily')}</h2>
              <Bars
                rows={data.byFamily.slice(0, 15).map((r) => ({
                  label: `${kind(r.kind)} ${r.family || t('familyUnknown')}`,
                  value: r.count,
                  color: color(r.kind),
                  dataLabel: Boolean(r.family),
                }))}
              />
            </div>
          </div>
        </>
      )}
    </section>
  );
}

export function DarknetPage() {
  const { t, lang } = useI18n();
  const { data, error } = useView<DarknetBody>('darknet');
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  const surgeIndex = new Set(data.surges.map((s) => data.hours.indexOf(s.hour)).filter((i) => i >= 0));
  if (data.scanners === 0)
    return (
      <section data-page="darknet">
        <p className="empty" data-testid="empty">
          {t('emptyDarknet')}
        </p>
      </section>
    );
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
            {data.surges.length
              ? data.surges.map((s) => `${formatDayHour(s.hour, lang)} (${s.count})`).join(', ')
              : t('noSurges')}
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
          <Bars
            rows={data.fingerprints.map((f) => ({
              label: f.name === 'unknown' ? t('familyUnknown') : f.name,
              value: f.count,
              color: '#8e4ec6',
              dataLabel: f.name !== 'unknown',
            }))}
          />
        </div>
      </div>
    </section>
  );
}

export function SurveyPage() {
  const { t } = useI18n();
  const { data, error } = useView<SurveyBody>('survey');
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  const stateColor: Record<string, string> = {
    remediated: '#30a46c',
    sent: '#4c9aff',
    pending: '#ffc53d',
    'not-sent': '#e5484d',
  };
  if (data.notification.length === 0)
    return (
      <section data-page="survey">
        <p className="empty" data-testid="empty">
          {t('emptySurvey')}
        </p>
      </section>
    );
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
            rows={data.byProduct.map((p) => ({
              label: p.product || t('familyUnknown'),
              value: p.count,
              color: '#ffc53d',
              dataLabel: Boolean(p.product),
            }))}
          />
        </div>
        <div>
          <h2>{t('byService')}</h2>
          <Bars
            rows={data.byService.map((p) => ({
              label: p.service || t('familyUnknown'),
              value: p.count,
              color: '#ffc53d',
              dataLabel: Boolean(p.service),
            }))}
          />
        </div>
      </div>
      <p>
        <a href="#/list/vulnerable-device">{t('kind_vulnerable-device')} →</a>
      </p>
    </section>
  );
}
