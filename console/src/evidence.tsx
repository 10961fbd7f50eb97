// The evidence behind an indicator as a table an analyst can read: each item named and explained
// in both languages. Items this console does not know are still shown (their key, their value,
// "no explanation"), never as raw JSON.
import { EVIDENCE, type Explained } from './evidence-vocabulary.ts';
import { formatNumber } from './format.ts';
import { useI18n, type Lang } from './i18n.ts';

/** Items whose values are states the dictionary names (`state_sent`, ...). */
const STATE_KEYS = new Set(['notification', 'status']);

function readable(
  value: string | number | boolean,
  how: Explained | undefined,
  lang: Lang,
  yes: string,
  no: string,
) {
  if (typeof value === 'boolean') return value ? yes : no;
  if (typeof value === 'number') {
    if (how?.unit === 'share') return `${formatNumber(Math.round(value * 1000) / 10, lang)}%`;
    if (how?.unit === 'seconds') return `${formatNumber(value, lang)} ${lang === 'ja' ? '秒' : 's'}`;
    if (how?.unit === 'bytes') return `${formatNumber(value, lang)} ${lang === 'ja' ? 'バイト' : 'bytes'}`;
    return formatNumber(value, lang);
  }
  if (how?.unit === 'seconds' && value !== '' && Number.isFinite(Number(value)))
    return `${formatNumber(Number(value), lang)} ${lang === 'ja' ? '秒' : 's'}`;
  return value;
}

export function EvidenceTable({ evidence }: { evidence: Record<string, string | number | boolean> }) {
  const { t, lang, has } = useI18n();
  const entries = Object.entries(evidence);
  if (entries.length === 0) return null;
  // Known items first, in the order above; unknown ones after, by key.
  const order = Object.keys(EVIDENCE);
  entries.sort(([a], [b]) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? order.length : ia) - (ib < 0 ? order.length : ib) || a.localeCompare(b);
  });
  return (
    <>
      <p className="muted">{t('evidenceHelp')}</p>
      <table className="table small evidence" data-testid="evidence">
        <thead>
          <tr>
            <th>{t('item')}</th>
            <th>{t('value')}</th>
          </tr>
        </thead>
        <tbody>
          {entries.map(([key, value]) => {
            const how = EVIDENCE[key];
            const state = typeof value === 'string' && STATE_KEYS.has(key) && has(`state_${value}`);
            const shown = state
              ? t(`state_${value as string}`)
              : readable(value, how, lang, t('yes'), t('no'));
            return (
              <tr key={key} data-key={key}>
                <td>
                  {how ? (
                    <strong>{how.label[lang]}</strong>
                  ) : (
                    <strong className="mono" translate="no">
                      {key}
                    </strong>
                  )}
                  <div className="muted explain">{how ? how.help[lang] : t('evidenceNoHelp')}</div>
                </td>
                <td
                  className={typeof shown === 'string' && shown.length > 24 ? 'value text' : 'value'}
                  translate={typeof value === 'string' && !state ? 'no' : undefined}
                >
                  {shown}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}
