/**
 * How the kit-path memory's settings were chosen, on TUNING data only: JPCERT/CC's months
 * 2025-01..06 judged by a memory taught every earlier day (kit-replay.ts), against the benign URLs
 * of the forward check's read half of the tuning benign half, with the common path words made
 * from the other (fit) half only, so a benign site's own words cannot hide its false tie. No
 * evaluation month and no evaluation benign row is read.
 *
 *   node --import tsx bench/web/kit-check.ts --data DIR [--min-domains 2,3] [--window-days 14,30,60]
 *     [--judged-by FILE --tuning-last-month M]
 *
 * `--judged-by` replays the room's own verdicts instead (web.kitPaths.ownVerdicts): a forward fit
 * (fit.ts --forward --tuning-last-month M --out FILE) scores the listings after M, the memory is
 * taught those it flags suspicious or malicious (and the read-half benign rows it so flags, from
 * the start), and each month is printed as the URL verdict alone and OR the tie of a URL the
 * model scores at its judgedLift floor (the room's rule, liftableByJudged; `--lift suspicious`: a
 * suspicious URL only, the rule before that floor); `--teaching earlier-days,earlier-times,earlier-rows`:
 * each host judged by earlier days' listings, by every listing before its own time, or by every
 * row before its own in the list's order (kit-replay.ts; the domain and suffix-path replays read
 * `earlier-days` as `earlier-times`); hosts
 * are judged from the month after M (the months before are the fit's own).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { silentLogger } from '../../src/core/index.ts';
import {
  countsAsUnjudged,
  createWeb,
  DEFAULT_KIT_PATHS,
  liftableByJudged,
  nonEnglishPathWords,
  suffixRiskOf,
  teachesAsJudged,
  teachesDomain,
  WebConfig,
  type FittedModel,
  type NormalisedUrl,
  type ScoredUrl,
} from '../../src/web/index.ts';
import { dataDirectory, loadSplit, splitMonths, TUNING_LAST_MONTH } from './data.ts';
import { replayDomainTies, replaySuffixPathTies } from './domain-replay.ts';
import { replayKitPaths, type KitReplayTeaching } from './kit-replay.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    'min-domains': { type: 'string', default: '2,3' },
    'window-days': { type: 'string', default: '14,30,60' },
    'judged-by': { type: 'string' },
    'tuning-last-month': { type: 'string', default: '2024-12' },
    teaching: { type: 'string', default: 'earlier-days' },
    lift: { type: 'string', default: 'model' },
    teach: { type: 'string', default: 'floor' },
    domains: { type: 'string', default: 'on' },
    'suffix-paths': { type: 'string', default: 'on' },
    'suffix-teach': { type: 'string', default: 'suspicious' },
    against: { type: 'string', default: 'benign' },
  },
});
const numbers = (text: string) => text.split(',').map(Number);
const dir = dataDirectory(values.data);
// The forward split: "evaluation" months are 2025-01..06 and its benign rows the read half.
const fitLast = values['tuning-last-month']!;
const split = await loadSplit(dir, splitMonths({ 'tuning-last-month': fitLast, forward: true }));
const commonWords = nonEnglishPathWords(split.tuning.benignUrls.map((h) => h.url.path));

const months = split.evaluation.months;
const phishing = months.flatMap((m) => m.phishing).filter((h) => h.seenAt);
const benign = split.evaluation.benignUrls.map((h) => h.url);
/** The hosts judged, at their first listing's time and row. */
const judged = phishing.map((h) => ({ url: h.url, seenAt: h.seenAt!, row: h.row }));
console.log(
  `read: ${months.map((m) => m.month).join(', ')} (${phishing.length} hosts); ${benign.length} read-half benign URLs; ` +
    `${commonWords.size} common path words from ${split.tuning.benignUrls.length} fit-half URLs`,
);
const { teach, unjudged, domainTeach, domainUnjudged, verdict, benignVerdict, liftable, suffixRisk } =
  taughtBy(values['judged-by']);
const teachings = values.teaching!.split(',') as KitReplayTeaching[];
for (const teaching of teachings)
  for (const minDomains of numbers(values['min-domains']!))
    for (const windowDays of numbers(values['window-days']!)) {
      const replay = replayKitPaths(
        teach,
        judged,
        benign,
        { from: `${months[0]!.month}-01`, to: `${TUNING_LAST_MONTH}-30` },
        { ...DEFAULT_KIT_PATHS, minDomains, windowDays, commonWords },
        teaching,
        values.against === 'none' ? [] : unjudged,
      );
      // The room's registered-domain ties (own verdicts only; --domains off: kit paths alone).
      const domains =
        verdict && values.domains !== 'off'
          ? replayDomainTies(
              domainTeach,
              judged,
              benign,
              { from: `${months[0]!.month}-01` },
              { windowDays, maxDomains: DEFAULT_KIT_PATHS.maxPaths },
              values.against === 'none' ? [] : domainUnjudged,
              teaching === 'earlier-rows',
            )
          : null;
      // The room's suffix-path ties (own verdicts only; --suffix-paths off: without them).
      const suffixPaths =
        verdict && values['suffix-paths'] !== 'off'
          ? replaySuffixPathTies(
              values['suffix-teach'] === 'floor' ? teach : domainTeach,
              judged,
              benign,
              { from: `${months[0]!.month}-01` },
              { windowDays, maxPaths: DEFAULT_KIT_PATHS.maxPaths },
              suffixRisk,
              values.against === 'none' ? [] : values['suffix-teach'] === 'floor' ? unjudged : domainUnjudged,
              teaching === 'earlier-rows',
            )
          : null;
      const tiedAt = (i: number) =>
        replay.phishingTied[i]! || domains?.phishingTied[i] === true || suffixPaths?.phishingTied[i] === true;
      let offset = 0;
      const perMonth = months.map((m) => {
        const size = m.phishing.filter((h) => h.seenAt).length;
        const range = [...Array(size).keys()].map((i) => offset + i);
        const tied = range.filter(tiedAt).length;
        offset += size;
        if (!verdict) return `${m.month} ${percent(tied, size)}`;
        const alone = range.filter((i) => verdict[i]!.verdict === 'malicious').length;
        const either = range.filter(
          (i) => verdict[i]!.verdict === 'malicious' || (liftable(verdict[i]!) && tiedAt(i)),
        ).length;
        return `${m.month} verdict ${percent(alone, size)}, OR tie ${percent(either, size)}`;
      });
      // With own verdicts, a tie flags a benign URL only at the lift rule (liftableByJudged).
      const falseTies = benign
        .filter(
          (_, i) =>
            (replay.benignTied[i] ||
              domains?.benignTied[i] === true ||
              suffixPaths?.benignTied[i] === true) &&
            (!benignVerdict || liftable(benignVerdict[i]!)),
        )
        .map((u) => u.url);
      console.log(
        `${teaching}, teach ${values.teach}, domains ${verdict ? values.domains : 'off'}, suffix paths ${verdict ? `${values['suffix-paths']} (taught ${values['suffix-teach']})` : 'off'}, lift ${values.lift}, against ${values.against}, min ${minDomains} domains, ${windowDays} days: ${verdict ? 'own verdicts' : 'kit paths alone'} ${perMonth.join(', ')}; ` +
          `benign URLs tied ${falseTies.length}${falseTies.length ? ` (${falseTies.slice(0, 5).join(' ')})` : ''}`,
      );
    }

function percent(part: number, whole: number) {
  return `${((100 * part) / whole).toFixed(1)} %`;
}

/**
 * What teaches the memory: every tuning listing (a confirmed feed), or with a forward model the
 * listings after its fit months that it flags suspicious or malicious and the read-half benign
 * rows it so flags (the room's rule, teachesAsJudged); `verdict` is each judged host's scored URL.
 */
function taughtBy(modelFile: string | undefined) {
  const tuningListings = split.months
    .flatMap((m) => m.listings)
    .filter((l) => l.seenAt.slice(0, 7) <= TUNING_LAST_MONTH);
  if (!modelFile)
    return {
      teach: tuningListings,
      unjudged: [],
      domainTeach: [],
      domainUnjudged: [],
      verdict: undefined,
      benignVerdict: undefined,
      liftable: () => false,
      suffixRisk: () => 0,
    };
  const model = JSON.parse(readFileSync(modelFile, 'utf8')) as FittedModel;
  if ((model.fit as { tuningMonths?: string }).tuningMonths?.endsWith(`..${fitLast}`) !== true)
    throw new Error(
      `${modelFile} was not fitted up to ${fitLast} (fit.ts --forward --tuning-last-month ${fitLast})`,
    );
  const web = createWeb(WebConfig.parse({}), { logger: silentLogger(), registry: new Registry(), model });
  const start = new Date(`${months[0]!.month}-01T00:00:00+09:00`).toISOString();
  // Every listing after the fit months and every read-half benign row, as the room would have seen
  // them: suspicious or worse teaches, benign counts against a tie on its path (--against none: not).
  const seen = [
    ...tuningListings.filter((l) => l.seenAt.slice(0, 7) > fitLast),
    ...[...split.evaluation.benign, ...split.evaluation.benignUrls].map((h) => ({
      url: h.url,
      seenAt: start,
    })),
  ].map((listing) => ({ listing, scored: web.score(listing.url) }));
  // --teach suspicious / --lift suspicious: the rules before the model's judgedLift floor (a
  // suspicious URL only teaches, or is lifted).
  const suspiciousOnly = { suspicious: web.urlThresholds.suspicious };
  const taughtAt = values.teach === 'suspicious' ? suspiciousOnly : web.urlThresholds;
  const teach = seen.filter((s) => teachesAsJudged(s.scored, taughtAt)).map((s) => s.listing);
  const unjudged = seen.filter((s) => countsAsUnjudged(s.scored, taughtAt)).map((s) => s.listing);
  // A registered domain is named by a suspicious verdict or worse only (domain-ties.ts).
  const domainTeach = seen.filter((s) => teachesDomain(s.scored)).map((s) => s.listing);
  const domainUnjudged = seen.filter((s) => s.scored.verdict === 'benign').map((s) => s.listing);
  const scoredOf = (url: NormalisedUrl) => web.score(url);
  const thresholds = values.lift === 'suspicious' ? suspiciousOnly : web.urlThresholds;
  return {
    teach,
    unjudged,
    domainTeach,
    domainUnjudged,
    verdict: phishing.map((h) => scoredOf(h.url)),
    benignVerdict: benign.map(scoredOf),
    liftable: (scored: ScoredUrl) => liftableByJudged(scored, thresholds),
    suffixRisk: suffixRiskOf(model.risk),
  };
}
