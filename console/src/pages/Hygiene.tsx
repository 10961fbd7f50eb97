// Internet hygiene: adoption of DNSSEC, mail authentication, HTTPS... per sector over time, and
// scores per organisation with a drill-down saying what to fix. What the reader may see is the
// hub's release rule: sector aggregates for everyone, organisations from the council tier up.
import { useEffect, useState } from 'react';
import type {
  ApiHygieneCheck,
  HygieneBody,
  HygieneOrganisationBody,
} from '../../../src/console/api/types.ts';
import { api, ApiError } from '../api.ts';
import { Bars, Series, SeriesLegend } from '../charts.tsx';
import { formatTime } from '../format.ts';
import { useI18n } from '../i18n.ts';
import { EmptyPage, Marking, Table, useView } from '../view.tsx';

const CHECKS: ApiHygieneCheck[] = [
  'dnssec',
  'spf',
  'dmarc_policy',
  'dkim',
  'mta_sts',
  'tls_rpt',
  'dane',
  'ipv6',
  'https',
  'hsts',
];
const COLORS = ['#4c9aff', '#f76b15', '#30a46c', '#8e4ec6', '#ffc53d', '#e5484d', '#12a594', '#d6409f'];
/** States worth full points, half, or none (the room's scoring), for the cells' colours. */
const GOOD = new Set(['secure', 'strict', 'reject', 'ok', 'enforce', 'yes', 'web+mail']);
const HALF = new Set(['softfail', 'quarantine', 'testing', 'partial', 'web', 'mail', 'short']);

const day = (iso: string) => formatTime(iso).slice(0, 10);

function stateClass(state: string): string {
  if (GOOD.has(state)) return 'hy-good';
  if (HALF.has(state)) return 'hy-half';
  return state === 'n/a' || state === 'unchecked' ? 'hy-na' : 'hy-bad';
}

export function HygienePage({ selected }: { selected?: string }) {
  const { t } = useI18n();
  const { data, error } = useView<HygieneBody>('hygiene');
  const [check, setCheck] = useState<'score' | ApiHygieneCheck>('score');
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  if (data.surveys.length === 0) return <EmptyPage page="hygiene">{t('emptyHygiene')}</EmptyPage>;
  const labels = data.surveys.map((s) => s.startedAt);
  const last = data.surveys.length - 1;
  const series = data.sectors.map((s, i) => ({
    name: s.sector,
    values: check === 'score' ? s.score : s.adoption[check],
    color: COLORS[i % COLORS.length]!,
  }));
  const percent = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v}%`);
  return (
    <section data-page="hygiene">
      <p className="muted">{t('hyIntro')}</p>
      <div className="cards">
        <div className="card">
          <div className="card-title">{t('hySurveys')}</div>
          <div className="card-value">{data.surveys.length}</div>
          <div className="card-sub">
            {t('hyLatest')}: {day(data.surveys[last]!.startedAt)}
          </div>
        </div>
        <div className="card">
          <div className="card-title">{t('hyDomains')}</div>
          <div className="card-value">{data.surveys[last]!.domains.toLocaleString()}</div>
        </div>
      </div>
      <h2>
        {t('hyAdoption')}
        <Marking marking={data.sectorMarking} />
      </h2>
      <label>
        {t('hyCheck')}{' '}
        <select
          data-testid="hygiene-check"
          value={check}
          onChange={(e) => setCheck(e.target.value as typeof check)}
        >
          <option value="score">{t('hyScore')}</option>
          {CHECKS.map((c) => (
            <option key={c} value={c}>
              {t(`hy_${c}`)}
            </option>
          ))}
        </select>
      </label>
      <p className="muted">{check === 'score' ? t('hyScoreHelp') : t('hyAdoptionHelp')}</p>
      <Series series={series} labels={labels} formatLabel={day} legend={false} />
      <SeriesLegend series={series} testId="hygiene-legend" />
      <Table
        className="table small"
        testId="hygiene-sectors"
        headers={[t('hySector'), t('hyScore'), t('hyDomains'), ...CHECKS.map((c) => t(`hy_${c}`))]}
      >
        {data.sectors.map((s) => (
          <tr key={s.sector}>
            <td translate="no">{s.sector}</td>
            <td>{s.score[last] ?? '—'}</td>
            <td>{s.domains[last] ?? '—'}</td>
            {CHECKS.map((c) => (
              <td key={c}>{percent(s.adoption[c][last])}</td>
            ))}
          </tr>
        ))}
      </Table>
      <h2>
        {t('hyOrganisations')}
        {data.organisationMarking ? <Marking marking={data.organisationMarking} /> : null}
      </h2>
      {data.organisations === null ? (
        <p className="muted" data-testid="hygiene-withheld">
          {t('hyWithheld')}
        </p>
      ) : (
        <>
          <p className="muted">{t('hyOrganisationsHelp')}</p>
          <table className="table" data-testid="hygiene-organisations">
            <thead>
              <tr>
                <th>{t('hyOrganisation')}</th>
                <th>{t('hySector')}</th>
                <th>{t('hyScore')}</th>
                <th>{t('hyChange')}</th>
                <th>{t('hyDomains')}</th>
              </tr>
            </thead>
            <tbody>
              {data.organisations.map((o) => (
                <tr key={o.organisation} className={o.organisation === selected ? 'selected' : ''}>
                  <td>
                    <a href={`#/hygiene/${encodeURIComponent(o.organisation)}`} translate="no">
                      {o.organisation}
                    </a>
                  </td>
                  <td translate="no">{o.sector ?? '—'}</td>
                  <td>{o.score}</td>
                  <td>
                    {o.previous === null
                      ? '—'
                      : `${o.score - o.previous >= 0 ? '+' : ''}${Math.round(10 * (o.score - o.previous)) / 10}`}
                  </td>
                  <td>{o.domains}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {selected ? <OrganisationDetail name={selected} /> : null}
        </>
      )}
    </section>
  );
}

function OrganisationDetail({ name }: { name: string }) {
  const { t, lang } = useI18n();
  const [body, setBody] = useState<HygieneOrganisationBody | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setBody(null);
    setError(null);
    api<HygieneOrganisationBody>(`hygiene/organisations/${encodeURIComponent(name)}`).then(
      setBody,
      (e: ApiError) => setError(e.status === 404 ? t('hyUnknown') : e.message),
    );
  }, [name, t]);
  if (error) return <p className="error">{error}</p>;
  if (!body) return <p>{t('loading')}</p>;
  return (
    <div className="hygiene-detail" data-testid="hygiene-detail">
      <h2>
        <span translate="no">{body.organisation}</span>
        <Marking marking={body.marking} />
      </h2>
      <p>
        {t('hyScore')}: <strong>{body.score}</strong> · {t('hyLatest')}: {day(body.startedAt)}
      </p>
      <h3>{t('hyHistory')}</h3>
      <Bars rows={body.history.map((h) => ({ label: day(h.startedAt), value: h.score, color: '#4c9aff' }))} />
      <h3>{t('hyDomainsChecked')}</h3>
      <Table
        className="table small"
        testId="hygiene-domains"
        headers={[t('hyDomain'), t('hyScore'), ...CHECKS.map((c) => t(`hy_${c}`))]}
      >
        {body.domains.map((d) => (
          <tr key={d.domain}>
            <td translate="no">{d.domain}</td>
            <td>{d.score}</td>
            {CHECKS.map((c) => (
              <td key={c} className={stateClass(d.checks[c])} title={d.reasons[c] ?? ''} translate="no">
                {d.checks[c]}
              </td>
            ))}
          </tr>
        ))}
      </Table>
      <h3>{t('hyFixes')}</h3>
      {body.domains.map((d) => (
        <div key={d.domain}>
          <h4 translate="no">{d.domain}</h4>
          {d.fixes.length === 0 ? (
            <p className="muted">{t('hyNothingToFix')}</p>
          ) : (
            <ol data-testid="hygiene-fixes">
              {d.fixes.map((f, i) => (
                // The advice is the room's own text in the reader's language (commands and records inside).
                <li key={i} translate="no">
                  {f[lang]}
                </li>
              ))}
            </ol>
          )}
        </div>
      ))}
    </div>
  );
}
