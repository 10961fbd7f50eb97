/**
 * Certificate facts from a certificate-transparency entry (issuer, validity, names on it) as
 * scoring inputs. The shipped model (score/model.json) has no weights for them yet, so they are
 * recorded and shown as reasons with contribution 0; a model that carries `cert_validity_days`
 * or `cert_san_count` weights (fitted by bench/web/fit.ts) moves the score by weight × value, and
 * the verdict follows from the same thresholds.
 */
import { logistic, verdictOf, type FittedModel, type Thresholds } from '../score/model.ts';
import type { CertificateFacts, Reason, ScoredUrl } from '../types.ts';

/** The numeric facts a fitted model may weigh, by the names its weights use. */
export const CERTIFICATE_FEATURES = ['cert_validity_days', 'cert_san_count'] as const;
export type CertificateFeature = (typeof CERTIFICATE_FEATURES)[number];

/** Longest span of validity accepted as a fact (anything longer is a malformed entry). */
const MAX_VALIDITY_DAYS = 40 * 366;

const text = (value: unknown): string | null =>
  typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, 200) : null;

/** Epoch seconds as certstream sends them (integer or float), within a sane range. */
function epoch(value: unknown): Date | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value >= 1e11) return null;
  return new Date(value * 1000);
}

/**
 * The facts of certstream's `leaf_cert` (certstream-server and certstream-server-go alike; the
 * former's example frames carry the issuer only as the first chain entry's subject). Null when
 * the value is not an object.
 */
export function certificateFactsOf(leaf: unknown, chain?: unknown): CertificateFacts | null {
  if (typeof leaf !== 'object' || leaf === null) return null;
  const l = leaf as {
    issuer?: { O?: unknown; CN?: unknown };
    not_before?: unknown;
    not_after?: unknown;
    all_domains?: unknown;
    extensions?: { subjectAltName?: unknown };
  };
  const parent = Array.isArray(chain) ? (chain[0] as { subject?: { O?: unknown; CN?: unknown } }) : undefined;
  const issuer =
    text(l.issuer?.O) ?? text(l.issuer?.CN) ?? text(parent?.subject?.O) ?? text(parent?.subject?.CN);
  const from = epoch(l.not_before);
  const to = epoch(l.not_after);
  const days = from && to ? (to.getTime() - from.getTime()) / 86_400_000 : null;
  const validityDays =
    days !== null && days >= 0 && days <= MAX_VALIDITY_DAYS ? Math.round(days * 10) / 10 : null;
  const san = typeof l.extensions?.subjectAltName === 'string' ? l.extensions.subjectAltName : null;
  const sanCount =
    san !== null
      ? san.split(',').filter((part) => /^\s*DNS:/i.test(part)).length
      : Array.isArray(l.all_domains)
        ? l.all_domains.length
        : 0;
  return {
    issuer,
    notBefore: from?.toISOString() ?? null,
    notAfter: to?.toISOString() ?? null,
    validityDays,
    sanCount,
  };
}

/**
 * The scored host with its certificate's facts among the reasons: `cert_issuer(<issuer>)`,
 * `cert_validity_days`, `cert_san_count`, each with the model's weight × value as contribution
 * (0 while the model has no such weight). A brand's official domain stays the rule it is.
 */
export function withCertificate(
  scored: ScoredUrl,
  facts: CertificateFacts,
  model: FittedModel,
  thresholds: Thresholds,
  urlThresholds: Thresholds = thresholds,
): ScoredUrl {
  const official = scored.reasons.some((r) => r.feature === 'official_domain');
  const weights = model.weights as unknown as Partial<Record<string, number>>;
  const added: Reason[] = [];
  if (facts.issuer !== null)
    added.push({ feature: `cert_issuer(${facts.issuer})`, value: facts.issuer, contribution: 0 });
  const numeric: Record<CertificateFeature, number | null> = {
    cert_validity_days: facts.validityDays,
    cert_san_count: facts.sanCount,
  };
  let shift = 0;
  for (const feature of CERTIFICATE_FEATURES) {
    const value = numeric[feature];
    if (value === null) continue;
    const contribution = official ? 0 : Math.round(value * (weights[feature] ?? 0) * 1000) / 1000;
    shift += contribution;
    added.push({ feature, value, contribution });
  }
  const reasons = [...scored.reasons, ...added].sort(
    (a, b) => Math.abs(b.contribution) - Math.abs(a.contribution),
  );
  if (shift === 0) return { ...scored, reasons };
  // The certificate speaks for the name, so it moves the host-name verdict and the URL verdict alike.
  const score = logistic(Math.log(scored.score / (1 - scored.score)) + shift);
  const hostScore = logistic(Math.log(scored.hostScore / (1 - scored.hostScore)) + shift);
  return {
    ...scored,
    score,
    verdict: verdictOf(score, urlThresholds),
    hostScore,
    hostVerdict: verdictOf(hostScore, thresholds),
    reasons,
  };
}
