// The runbook: for each automated step, what a person does by hand when it is unavailable,
// written from the configuration this hub runs with (ports, paths, collections, commands).
import { useEffect, useState } from 'react';
import type { RunbookBody } from '../../../src/console/api/types.ts';
import { api, ApiError } from '../api.ts';
import { useI18n } from '../i18n.ts';

export function RunbookPage() {
  const { t, lang } = useI18n();
  const [data, setData] = useState<RunbookBody | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setData(null);
    api<RunbookBody>('runbook', { lang }).then(setData, (e: ApiError) =>
      setError(e.status === 403 ? t('forbidden') : e.message),
    );
  }, [lang, t]);
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>{t('loading')}</p>;
  if (!data.available)
    return (
      <section data-page="runbook">
        <p className="empty" data-testid="empty">
          {t('emptyRunbook')}
        </p>
      </section>
    );
  return (
    <section data-page="runbook">
      <h2>{data.title}</h2>
      <p>{data.intro}</p>
      <h3>{t('rbConfig')}</h3>
      <table className="rb-config">
        <tbody>
          {data.configuration.map((c) => (
            <tr key={c.name}>
              <th>
                <code translate="no">{c.name}</code>
              </th>
              <td>
                <code translate="no">{c.value}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data.procedures.map((p) => (
        <article key={p.id} id={p.id} className="rb-procedure" data-stage={p.stage}>
          <h3>
            <span className={`rb-stage rb-${p.stage}`}>{t(`rbStage_${p.stage}`)}</span> {p.title}
          </h3>
          <p>
            <strong>{t('rbWhen')}:</strong> {p.when}
          </p>
          <ol>
            {p.steps.map((s, i) => (
              <li key={i}>
                {s.text}
                {s.command && (
                  <pre translate="no">
                    <code>{s.command}</code>
                  </pre>
                )}
              </li>
            ))}
          </ol>
          <p>
            <strong>{t('rbCheck')}:</strong> {p.check}
          </p>
        </article>
      ))}
    </section>
  );
}
