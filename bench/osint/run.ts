/**
 * `npm run bench:osint -- --eset DIR [--sources DIR] [--labelled DIR --language ja] [--peers DIR] [--write BENCHMARKS.md]`
 *
 * Precision and recall of indicator extraction per type on real advisories (see labels.ts), for
 * tsunagi and for the Python extractors iocextract and ioc-finder run from their source trees on
 * the same texts in the same run. Documents split by the hash of their name: a third for tuning,
 * the rest for evaluation; only the evaluation documents are reported (`--split tuning` prints
 * the tuning third, the only one to look at while changing the extractor).
 *
 * --eset DIR      a checkout of github.com/eset/malware-ioc ($TSUNAGI_OSINT_ESET)
 * --sources DIR   git checkouts (DIR/OWNER/NAME) of the repositories the truth files in
 *                 bench/osint/ja and bench/osint/en name; adds those sets ($TSUNAGI_OSINT_SOURCES)
 * --cti DIR      a clone of github.com/StrangerealIntel/CyberThreatIntel, the second English set ($TSUNAGI_OSINT_CTI)
 * --labelled DIR  more documents with NAME.truth.json beside them ($TSUNAGI_OSINT_LABELLED)
 * --peers DIR     a directory holding the checkouts iocextract/, ioc-finder/ and ioc-fanger/ ($TSUNAGI_OSINT_PEERS)
 * --python CMD    the Python 3 to run them with ($TSUNAGI_BENCH_PYTHON, default python3)
 * --errors        with --split tuning only: instead of the tables, tsunagi's false positives (`+ TYPE VALUE`)
 *                 and misses (`- TYPE VALUE`), a line each with its document's id
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createOsint, OsintConfig } from '../../src/osint/index.ts';
import { silentLogger } from '../../src/core/index.ts';
import { Registry } from 'prom-client';
import { f1Of, leaderOf, type PooledCounts } from './leader.ts';
import { commandLine, machineLoad, markdownTable, publishReport } from '../lib/report.ts';
import {
  canonical,
  ctiSet,
  directorySet,
  ENGLISH_TRUTH,
  esetSet,
  JAPANESE_TRUTH,
  restrictToText,
  SourceMissing,
  sourcedSet,
  splitOf,
  TYPES,
  type LabelledDoc,
  type Type,
} from './labels.ts';

type Found = Partial<Record<Type, string[]>>;
const TOOLS = ['tsunagi', 'iocextract', 'ioc-finder'] as const;
type Tool = (typeof TOOLS)[number];

interface Counts extends PooledCounts {
  docF1: number[];
}

function options() {
  const { values } = parseArgs({
    options: {
      eset: { type: 'string' },
      cti: { type: 'string' },
      labelled: { type: 'string' },
      sources: { type: 'string' },
      language: { type: 'string', default: 'ja' },
      peers: { type: 'string' },
      python: { type: 'string' },
      split: { type: 'string', default: 'evaluation' },
      errors: { type: 'boolean', default: false },
      write: { type: 'string' },
    },
  });
  const env = process.env;
  const eset = values.eset ?? env.TSUNAGI_OSINT_ESET;
  const labelled = values.labelled ?? env.TSUNAGI_OSINT_LABELLED;
  const sources = values.sources ?? env.TSUNAGI_OSINT_SOURCES;
  const cti = values.cti ?? env.TSUNAGI_OSINT_CTI;
  if (!eset && !labelled && !sources && !cti) {
    process.stderr.write(
      'bench:osint: name the labelled set: --eset DIR, --cti DIR, --sources DIR and/or --labelled DIR\n',
    );
    process.exit(2);
  }
  if (values.split !== 'evaluation' && values.split !== 'tuning') {
    process.stderr.write('bench:osint: --split is evaluation or tuning\n');
    process.exit(2);
  }
  // Listing errors is for finding the extractor's faults, which only tuning documents may show.
  if (values.errors && values.split !== 'tuning') {
    process.stderr.write('bench:osint: --errors lists tuning documents only (add --split tuning)\n');
    process.exit(2);
  }
  for (const [flag, dir] of [
    ['--eset', eset],
    ['--cti', cti],
    ['--sources', sources],
    ['--labelled', labelled],
  ] as const) {
    if (dir && !existsSync(dir)) {
      process.stderr.write(`bench:osint: ${flag} ${dir}: no such directory\n`);
      process.exit(2);
    }
  }
  return {
    eset,
    cti,
    labelled,
    sources,
    language: values.language === 'en' ? ('en' as const) : ('ja' as const),
    peers: values.peers ?? env.TSUNAGI_OSINT_PEERS,
    python: values.python ?? env.TSUNAGI_BENCH_PYTHON ?? 'python3',
    split: values.split,
    errors: values.errors,
    write: values.write,
  };
}

function runPeers(docs: { id: string; text: string }[], peers: string | undefined, python: string) {
  if (!peers) return { results: {}, seconds: {}, errors: { all: 'no --peers directory' } } as PeerOutput;
  const script = join(dirname(fileURLToPath(import.meta.url)), 'peers.py');
  const path = ['iocextract', 'ioc-finder', 'ioc-fanger'].map((d) => join(peers, d)).join(delimiter);
  const run = spawnSync(python, [script], {
    input: JSON.stringify({ docs }),
    env: { ...process.env, PYTHONPATH: path },
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  if (run.status !== 0) {
    const why = (run.stderr || String(run.error)).trim().split('\n').slice(-1)[0] ?? 'failed';
    return { results: {}, seconds: {}, errors: { all: why } } as PeerOutput;
  }
  return JSON.parse(run.stdout) as PeerOutput;
}

interface PeerOutput {
  results: Partial<Record<Tool, Record<string, Found>>>;
  seconds: Partial<Record<Tool, number>>;
  errors: Record<string, string>;
}

/** Each scored (document, type) of one tool: what it found and the truth, both canonical; types it lacks are skipped. */
function* compared(docs: LabelledDoc[], byDoc: Map<string, Found>) {
  for (const doc of docs) {
    const got = byDoc.get(doc.id);
    for (const type of TYPES) {
      const list = got?.[type];
      if (!doc.labelled.has(type) || list === undefined) continue;
      yield {
        doc,
        type,
        predicted: new Set(list.map((v) => canonical(type, v))),
        truth: doc.truth.get(type)!,
      };
    }
  }
}

/** tsunagi's false positives (`+`) and misses (`-`) per document and type, one a line: tuning documents only. */
function listErrors(docs: LabelledDoc[], ours: Map<string, Found>): string {
  const lines: string[] = [];
  for (const { doc, type, predicted, truth } of compared(docs, ours)) {
    for (const v of predicted) if (!truth.has(v)) lines.push(`+ ${type} ${v}\t${doc.id}`);
    for (const v of truth) if (!predicted.has(v)) lines.push(`- ${type} ${v}\t${doc.id}`);
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

function score(docs: LabelledDoc[], found: Map<Tool, Map<string, Found>>) {
  const table = new Map<string, Counts>();
  for (const tool of TOOLS) {
    const byDoc = found.get(tool);
    if (!byDoc) continue;
    for (const { type, predicted, truth } of compared(docs, byDoc)) {
      const counts = table.get(`${tool} ${type}`) ?? { tp: 0, fp: 0, fn: 0, docF1: [] };
      let tp = 0;
      for (const v of predicted) if (truth.has(v)) tp++;
      counts.tp += tp;
      counts.fp += predicted.size - tp;
      counts.fn += truth.size - tp;
      if (truth.size + predicted.size > 0) counts.docF1.push((2 * tp) / (truth.size + predicted.size));
      table.set(`${tool} ${type}`, counts);
    }
  }
  return table;
}

/** Precision and recall to 2 decimals, F1 to 3 (two decimals hid which tool was ahead), then the counts behind them. */
function prf(c: Counts | undefined): string {
  if (!c) return '—';
  const p = c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp);
  const r = c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn);
  return `${p.toFixed(2)} / ${r.toFixed(2)} / **${f1Of(c).toFixed(3)}** (${c.tp} / ${c.fp} / ${c.fn})`;
}

function worst(c: Counts | undefined): string {
  if (!c || c.docF1.length === 0) return '—';
  const mean = c.docF1.reduce((a, b) => a + b, 0) / c.docF1.length;
  return `${mean.toFixed(2)} / ${Math.min(...c.docF1).toFixed(2)}`;
}

function loadSets(o: ReturnType<typeof options>): LabelledDoc[] {
  try {
    return [
      ...(o.eset ? esetSet(o.eset) : []),
      ...(o.cti ? ctiSet(o.cti) : []),
      ...(o.sources ? sourcedSet(JAPANESE_TRUTH, o.sources) : []),
      ...(o.sources ? sourcedSet(ENGLISH_TRUTH, o.sources) : []),
      ...(o.labelled ? directorySet(o.labelled, o.language) : []),
    ];
  } catch (error) {
    if (!(error instanceof SourceMissing)) throw error;
    process.stderr.write(`bench:osint: ${error.message}\n`);
    process.exit(2);
  }
}

function truthSize(doc: LabelledDoc): number {
  let n = 0;
  for (const values of doc.truth.values()) n += values.size;
  return n;
}

async function main() {
  const o = options();
  const started = new Date();
  const loadBefore = machineLoad();
  const all = loadSets(o);
  const osint = createOsint(OsintConfig.parse({}), { logger: silentLogger(), registry: new Registry() });
  const docs = all.filter((d) => splitOf(d.id) === o.split);
  const texts: { id: string; text: string }[] = [];
  // Truth items the text does not name (labelling slips, or list entries outside the text): reported.
  const unnamed = new Map<string, number>();
  for (const doc of docs) {
    const text = (await osint.read(doc.content ?? readFileSync(doc.path), doc.path)).text;
    const before = truthSize(doc);
    restrictToText(doc, text);
    if (truthSize(doc) < before)
      unnamed.set(doc.language, (unnamed.get(doc.language) ?? 0) + before - truthSize(doc));
    texts.push({ id: doc.id, text });
  }
  const found = new Map<Tool, Map<string, Found>>();
  const ours = new Map<string, Found>();
  const began = performance.now();
  for (const { id, text } of texts) {
    const got: Found = Object.fromEntries(TYPES.map((t) => [t, [] as string[]]));
    for (const hit of osint.extract(text)) got[hit.type]!.push(hit.value);
    ours.set(id, got);
  }
  const oursSeconds = (performance.now() - began) / 1000;
  found.set('tsunagi', ours);
  if (o.errors) {
    process.stdout.write(listErrors(docs, ours));
    return;
  }
  const peers = runPeers(texts, o.peers, o.python);
  for (const tool of ['iocextract', 'ioc-finder'] as const) {
    const results = peers.results[tool];
    if (results) found.set(tool, new Map(Object.entries(results)));
  }
  report(o, all, docs, texts, found, unnamed, { tsunagi: oursSeconds, ...peers.seconds }, peers.errors, {
    loadBefore,
    started,
  });
}

const LANGUAGE_NAMES = { en: 'English', ja: 'Japanese' } as const;

/** The per-type table and the per-document table of one language's documents. */
function languageTables(
  language: 'en' | 'ja',
  docs: LabelledDoc[],
  found: Map<Tool, Map<string, Found>>,
): string[] {
  const table = score(docs, found);
  const rows = TYPES.map((type) => {
    const labelledDocs = docs.filter((d) => d.labelled.has(type));
    const truth = labelledDocs.reduce((n, d) => n + d.truth.get(type)!.size, 0);
    const counts = TOOLS.map((t) => [t, table.get(`${t} ${type}`)] as [string, Counts | undefined]);
    return [type, labelledDocs.length, truth, ...counts.map(([, c]) => prf(c)), leaderOf(counts)];
  });
  const worstRows = TYPES.map((type) => [type, ...TOOLS.map((t) => worst(table.get(`${t} ${type}`)))]);
  const heading = `**${LANGUAGE_NAMES[language]}** (${docs.length} documents)`;
  return [
    `${heading}, precision / recall / **F1** (true positives / false positives / false negatives):\n\n` +
      markdownTable(['type', 'docs', 'truth', ...TOOLS, 'leader (F1)'], rows, [
        'l',
        'r',
        'r',
        ...TOOLS.map((): 'r' => 'r'),
        'l',
      ]),
    `${heading}, per-document F1:\n\n` +
      markdownTable(['type', ...TOOLS.map((t) => `${t} F1 mean / worst`)], worstRows, ['l', 'r', 'r', 'r']),
  ];
}

function report(
  o: ReturnType<typeof options>,
  all: LabelledDoc[],
  docs: LabelledDoc[],
  texts: { text: string }[],
  found: Map<Tool, Map<string, Found>>,
  unnamed: Map<string, number>,
  seconds: Partial<Record<Tool, number>>,
  errors: Record<string, string>,
  when: { loadBefore: ReturnType<typeof machineLoad>; started: Date },
) {
  const languages = (['en', 'ja'] as const).filter((l) => docs.some((d) => d.language === l));
  const megabytes = texts.reduce((n, t) => n + Buffer.byteLength(t.text), 0) / 2 ** 20;
  const speed = TOOLS.map((t) => [
    t,
    seconds[t] === undefined ? '—' : `${seconds[t]!.toFixed(2)} s`,
    seconds[t] ? `${(megabytes / seconds[t]!).toFixed(2)} MB/s` : '—',
  ]);
  const tuning = all.filter((d) => splitOf(d.id) === 'tuning').length;
  const method =
    `Labelled set: ${all.length} documents (${all.filter((d) => d.language === 'ja').length} Japanese), split by the hash of each name: ` +
    `${tuning} tuning, ${all.length - tuning} evaluation. Tables: the **${o.split}** documents (${docs.length}, ` +
    `${megabytes.toFixed(2)} MB of text), one pair per language. Truth: English, the advisories' own indicator lists (ESET malware-ioc: the samples.* ` +
    `files and MISP events beside each README; StrangerealIntel CyberThreatIntel: the IoC JSON/CSV lists beside each write-up), restricted to what each text names, a type scored only in ` +
    `documents where it is listed, and Unit 42 write-ups that name IPv6 addresses or CVE ids, Netskope Threat Labs' indicator pages (file hashes only), Datadog's and Sekoia's indicator lists that name IPv6 addresses, eSentire's indicator lists (those naming IPv6 addresses and a hash-fixed sample of those with SHA-256) a researcher's per-family pages (jeFF0Falltrades: hash lists beside YARA rules), a hash-fixed sample of Avast's IoC pages and an analyst's plain-text malspam write-ups (executemalware: SHA-256 mostly in VirusTotal links), labelled by reading (bench/osint/en); Japanese, every indicator of the nine types labelled by reading each text ` +
    `(bench/osint/ja, rules in bench/osint/README.md), every type scored in every document. Each tool reads the same texts; precision / recall / **F1** per type, ` +
    `micro-averaged ("—": the tool does not extract that type), with the pooled true positives / false positives / false negatives behind them and the leader by exact F1 (a tie when the fractions are equal), then per-document F1 (mean / worst), then time.`;
  const caveats = [
    "The truth lists what the authors (English) or the annotator (Japanese) give as indicators: a real but unlisted name in the text (the vendor's own links, a researcher's site, a news article's address) is charged as a false positive, the same for every tool.",
    ...[...unnamed].map(
      ([l, n]) =>
        `${n} ${LANGUAGE_NAMES[l as 'en' | 'ja']} truth items are not named in their text and were left out.`,
    ),
    ...Object.entries(errors).map(([tool, why]) => `${tool} did not run: ${why}`),
  ];
  publishReport(
    {
      title: 'OSINT indicator extraction',
      command: commandLine('bench:osint'),
      method,
      started: when.started,
      loadBefore: when.loadBefore,
      loadAfter: machineLoad(),
      tables: [
        ...languages.flatMap((l) =>
          languageTables(
            l,
            docs.filter((d) => d.language === l),
            found,
          ),
        ),
        markdownTable(['tool', 'time', 'rate'], speed, ['l', 'r', 'r']),
      ],
      caveats,
    },
    o.write,
  );
}

await main();
