// Malicious websites: campaigns (hosts tied by shared infrastructure, naming pattern or kit, each
// tie shown), hosts by brand, TLD and platform, and the takedown requests' status. The hub's
// release rule decides which hosts the reader sees; the page draws what the API returns.
import { useEffect, useState } from 'react';
import type { WebBody, WebReportBody } from '../../../src/console/api/types.ts';
import { api, ApiError, apiPost } from '../api.ts';
import { Bars } from '../charts.tsx';
import { formatTime } from '../format.ts';
import { useI18n } from '../i18n.ts';
import { useLiveTick } from '../live.tsx';
import { Card, Table } from '../view.tsx';

const STATUS_COLORS: Record<string, string> = {
  draft: '#8b8d98',
  sent: '#4c9aff',
  acknowledged: '#ffc53d',
  'taken-down': '#30a46c',
  refused: '#e5484d',
};
const day = (iso: string) => formatTime(iso).slice(0, 10);
/**
 * A month of JPCERT/CC's list makes campaigns of hundreds of hosts with dozens of ties, and
 * hundreds of campaigns: drawn whole, the page was 130,000 pixels tall. The largest campaigns
 * are shown, each with its first hosts and ties and the rest behind a "more" toggle.
 */
const CAMPAIGNS_SHOWN = 50;
const HOSTS_SHOWN = 5;
const TIES_SHOWN = 4;

/** The first `shown` items, then the rest folded under "N more". */
function Folded({ items, shown, more }: { items: React.ReactNode[]; shown: number; more: string }) {
  if (items.length <= shown) return <>{items}</>;
  return (
    <>
      {items.slice(0, shown)}
      <details className="more">
        <summary>{more.replace('{n}', String(items.length - shown))}</summary>
        {items.slice(shown)}
      </details>
    </>
  );
}

/** Reports one URL (any organisation whose token may write); shows the verdict and its main reasons. */
function ReportForm() {
  const { t, lang } = useI18n();
  const [url, setUrl] = useState('');
  const [brand, setBrand] = useState('');
  const [description, setDescription] = useState('');
  const [answer, setAnswer] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const send = (event: React.FormEvent) => {
    event.preventDefault();
    setSending(true);
    const report = { url, ...(brand ? { brand } : {}), ...(description ? { description } : {}) };
    apiPost<WebReportBody>('web/reports', report)
      .then(
        (body) => {
          const r = body.reports[0]!;
          setAnswer(
            r.ok
              ? `${t('webReportVerdict')}: ${t(`verdict_${r.verdict}`)} (${t('webReportScore')} ${r.score.toFixed(3)}) ${r.host} — ` +
                  r.grounds
                    .slice(0, 3)
                    .map((x) => x.words[lang])
                    .join(lang === 'ja' ? ' ／ ' : '; ') +
                  `. ${t('webReportKept').replace('{source}', body.source)}`
              : // The room's reason is in English; the Japanese page says it in its own words.
                `${t('webReportBad')}: ${r.url}${lang === 'en' ? ` (${r.error})` : ''}`,
          );
        },
        (e: ApiError) => setAnswer(e.status === 403 ? t('forbidden') : e.message),
      )
      .finally(() => setSending(false));
  };
  return (
    <form className="report-form" data-testid="web-report-form" onSubmit={send}>
      <h2>{t('webReport')}</h2>
      <label>
        {t('webReportUrl')}
        <input name="url" required maxLength={8192} value={url} onChange={(e) => setUrl(e.target.value)} />
      </label>
      <label>
        {t('webReportBrand')}
        <input name="brand" maxLength={100} value={brand} onChange={(e) => setBrand(e.target.value)} />
      </label>
      <label>
        {t('webReportDescription')}
        <input
          name="description"
          maxLength={2000}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
      </label>
      <button type="submit" disabled={sending || url.trim() === ''}>
        {t('webReportSend')}
      </button>
      {answer && (
        <p data-testid="web-report-result" translate="no">
          {answer}
        </p>
      )}
    </form>
  );
}

export function WebPage() {
  const { t, lang } = useI18n();
  const tick = useLiveTick();
  const [data, setData] = useState<WebBody | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<WebBody>('web').then(setData, (e: ApiError) =>
      setError(e.status === 403 ? t('forbidden') : e.message),
    );
  }, [tick, t]);
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  if (data.hosts === 0)
    return (
      <section data-page="web">
        <p className="empty" data-testid="empty">
          {t('emptyWeb')}
        </p>
        <ReportForm />
      </section>
    );
  const statusCounts = Object.keys(STATUS_COLORS)
    .map((status) => ({
      label: t(`takedown_${status}`),
      value: data.takedowns.filter((d) => d.status === status).length,
      color: STATUS_COLORS[status]!,
    }))
    .filter((r) => r.value > 0);
  // The room tallies hosts with no brand (or no country) under 'unknown': a word to translate.
  // Brands by the lexicon's name in the reader's language (`smbc-card` is 三井住友カード), else the key.
  const brandName = (key: string) => data.brandNames[key]?.[lang] ?? key;
  const bars = (rows: WebBody['byBrand'], name: (key: string) => string = (key) => key) =>
    rows.slice(0, 12).map((r) => ({
      label: r.key === 'unknown' ? t('familyUnknown') : name(r.key),
      value: r.hosts,
      dataLabel: true,
    }));
  return (
    <section data-page="web">
      <p className="muted">{t('webIntro')}</p>
      <div className="cards">
        <Card title={t('webHosts')} value={data.hosts} testId="web-hosts" />
        <Card title={t('webCampaigns')} value={data.campaigns.length} testId="web-campaigns" />
      </div>
      <h2>{t('webByBrand')}</h2>
      <Bars rows={bars(data.byBrand, brandName)} label={t('webByBrand')} />
      <h2>{t('webByTld')}</h2>
      <Bars rows={bars(data.byTld)} label={t('webByTld')} />
      {data.byPlatform.length > 0 && (
        <>
          <h2>{t('webByPlatform')}</h2>
          <Bars rows={bars(data.byPlatform)} label={t('webByPlatform')} />
        </>
      )}
      <h2>{t('webCampaigns')}</h2>
      {data.campaigns.length === 0 && (
        <p className="muted" data-testid="web-no-campaigns">
          {t('webNoCampaigns')}
        </p>
      )}
      {data.campaigns.length > 0 && (
        <Table
          testId="web-campaign-table"
          headers={['webCampaign', 'webMembers', 'webBrands', 'webTies', 'webPeriod'].map(t)}
        >
          {data.campaigns.slice(0, CAMPAIGNS_SHOWN).map((c) => (
            <tr key={c.id}>
              <td translate="no">{c.id}</td>
              <td translate="no">
                <Folded
                  shown={HOSTS_SHOWN}
                  more={t('webMoreHosts')}
                  items={c.hosts.map((host) => (
                    <div key={host} className="host-name">
                      {host}
                      {c.kitPathOnly?.includes(host) && (
                        <span
                          className="muted"
                          title={t('webKitPathOnlyHelp')}
                          data-testid="web-kit-path-only"
                        >
                          {' '}
                          ({t('webKitPathOnly')})
                        </span>
                      )}
                    </div>
                  ))}
                />
              </td>
              <td translate="no">{c.brands.map(brandName).join(' ')}</td>
              <td>
                <Folded
                  shown={TIES_SHOWN}
                  more={t('webMoreTies')}
                  items={c.ties.map((tie) => (
                    <div key={`${tie.kind} ${tie.value}`}>
                      {t(`tie_${tie.kind}`)}: <span translate="no">{tie.value}</span> ({tie.hosts.length})
                    </div>
                  ))}
                />
              </td>
              <td>
                {day(c.firstSeen) === day(c.lastSeen)
                  ? day(c.firstSeen)
                  : `${day(c.firstSeen)} – ${day(c.lastSeen)}`}
              </td>
            </tr>
          ))}
        </Table>
      )}
      {data.campaigns.length > CAMPAIGNS_SHOWN && (
        <p className="muted" data-testid="web-campaigns-shown">
          {t('webCampaignsShown')
            .replace('{shown}', String(CAMPAIGNS_SHOWN))
            .replace('{all}', data.campaigns.length.toLocaleString())}
        </p>
      )}
      <h2>{t('webTakedownsByStatus')}</h2>
      <Bars rows={statusCounts} label={t('webTakedownsByStatus')} empty={t('webNoTakedowns')} />
      {data.takedowns.length > 0 && (
        <Table
          testId="web-takedown-table"
          headers={['webHost', 'webStatus', 'webAbuse', 'webUpdated'].map(t)}
        >
          {data.takedowns.map((d) => (
            <tr key={d.host}>
              <td translate="no">{d.host}</td>
              <td>{t(`takedown_${d.status}`)}</td>
              <td translate="no">{d.abuseEmail}</td>
              <td>{formatTime(d.updatedAt)}</td>
            </tr>
          ))}
        </Table>
      )}
      <ReportForm />
    </section>
  );
}
