/**
 * Inputs of the detector read from user files: the bot list (homes with an optional family), the
 * prefix-to-ASN table for ASN allowlists, and the port/IP-to-family mapping.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { InputError } from '../core/index.ts';
import { parsePrefix, prefixContains4, prefixContains6, type Prefix } from '../core/index.ts';
import { splitCsvLine } from '../core/index.ts';
import { PROTOCOL_NAMES, protocolName } from '../core/index.ts';

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/** The cells of a CSV line, trimmed. */
function splitTrimmed(line: string): string[] {
  return splitCsvLine(line).map((cell) => cell.trim());
}

/** Lines without comments (#...) and blanks, with their 1-based numbers. */
function meaningfulLines(text: string): { line: string; number: number }[] {
  const out: { line: string; number: number }[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line) out.push({ line, number: index + 1 });
  });
  return out;
}

/** One parsed bot list line. */
export interface BotEntry {
  /** The address or prefix; for port-qualified entries a host address. */
  prefix: Prefix;
  /** Port range seen from the bot (`a.b.c.d:port` or `a.b.c.d:lo-hi`); -1 when none. */
  portLo: number;
  portHi: number;
  /** Malware family named by the list, or ''. */
  family: string;
}

/** Parses one bot: `a.b.c.d`, `a.b.c.d/len`, `a.b.c.d:port`, `a.b.c.d:lo-hi`, an IPv6 address or prefix. */
export function parseBotEntry(text: string, family = ''): BotEntry {
  const ported = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})(?:-(\d{1,5}))?$/.exec(text.trim());
  if (ported) {
    const lo = Number(ported[2]);
    const hi = ported[3] === undefined ? lo : Number(ported[3]);
    if (lo > 65535 || hi > 65535 || hi < lo) throw new Error(`bad port range in "${text}"`);
    return { prefix: parsePrefix(ported[1]!), portLo: lo, portHi: hi, family };
  }
  return { prefix: parsePrefix(text), portLo: -1, portHi: -1, family };
}

/** Canonical text of an entry (for logs and tests). */
export function botEntryText(entry: BotEntry): string {
  const address = entry.prefix.text.replace(/\/(32|128)$/, '');
  if (entry.portLo < 0) return address;
  return entry.portLo === entry.portHi
    ? `${address}:${entry.portLo}`
    : `${address}:${entry.portLo}-${entry.portHi}`;
}

export interface BotList {
  /** Valid entries as canonical lines `bot` or `bot,family` (what Detector.setBots() takes). */
  entries: string[];
  /** Lines that were not a bot: `line N: text`. */
  rejected: string[];
}

const FAMILY = /^[\w.-]{1,64}$/;

/** Parses one bot (and its family): `bot` or, when `family` is not given, a line `bot,family`. */
export function parseBotLine(text: string, family?: string): BotEntry {
  let bot = text;
  if (family === undefined) {
    const cells = splitTrimmed(text);
    bot = cells[0] ?? '';
    family = cells[1] ?? '';
  }
  if (family !== '' && !FAMILY.test(family)) throw new Error(`bad family "${family.slice(0, 40)}"`);
  return parseBotEntry(bot, family);
}

/** The canonical line of an entry: `bot` or `bot,family`. */
export function botLine(entry: BotEntry): string {
  return entry.family ? `${botEntryText(entry)},${entry.family}` : botEntryText(entry);
}

/**
 * Parses a bot list: one bot a line, `#` comments, an optional CSV header naming a `bot` (or
 * `ip`) column and a `family` column; without a header the first column is the bot and the
 * optional second its family. Bot forms are those of parseBotEntry() (README: Bot list).
 */
export function parseBotList(text: string): BotList {
  const lines = meaningfulLines(text);
  const entries: string[] = [];
  const rejected: string[] = [];
  let botColumn = 0;
  let familyColumn = 1;
  let start = 0;
  const header = lines[0] ? splitTrimmed(lines[0].line).map((c) => c.toLowerCase()) : [];
  if (header.includes('bot') || header.includes('ip')) {
    botColumn = header.includes('bot') ? header.indexOf('bot') : header.indexOf('ip');
    familyColumn = header.indexOf('family');
    start = 1;
  }
  for (let i = start; i < lines.length; i++) {
    const { line, number } = lines[i]!;
    const cells = splitTrimmed(line);
    const value = cells[botColumn] ?? '';
    const family = familyColumn >= 0 ? (cells[familyColumn] ?? '') : '';
    try {
      entries.push(botLine(parseBotLine(value, family)));
    } catch {
      rejected.push(`line ${number}: ${line.slice(0, 80)}`);
    }
  }
  return { entries, rejected };
}

export function loadBotList(path: string): BotList {
  return parseBotList(readText(path, 'bot list'));
}

/**
 * Calls `onChange` with the re-read list whenever the file changes (debounced). Read errors are
 * passed to `onError`; the previous list stays in force. Returns a function that stops watching.
 */
export function watchBotList(
  path: string,
  onChange: (list: BotList) => void,
  onError: (error: Error) => void,
  debounceMs = 200,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  const reload = () => {
    timer = undefined;
    try {
      onChange(loadBotList(path));
    } catch (error) {
      onError(error as Error);
    }
  };
  try {
    watcher = watch(path, { persistent: false }, () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(reload, debounceMs);
    });
    watcher.on('error', (error) => onError(error));
  } catch (error) {
    onError(error as Error);
  }
  return () => {
    if (timer) clearTimeout(timer);
    watcher?.close();
  };
}

/**
 * The detector's one bot list from several sources, each replaced on its own when it refreshes
 * (the ISP's file, intel's bot indicators, a remote TAXII collection): `set(source, entries)`
 * hands the merged list (first occurrence of each line kept, in source order) to `apply`.
 */
export class BotListMerge {
  readonly #lists = new Map<string, readonly string[]>();

  /** `sources` in the order their entries come; a source not yet set counts as empty. */
  constructor(
    sources: readonly string[],
    private readonly apply: (entries: string[], counts: Record<string, number>) => void,
  ) {
    for (const source of sources) this.#lists.set(source, []);
  }

  set(source: string, entries: readonly string[]): void {
    this.#lists.set(source, entries);
    this.applyNow();
  }

  /** Hands the current merge to `apply` again. */
  applyNow(): void {
    const counts = Object.fromEntries([...this.#lists].map(([source, list]) => [source, list.length]));
    this.apply(mergeBotLists([...this.#lists.values()]), counts);
  }
}

/**
 * Bot lists joined, each line once (a host named by two sources is one entry). A bare `bot` line
 * gives way to a `bot,family` line of the same host from any source: intel's bot indicators come
 * as bare addresses, and the later bare line would otherwise take the family the ISP's file gave
 * (the detector names a C&C server's family from its bots').
 */
export function mergeBotLists(lists: readonly (readonly string[])[]): string[] {
  const seen = new Set<string>();
  const named = new Set<string>();
  for (const list of lists)
    for (const entry of list) {
      seen.add(entry);
      const comma = entry.indexOf(',');
      if (comma > 0 && comma < entry.length - 1) named.add(entry.slice(0, comma));
    }
  return [...seen].filter((entry) => entry.includes(',') || !named.has(entry));
}

/** Longest-prefix lookup of values by address (IPv4 grouped by prefix length, IPv6 by scan). */
export class PrefixMap<V> {
  private readonly byLength4 = new Map<number, Map<number, V>>();
  private lengths4: number[] = [];
  private readonly list6: { prefix: Prefix; value: V }[] = [];

  set(prefix: Prefix, value: V): void {
    if (prefix.family === 6) {
      this.list6.push({ prefix, value });
      this.list6.sort((a, b) => b.prefix.bits - a.prefix.bits);
      return;
    }
    let map = this.byLength4.get(prefix.bits);
    if (!map) {
      map = new Map();
      this.byLength4.set(prefix.bits, map);
      this.lengths4 = [...this.byLength4.keys()].sort((a, b) => b - a);
    }
    map.set(prefix.network4, value);
  }

  get4(address: number): V | undefined {
    for (const bits of this.lengths4) {
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      const value = this.byLength4.get(bits)!.get((address & mask) >>> 0);
      if (value !== undefined) return value;
    }
    return undefined;
  }

  get6(bytes: Uint8Array, offset = 0): V | undefined {
    for (const { prefix, value } of this.list6) if (prefixContains6(prefix, bytes, offset)) return value;
    return undefined;
  }
}

/** Reads `prefix,asn` lines (a header line is skipped when its asn cell is not a number). */
export function parseAsnTable(text: string, source = 'asn table'): PrefixMap<number> {
  const map = new PrefixMap<number>();
  for (const { line, number } of meaningfulLines(text)) {
    const [prefixText = '', asnText = ''] = splitTrimmed(line);
    const asn = Number(asnText.replace(/^as/i, ''));
    if (!Number.isInteger(asn) || asn < 0) {
      if (number === 1 || /asn/i.test(asnText)) continue;
      throw new InputError(`${source} line ${number}: "${asnText}" is not an AS number`);
    }
    let prefix: Prefix;
    try {
      prefix = parsePrefix(prefixText);
    } catch {
      throw new InputError(`${source} line ${number}: "${prefixText}" is not a prefix`);
    }
    map.set(prefix, asn);
  }
  return map;
}

export function loadAsnTable(path: string): PrefixMap<number> {
  return parseAsnTable(readText(path, 'ASN table'), path);
}

interface FamilyRule {
  prefix: Prefix | undefined;
  port: number;
  proto: number;
  family: string;
}

export function protoName(proto: number): string {
  return protocolName(proto);
}

export function protoNumber(text: string): number {
  const lower = text.toLowerCase();
  for (const [number, name] of Object.entries(PROTOCOL_NAMES)) if (name === lower) return Number(number);
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new Error(`"${text}" is not a protocol`);
  return n;
}

/** Maps a destination to a malware family name from user rules; first matching rule wins. */
export class FamilyMap {
  constructor(private readonly rules: FamilyRule[] = []) {}

  get size(): number {
    return this.rules.length;
  }

  lookup(
    family: 4 | 6,
    ip4: number,
    ip6: Uint8Array,
    ip6Offset: number,
    port: number,
    proto: number,
  ): string {
    for (const rule of this.rules) {
      if (rule.port >= 0 && rule.port !== port) continue;
      if (rule.proto >= 0 && rule.proto !== proto) continue;
      if (rule.prefix) {
        if (family === 4 ? !prefixContains4(rule.prefix, ip4) : !prefixContains6(rule.prefix, ip6, ip6Offset))
          continue;
      }
      return rule.family;
    }
    return '';
  }
}

/** Reads CSV with header `ip,port,proto,family`; ip may be a CIDR; empty cells match anything. */
export function parseFamilyMap(text: string, source = 'family map'): FamilyMap {
  const lines = meaningfulLines(text);
  if (lines.length === 0) return new FamilyMap();
  const header = splitTrimmed(lines[0]!.line).map((c) => c.toLowerCase());
  const col = (name: string) => header.indexOf(name);
  if (col('family') < 0)
    throw new InputError(`${source}: header must name a family column (ip,port,proto,family)`);
  const rules: FamilyRule[] = [];
  for (const { line, number } of lines.slice(1)) {
    const cells = splitTrimmed(line);
    const cell = (name: string) => (col(name) >= 0 ? (cells[col(name)] ?? '') : '');
    const family = cell('family');
    if (!/^[\w.-]{1,64}$/.test(family))
      throw new InputError(`${source} line ${number}: bad family "${family}"`);
    try {
      const port = cell('port') === '' ? -1 : Number(cell('port'));
      if (!Number.isInteger(port) || port > 65535) throw new Error(`"${cell('port')}" is not a port`);
      rules.push({
        prefix: cell('ip') === '' ? undefined : parsePrefix(cell('ip')),
        port,
        proto: cell('proto') === '' ? -1 : protoNumber(cell('proto')),
        family,
      });
    } catch (error) {
      throw new InputError(`${source} line ${number}: ${(error as Error).message}`);
    }
  }
  return new FamilyMap(rules);
}

export function loadFamilyMap(path: string): FamilyMap {
  return parseFamilyMap(readText(path, 'family map'), path);
}
