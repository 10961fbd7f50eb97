/**
 * The labelled set: real advisories whose indicators were listed by their authors apart from the
 * text, so the truth does not come from any extractor.
 *
 * ESET's malware-ioc repository (BSD licence): each folder's README.adoc is the document; the
 * truth is the folder's `samples.md5|sha1|sha256` lists and its MISP event exports (addresses,
 * domains, hostnames, URLs, hashes, vulnerabilities, ATT&CK galaxy tags). A type counts as
 * labelled in a document only when such a list exists for it (a samples file, or an event that
 * lists at least one indicator of the type), and the truth is restricted to
 * what the document's text contains (a case-insensitive search after the usual defanging is
 * undone), since no extractor can find an indicator the document does not name.
 *
 * StrangerealIntel/CyberThreatIntel (`ctiSet`, no licence: nothing of it committed): each write-up with IoC
 * lists beside it is a document, the truth read from those lists by the rule in README.md, restricted likewise.
 *
 * The Japanese set (`ja/`) and the third and fourth English sets (`en/`): truth files labelled by reading each
 * text, naming where the text is published (`source`: repository, path, commit); read from git
 * checkouts (`sourcedSet`).
 *
 * A directory of other documents may be added (`NAME.txt|md|html|pdf` with `NAME.truth.json`:
 * `{"labelled": [types], "indicators": [{"type", "value"}]}`).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ipaddr from 'ipaddr.js';

export const TYPES = ['ipv4', 'ipv6', 'domain', 'url', 'md5', 'sha1', 'sha256', 'cve', 'attack'] as const;
export type Type = (typeof TYPES)[number];

export interface LabelledDoc {
  id: string;
  /** The file the text came from (html and pdf are read by the caller); its name tells the reader the format. */
  path: string;
  /** The document's bytes when they come from a git object rather than a file on disk. */
  content?: Buffer;
  language: 'en' | 'ja';
  labelled: Set<Type>;
  truth: Map<Type, Set<string>>;
}

/** One canonical form for comparing every tool's output with the truth. */
export function canonical(type: Type, raw: string): string {
  const value = raw.trim();
  switch (type) {
    case 'ipv4':
      return value.replace(/:\d+$/, '');
    case 'ipv6':
      try {
        return ipaddr.IPv6.parse(value.replace(/^\[|\](?::\d+)?$/g, '')).toString();
      } catch {
        return value.toLowerCase();
      }
    case 'domain':
      // A list's `host:port` names the host.
      return value.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
    case 'url':
      // Without the scheme: some lists write `host/path` for a URL; http and https compare equal.
      // Without the fragment: it never leaves the browser, so it is no part of what a network sees.
      return value
        .replace(/#.*$/s, '')
        .replace(/^[a-z]+:\/\//i, '')
        .replace(/^[^/]+/, (host) => host.toLowerCase())
        .replace(/\/+$/, '');
    case 'cve':
    case 'attack':
      return value.toUpperCase();
    default:
      return value.toLowerCase();
  }
}

/** Which third of the set a document is in: tuning (1 in 3 by its id's hash) or evaluation. */
export function splitOf(id: string): 'tuning' | 'evaluation' {
  return createHash('sha256').update(id).digest()[0]! % 3 === 0 ? 'tuning' : 'evaluation';
}

/** The text as a person searching it would read it: defanging undone, lower case. */
function searchable(text: string): string {
  return (
    text
      .toLowerCase()
      // A dash other than the ASCII hyphen (`CVE‑2024‑7344` with U+2011, a fullwidth `－`) still names the value.
      .replace(/[\u2010-\u2015\u2212\uff0d]/g, '-')
      .replace(/\[\.\]|\(\.\)|\{\.\}|\[dot\]/g, '.')
      .replace(/\[:\]/g, ':')
      .replace(/hxxp/g, 'http')
  );
}

type Attribute = { type?: string; value?: string };

function mispEvents(json: unknown): Record<string, unknown>[] {
  if (Array.isArray(json)) return json.flatMap(mispEvents);
  if (!json || typeof json !== 'object') return [];
  const o = json as Record<string, unknown>;
  if (o.Event) return mispEvents(o.Event);
  if (o.response) return mispEvents(o.response);
  return o.Attribute || o.Object || o.Tag ? [o] : [];
}

function attributesOf(event: Record<string, unknown>): Attribute[] {
  const own = (event.Attribute as Attribute[] | undefined) ?? [];
  const objects = (event.Object as { Attribute?: Attribute[] }[] | undefined) ?? [];
  return [...own, ...objects.flatMap((o) => o.Attribute ?? [])];
}

function techniquesOf(event: Record<string, unknown>): string[] {
  const text = JSON.stringify([event.Tag ?? [], event.Galaxy ?? []]);
  return [...text.matchAll(/\bT\d{4}(?:\.\d{3})?\b/g)].map((m) => m[0]);
}

/** Adds an event's indicators to the truth; returns the types it lists at all (those are labelled). */
function addMisp(truth: Map<Type, Set<string>>, event: Record<string, unknown>): Set<Type> {
  const listed = new Set<Type>();
  const add = (type: Type, value: string) => {
    listed.add(type);
    truth.get(type)!.add(canonical(type, value));
  };
  const addIp = (value: string) => add(value.includes(':') ? 'ipv6' : 'ipv4', value);
  for (const { type, value } of attributesOf(event)) {
    if (!type || !value) continue;
    const [first, second] = value.split('|');
    if (type === 'ip-dst' || type === 'ip-src' || type === 'ip-dst|port' || type === 'ip-src|port')
      addIp(first!);
    else if (type === 'domain' || type === 'hostname') add('domain', value);
    else if (type === 'domain|ip' || type === 'hostname|port') {
      add('domain', first!);
      if (type === 'domain|ip' && second) addIp(second);
    } else if (type === 'url') {
      // A bare host filed as a URL is a name or an address.
      if (value.includes('/')) add('url', value);
      else if (/^[\d.]+$/.test(value)) addIp(value);
      else add('domain', value);
    } else if (type === 'md5' || type === 'sha1' || type === 'sha256') add(type, value);
    else if (/^filename\|(md5|sha1|sha256)$/.test(type)) add(type.split('|')[1] as Type, second ?? '');
    else if (type === 'vulnerability') add('cve', value);
  }
  for (const id of techniquesOf(event)) add('attack', id);
  return listed;
}

function esetDoc(root: string, folder: string): LabelledDoc | undefined {
  const dir = join(root, folder);
  const readme = join(dir, 'README.adoc');
  if (!existsSync(readme)) return undefined;
  const truth = new Map<Type, Set<string>>(TYPES.map((t) => [t, new Set<string>()]));
  const labelled = new Set<Type>();
  for (const type of ['md5', 'sha1', 'sha256'] as const) {
    const file = join(dir, `samples.${type}`);
    if (!existsSync(file)) continue;
    labelled.add(type);
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const hash = /^[0-9a-fA-F]+/.exec(line.trim())?.[0];
      if (hash) truth.get(type)!.add(hash.toLowerCase());
    }
  }
  const mispFiles = readdirSync(dir).filter((f) => f.endsWith('.json') && /misp/i.test(f));
  for (const file of mispFiles) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch {
      continue;
    }
    for (const event of mispEvents(json)) for (const type of addMisp(truth, event)) labelled.add(type);
  }
  if (labelled.size === 0) return undefined;
  return { id: `eset/${folder}`, path: readme, language: 'en', labelled, truth };
}

/** Restricts each truth set to what the document's text names. */
export function restrictToText(doc: LabelledDoc, text: string): void {
  const haystack = searchable(text);
  for (const values of doc.truth.values()) {
    for (const value of values) if (!haystack.includes(value.toLowerCase())) values.delete(value);
  }
}

export function esetSet(root: string): LabelledDoc[] {
  return readdirSync(root)
    .filter((f) => statSync(join(root, f)).isDirectory() && !f.startsWith('.'))
    .sort()
    .flatMap((f) => esetDoc(root, f) ?? []);
}

interface TruthFile {
  labelled: Type[];
  indicators: { type: Type; value: string }[];
  language?: 'en' | 'ja';
  /** Where the document is published: read with `git show COMMIT:PATH` in a checkout of REPO. */
  source?: { repo: string; path: string; commit: string };
}

function truthOf(label: TruthFile): Map<Type, Set<string>> {
  const truth = new Map<Type, Set<string>>(TYPES.map((t) => [t, new Set<string>()]));
  for (const { type, value } of label.indicators) truth.get(type)?.add(canonical(type, value));
  return truth;
}

/** Documents with a `.truth.json` beside them. */
export function directorySet(root: string, language: 'en' | 'ja'): LabelledDoc[] {
  const docs: LabelledDoc[] = [];
  for (const file of readdirSync(root).sort()) {
    const match = /^(.*)\.(txt|md|adoc|html?|pdf)$/.exec(file);
    if (!match || !existsSync(join(root, `${match[1]}.truth.json`))) continue;
    const label = JSON.parse(readFileSync(join(root, `${match[1]}.truth.json`), 'utf8')) as TruthFile;
    docs.push({
      id: `${language}/${match[1]}`,
      path: join(root, file),
      language: label.language ?? language,
      labelled: new Set(label.labelled),
      truth: truthOf(label),
    });
  }
  return docs;
}

/** The Japanese set committed beside this file: truth files naming the published document they label. */
export const JAPANESE_TRUTH = join(dirname(fileURLToPath(import.meta.url)), 'ja');

/** The third to tenth English sets (README.md): Unit 42 write-ups naming IPv6 addresses or CVE ids, Netskope Threat Labs' indicator pages (file hashes), Datadog's and Sekoia's indicator lists naming IPv6 addresses, eSentire's indicator lists, jeFF0Falltrades' per-family pages, Avast's IoC pages and executemalware's malspam write-ups, labelled the same way. */
export const ENGLISH_TRUTH = join(dirname(fileURLToPath(import.meta.url)), 'en');

/**
 * Documents labelled by truth files alone (`NAME.truth.json` with a `source`), their text read from
 * git checkouts under `sources` (`sources/OWNER/NAME`, bare or not) at the labelled commit, so the
 * benchmark reads exactly the text that was labelled and no document is copied here.
 */
export function sourcedSet(truthDir: string, sources: string): LabelledDoc[] {
  const docs: LabelledDoc[] = [];
  for (const file of readdirSync(truthDir).sort()) {
    const name = /^(.*)\.truth\.json$/.exec(file)?.[1];
    if (!name) continue;
    const label = JSON.parse(readFileSync(join(truthDir, file), 'utf8')) as TruthFile;
    if (!label.source) continue;
    const { repo, path, commit } = label.source;
    const show = spawnSync('git', ['-C', join(sources, repo), 'show', `${commit}:${path}`], {
      maxBuffer: 1 << 28,
    });
    if (show.status !== 0) {
      throw new SourceMissing(`${name}: cannot read ${repo} ${commit.slice(0, 12)}:${path} under ${sources}`);
    }
    const language = label.language ?? 'ja';
    docs.push({
      id: `${language}/${name}`,
      path,
      content: show.stdout,
      language,
      labelled: new Set(label.labelled),
      truth: truthOf(label),
    });
  }
  return docs;
}

/** A labelled document's source is not where `--sources` says (the benchmark exits 2 with this line). */
export class SourceMissing extends Error {}

/** The snapshot of StrangerealIntel/CyberThreatIntel the second English set is read at. */
export const CTI_COMMIT = '08c96e4ce8577a89b63a3905849e7ecaab9c520d';

type ListEntry = Record<string, string>;

/** A list's entries: JSON (UTF-8 or UTF-16, as the author's tools wrote them) or CSV with an Indicator column. */
export function listEntries(path: string, bytes: Buffer): ListEntry[] {
  const utf16 = bytes[0] === 0xff && bytes[1] === 0xfe;
  const text = (utf16 ? bytes.toString('utf16le') : bytes.toString('utf8')).replace(/^\uFEFF/, '');
  if (/\.json$/i.test(path)) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return [];
    }
    const rows = Array.isArray(json) ? json : [json];
    return rows.filter((r): r is ListEntry => !!r && typeof r === 'object' && 'Indicator' in r);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  if (!header.includes('Indicator')) return [];
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    // The last column (Description) may itself hold commas.
    const row: ListEntry = {};
    header.forEach(
      (h, i) => (row[h] = (i === header.length - 1 ? cells.slice(i).join(',') : cells[i]) ?? ''),
    );
    return row;
  });
}

/** Adds one list entry's indicators to the truth by the rule in README.md; returns the types it gives. */
export function addEntry(truth: Map<Type, Set<string>>, entry: ListEntry): Type[] {
  const given: Type[] = [];
  const add = (type: Type, value: string) => {
    given.push(type);
    truth.get(type)!.add(canonical(type, value));
  };
  const indicator = String(entry.Indicator ?? '').trim();
  const description = String(entry.Description ?? '').trim();
  const kind = String(entry.Type ?? '')
    .trim()
    .toLowerCase();
  for (const field of [indicator, description]) {
    const hex = /^[0-9a-f]+$/i.test(field) ? field.length : 0;
    if (hex === 32) add('md5', field);
    else if (hex === 40) add('sha1', field);
    else if (hex === 64) add('sha256', field);
  }
  if (kind === 'ip' || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(indicator))
    add(/^[\d.]+(?::\d+)?$/.test(indicator) ? 'ipv4' : 'ipv6', indicator);
  else if (kind === 'url' || /^[a-z][a-z0-9+.-]*:\/\//i.test(indicator)) add('url', indicator);
  else if (kind === 'domain' || (!kind && /\bdomain\b/i.test(description))) add('domain', indicator);
  return given;
}

function git(root: string, args: string[]): Buffer {
  const run = spawnSync('git', ['-C', root, ...args], { maxBuffer: 1 << 28 });
  if (run.status !== 0)
    throw new SourceMissing(
      `cannot read ${args.slice(-1)[0]} in ${root} (a clone of StrangerealIntel/CyberThreatIntel?)`,
    );
  return run.stdout;
}

/**
 * The second English set (README.md): StrangerealIntel/CyberThreatIntel's write-ups at CTI_COMMIT,
 * each `.md` whose directory or an immediate subdirectory holds an IoC list, the truth from those lists.
 */
export function ctiSet(root: string): LabelledDoc[] {
  const files = git(root, ['ls-tree', '-r', '--name-only', '-z', CTI_COMMIT])
    .toString('utf8')
    .split('\0')
    .filter(Boolean);
  const lists = files.filter((f) => /ioc[^/]*\.(json|csv)$/i.test(f.split('/').pop()!));
  const docs: LabelledDoc[] = [];
  for (const path of files
    .filter((f) => /\.md$/i.test(f) && !/^readme\.md$/i.test(f.split('/').pop()!))
    .sort()) {
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
    const own = lists.filter((l) => l.startsWith(dir) && l.slice(dir.length).split('/').length <= 2);
    if (own.length === 0) continue;
    const truth = new Map<Type, Set<string>>(TYPES.map((t) => [t, new Set<string>()]));
    const labelled = new Set<Type>();
    for (const list of own) {
      for (const entry of listEntries(list, git(root, ['show', `${CTI_COMMIT}:${list}`]))) {
        for (const type of addEntry(truth, entry)) labelled.add(type);
      }
    }
    if (labelled.size === 0) continue;
    const content = git(root, ['show', `${CTI_COMMIT}:${path}`]);
    docs.push({ id: `cti/${path}`, path, content, language: 'en', labelled, truth });
  }
  return docs;
}
