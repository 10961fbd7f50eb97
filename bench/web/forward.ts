/**
 * The forward check: how a fit carries forward in time, on TUNING data only (bench/web/README.md,
 * "Forward check"). A fit choice for issue #18 (recall months after the fit, no benign host
 * flagged) is judged here, never on the evaluation months.
 *
 *   node --import tsx bench/web/fit.ts --forward --tuning-last-month 2025-03 --out FILE [fit flags]
 *   node --import tsx bench/web/forward.ts --tuning-last-month 2025-03 --model FILE
 *
 * The fit reads JPCERT/CC's months tuningFirst..tuningLast and one half of the tuning benign half
 * (data.ts, `forward`); this reads the months after tuningLast up to TUNING_LAST_MONTH (hosts the
 * fit's months had left out) and the other half of the tuning benign half, and prints per month
 * the URL verdict's and the host-name verdict's recall at their malicious thresholds, with the
 * benign hosts and URLs each flags. Nothing of the evaluation split is read.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { silentLogger } from '../../src/core/index.ts';
import { createWeb, WebConfig, type FittedModel } from '../../src/web/index.ts';
import { dataDirectory, loadSplit, splitMonths } from './data.ts';
import { runBench } from '../lib/main.ts';
import { markdownTable } from '../lib/report.ts';

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

async function main() {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      model: { type: 'string', multiple: true },
      'tuning-first-month': { type: 'string' },
      'tuning-last-month': { type: 'string' },
    },
    strict: true,
  });
  if (!values.model?.length)
    throw new Error('name the forward fit with --model FILE (bench/web/fit.ts --forward --out FILE)');
  const months = splitMonths({ ...values, forward: true });
  const split = await loadSplit(dataDirectory(values.data), months);
  const summary: (string | number)[][] = [];
  for (const file of values.model) {
    const model = JSON.parse(readFileSync(file, 'utf8')) as FittedModel;
    const fit = model.fit as {
      tuningMonths?: string;
      forwardCheck?: string;
      url?: { benignWeight?: number; ridge?: number };
    };
    if (fit.tuningMonths !== `${months.tuningFirst}..${months.tuningLast}` || !fit.forwardCheck)
      throw new Error(
        `${file} was fitted on ${fit.tuningMonths}${fit.forwardCheck ? '' : ' (not --forward)'}; ` +
          `fit it with --forward --tuning-first-month ${months.tuningFirst} --tuning-last-month ${months.tuningLast}`,
      );
    const web = createWeb(WebConfig.parse({}), { logger: silentLogger(), registry: new Registry(), model });
    const benign = [...split.evaluation.benign, ...split.evaluation.benignUrls].map((h) =>
      web.score(h.url.url),
    );
    const flagged = benign.filter((s) => s.verdict === 'malicious');
    const benignUrl = flagged.length;
    const benignName = benign.filter((s) => s.hostVerdict === 'malicious').length;
    const rows: string[][] = [];
    const urlRecall: number[] = [];
    for (const m of split.evaluation.months) {
      const scored = m.phishing.map((h) => web.score(h.url.url));
      const url = scored.filter((s) => s.verdict === 'malicious').length / scored.length;
      const name = scored.filter((s) => s.hostVerdict === 'malicious').length / scored.length;
      urlRecall.push(url);
      rows.push([m.month, String(scored.length), pct(url), pct(name)]);
    }
    const mean = urlRecall.reduce((s, v) => s + v, 0) / urlRecall.length;
    const out = [
      `${file}: fitted on ${months.tuningFirst}..${months.tuningLast} (${split.tuning.phishing.length} phishing hosts), ` +
        `read ${split.evaluation.months.map((m) => m.month).join(', ')}; ` +
        `fit: ${JSON.stringify({ ...fit, url: undefined })}`,
      markdownTable(
        ['month', 'phishing hosts', 'URL verdict recall (malicious)', 'host-name verdict recall (malicious)'],
        rows,
        ['l', 'r', 'r', 'r'],
      ),
      `URL verdict recall: mean ${pct(mean)}, worst ${pct(Math.min(...urlRecall))}; ` +
        `benign flagged malicious (${benign.length} read-half hosts and URLs): URL verdict ${benignUrl}, host-name verdict ${benignName}`,
      // Each by name: a false positive is read, not only counted.
      ...flagged.map(
        (s) =>
          `- URL verdict flags ${s.url} (${s.score.toFixed(4)}; ${s.reasons
            .slice(0, 4)
            .map((r) => r.feature)
            .join(', ')})`,
      ),
    ];
    process.stdout.write(`${out.join('\n')}\n\n`);
    summary.push([
      file,
      String(fit.url?.benignWeight),
      String(fit.url?.ridge),
      ...rows.map((r) => r[2]!),
      pct(mean),
      pct(Math.min(...urlRecall)),
      benignUrl,
    ]);
  }
  const monthNames = split.evaluation.months.map((m) => m.month);
  process.stdout.write(
    markdownTable(
      ['model', 'URL benign weight', 'URL ridge', ...monthNames, 'mean', 'worst', 'benign flagged'],
      summary,
      ['l', 'r', 'r', ...monthNames.map(() => 'r' as const), 'r', 'r', 'r'],
    ) + '\n',
  );
}

await runBench('bench/web/forward.ts', main);
