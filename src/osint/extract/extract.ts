/**
 * Indicator extraction from free text (English and Japanese, defanged or not): hand-written
 * matchers over the refanged text. Every pattern is a maximal run or has bounded repetition, so
 * the time is linear in the text (the fuzz test holds it to a bound per MB). What a hit's check reads of its line
 * goes through one LineIndex (lines.ts), so a long line holding many hits stays linear too.
 */
import { CitedPages } from './cited.ts';
import { isWhitespace, LineIndex } from './lines.ts';
import { judgeName, mappedIpv4, NAME_CONTEXT, publicIpv4, publicIpv6 } from './names.ts';
import { refang, type RefangedText } from './refang.ts';
import { OrderedSpans } from './spans.ts';
import {
  CLEAN_VERDICT,
  ColumnReader,
  columnRows,
  DETECTION_HEADER,
  FINGERPRINT_HEADER,
  LEGITIMATE_HEADER,
  portColumnRows,
  rowsWithCell,
  SECRET_HEADER,
} from './tables.ts';
import { ENTERPRISE_TECHNIQUE_IDS } from './technique-ids.ts';
import type { ExtractedIndicator, ExtractOptions, OsintIndicatorType } from './types.ts';

const TECHNIQUES = new Set(ENTERPRISE_TECHNIQUE_IDS.split(/\s+/).filter(Boolean));

// Brackets end a URL (AsciiDoc's `https://host/page[text]`, markdown), except around an IPv6 host.
const URL_RUN = /\b(?:https?|ftp):\/\/(?:\[[0-9A-Fa-f:.]{2,45}\])?[!#-&(-;=?-Z_a-z~]*/gi;
const IPV4 = /(?<![\w.])(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?::(\d{1,5}))?(?![\w]|\.\d)/g;
const IPV6 =
  /(?<![\w:.])(\[)?([0-9A-Fa-f]{0,4}:[0-9A-Fa-f:]{1,38}(?:\d{1,3}(?:\.\d{1,3}){3})?)(\](?::(\d{1,5}))?)?/g;
const NAME_RUN = /(?<![\w@.-])[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)+/g;
const WORD_RUN = /\w+/g;
const CVE = /\bCVE[-_ \u2010-\u2014]?((?:19|20)\d\d)[-_ \u2010-\u2014](\d{4,7})(?!\d)/gi;
const TECHNIQUE = /(?<![\w-])T(1\d{3})(?:\.(\d{3}))?(?![\w]|\.\d)/g;
/** Words before a dotted quad that make it a version, not an address (`LTS版4.19.3.0`: 版 is "edition"). */
const VERSION_BEFORE =
  /(?:version|ver\.?|v|build|バージョン|リリース|release|firmware|ファームウェア|版|ビルド)\s*[:=]?\s*$/i;
/**
 * Words after a dotted quad that bound a range of versions (`9.4.7.2以前`, `3.2.1.0 or later`). The
 * Japanese ones only written straight after it: `以下`/`以上` on their own also mean "the following"
 * and "end of list".
 */
const VERSION_AFTER =
  /^(?:以下(?!の(?:通り|とおり))|以前|以上(?!です|。)|以降|未満|より前|より後|\s*or (?:later|earlier|older|newer|above|below|prior)\b|\s*and (?:later|earlier|above|below|prior)\b)/i;
/** What joins two versions in a list (`4.19.3.0と4.20.1.0`, `10.0.8.0から10.0.8.5`, `1.2.3.4 and 1.2.3.5`). */
const VERSION_JOIN = /^\s*(?:と|および|及び|、|,|\/|から|~|〜|-|–|to|and|or|または|through)\s*$/i;

interface Hit {
  type: OsintIndicatorType;
  value: string;
  start: number;
  end: number;
  port?: number;
}

class Collector {
  readonly hits: Hit[] = [];
  /** Spans of accepted URLs: names and hashes inside them are parts of the URL. */
  readonly urlSpans = new OrderedSpans();
  /** The lines of the refanged text, for every check that reads a hit's line. */
  readonly lines: LineIndex;
  constructor(
    readonly source: RefangedText,
    readonly original: string,
  ) {
    this.lines = new LineIndex(source.text);
  }
  /** The character as written before folding (a fullwidth `（` is prose, an ASCII `(` a call). */
  writtenAt(index: number): string | undefined {
    return index < this.source.text.length ? this.original[this.source.origin[index]!] : undefined;
  }
  add(hit: Hit): void {
    this.hits.push(hit);
  }
  insideUrl(start: number): boolean {
    return this.urlSpanAt(start) !== undefined;
  }
  /** The span of the URL that holds `start`, if one does. */
  urlSpanAt(start: number): readonly [number, number] | undefined {
    // URL spans are found in order and never overlap: a binary search finds the candidate.
    let low = 0;
    let high = this.urlSpans.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const span = this.urlSpans.at(middle);
      if (start < span[0]) high = middle - 1;
      else if (start >= span[1]) low = middle + 1;
      else return span;
    }
    return undefined;
  }
  /** Records a URL span found after the scan for URLs, keeping the spans in order for `insideUrl`. */
  addUrlSpan(from: number, to: number): void {
    // After the last span starting at or before `from` (found by halving: the spans are in order of their starts).
    let low = 0;
    let high = this.urlSpans.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.urlSpans.at(middle)[0] > from) high = middle;
      else low = middle + 1;
    }
    this.urlSpans.insert(low, [from, to]);
  }
  wasDefanged(start: number, end: number): boolean {
    for (let i = start; i < end; i++) if (this.source.defanged[i]) return true;
    return false;
  }
}

function validPort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** Trims what ends a URL in prose: closing punctuation, an unbalanced `)`, AsciiDoc's `+`, a separating dash. */
function trimUrl(url: string): string {
  let open = 0;
  let close = 0;
  for (let i = 0; i < url.length; i++) {
    if (url[i] === '(') open++;
    else if (url[i] === ')') close++;
  }
  let end = url.length;
  while (end > 0) {
    const last = url[end - 1]!;
    // A dash too: lists write `URL- hash` or `URL -- note`, and a path that ends in one is rare.
    if ('.,;:!?\'"*+-'.includes(last)) end--;
    else if (last === ')' && open < close) {
      end--;
      close--;
    } else break;
  }
  return url.slice(0, end);
}

function hostHit(host: string, url: URL, start: number, end: number): Hit | undefined {
  const port = url.port ? Number(url.port) : undefined;
  if (host.startsWith('[')) {
    const v6 = publicIpv6(host.slice(1, -1));
    return v6 ? { type: 'ipv6', value: v6, start, end, ...(port ? { port } : {}) } : undefined;
  }
  if (/^[\d.]+$/.test(host)) {
    const v4 = publicIpv4(host);
    return v4 ? { type: 'ipv4', value: v4, start, end, ...(port ? { port } : {}) } : undefined;
  }
  return judgeName(host) === 'not-a-name' ? undefined : { type: 'domain', value: host, start, end };
}

/**
 * Sites of reference and lookup, never an attacker's: vendors' documentation and download pages, the ATT&CK, CVE,
 * NVD and JVN catalogues, the lookup services analysts cite (VirusTotal, urlscan.io, Censys, Shodan), and the
 * sandboxes, trackers and catalogues where they file a sample or a URL (MalwareBazaar, URLhaus, ThreatFox, tria.ge,
 * ANY.RUN, Hybrid Analysis, Joe Sandbox, Malpedia, OTX). A URL on one of them is a reference, never an indicator,
 * defanged or not: a list that other networks block must not name abuse.ch or a sandbox (a hash in such a URL still
 * is one, see findHashes).
 */
const REFERENCE_HOSTS = new Set([
  'docs.microsoft.com',
  'learn.microsoft.com',
  'support.microsoft.com',
  'msdn.microsoft.com',
  'technet.microsoft.com',
  'www.microsoft.com',
  'attack.mitre.org',
  'cve.mitre.org',
  'www.cve.org',
  'cve.org',
  'cwe.mitre.org',
  'nvd.nist.gov',
  'jvn.jp',
  'jvndb.jvn.jp',
  'www.virustotal.com',
  'virustotal.com',
  'urlscan.io',
  'censys.io',
  'search.censys.io',
  'www.shodan.io',
  'shodan.io',
  'bazaar.abuse.ch',
  'urlhaus.abuse.ch',
  'threatfox.abuse.ch',
  'feodotracker.abuse.ch',
  'sslbl.abuse.ch',
  'tria.ge',
  'app.any.run',
  'any.run',
  'www.hybrid-analysis.com',
  'hybrid-analysis.com',
  'www.joesandbox.com',
  'joesandbox.com',
  'malpedia.caad.fkie.fraunhofer.de',
  'otx.alienvault.com',
  // Namespace names of XML, SOAP and Office documents: identifiers written as URLs, never fetched.
  'www.w3.org',
  'schemas.xmlsoap.org',
  'schemas.microsoft.com',
  'schemas.openxmlformats.org',
  'tempuri.org',
]);

interface UrlCandidate {
  start: number;
  end: number;
  url: URL;
  host: Hit;
}

function findUrls(c: Collector, options: ExtractOptions): void {
  const text = c.source.text;
  const candidates: UrlCandidate[] = [];
  // Pages the document links or cites as references: the same page written again (in code, in a list) is that
  // reference too, and so is a file under it (a cited tool's `/archive/master.zip`).
  const cited = new CitedPages();
  const sections = referenceSections(text);
  // A document that defangs what it reports writes its indicators defanged: see citesSentenceAbove.
  const defangs = c.source.defanged.includes(1);
  // URLs are found in order: the first section not yet behind the URL is the only one it can be in.
  let section = 0;
  URL_RUN.lastIndex = 0;
  for (let m = URL_RUN.exec(text); m; m = URL_RUN.exec(text)) {
    while (section < sections.length && sections[section]![1] <= m.index) section++;
    const inReferences = section < sections.length && sections[section]![0] <= m.index;
    const written = trimUrl(m[0]);
    let url: URL;
    try {
      url = new URL(written);
    } catch {
      continue;
    }
    const end = m.index + written.length;
    const host = hostHit(url.hostname, url, m.index, end);
    if (!host) continue;
    url.hash = '';
    c.urlSpans.push([m.index, end]);
    if (REFERENCE_HOSTS.has(url.hostname.toLowerCase())) continue;
    if (c.wasDefanged(m.index, end)) {
      if (!inExampleList(c.lines, m.index)) candidates.push({ start: m.index, end, url, host });
      continue;
    }
    // A clickable link of the document's markup is a reference; its names and hashes are the link's too. So is a
    // URL in a section of links or references, and a post on a social network.
    if (
      (defangs && citesSentenceAbove(c.lines, m.index, end)) ||
      isMarkupLink(c.lines, m.index, end) ||
      inReferences ||
      SOCIAL_POST.test(written)
    ) {
      cited.add(url.href);
      continue;
    }
    if (inExampleList(c.lines, m.index)) continue;
    candidates.push({ start: m.index, end, url, host });
  }
  for (const { start, end, url, host } of candidates) {
    if (!c.wasDefanged(start, end) && cited.covers(url.href)) continue;
    c.add({ type: 'url', value: url.href, start, end });
    if (options.hostsOfUrls) c.add(host);
  }
}

/** A line holding one URL and nothing else but list markers (`- `, `-- `, `* `, `> `). */
const URL_ALONE = /^[\s\-*+>]*\S+:\/\/\S+\s*$/;

/**
 * Whether the live URL at `start..end` stands alone on its line under a sentence (the lines between it and the
 * sentence being URLs alone as well): in a document that defangs what it reports, the pages that back a note
 * (`- …similar to a campaign we previously reported.` / `  -- https://vendor/blog/post/`) are its citations.
 */
function citesSentenceAbove(lines: LineIndex, start: number, end: number): boolean {
  if (!lines.blankBefore(start, isListMarkerOrSpace) || !lines.blankAfter(end)) return false;
  for (const above of lines.linesAbove(start, 20, 4096)) {
    const line = above.trim();
    if (URL_ALONE.test(line)) continue;
    return /[.。]$/.test(line);
  }
  return false;
}

/** What may stand before a URL alone on its line: whitespace and list markers (`- `, `-- `, `* `, `> `). */
function isListMarkerOrSpace(code: number): boolean {
  return (
    code === 0x2d /* - */ ||
    code === 0x2a /* * */ ||
    code === 0x2b /* + */ ||
    code === 0x3e /* > */ ||
    isWhitespace(code)
  );
}

/** A post on a social network (`https://twitter.com/someone/status/123`): a reference, as an article is. */
const SOCIAL_POST = /^https?:\/\/(?:www\.|mobile\.)?(?:twitter\.com|x\.com)\/\w+\/status(?:es)?\/\d+/i;

/**
 * A heading (markdown `##`, AsciiDoc `==`, HTML `<h2>`, or a plain-text advisory's label in capitals on a line of its
 * own, `REFERENCES:`) and the titles of sections that list references.
 */
const HEADING =
  /^(?:#{1,6}|={1,6})[ \t]+(.*)$|^<[hH][1-6][^>]*>(.*)$|^[ \t]*([A-Z][A-Z0-9 &/()-]{2,60}):[ \t]*$/gm;
const REFERENCE_SECTION =
  /^(?:links?|(?:original |external |additional )?references?|sources?|reporting|(?:public |related |further |vendor |external )?reports|write-?ups?|further reading|see also|social media(?: posts?)?|参考(?:文献|資料|情報|リンク|URL|記事)?|関連(?:記事|リンク|情報)|出典|引用元?|リンク)$/i;

/** A title of links or references, alone or joined to another (`Write-Up & Reporting`, `Links and References`). */
function isReferenceTitle(title: string): boolean {
  const parts = title.split(/\s*(?:&|\band\b|,|\/|・)\s*/i).filter(Boolean);
  return parts.length > 0 && parts.every((part) => REFERENCE_SECTION.test(part));
}

/** The spans of the sections titled as links or references: from such a heading to the next heading. */
function referenceSections(text: string): [number, number][] {
  const spans: [number, number][] = [];
  let open = -1;
  HEADING.lastIndex = 0;
  for (let m = HEADING.exec(text); m; m = HEADING.exec(text)) {
    if (open >= 0) spans.push([open, m.index]);
    const title = (m[1] ?? m[2] ?? m[3] ?? '')
      .replace(/<[^>]*>/g, '')
      .replace(/[#=*_`:：]/g, '')
      .trim();
    open = isReferenceTitle(title) ? m.index + m[0].length : -1;
  }
  if (open >= 0) spans.push([open, text.length]);
  return spans;
}

/** The label of a list of examples (`Defang の例:`, `例`, `Examples:`, `e.g.`): what is listed under it shows a form. */
const EXAMPLE_LABEL = /(?:^|の)例\s*[:：]?$|\bexamples?\s*[:：]?$|\be\.g\.\s*[:：]?$/i;
const LIST_ITEM = /^(\s*)(?:[-*+]|\d+[.)])\s/;

/**
 * Whether the position is in a list item nested under an item or line that labels a list of examples (URLs, names
 * and addresses listed there show a form); the walk up stops at the first line less indented than the item (its
 * parent) or after 40 lines.
 */
function inExampleList(lines: LineIndex, start: number): boolean {
  const text = lines.text;
  const lineStart = lines.lineStart(start);
  const item = LIST_ITEM.exec(text.slice(lineStart, Math.min(text.length, lineStart + 64)));
  if (!item || lineStart === 0) return false;
  const indent = item[1]!.length;
  // A line longer than a list's label ends the walk (and keeps the time per hit bounded).
  for (const line of lines.linesAbove(start, 40, 4096)) {
    if (line.trim() === '') continue;
    const lineIndent = /^\s*/.exec(line)![0].length;
    if (lineIndent >= indent && LIST_ITEM.test(line)) continue;
    if (lineIndent >= indent) return false;
    const label = line
      .replace(LIST_ITEM, '')
      .replace(/[*_`#]/g, '')
      .trim();
    return EXAMPLE_LABEL.test(label);
  }
  return false;
}

/** Words that introduce a citation on the URL's line (`Source: URL`, `(出典: URL)`, "is available at URL"). */
const REFERENCE_BEFORE =
  /(?:\b(?:sources?|via|references?|ref)\b\s*[:：]?\s*|出典\s*[:：]?\s*|参考\s*[:：]?\s*|参照\s*[:：]?\s*|引用元?\s*[:：]?\s*|\bavailable\b[^\n]{0,40}\bat\s+)$/i;

/**
 * A field label standing alone on the line above a URL (`- **URL**`, `Source:`, `参考`), as news summaries and
 * reading lists write the link of the article they cite.
 */
const REFERENCE_LABEL =
  /^(?:sources?|references?|refs?|url|link|出典|参考(?:文献|資料|URL)?|参照|引用元?|元記事)\s*[:：]?$/i;

/** Whether the URL starting at `start` is alone at the head of its line, under a line that is a citation's label. */
function underReferenceLabel(lines: LineIndex, start: number): boolean {
  const text = lines.text;
  const lineStart = lines.lineStart(start);
  if (!lines.blankBefore(start, isListMarkerOrSpace) || lineStart === 0) return false;
  // The last line above holding more than whitespace, up to its last such character.
  let labelEnd = lineStart - 1;
  while (labelEnd > 0 && isWhitespace(text.charCodeAt(labelEnd - 1))) labelEnd--;
  const label = text.slice(lines.lineStart(labelEnd), labelEnd);
  return REFERENCE_LABEL.test(
    label
      .replace(/^[\s\-*+>#]*/, '')
      .replace(/[*_]/g, '')
      .trim(),
  );
}

/** A URL heading its line under a line that ends with a citation's words (`…is available on WeLiveSecurity at`). */
function citedOnLineAbove(lines: LineIndex, lineStart: number, start: number): boolean {
  const text = lines.text;
  if (lineStart === 0 || !lines.blankBefore(start)) return false;
  const above = text.slice(Math.max(0, lineStart - 65), lineStart - 1).trimEnd();
  return REFERENCE_BEFORE.test(above.slice(above.lastIndexOf('\n') + 1) + ' ');
}

/**
 * Whether the URL at `start..end` is a citation (see REFERENCE_BEFORE, REFERENCE_LABEL) or a link of markdown (`[text](url)`,
 * `![alt](url)`, and the URL written as a link's text, `[url](url)`), HTML (`href="url"`, `src="url"`, an anchor's text
 * `>url</a>`) or AsciiDoc (`url[text]`, `link:url[text]`): written to be clicked, so a reference (an advisory defangs the
 * indicators it lists).
 */
function isMarkupLink(lines: LineIndex, start: number, end: number): boolean {
  const text = lines.text;
  const before = text.slice(Math.max(0, start - 8), start);
  const lineStart = lines.lineStart(start);
  return (
    REFERENCE_BEFORE.test(text.slice(Math.max(lineStart, start - 64), start)) ||
    citedOnLineAbove(lines, lineStart, start) ||
    underReferenceLabel(lines, start) ||
    before.endsWith('](') ||
    before.endsWith('](<') ||
    // An autolink (`<https://…>`), markdown's and plain text's way of writing a link to follow.
    (before.endsWith('<') && text[end] === '>') ||
    /\b(?:href|src)\s*=\s*["']?$/i.test(before) ||
    text[end] === '[' ||
    text.startsWith('](', end) ||
    text.startsWith('</a>', end)
  );
}

/** `4.0.9.3`: four single digits, not all the same (`8.8.8.8` and `1.1.1.1` are addresses people write). */
function looksLikeVersion(address: string): boolean {
  return /^\d\.\d\.\d\.\d$/.test(address) && new Set(address.split('.')).size > 1;
}

/** Whether the dotted quad at `start..end` is written as a version: by the words around it or by its shape. */
function writtenAsVersion(text: string, start: number, end: number, dotted: string): boolean {
  return (
    VERSION_BEFORE.test(text.slice(Math.max(0, start - 24), start)) ||
    VERSION_AFTER.test(text.slice(end, end + 16)) ||
    looksLikeVersion(dotted)
  );
}

const CIDR_AFTER = /^\/(?:[0-9]|[12][0-9]|3[0-2])(?![\w./])/;

/**
 * The IPv6 prefix of an IPv4-mapped address before its dotted quad (`::ffff:`, `0:0:0:0:0:ffff:`, bracketed or not), as
 * dual-stack servers log an IPv4 client (`from ::ffff:45.77.12.3 port 51234`).
 */
const MAPPED_PREFIX = /(?<![\w:.])(\[)?(?:::|0{1,4}(?::0{1,4}){4}:)ffff:$/i;
/** `::ffff:2d4d:c03`: an IPv4-mapped address in hex (only this shape is worth parsing a second time). */
const MAPPED_HEX = /:ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/i;
const MAPPED_NETWORK_AFTER = /^\/\d{1,3}(?![\w./])/;
const BRACKETED_PORT = /^\]:(\d{1,5})(?!\d)/;

function findIpv4(c: Collector, tablePorts: (offset: number) => number | undefined): void {
  const text = c.source.text;
  // Where the last version-like dotted quad ended: the next one joined to it by "and"/"to" is a version too.
  let versionEnd = -1;
  IPV4.lastIndex = 0;
  for (let m = IPV4.exec(text); m; m = IPV4.exec(text)) {
    if (c.insideUrl(m.index)) continue;
    const quadEnd = m.index + m[1]!.length;
    // An IPv4-mapped IPv6 address is the IPv4 address, never a version; the hit covers the mapped form.
    const mapped =
      text[m.index - 1] === ':' ? MAPPED_PREFIX.exec(text.slice(Math.max(0, m.index - 40), m.index)) : null;
    if (mapped) {
      const value = publicIpv4(m[1]!);
      // `::ffff:45.77.12.0/120`: a network in IPv6 prefix form, as a CIDR range is.
      const network = MAPPED_NETWORK_AFTER.test(text.slice(quadEnd, quadEnd + 5));
      if (!value || network || inExampleList(c.lines, m.index)) continue;
      const bracketed = mapped[1] ? BRACKETED_PORT.exec(text.slice(quadEnd, quadEnd + 8)) : null;
      const port = validPort(bracketed?.[1] ?? m[2]) ?? tablePorts(m.index);
      const end = bracketed ? quadEnd + bracketed[0].length : m.index + m[0].length;
      c.add({ type: 'ipv4', value, start: m.index - mapped[0].length, end, ...(port ? { port } : {}) });
      continue;
    }
    const joined =
      versionEnd >= 0 && m.index - versionEnd <= 12 && VERSION_JOIN.test(text.slice(versionEnd, m.index));
    if (joined || writtenAsVersion(text, m.index, quadEnd, m[1]!)) {
      versionEnd = quadEnd;
      continue;
    }
    // `101.79.5.0/24`: a network written in CIDR form (a whois or ASN table's range), not an address.
    if (CIDR_AFTER.test(text.slice(m.index + m[0].length, m.index + m[0].length + 4))) continue;
    const value = publicIpv4(m[1]!);
    if (!value || inExampleList(c.lines, m.index)) continue;
    // `203[.]159.80.241/bins/dark.arm5`: a defanged address followed by a path is a URL without its scheme, as a
    // defanged name is; the URL covers its host.
    if (schemelessUrl(c, m.index, quadEnd)) continue;
    const port = validPort(m[2]) ?? tablePorts(m.index);
    c.add({ type: 'ipv4', value, start: m.index, end: m.index + m[0].length, ...(port ? { port } : {}) });
  }
}

function findIpv6(c: Collector, tablePorts: (offset: number) => number | undefined): void {
  const text = c.source.text;
  IPV6.lastIndex = 0;
  for (let m = IPV6.exec(text); m; m = IPV6.exec(text)) {
    if (c.insideUrl(m.index)) continue;
    const bracketed = m[1] === '[' && m[3] !== undefined;
    let candidate = m[2]!;
    // A trailing colon is the sentence's (`address: ...`), unless it ends `::`.
    if (candidate.endsWith(':') && !candidate.endsWith('::')) candidate = candidate.slice(0, -1);
    const value = publicIpv6(candidate);
    // `::ffff:2d4d:c03`: an IPv4-mapped address written in hex is its IPv4 address (findIpv4 reads the dotted form).
    const mappedValue = value || !MAPPED_HEX.test(candidate) ? null : mappedIpv4(candidate);
    if ((!value && !mappedValue) || inExampleList(c.lines, m.index)) continue;
    const port = (bracketed ? validPort(m[4]) : undefined) ?? tablePorts(m.index);
    c.add({
      ...(value ? { type: 'ipv6', value } : { type: 'ipv4', value: mappedValue! }),
      start: m.index,
      end: m.index + m[0].length,
      ...(port ? { port } : {}),
    });
  }
}

function findNames(c: Collector): void {
  const text = c.source.text;
  NAME_RUN.lastIndex = 0;
  for (let m = NAME_RUN.exec(text); m; m = NAME_RUN.exec(text)) {
    const start = m.index;
    const end = start + m[0].length;
    if (c.insideUrl(start)) continue;
    const before = text[start - 1];
    const after = text[end];
    // A path's part, an e-mail's local part, a call (`document.write(`), a versioned package.
    if (before === '/' || before === '\\' || before === '$' || before === '%') continue;
    if (after === '@' || after === '\\' || (after === '(' && c.writtenAt(end) === '(')) continue;
    const written = m[0].replace(/-+$/, '');
    const defanged = c.wasDefanged(start, end);
    // A TLD written in capitals after lower case is code or a detection name (`System.Net`, `Agent.AC`).
    const tldWritten = written.slice(written.lastIndexOf('.') + 1);
    const mixedCaseTld = /[A-Z]/.test(tldWritten) && /[a-z]/.test(written);
    if (!defanged && mixedCaseTld) continue;
    const name = written.toLowerCase();
    // A script object's member stays code when a document defangs every dot of a quoted script (`WScript[.]Network`):
    // defanging vouches for a name, but not for a member written in capitals after the object.
    if ((!defanged || mixedCaseTld) && CODE_OBJECTS.has(name.slice(0, name.indexOf('.')))) continue;
    const verdict = judgeName(name);
    if (verdict === 'not-a-name') continue;
    if (verdict === 'needs-context' && !defanged) {
      const lineStart = c.lines.lineStart(start);
      if (!NAME_CONTEXT.test(text.slice(Math.max(lineStart, start - 48), start))) continue;
    }
    if (schemelessUrl(c, start, end) || inExampleList(c.lines, start)) continue;
    c.add({ type: 'domain', value: name, start, end });
  }
}

const PATH_RUN = /(?::\d{1,5}(?=\/))?\/[!#-&(-;=?-Z_a-z~]+/y;

/**
 * A defanged name or address followed by a path (`speed.wlaspsd[.]com/vip.js`, `203[.]159.80.241/bins/x`), or by a
 * port and a path (`audit.checkmarx[.]cx:443/v1/telemetry`), is a URL written without its scheme: reported as an
 * http URL (the scheme is unknown; URLs compare without it).
 */
function schemelessUrl(c: Collector, start: number, end: number): boolean {
  const text = c.source.text;
  PATH_RUN.lastIndex = end;
  const path = PATH_RUN.exec(text)?.[0];
  if (!path) return false;
  // The text of a link (`<a href="…">pic.twitter.com/x</a>`) repeats its target: a reference.
  if (!c.wasDefanged(start, end) && text.startsWith('</a>', end + path.length)) {
    c.addUrlSpan(start, end + path.length);
    return true;
  }
  if (!c.wasDefanged(start, end)) return false;
  const written = trimUrl(text.slice(start, end) + path);
  if (written.length <= end - start + 1) return false;
  let url: URL;
  try {
    url = new URL(`http://${written}`);
  } catch {
    return false;
  }
  url.hash = '';
  c.addUrlSpan(start, start + written.length);
  c.add({ type: 'url', value: url.href, start, end: start + written.length });
  return true;
}

/** Script objects whose member access reads like a name (`document.location.host`, `WScript.Shell`). */
const CODE_OBJECTS = new Set([
  'document',
  'window',
  'location',
  'navigator',
  'console',
  'process',
  'this',
  'self',
  'math',
  'json',
  'object',
  'string',
  'array',
  'system',
  'wscript',
  'request',
  'response',
  'module',
  'exports',
]);

const HASH_TYPES: Record<number, OsintIndicatorType> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };

/** A Liquid/Jekyll `{% gist ID %}` tag: a 32-hex gist id, not an MD5. */
const GIST_BEFORE = /\bgist\s+$/i;
/** Inside a URL, a hash names a file when it follows a file/sample path segment or a hash parameter (lookup services). */
const FILE_IN_URL_BEFORE =
  /(?:\/(?:files?|samples?|hash(?:es)?|md5|sha1|sha256|sha-256)\/|[?&](?:hash|md5|sha1|sha256|file)=)$/i;

/** A line that is one hex run longer than any digest: a key, a modulus or a blob wrapped over lines. */
const LONG_HEX_LINE = /^\s*[0-9a-fA-F]{65,}\s*$/;

/**
 * The line above the hex run at `start..end` when the run is the whole of its line and that line is not the first
 * (at most `maxAbove` characters long, else undefined).
 */
function lineAboveLoneRun(
  lines: LineIndex,
  start: number,
  end: number,
  maxAbove: number,
): string | undefined {
  if (!lines.blankBefore(start) || !lines.blankAfter(end)) return undefined;
  for (const above of lines.linesAbove(start, 1, maxAbove + 1)) return above;
  return undefined;
}

/** Whether the hex run at `start..end` is the whole of its line and that line continues a wrapped hex block above it. */
function tailOfWrappedHex(lines: LineIndex, start: number, end: number): boolean {
  const above = lineAboveLoneRun(lines, start, end, 4096);
  return above !== undefined && LONG_HEX_LINE.test(above);
}

/**
 * What ends the text before a hash labelled on its own line as a fingerprint (`|Thumbprint (SHA-1)|`, `Fingerprint:`),
 * a certificate's, or a TLS client's (`JA3:`, `JA3S hash:`: an MD5 of a handshake's fields, not of a file).
 */
const FINGERPRINT_LABEL_BEFORE =
  /(?:(?:thumb|finger)prints?(?:\s*\((?:sha-?1|sha-?256|md5)\))?|\bja3s?(?:\s+hash)?)[\s`*_+"'|:：=]*$/i;

/** A line that only labels the hash on the line below it as a TLS client's fingerprint (`JA3 HASH`, `JA3S:`). */
const FINGERPRINT_LINE_ABOVE = /^[\s#*_`|-]*ja3s?(?:\s+(?:hash|fingerprint))?[\s*_`|:：]*$/i;

/** Whether the hex run at `start..end` is the whole of its line and the line above it labels it as a fingerprint. */
function labelledAbove(lines: LineIndex, start: number, end: number): boolean {
  const above = lineAboveLoneRun(lines, start, end, 63);
  return above !== undefined && FINGERPRINT_LINE_ABOVE.test(above);
}

/**
 * What names a hex value as an identifier or a key rather than a file's digest: a build, campaign or bot id, a git
 * commit, an encryption or API key, a wallet, a secret or a token. Only ids and keys that an advisory writes in hex
 * beside its hashes; a bare `key` or `id` is too common a word (`Key findings`) to say anything on its own.
 */
const KEY_OR_ID = String.raw`(?:(?:build|campaign|bot|victim|affiliate|client|machine|hardware|hw|device|session|install(?:ation)?|tracking|extension|commit)[\s_-]?ids?|(?:api|encryption|decryption|rc4|aes|xor|private|public|licen[cs]e|access|master|session|secret)[\s_-]?keys?|(?:(?:crypto(?:currency)?|bitcoin|btc|monero|xmr|ethereum|eth)\s+)?wallets?(?:\s+address(?:es)?)?|secrets?|(?:access|auth|api|bearer|bot)[\s_-]?tokens?|(?:git\s+)?commits?(?:\s+hash)?)`;
/** A key and its value on one line (`Build ID: …`, `RC4 key = …`, `commit …`). */
const KEY_OR_ID_BEFORE = new RegExp(String.raw`\b${KEY_OR_ID}[\s\x60*_"'|:：=]*$`, 'i');
/** A line that only labels the list or block below it (`* **MAC Build ID**`, `Campaign IDs:`, `### RC4 key (hex)`). */
const KEY_OR_ID_LABEL = new RegExp(
  String.raw`^(?:[\w.()/-]+\s+){0,3}${KEY_OR_ID}(?:\s*\([^()]{0,24}\))?$`,
  'i',
);
/** A table column of ids or keys (`RC4 key`, `Build ID`): the whole cell is the label, so prose opens no table. */
const KEY_OR_ID_HEADER = new RegExp(String.raw`^${KEY_OR_ID}(?:\s*\([^()]{0,24}\))?$`, 'i');
/** Decoration around a label line: list bullets, heading marks, emphasis, code, a closing colon. */
const LABEL_DECORATION = /^[\s#=*_`>|+-]+|[\s*_`|:：=]+$/g;
/** A line that only frames a block (AsciiDoc `----` and `....`, markdown fences), read through when looking for a label. */
const FENCE_LINE = /^\s*(?:-{4,}|\.{4,}|`{3,}[\w-]*|~{3,}[\w-]*)\s*$/;
/** A line holding one hex value and decoration only: a sibling in the same list, read through when looking for a label. */
const LONE_HEX = /^[\s`*|>+-]*[0-9a-fA-F]{32,64}[\s`*|]*$/;

/**
 * Whether the hex run at `start..end`, alone on its line, sits in a list or block whose label (the first line above that
 * is not blank, a fence or another lone value, at most 32 lines up) names an id or a key (a Netskope page's
 * `* **MAC Build ID**` over a code block).
 */
function underKeyOrIdLabel(lines: LineIndex, start: number, end: number): boolean {
  const lineStart = lines.lineStart(start);
  const lineEnd = lines.text.indexOf('\n', end);
  const line = lines.text.slice(lineStart, lineEnd < 0 ? lines.text.length : lineEnd);
  if (line.length > 256 || !LONE_HEX.test(line)) return false;
  for (const above of lines.linesAbove(start, 32, 256)) {
    if (above.trim() === '' || FENCE_LINE.test(above) || LONE_HEX.test(above)) continue;
    return KEY_OR_ID_LABEL.test(above.replace(LABEL_DECORATION, ''));
  }
  return false;
}

/** The first line of a certificate's printout (`openssl x509 -text`, PEM). */
const CERTIFICATE_PRINTOUT = /^\s*(?:Certificate:|-----BEGIN CERTIFICATE-----)\s*$/;

/**
 * Whether the first line below the hex run's that is not blank or a fence starts a certificate's printout: the digest
 * written over it (`SHA-256: …` above `Certificate:`, as ESET's DazzleSpy page gives its C&C's CA) is the
 * certificate's, not a file's.
 */
function overCertificatePrintout(lines: LineIndex, end: number): boolean {
  for (const below of lines.linesBelow(end, 4, 256)) {
    if (below.trim() === '' || FENCE_LINE.test(below)) continue;
    return CERTIFICATE_PRINTOUT.test(below);
  }
  return false;
}

function findHashes(c: Collector): void {
  const text = c.source.text;
  // Columns of passwords hold digests of passwords; columns of fingerprints, digests of certificates: not files.
  const secretColumns = new ColumnReader(text, columnRows(text, SECRET_HEADER));
  // A row holding its own hex value (`|Thumbprint (SHA-1)|…`) is a key and value, handled below, and opens no column.
  const fingerprintColumns = new ColumnReader(text, columnRows(text, FINGERPRINT_HEADER, /[0-9a-fA-F]{32}/));
  // Columns of the legitimate files a trojanised one was made from: digests of clean files.
  const legitimateColumns = new ColumnReader(text, columnRows(text, LEGITIMATE_HEADER));
  // Columns of ids and keys (`RC4 key`, `Build ID`) written in hex beside the hashes of a table.
  const keyOrIdColumns = new ColumnReader(text, columnRows(text, KEY_OR_ID_HEADER));
  // Rows whose anti-malware verdict is `clean`: the legitimate executable a malicious DLL is side-loaded into.
  const cleanRows = rowsWithCell(text, DETECTION_HEADER, CLEAN_VERDICT);
  // A hex run that is a label of a host name the scan for names accepted (`a.<32 hex>.0.v6.example.biz`, a scanner
  // encoding its target) is part of that name, not a digest.
  // Hex runs come in order, so the names starting before one are a growing prefix of the names sorted by start: it is
  // inside one when the furthest end among them lies beyond it.
  const names = c.hits.filter((h) => h.type === 'domain').sort((a, b) => a.start - b.start);
  let namesBefore = 0;
  let furthestNameEnd = -1;
  const insideName = (start: number) => {
    for (; namesBefore < names.length && names[namesBefore]!.start < start; namesBefore++)
      furthestNameEnd = Math.max(furthestNameEnd, names[namesBefore]!.end);
    return start < furthestNameEnd;
  };
  WORD_RUN.lastIndex = 0;
  for (let m = WORD_RUN.exec(text); m; m = WORD_RUN.exec(text)) {
    const type = HASH_TYPES[m[0].length];
    if (!type || !/^[0-9a-fA-F]+$/.test(m[0])) continue;
    const before = text.slice(Math.max(0, m.index - 16), m.index);
    if (c.insideUrl(m.index) ? !FILE_IN_URL_BEFORE.test(before) : GIST_BEFORE.test(before)) continue;
    if (tailOfWrappedHex(c.lines, m.index, m.index + m[0].length)) continue;
    if (insideName(m.index)) continue;
    const lineStart = c.lines.lineStart(m.index);
    if (
      secretColumns.inColumn(lineStart, m.index) ||
      fingerprintColumns.inColumn(lineStart, m.index) ||
      legitimateColumns.inColumn(lineStart, m.index) ||
      keyOrIdColumns.inColumn(lineStart, m.index) ||
      cleanRows.has(lineStart)
    )
      continue;
    // A key and value on one line (an AsciiDoc table of a certificate's fields, `Fingerprint: …`, `Build ID: …`).
    if (m.index - lineStart <= 256) {
      const lineBefore = text.slice(lineStart, m.index);
      if (FINGERPRINT_LABEL_BEFORE.test(lineBefore) || KEY_OR_ID_BEFORE.test(lineBefore)) continue;
    }
    const end = m.index + m[0].length;
    if (labelledAbove(c.lines, m.index, end) || underKeyOrIdLabel(c.lines, m.index, end)) continue;
    if (overCertificatePrintout(c.lines, end)) continue;
    const value = m[0].toLowerCase();
    // All digits or one repeated character: a number or a placeholder, not a digest.
    if (/^\d+$/.test(value) || /^(.)\1+$/.test(value)) continue;
    c.add({ type, value, start: m.index, end: m.index + m[0].length });
  }
}

/**
 * Whether the id at `start..end` is the whole last path segment or a whole query value of the URL ending at `urlEnd`:
 * the URL is a record of that id (a catalogue's page), not an article whose slug repeats it.
 */
function isRecordOf(text: string, start: number, end: number, urlEnd: number): boolean {
  const before = text.charCodeAt(start - 1);
  if (before !== 0x2f /* / */ && before !== 0x3d /* = */) return false;
  if (end >= urlEnd) return true;
  const after = text.charCodeAt(end);
  if (after === 0x26 /* & */ || after === 0x23 /* # */) return true;
  return after === 0x2f /* / */ && end + 1 >= urlEnd;
}

function findCvesAndTechniques(c: Collector): void {
  const text = c.source.text;
  CVE.lastIndex = 0;
  for (let m = CVE.exec(text); m; m = CVE.exec(text)) {
    // An id inside a URL's slug (`…/flaw-cve-2025-24813-exploited/`) is part of that URL (bench/osint/README.md's
    // labelling rule); a URL that is the id's own record (`…/vuln/detail/CVE-2024-3400`, `?id=CVE-2024-3400`) names it.
    const span = c.urlSpanAt(m.index);
    if (span && !isRecordOf(text, m.index, m.index + m[0].length, span[1])) continue;
    c.add({ type: 'cve', value: `CVE-${m[1]}-${m[2]}`, start: m.index, end: m.index + m[0].length });
  }
  TECHNIQUE.lastIndex = 0;
  for (let m = TECHNIQUE.exec(text); m; m = TECHNIQUE.exec(text)) {
    const value = m[2] ? `T${m[1]}.${m[2]}` : `T${m[1]}`;
    if (TECHNIQUES.has(value)) c.add({ type: 'attack', value, start: m.index, end: m.index + m[0].length });
  }
}

/**
 * The hit's line in the original text, cut to `chars` either side and whitespace collapsed. Only that window is read
 * for the line's ends: a hit on a long line costs the window, not the line.
 */
function contextOf(original: string, from: number, to: number, chars: number): string {
  let windowStart = from;
  while (windowStart > 0 && from - windowStart < chars && original.charCodeAt(windowStart - 1) !== 0x0a)
    windowStart--;
  let windowEnd = to;
  while (windowEnd < original.length && windowEnd - to < chars && original.charCodeAt(windowEnd) !== 0x0a)
    windowEnd++;
  return original.slice(windowStart, windowEnd).replace(/\s+/g, ' ').trim();
}

function tablePortLookup(lines: LineIndex): (offset: number) => number | undefined {
  const rows = portColumnRows(lines.text);
  if (rows.size === 0) return () => undefined;
  return (offset) => rows.get(lines.lineStart(offset));
}

/** Every indicator in `text`, once per (type, value, port), in the order they first appear. */
export function extractIndicators(text: string, options: ExtractOptions = {}): ExtractedIndicator[] {
  const source = refang(text);
  const collector = new Collector(source, text);
  const tablePorts = tablePortLookup(collector.lines);
  findUrls(collector, options);
  findIpv4(collector, tablePorts);
  findIpv6(collector, tablePorts);
  findNames(collector);
  findHashes(collector);
  findCvesAndTechniques(collector);
  collector.hits.sort((a, b) => a.start - b.start);
  const seen = new Set<string>();
  const out: ExtractedIndicator[] = [];
  const chars = options.contextChars ?? 60;
  for (const hit of collector.hits) {
    const key = `${hit.type} ${hit.value} ${hit.port ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const from = source.origin[hit.start]!;
    const to = source.origin[hit.end - 1]! + 1;
    out.push({
      type: hit.type,
      value: hit.value,
      context: contextOf(text, from, to, chars),
      ...(hit.port !== undefined ? { port: hit.port } : {}),
    });
  }
  return out;
}
