// The console's shell: sign-in with an organisation token, hash routes, language switch, live feed.
import { StrictMode, useCallback, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { api, ApiError, followLive, getToken, setToken, type IndicatorView, type Me } from './api.ts';
import { dictionaries, I18nContext, initialLang, translator, useI18n, type Lang } from './i18n.ts';
import { LiveTickContext, type LiveItem } from './live.tsx';
import { AuditPage, GraphPage, SharingPage } from './pages/Admin.tsx';
import { HygienePage } from './pages/Hygiene.tsx';
import { RunbookPage } from './pages/Runbook.tsx';
import { WebPage } from './pages/Web.tsx';
import { OsintPage } from './pages/Osint.tsx';
import { IndicatorsPage } from './pages/Indicators.tsx';
import { OverviewPage } from './pages/Overview.tsx';
import { LossBanner, PipelinePage, useHealth } from './pages/Pipeline.tsx';
import { SelfCheckPage } from './pages/SelfCheck.tsx';
import { SensorsPage } from './pages/Sensors.tsx';
import { DarknetPage, HostsPage, SurveyPage } from './pages/Stats.tsx';
import './style.css';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

const NAV: { path: string; key: string; fullOnly?: boolean }[] = [
  { path: 'overview', key: 'overview' },
  { path: 'c2', key: 'c2' },
  { path: 'hosts', key: 'hosts', fullOnly: true },
  { path: 'darknet', key: 'darknet', fullOnly: true },
  { path: 'survey', key: 'survey', fullOnly: true },
  { path: 'graph', key: 'graph' },
  { path: 'sharing', key: 'sharing' },
  { path: 'audit', key: 'audit', fullOnly: true },
  { path: 'pipeline', key: 'pipeline', fullOnly: true },
  { path: 'hygiene', key: 'hygiene' },
  { path: 'sensors', key: 'sensors', fullOnly: true },
  { path: 'runbook', key: 'runbook', fullOnly: true },
  { path: 'web', key: 'web' },
  { path: 'osint', key: 'osint' },
];

function LangSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <button className="lang" data-testid="lang-switch" onClick={() => setLang(lang === 'ja' ? 'en' : 'ja')}>
      {t('language')}
    </button>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const { t } = useI18n();
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="signin">
      <div className="signin-top">
        <LangSwitch />
      </div>
      <h1>{t('appName')}</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setToken(value.trim());
          api<Me>('me').then(onSignedIn, () => {
            setToken(null);
            setError(t('badToken'));
          });
        }}
      >
        <label>
          {t('tokenLabel')}
          <input
            name="token"
            type="password"
            autoComplete="off"
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        </label>
        <button className="primary" type="submit">
          {t('signIn')}
        </button>
        {error ? <p className="error">{error}</p> : null}
        <p className="muted">{t('tokenHelp')}</p>
      </form>
      <p>
        <a href="/check">{t('selfCheck')} →</a>
      </p>
    </div>
  );
}

/** Where the data the console adds comes from (the AS names' licence asks for this credit). */
function Footer() {
  const { t } = useI18n();
  return (
    <footer className="footer" data-testid="footer">
      {t('timeZoneNote')} {t('attribution')}:{' '}
      <a href="https://db-ip.com" rel="noreferrer" target="_blank">
        IP Geolocation by DB-IP
      </a>{' '}
      (CC BY 4.0),{' '}
      <a href="https://www.routeviews.org" rel="noreferrer" target="_blank">
        Route Views
      </a>{' '}
      (CC BY 4.0), @ip-location-db/asn.
    </footer>
  );
}

function Shell({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const { t } = useI18n();
  const hash = useHash();
  const [connected, setConnected] = useState(false);
  const [tick, setTick] = useState(0);
  const [recent, setRecent] = useState<LiveItem[]>([]);
  // The newest indicator, kept untranslated so the banner follows a language switch.
  const [flash, setFlash] = useState<{ kind: string; value: string } | null>(null);
  const health = useHealth();
  useEffect(
    () =>
      followLive((e) => {
        if (e.event === 'indicator') {
          const item = e.data as LiveItem;
          setRecent((r) => [item, ...r].slice(0, 50));
          if (item.change === 'created') setFlash({ kind: item.indicator.kind, value: item.indicator.value });
        } else if (e.event === 'changed') setTick((n) => n + 1);
      }, setConnected),
    [],
  );
  const parts = hash.replace(/^#\/?/, '').split('/');
  const page = parts[0] || 'overview';
  let body;
  if (page === 'c2') body = <IndicatorsPage me={me} kind="c2" detailRef={parts[1]} />;
  else if (page === 'list' && parts[1])
    body = <IndicatorsPage me={me} kind={parts[1]} detailRef={parts[2]} />;
  else if (page === 'hosts') body = <HostsPage />;
  else if (page === 'darknet') body = <DarknetPage />;
  else if (page === 'survey') body = <SurveyPage />;
  else if (page === 'graph') body = <GraphPage />;
  else if (page === 'sharing') body = <SharingPage />;
  else if (page === 'audit') body = <AuditPage />;
  else if (page === 'pipeline') body = <PipelinePage health={health} />;
  else if (page === 'hygiene')
    body = <HygienePage {...(parts[1] ? { selected: decodeURIComponent(parts[1]) } : {})} />;
  else if (page === 'sensors') body = <SensorsPage />;
  else if (page === 'runbook') body = <RunbookPage />;
  else if (page === 'web') body = <WebPage />;
  else if (page === 'osint') body = <OsintPage />;
  else body = <OverviewPage recent={recent} />;
  return (
    <LiveTickContext.Provider value={tick}>
      <header className="top">
        <span className="brand">{t('appName')}</span>
        <span className={`tier tier-${me.tier}`} data-testid="tier">
          <span translate="no">{me.org}</span> · {t(`tier_${me.tier}`)}
        </span>
        <span className={`live ${connected ? 'on' : 'off'}`} data-testid="live-state">
          ● {connected ? t('live') : t('liveOff')}
        </span>
        <LangSwitch />
        <button onClick={onSignOut}>{t('signOut')}</button>
      </header>
      <nav className="side">
        {NAV.filter((n) => !n.fullOnly || me.tier === 'full').map((n) => (
          <a key={n.path} href={`#/${n.path}`} className={page === n.path ? 'active' : ''} data-nav={n.path}>
            {t(n.key)}
          </a>
        ))}
        <a href="/check">{t('selfCheck')}</a>
      </nav>
      <main className="content">
        <LossBanner health={health.data} />
        <h1 data-testid="page-title">
          {t(NAV.find((n) => n.path === page)?.key ?? (page === 'list' ? `kind_${parts[1]}` : 'overview'))}
        </h1>
        {flash ? (
          <div className="flash" data-testid="live-flash" onClick={() => setFlash(null)}>
            + {t(`kind_${flash.kind}`)} <span translate="no">{flash.value}</span>
          </div>
        ) : null}
        {body}
        <Footer />
      </main>
    </LiveTickContext.Provider>
  );
}

function App() {
  const [lang, setLangState] = useState<Lang>(initialLang());
  const setLang = useCallback((l: Lang) => {
    setLangState(l);
    try {
      localStorage.setItem('tsunagi.lang', l);
    } catch {
      // not kept
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const i18n = useMemo(
    () => ({ lang, setLang, t: translator(lang), has: (k: string) => k in dictionaries[lang] }),
    [lang, setLang],
  );
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(Boolean(getToken()));
  useEffect(() => {
    if (!getToken() || location.pathname === '/check') return;
    api<Me>('me')
      .then(setMe, (e: ApiError) => {
        if (e.status === 401) setToken(null);
      })
      .finally(() => setChecking(false));
  }, []);
  let content;
  if (location.pathname === '/check')
    content = (
      <div className="public">
        <div className="signin-top">
          <a href="/" className="back" data-testid="back-to-console">
            {i18n.t('backToConsole')}
          </a>
          <LangSwitch />
        </div>
        <SelfCheckPage />
      </div>
    );
  else if (me) content = <Shell me={me} onSignOut={() => (setToken(null), setMe(null))} />;
  else if (checking) content = null;
  else content = <SignIn onSignedIn={setMe} />;
  return <I18nContext.Provider value={i18n}>{content}</I18nContext.Provider>;
}

export type { IndicatorView };
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
