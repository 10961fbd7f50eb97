/**
 * How the kit-path memory's settings were chosen, on TUNING data only: JPCERT/CC's months
 * 2025-01..06 judged by a memory taught every earlier day (kit-replay.ts), against the benign URLs
 * of the forward check's read half of the tuning benign half, with the common path words made
 * from the other (fit) half only, so a benign site's own words cannot hide its false tie. No
 * evaluation month and no evaluation benign row is read.
 *
 *   node --import tsx bench/web/kit-check.ts --data DIR [--min-domains 2,3] [--window-days 14,30,60]
 */
import { parseArgs } from 'node:util';
import { DEFAULT_KIT_PATHS, nonEnglishPathWords } from '../../src/web/index.ts';
import { dataDirectory, loadSplit, splitMonths, TUNING_LAST_MONTH } from './data.ts';
import { replayKitPaths } from './kit-replay.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    'min-domains': { type: 'string', default: '2,3' },
    'window-days': { type: 'string', default: '14,30,60' },
  },
});
const numbers = (text: string) => text.split(',').map(Number);
const dir = dataDirectory(values.data);
// The forward split: "evaluation" months are 2025-01..06 and its benign rows the read half.
const split = await loadSplit(dir, splitMonths({ 'tuning-last-month': '2024-12', forward: true }));
const commonWords = nonEnglishPathWords(split.tuning.benignUrls.map((h) => h.url.path));

const months = split.evaluation.months;
const phishing = months.flatMap((m) => m.phishing).filter((h) => h.seenAt);
const benign = split.evaluation.benignUrls.map((h) => h.url);
console.log(
  `read: ${months.map((m) => m.month).join(', ')} (${phishing.length} hosts); ${benign.length} read-half benign URLs; ` +
    `${commonWords.size} common path words from ${split.tuning.benignUrls.length} fit-half URLs`,
);
for (const minDomains of numbers(values['min-domains']!))
  for (const windowDays of numbers(values['window-days']!)) {
    const replay = replayKitPaths(
      split.months.flatMap((m) => m.listings).filter((l) => l.seenAt.slice(0, 7) <= TUNING_LAST_MONTH),
      phishing.map((h) => ({ url: h.url, seenAt: h.seenAt! })),
      benign,
      { from: `${months[0]!.month}-01`, to: `${TUNING_LAST_MONTH}-30` },
      { ...DEFAULT_KIT_PATHS, minDomains, windowDays, commonWords },
    );
    let offset = 0;
    const perMonth = months.map((m) => {
      const size = m.phishing.filter((h) => h.seenAt).length;
      const tied = replay.phishingTied.slice(offset, offset + size).filter(Boolean).length;
      offset += size;
      return `${m.month} ${((100 * tied) / size).toFixed(1)} %`;
    });
    const falseTies = benign.filter((_, i) => replay.benignTied[i]).map((u) => u.url);
    console.log(
      `min ${minDomains} domains, ${windowDays} days: kit paths alone ${perMonth.join(', ')}; ` +
        `benign URLs tied ${falseTies.length}${falseTies.length ? ` (${falseTies.slice(0, 5).join(' ')})` : ''}`,
    );
  }
