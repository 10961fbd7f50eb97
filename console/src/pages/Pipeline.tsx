// The flow pipeline's health: every process's components with their state and counters, and a
// chart of flows handled and dropped per second over the last minutes.
import { useEffect, useState } from 'react';
import { api, ApiError, type HealthBody } from '../api.ts';
import { Series } from '../charts.tsx';
import { formatNumber, formatTime } from '../format.ts';

type HealthSample = HealthBody['history'][number];
import { useI18n } from '../i18n.ts';

/** How often the console asks for the pipeline's health (the processes report every few seconds). */
export const HEALTH_POLL_MS = 5000;

/** The pipeline's health, refreshed every few seconds; null until the first answer. */
export function useHealth(): { data: HealthBody | null; error: string | null } {
  const [data, setData] = useState<HealthBody | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const load = () =>
      api<HealthBody>('health').then(
        (body) => live && (setData(body), setError(null)),
        (e: ApiError) => live && setError(e.message),
      );
    void load();
    const timer = setInterval(load, HEALTH_POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);
  return { data, error };
}

/** The red banner every page shows while any component reports a loss since its start. */
export function LossBanner({ health }: { health: HealthBody | null }) {
  const { t } = useI18n();
  if (!health?.loss) return null;
  return (
    <div className="loss-banner" role="alert" data-testid="loss-banner">
      {t('lossBanner')} <a href="#/pipeline">{t('lossBannerLink')} →</a>
    </div>
  );
}

function CounterName({ name }: { name: string }) {
  const { t, has } = useI18n();
  if (has(`counter_${name}`)) return <>{t(`counter_${name}`)}</>;
  // `decodeErrors.<kind>`, `dropped.<reason>`: the kind is a code, kept as it is.
  const [head, ...rest] = name.split('.');
  if (rest.length > 0 && has(`counterOf_${head}`))
    return (
      <>
        {t(`counterOf_${head}`)} (<span translate="no">{rest.join('.')}</span>)
      </>
    );
  return <span translate="no">{name}</span>;
}

export function PipelinePage({ health }: { health: { data: HealthBody | null; error: string | null } }) {
  const { t, lang, has } = useI18n();
  const { data, error } = health;
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  if (!data.watched)
    return (
      <section data-page="pipeline">
        <p className="empty" data-testid="empty">
          {t('pipelineNotWatched')}
        </p>
      </section>
    );
  const label = (key: string, code: string) => (has(key) ? t(key) : <span translate="no">{code}</span>);
  return (
    <section data-page="pipeline">
      <p className="muted">{t('pipelineHelp')}</p>
      <h2>{t('pipelineRates')}</h2>
      {/* Two charts, each on its own scale: a few drops beside a million flows would lie flat. */}
      <div className="grid2">
        {[
          { name: t('handledPerSecond'), pick: (s: HealthSample) => s.handledPerSecond, color: '#4c9aff' },
          { name: t('droppedPerSecond'), pick: (s: HealthSample) => s.droppedPerSecond, color: '#e5484d' },
        ].map((chart) => (
          <Series
            key={chart.name}
            labels={data.history.map((s) => s.at)}
            formatLabel={(at) => formatTime(at).slice(11, 16)}
            series={[
              {
                name: chart.name,
                values: data.history.map((s) => Math.round(chart.pick(s))),
                color: chart.color,
              },
            ]}
          />
        ))}
      </div>
      <table data-testid="pipeline-table">
        <thead>
          <tr>
            <th>{t('process')}</th>
            <th>{t('component')}</th>
            <th>{t('level')}</th>
            <th>{t('lastReport')}</th>
          </tr>
        </thead>
        <tbody>
          {data.processes.flatMap((p) =>
            p.components.map((c, i) => (
              <tr key={`${p.role}/${p.id}/${c.component}`} data-level={p.stale ? 'stale' : c.level}>
                <td>
                  {i === 0 ? (
                    <>
                      {label(`role_${p.role}`, p.role)} <span translate="no">{p.id}</span>
                    </>
                  ) : null}
                </td>
                <td>
                  {label(`component_${c.component}`, c.component)}
                  <ul className="counters">
                    {Object.entries(c.counters).map(([name, value]) => (
                      <li key={name}>
                        <CounterName name={name} />: {formatNumber(value, lang)}
                      </li>
                    ))}
                  </ul>
                </td>
                <td className={`level level-${p.stale ? 'stale' : c.level}`}>
                  {p.stale ? t('noReport') : t(`level_${c.level}`)}
                </td>
                <td>{formatTime(p.at)}</td>
              </tr>
            )),
          )}
        </tbody>
      </table>
    </section>
  );
}
