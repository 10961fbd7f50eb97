// Endpoint sensors: the ministries' terminals reporting to the centre, and the attack trend they
// show (IoC matches and connections to known C&C per ministry and day, the most matched IoCs).
// The release rule keeps all of it at the full tier; other tiers get a refusal, said in words.
import { useState } from 'react';
import type { SensorsBody } from '../../../src/console/api/types.ts';
import { Bars, Series, SeriesLegend } from '../charts.tsx';
import { formatTime } from '../format.ts';
import { useI18n } from '../i18n.ts';
import { EmptyPage, Marking, Table, useView } from '../view.tsx';

const COLORS = ['#e5484d', '#4c9aff', '#f76b15', '#30a46c', '#8e4ec6', '#ffc53d', '#12a594', '#d6409f'];
type Measure = 'connections' | 'matches' | 'sockets';
const MEASURES: Measure[] = ['connections', 'matches', 'sockets'];

/** One line per ministry over the days, for the chosen measure (0 on a day nothing was counted). */
function seriesOf(data: SensorsBody, measure: Measure) {
  const orgs = data.organisations.map((o) => o.org);
  return orgs.map((org, i) => {
    const byDay = new Map(data.daily.filter((d) => d.org === org).map((d) => [d.day, d[measure]]));
    return {
      name: org,
      values: data.labels.map((day) => byDay.get(day) ?? 0),
      color: COLORS[i % COLORS.length]!,
    };
  });
}

function totals(data: SensorsBody, org: string) {
  const rows = data.daily.filter((d) => d.org === org);
  return {
    matches: rows.reduce((n, d) => n + d.matches, 0),
    connections: rows.reduce((n, d) => n + d.connections, 0),
  };
}

function OrganisationTable({ data }: { data: SensorsBody }) {
  const { t } = useI18n();
  return (
    <table className="table" data-testid="sensor-organisations">
      <thead>
        <tr>
          <th>{t('snMinistry')}</th>
          <th>{t('snSensors')}</th>
          <th>{t('snOnline')}</th>
          <th>{t('snRevoked')}</th>
          <th>{t('snLastSeen')}</th>
          <th>{t('snMeasure_matches')}</th>
          <th>{t('snMeasure_connections')}</th>
        </tr>
      </thead>
      <tbody>
        {data.organisations.map((o) => {
          const sum = totals(data, o.org);
          return (
            <tr key={o.org}>
              <td translate="no">{o.org}</td>
              <td>{o.sensors}</td>
              <td>{o.online}</td>
              <td>{o.revoked}</td>
              <td>{o.lastSeen ? formatTime(o.lastSeen) : '—'}</td>
              <td>{sum.matches.toLocaleString()}</td>
              <td className={sum.connections > 0 ? 'hy-bad' : ''}>{sum.connections.toLocaleString()}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function SensorsPage() {
  const { t } = useI18n();
  const { data, error } = useView<SensorsBody>('sensors', 'snWithheld');
  const [measure, setMeasure] = useState<Measure>('connections');
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  if (data.organisations.length === 0) return <EmptyPage page="sensors">{t('emptySensors')}</EmptyPage>;
  const series = seriesOf(data, measure);
  const sensors = data.organisations.reduce((n, o) => n + o.sensors - o.revoked, 0);
  const online = data.organisations.reduce((n, o) => n + o.online, 0);
  return (
    <section data-page="sensors">
      <p className="muted">
        {t('snIntro')}
        <Marking marking={data.marking} />
      </p>
      <div className="cards">
        <div className="card">
          <div className="card-title">{t('snMinistries')}</div>
          <div className="card-value">{data.organisations.length}</div>
        </div>
        <div className="card">
          <div className="card-title">{t('snSensors')}</div>
          <div className="card-value">{sensors.toLocaleString()}</div>
          <div className="card-sub">
            {t('snOnline')}: {online.toLocaleString()}
          </div>
        </div>
      </div>
      <h2>{t('snTrend')}</h2>
      <label>
        {t('snMeasure')}{' '}
        <select
          data-testid="sensor-measure"
          value={measure}
          onChange={(e) => setMeasure(e.target.value as Measure)}
        >
          {MEASURES.map((m) => (
            <option key={m} value={m}>
              {t(`snMeasure_${m}`)}
            </option>
          ))}
        </select>
      </label>
      <p className="muted">{t(`snHelp_${measure}`)}</p>
      <Series series={series} labels={data.labels} formatLabel={(day) => day.slice(5)} legend={false} />
      <SeriesLegend series={series} testId="sensor-legend" />
      <h2>{t('snPerMinistry')}</h2>
      <OrganisationTable data={data} />
      <h2>{t('snTopIocs')}</h2>
      <Bars
        label={t('snTopIocs')}
        empty={t('snNoMatches')}
        rows={data.topIocs.map((i) => ({ label: i.ioc, value: i.count, color: '#e5484d', dataLabel: true }))}
      />
      {data.topIocs.length > 0 ? (
        <Table
          className="table small"
          testId="sensor-iocs"
          headers={[t('snIoc'), t('snKind'), t('snMinistries'), t('snMeasure_matches')]}
        >
          {data.topIocs.map((i) => (
            <tr key={i.ioc}>
              <td translate="no">{i.ioc}</td>
              <td>{t(`snKind_${i.kind}`)}</td>
              <td>{i.orgs}</td>
              <td>{i.count.toLocaleString()}</td>
            </tr>
          ))}
        </Table>
      ) : null}
    </section>
  );
}
