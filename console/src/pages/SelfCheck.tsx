// The public self-check: no sign-in; asks the hub about the visitor's own address only.
import type { SelfCheckAnswer } from '../api.ts';
import { useState } from 'react';
import { formatTime } from '../format.ts';
import { useI18n } from '../i18n.ts';

const ADVICE = { infected: 'scAdviceInfected', weak: 'scAdviceWeak', c2: 'scAdviceC2' } as const;

export function SelfCheckPage() {
  const { t } = useI18n();
  const [answer, setAnswer] = useState<SelfCheckAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const check = async () => {
    setBusy(true);
    setError(null);
    try {
      const response = await fetch('/console/api/self-check', { credentials: 'omit', cache: 'no-store' });
      if (response.status === 429) setError(t('scRateLimited'));
      else if (!response.ok) setError(t('scError'));
      else setAnswer((await response.json()) as SelfCheckAnswer);
    } catch {
      setError(t('scError'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="selfcheck" data-page="self-check">
      <h1>{t('scHeading')}</h1>
      <p>{t('scIntro')}</p>
      <button
        className="primary big"
        onClick={() => void check()}
        disabled={busy}
        data-testid="self-check-button"
      >
        {t('scCheck')}
      </button>
      {error ? <p className="error">{error}</p> : null}
      {answer ? (
        <div
          className={`result ${answer.listed ? 'listed' : 'clean'}`}
          data-testid="self-check-result"
          data-listed={String(answer.listed)}
        >
          <p>
            {t('scYourAddress')}:{' '}
            <strong className="mono" translate="no">
              {answer.address}
            </strong>
          </p>
          {answer.listed ? (
            <>
              <p className="headline">{t('scListed')}</p>
              <ul>
                {answer.findings.map((f, i) => (
                  <li key={i}>
                    <strong>{t(`sc_${f.category}`)}</strong>
                    {f.family ? <span translate="no"> ({f.family})</span> : null}
                    {f.service || f.port ? (
                      <span translate="no">{` — ${f.service ?? ''}${f.port ? ` ${f.port}` : ''}`}</span>
                    ) : null}
                    <div className="muted">
                      {t('scSince')}: {f.since.length > 10 ? formatTime(f.since) : f.since}
                    </div>
                    <p>{t(ADVICE[f.category])}</p>
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <>
              <p className="headline">{t('scUnlisted')}</p>
              <p>{t('scUnlistedAdvice')}</p>
            </>
          )}
        </div>
      ) : null}
      <p className="help">{t('scHelp')}</p>
    </section>
  );
}
