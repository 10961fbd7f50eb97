// What the data pages share: fetching a view again on every live tick (a 403 said in words), the
// loading, error and empty states, figure cards and plain tables, and the release rule's marking of
// what is shown.
import { useEffect, useState, type ReactNode } from 'react';
import type { ApiTier, ApiTlp } from '../../src/console/api/types.ts';
import { api, ApiError } from './api.ts';
import { useI18n } from './i18n.ts';
import { useLiveTick } from './live.tsx';

/** Fetches a view on every live tick; a 403 becomes the text of `forbiddenKey`. */
export function useView<T>(
  path: string,
  forbiddenKey = 'forbidden',
): { data: T | null; error: string | null } {
  const tick = useLiveTick();
  const { t } = useI18n();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<T>(path).then(setData, (e: ApiError) => setError(e.status === 403 ? t(forbiddenKey) : e.message));
  }, [path, forbiddenKey, tick, t]);
  return { data, error };
}

/** A page with nothing to show yet: one line saying why, where the e2e tests look for it. */
export function EmptyPage({ page, children }: { page: string; children: ReactNode }) {
  return (
    <section data-page={page}>
      <p className="empty" data-testid="empty">
        {children}
      </p>
    </section>
  );
}

/** Which tier and TLP the release rule gave what follows it. */
export function Marking({ marking }: { marking: { tier: ApiTier; tlp: ApiTlp } }) {
  const { t } = useI18n();
  return (
    <span className="muted">
      {' '}
      {t(`tier_${marking.tier}`)} ·{' '}
      <span className={`tlp tlp-${marking.tlp.replace('+', '-')}`}>TLP:{marking.tlp.toUpperCase()}</span>
    </span>
  );
}

/** A published document, by its title (its address when it has none), opened in a new tab. */
export function DocumentLink({ url, title }: { url: string; title: string }) {
  return (
    <a href={url} target="_blank" rel="noopener noreferrer" title={url}>
      {title || url}
    </a>
  );
}

/** One figure in a row of cards: its title, and the number as the reader's locale writes it. */
export function Card({ title, value, testId }: { title: string; value: number; testId?: string }) {
  return (
    <div className="card">
      <div className="card-title">{title}</div>
      <div className="card-value" data-testid={testId}>
        {value.toLocaleString()}
      </div>
    </div>
  );
}

/** A table with one header row of these titles; `children` are its body's rows. */
export function Table({
  testId,
  headers,
  className,
  children,
}: {
  testId: string;
  headers: readonly string[];
  className?: string;
  children: ReactNode;
}) {
  return (
    <table className={className} data-testid={testId}>
      <thead>
        <tr>
          {headers.map((header, i) => (
            <th key={i}>{header}</th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
