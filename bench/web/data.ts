/**
 * The web benchmark's data and its split, shared by the fit (fit.ts) and the benchmark (run.ts)
 * so both read the same months and the same halves.
 *
 * Phishing: JPCERT/CC's public list (github.com/JPCERTCC/phishurl-list: monthly CSV
 * `date,URL,description`), never committed (the repository carries no licence). TIME SPLIT, as
 * issue #18 asks: the fit sees months TUNING_FIRST..TUNING_LAST only; the benchmark reports on
 * EVALUATION_FIRST and later, leaving out evaluation hosts the tuning months already had.
 *
 * Benign, as issue #18 defines it (top sites and the brands' own): the OpenDNS top 10,000 domains
 * (github.com/opendns/public-domain-lists, public domain, published as a benign set), the Moz top
 * 500 (github.com/Kikobeats/top-sites, MIT) and every lexicon brand's official domains; split in
 * half by a hash of the host. OpenDNS's random-sample list is not used: it is not a list of
 * popular sites, and it holds random-letter .cn names nobody vouches for.
 *
 * Benign URLs WITH paths, for the URL verdict's path features (benignUrls): the legitimate rows
 * (label 0) of ESDAUNG/PhishDataset (one page per domain, crawled by Apache Nutch from IP2Location
 * domains, .xlsx, read by read-excel-file) and the benign list of ISCX-URL-2016 as shreyagopal's repository carries it
 * (`DataFiles/1.Benign_list_big_final.csv`), and every URL of Citizen Lab's test lists
 * (github.com/citizenlab/test-lists, CC BY-NC-SA 4.0: the global list and each country's; news,
 * rights groups, proxies, file sharing, adult and gambling sites, chosen by people for people to
 * reach, in many scripts and TLDs the other sets lack); split by the same salted host hash, so a
 * host's URLs are all in one half. The sites of Japan's local governments (UNSEEN_BENIGN) only
 * the benchmark reads, whole.
 *
 * The data directory is named by `--data DIR` or TSUNAGI_WEB_DATA and holds the checkouts as
 * `phishurl-list/`, `opendns/`, `top-sites/`, `esdaung-phishdataset/`, `shreyagopal-phishing/`,
 * `citizenlab-test-lists/` and `localgovjp/` (bench/web/README.md says how to fetch them).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSheet } from 'read-excel-file/node';
import {
  createLineReader,
  LEXICON,
  normaliseUrl,
  UrlInputError,
  type NormalisedUrl,
} from '../../src/web/index.ts';

export const TUNING_FIRST_MONTH = '2024-01';
/** Issue #18: "fit only on months up to 2025-06, report on later months". */
export const TUNING_LAST_MONTH = '2025-06';
export const EVALUATION_FIRST_MONTH = '2025-07';

/** Salt of the benign split; changing it reshuffles which half a host is in. */
const BENIGN_SPLIT_SALT = 'tsunagi-web-benign-split-v1';

export type Part = 'tuning' | 'evaluation';

export function benignPart(host: string): Part {
  return createHash('sha256').update(`${BENIGN_SPLIT_SALT}:${host}`).digest()[0]! < 128
    ? 'tuning'
    : 'evaluation';
}

export function partOfMonth(month: string, months: SplitMonths = SHIPPED_SPLIT): Part | 'before' {
  if (month < months.tuningFirst) return 'before';
  return month <= months.tuningLast ? 'tuning' : 'evaluation';
}

/** The months a fit reads (tuningFirst..tuningLast) and a benchmark reads after it. */
export interface SplitMonths {
  tuningFirst: string;
  tuningLast: string;
  /**
   * A FORWARD CHECK (bench/web/forward.ts): the shipped split's tuning data only, moved back in
   * time. The fit reads tuningFirst..tuningLast (before TUNING_LAST_MONTH) and one half of the
   * tuning benign half; the check reads the months after tuningLast up to TUNING_LAST_MONTH and
   * the other half of the tuning benign half. Nothing of the evaluation split is read.
   */
  forward: boolean;
}

export const SHIPPED_SPLIT: SplitMonths = {
  tuningFirst: TUNING_FIRST_MONTH,
  tuningLast: TUNING_LAST_MONTH,
  forward: false,
};

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The split a fit or check names by flags; a forward check must end before TUNING_LAST_MONTH. */
export function splitMonths(flags: {
  'tuning-first-month'?: string;
  'tuning-last-month'?: string;
  forward?: boolean;
}): SplitMonths {
  const months: SplitMonths = {
    tuningFirst: flags['tuning-first-month'] ?? TUNING_FIRST_MONTH,
    tuningLast: flags['tuning-last-month'] ?? TUNING_LAST_MONTH,
    forward: flags.forward ?? false,
  };
  for (const m of [months.tuningFirst, months.tuningLast])
    if (!MONTH.test(m)) throw new Error(`${m} is not a month (YYYY-MM)`);
  if (months.tuningFirst > months.tuningLast) throw new Error('the tuning months end before they start');
  if (months.forward && months.tuningLast >= TUNING_LAST_MONTH)
    throw new Error(`a forward check fits up to a month before ${TUNING_LAST_MONTH} and reads up to it`);
  if (!months.forward && months.tuningLast > TUNING_LAST_MONTH)
    throw new Error(`issue #18: fit only on months up to ${TUNING_LAST_MONTH}`);
  return months;
}

/** Salt of the forward check's split of the tuning benign half: one half fitted, the other read. */
const FORWARD_SALT = 'tsunagi-web-forward-check-v1';

function forwardHalf(host: string): 'fit' | 'read' {
  return createHash('sha256').update(`${FORWARD_SALT}:${host}`).digest()[0]! < 128 ? 'fit' : 'read';
}

export interface LabelledHost {
  url: NormalisedUrl;
  /** JPCERT/CC's brand name for a phishing host; the list's name for a benign one. */
  description: string;
  /** The month JPCERT/CC first listed a phishing host (YYYY-MM); absent for benign ones. */
  month?: string;
  /** When JPCERT/CC listed that first URL (ISO 8601); absent for benign ones. */
  seenAt?: string;
  /** That first URL's place in the list (Listing.row); absent for benign ones. */
  row?: number;
}

/** One row of JPCERT/CC's list: a URL and when it was listed (every row, not only a host's first). */
export interface Listing {
  url: NormalisedUrl;
  seenAt: string;
  /**
   * Its place in the whole list, month files oldest first, each in its own order: what orders the
   * rows of one listing time (JPCERT/CC lists a campaign's hosts in one batch, at one minute) as
   * `tsunagi web ingest` would read them, one after the other.
   */
  row?: number;
}

export interface PhishingMonth {
  month: string;
  hosts: Map<string, LabelledHost>;
  /** URLs in the month's file, and those that did not normalise. */
  urls: number;
  bad: number;
  /** Every row with its time, in the file's order (the kit-path replay, kit-replay.ts). */
  listings: Listing[];
}

export function dataDirectory(flag: string | undefined): string {
  const dir = flag ?? process.env.TSUNAGI_WEB_DATA;
  if (!dir)
    throw new Error('name the data directory with --data DIR or TSUNAGI_WEB_DATA (see bench/web/README.md)');
  if (!existsSync(join(dir, 'phishurl-list'))) throw new Error(`${dir} has no phishurl-list/ checkout`);
  return dir;
}

/** Every month of JPCERT/CC's list, oldest first: each host once, with the first URL's brand. */
export function phishingMonths(dir: string): PhishingMonth[] {
  const root = join(dir, 'phishurl-list');
  const files = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^\d{4}$/.test(d.name))
    .flatMap((d) =>
      readdirSync(join(root, d.name))
        .filter((f) => /^\d{6}\.csv$/.test(f))
        .map((f) => join(root, d.name, f)),
    )
    .sort();
  let row = 0;
  return files.map((file) => {
    const name = file.slice(-10, -4);
    const month = `${name.slice(0, 4)}-${name.slice(4)}`;
    const reader = createLineReader('csv');
    const hosts = new Map<string, LabelledHost>();
    const listings: Listing[] = [];
    let urls = 0;
    let bad = 0;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const record = reader.line(line);
      if (record === null) continue;
      urls++;
      if (record === 'bad') {
        bad++;
        continue;
      }
      try {
        const url = normaliseUrl(record.url);
        const seenAt = record.seenAt;
        row++;
        if (!hosts.has(url.host))
          hosts.set(url.host, {
            url,
            description: record.description ?? '',
            month,
            ...(seenAt ? { seenAt, row } : {}),
          });
        if (seenAt) listings.push({ url, seenAt, row });
      } catch (error) {
        if (!(error instanceof UrlInputError)) throw error;
        bad++;
      }
    }
    return { month, hosts, urls, bad, listings };
  });
}

/**
 * When JPCERT/CC's public repository published each month (`YYYY-MM` -> ISO time of the first
 * commit that added its CSV), read from the data checkout's git history: the list is published in
 * batches, months after the listings. A string says why it could not be read (no git checkout,
 * a shallow clone's history cut short).
 */
export function publicationTimes(dir: string): Map<string, string> | string {
  const root = join(dir, 'phishurl-list');
  const log = spawnSync(
    'git',
    ['-C', root, 'log', '--reverse', '--diff-filter=A', '--format=C %cI', '--name-only', '--', '*.csv'],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (log.status !== 0)
    return `phishurl-list is not a git checkout with history (${log.stderr.trim().split('\n')[0] ?? 'git failed'})`;
  const published = new Map<string, string>();
  let committed = '';
  for (const line of log.stdout.split('\n')) {
    if (line.startsWith('C ')) committed = line.slice(2);
    const file = /(\d{4})(\d{2})\.csv$/.exec(line);
    if (file && committed && !published.has(`${file[1]}-${file[2]}`))
      published.set(`${file[1]}-${file[2]}`, committed);
  }
  return published.size > 0 ? published : "phishurl-list has no commit adding a month's CSV";
}

/** The benign hosts, each once, with the list it came from. */
export function benignHosts(dir: string): Map<string, LabelledHost> {
  const hosts = new Map<string, LabelledHost>();
  const add = (name: string, description: string) => {
    try {
      const url = normaliseUrl(`https://${name.trim()}/`);
      if (!hosts.has(url.host)) hosts.set(url.host, { url, description });
    } catch (error) {
      if (!(error instanceof UrlInputError)) throw error;
    }
  };
  for (const list of ['opendns-top-domains.txt']) {
    const file = join(dir, 'opendns', list);
    if (!existsSync(file)) throw new Error(`${dir} has no opendns/${list}`);
    for (const line of readFileSync(file, 'utf8').split('\n')) if (line.trim()) add(line, list);
  }
  const topSites = join(dir, 'top-sites', 'top-sites.json');
  if (!existsSync(topSites)) throw new Error(`${dir} has no top-sites/top-sites.json`);
  for (const site of JSON.parse(readFileSync(topSites, 'utf8')) as { rootDomain: string }[])
    add(site.rootDomain, 'moz-top-500');
  for (const brand of LEXICON.brands)
    for (const domain of brand.official) add(domain, `official:${brand.key}`);
  return hosts;
}

/**
 * Benign corpora no fit and no forward check reads, the benchmark reads whole: the sites of
 * Japan's prefectures and municipalities (github.com/code4fukui/localgovjp, CC0), added
 * 2026-12-07 as the one set no design choice has seen. Citizen Lab's test lists were that set
 * until they showed the URL verdict's false positives (2026-12-07, 6 of 32,404 URLs); they are
 * split in halves since, and four of the six lie in their evaluation half, read before the split.
 */
const UNSEEN_BENIGN = new Set(['localgovjp']);

/** ESDAUNG/PhishDataset's workbooks; label 0 is legitimate. */
const ESDAUNG_FILES = ['data_imbal - 55000.xlsx', 'data_bal - 20000.xlsx'];
const ISCX_BENIGN = join('DataFiles', '1.Benign_list_big_final.csv');

/** The benign URLs with paths, each URL once, with the corpus it came from. */
export async function benignUrls(dir: string): Promise<LabelledHost[]> {
  const urls = new Map<string, LabelledHost>();
  const add = (text: string, description: string) => {
    try {
      const url = normaliseUrl(text.trim());
      if (!urls.has(url.url)) urls.set(url.url, { url, description });
    } catch (error) {
      if (!(error instanceof UrlInputError)) throw error;
    }
  };
  for (const file of ESDAUNG_FILES) {
    const path = join(dir, 'esdaung-phishdataset', file);
    if (!existsSync(path)) throw new Error(`${dir} has no esdaung-phishdataset/${file}`);
    // The first sheet's rows (read-excel-file): a header, then label (0 or 1) and URL.
    for (const [label, url] of (await readSheet(path)).slice(1))
      if (String(label) === '0' && typeof url === 'string' && url) add(url, 'esdaung-legitimate');
  }
  const iscx = join(dir, 'shreyagopal-phishing', ISCX_BENIGN);
  if (!existsSync(iscx)) throw new Error(`${dir} has no shreyagopal-phishing/${ISCX_BENIGN}`);
  for (const line of readFileSync(iscx, 'utf8').split('\n'))
    if (line.trim()) add(line, 'iscx-url-2016-benign');
  const testLists = join(dir, 'citizenlab-test-lists', 'lists');
  if (!existsSync(testLists)) throw new Error(`${dir} has no citizenlab-test-lists/lists`);
  // `url,category_code,...`: the first column of every list but the legends.
  for (const file of readdirSync(testLists)
    .filter((f) => /^[a-z]{2,}\.csv$/i.test(f))
    .sort())
    for (const line of readFileSync(join(testLists, file), 'utf8').split('\n').slice(1)) {
      const url = line.slice(0, line.indexOf(','));
      if (url) add(url, 'citizenlab-test-lists');
    }
  // `pid,pref,...,url,...`: each government's site, the first address on its row.
  for (const file of ['localgovjp-utf8.csv', 'prefjp-utf8.csv']) {
    const path = join(dir, 'localgovjp', file);
    if (!existsSync(path)) throw new Error(`${dir} has no localgovjp/${file}`);
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const url = /https?:\/\/[^,"\s]+/.exec(line)?.[0];
      if (url) add(url, 'localgovjp');
    }
  }
  return [...urls.values()];
}

export interface Split {
  tuning: { phishing: LabelledHost[]; benign: LabelledHost[]; benignUrls: LabelledHost[] };
  evaluation: {
    months: { month: string; phishing: LabelledHost[] }[];
    benign: LabelledHost[];
    benignUrls: LabelledHost[];
  };
  /** Evaluation hosts left out because a tuning month had them; benign hosts JPCERT/CC listed. */
  dropped: { seenInTuning: number; benignListedAsPhishing: number; benignUrlsListedAsPhishing: number };
  months: PhishingMonth[];
}

export async function loadSplit(dir: string, split: SplitMonths = SHIPPED_SPLIT): Promise<Split> {
  const months = phishingMonths(dir);
  const tuningHosts = new Map<string, LabelledHost>();
  for (const m of months)
    if (partOfMonth(m.month, split) === 'tuning')
      for (const [host, h] of m.hosts) if (!tuningHosts.has(host)) tuningHosts.set(host, h);
  let seenInTuning = 0;
  const evaluationMonths = months
    .filter(
      (m) => partOfMonth(m.month, split) === 'evaluation' && (!split.forward || m.month <= TUNING_LAST_MONTH),
    )
    .map((m) => {
      const phishing = [...m.hosts.values()].filter((h) => !tuningHosts.has(h.url.host));
      seenInTuning += m.hosts.size - phishing.length;
      return { month: m.month, phishing };
    });
  const everPhishing = new Set(months.flatMap((m) => [...m.hosts.keys()]));
  const benign = [...benignHosts(dir).values()];
  const clean = benign.filter((h) => !everPhishing.has(h.url.host));
  const withPaths = await benignUrls(dir);
  const cleanUrls = withPaths.filter((h) => !everPhishing.has(h.url.host));
  // A forward check splits the tuning benign half again: the evaluation half is never read.
  // Japan's governments' sites are read by the benchmark only, whole: no fit saw them (UNSEEN_BENIGN).
  const fitted = (h: LabelledHost) =>
    !UNSEEN_BENIGN.has(h.description) &&
    benignPart(h.url.host) === 'tuning' &&
    (!split.forward || forwardHalf(h.url.host) === 'fit');
  const read = (h: LabelledHost) =>
    split.forward
      ? !UNSEEN_BENIGN.has(h.description) &&
        benignPart(h.url.host) === 'tuning' &&
        forwardHalf(h.url.host) === 'read'
      : UNSEEN_BENIGN.has(h.description) || benignPart(h.url.host) === 'evaluation';
  return {
    tuning: {
      phishing: [...tuningHosts.values()],
      benign: clean.filter(fitted),
      benignUrls: cleanUrls.filter(fitted),
    },
    evaluation: {
      months: evaluationMonths,
      benign: clean.filter(read),
      benignUrls: cleanUrls.filter(read),
    },
    dropped: {
      seenInTuning,
      benignListedAsPhishing: benign.length - clean.length,
      benignUrlsListedAsPhishing: withPaths.length - cleanUrls.length,
    },
    months,
  };
}
