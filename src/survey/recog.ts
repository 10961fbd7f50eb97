/** Rapid7 recog fingerprint databases: loading the XML, translating Ruby regexes to JS, matching banners. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseXml } from './xml.ts';

export interface RecogParam {
  /** 0: a fixed value; n > 0: capture group n of the pattern. */
  pos: number;
  name: string;
  value: string;
}

export interface RecogExample {
  text: string;
  /** Expected params (attributes without a leading underscore). */
  expect: Record<string, string>;
}

export interface RecogFingerprint {
  /** `file.xml#index`: stable enough to cite as evidence. */
  id: string;
  description: string;
  regex: RegExp;
  params: RecogParam[];
  examples: RecogExample[];
}

export interface RecogDatabase {
  /** The file name without extension, e.g. `telnet_banners`. */
  name: string;
  /** The `matches` or `protocol` attribute of the root element. */
  matches: string;
  fingerprints: RecogFingerprint[];
  /** Fingerprints skipped because their pattern cannot run in JS, with the reason. */
  skipped: { id: string; reason: string }[];
}

export interface RecogMatch {
  fingerprint: string;
  description: string;
  params: Record<string, string>;
}

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\s',
  xdigit: '0-9A-Fa-f',
  punct: '!-\\/:-@\\[-`{-~',
  print: ' -~',
  word: '\\w',
};

/**
 * Ruby (Onigmo) to JS: recog patterns use `(?i)`/`(?m)` prefixes, `\A \z \Z \h`, possessive
 * quantifiers, atomic groups and POSIX classes. Ruby's `^ $` always work per line (JS flag m);
 * Ruby's multiline mode is JS dotAll (flag s).
 */
export function translatePattern(pattern: string, flagNames: string[] = []): RegExp {
  let flags = 'm';
  let source = pattern;
  for (;;) {
    const inline = /^\(\?([imx]+)\)/.exec(source);
    if (!inline) break;
    if (inline[1]!.includes('i') && !flags.includes('i')) flags += 'i';
    if (inline[1]!.includes('m') && !flags.includes('s')) flags += 's';
    if (inline[1]!.includes('x')) throw new Error('extended (?x) patterns are not supported');
    source = source.slice(inline[0].length);
  }
  for (const flag of flagNames) {
    if (flag === 'REG_ICASE' && !flags.includes('i')) flags += 'i';
    if ((flag === 'REG_MULTILINE' || flag === 'REG_DOT_NEWLINE') && !flags.includes('s')) flags += 's';
  }
  // '.' is written as U+FFFF first and resolved once all flags are known.
  if (source.includes('\uFFFF')) throw new Error('pattern holds U+FFFF');
  let out = '';
  let inClass = false;
  let lastWasQuantifier = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[i + 1];
      if (next === undefined) throw new Error('pattern ends with a backslash');
      i++;
      lastWasQuantifier = false;
      if (next === 'h') out += inClass ? '0-9A-Fa-f' : '[0-9A-Fa-f]';
      else if (next === 'H')
        out += inClass ? '\\x00-\\x2f\\x3a-\\x40\\x47-\\x60\\x67-\\uffff' : '[^0-9A-Fa-f]';
      else if (!inClass && next === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && next === 'z') out += '(?![\\s\\S])';
      else if (!inClass && next === 'Z') out += '(?=\\n?(?![\\s\\S]))';
      else if (!inClass && next === 'G') throw new Error('\\G is not supported');
      else out += `\\${next}`;
      continue;
    }
    if (inClass) {
      if (c === '[' && source[i + 1] === ':') {
        const end = source.indexOf(':]', i + 2);
        const name = end > 0 ? source.slice(i + 2, end) : '';
        const negated = name.startsWith('^');
        const cls = POSIX_CLASSES[negated ? name.slice(1) : name];
        if (cls && !negated) {
          out += cls;
          i = end + 1;
          continue;
        }
        throw new Error(`POSIX class [:${name}:] is not supported`);
      }
      if (c === '[') out += '\\[';
      else {
        if (c === ']') inClass = false;
        out += c;
      }
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // A leading ']' (or '^]') is a literal in Ruby.
      if (source[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (source[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      lastWasQuantifier = false;
      continue;
    }
    if (c === '(' && source.startsWith('(?>', i)) {
      out += '(?:';
      i += 2;
      lastWasQuantifier = false;
      continue;
    }
    const scoped = c === '(' ? /^\(\?([imx]+)(?:-[imx]+)?[:)]/.exec(source.slice(i, i + 8)) : null;
    if (scoped) {
      // Node 20 has no scoped modifiers: widen them to the whole pattern (may match a little more).
      if (scoped[1]!.includes('x')) throw new Error('extended (?x:) groups are not supported');
      if (scoped[1]!.includes('i') && !flags.includes('i')) flags += 'i';
      if (scoped[1]!.includes('m') && !flags.includes('s')) flags += 's';
      if (scoped[0].endsWith(':')) out += '(?:';
      i += scoped[0].length - 1;
      lastWasQuantifier = false;
      continue;
    }
    if (c === '(' && source.startsWith('(?#', i)) {
      const end = source.indexOf(')', i);
      i = end < 0 ? source.length : end;
      continue;
    }
    if ((c === '+' || c === '*' || c === '?' || c === '}') && !(c === '?' && out.endsWith('('))) {
      // A '+' straight after a quantifier is Ruby's possessive form; JS has none, so drop it.
      if (c === '+' && lastWasQuantifier) {
        lastWasQuantifier = false;
        continue;
      }
      out += c;
      lastWasQuantifier = c !== '?' || !lastWasQuantifier;
      continue;
    }
    lastWasQuantifier = false;
    // Ruby's '.' is anything but \n (JS also stops at \r and U+2028/9).
    out += c === '.' ? '\uFFFF' : c;
  }
  return new RegExp(out.replaceAll('\uFFFF', flags.includes('s') ? '[\\s\\S]' : '[^\\n]'), flags);
}

function interpolate(value: string, params: Record<string, string>): string | undefined {
  let missing = false;
  const text = value.replace(/\{([^\s{}]+)\}/g, (_, name: string) => {
    const got = params[name];
    if (got === undefined) missing = true;
    return got ?? '';
  });
  return missing ? undefined : text;
}

/** Applies one fingerprint; undefined when its pattern does not match. */
export function applyFingerprint(
  fingerprint: RecogFingerprint,
  text: string,
): Record<string, string> | undefined {
  const m = fingerprint.regex.exec(text);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const templated: RecogParam[] = [];
  for (const p of fingerprint.params) {
    if (p.pos > 0) {
      const captured = m[p.pos];
      if (captured !== undefined) params[p.name] = captured;
    } else if (p.value.includes('{')) templated.push(p);
    else params[p.name] = p.value;
  }
  for (const p of templated) {
    const value = interpolate(p.value, params);
    if (value !== undefined) params[p.name] = value;
  }
  return params;
}

/** Loads one recog XML file. Patterns JS cannot run are listed in `skipped`, not thrown. */
export function loadRecogFile(path: string): RecogDatabase {
  const root = parseXml(readFileSync(path, 'utf8'));
  if (root.name !== 'fingerprints')
    throw new Error(`${path}: root element is <${root.name}>, expected <fingerprints>`);
  const name = path.replace(/^.*[\\/]/, '').replace(/\.xml$/, '');
  const db: RecogDatabase = {
    name,
    matches: root.attributes.matches ?? root.attributes.protocol ?? name,
    fingerprints: [],
    skipped: [],
  };
  let index = 0;
  for (const element of root.children) {
    if (element.name !== 'fingerprint') continue;
    const id = `${name}#${index++}`;
    const pattern = element.attributes.pattern;
    if (pattern === undefined) {
      db.skipped.push({ id, reason: 'no pattern attribute' });
      continue;
    }
    let regex: RegExp;
    try {
      regex = translatePattern(pattern, (element.attributes.flags ?? '').split(',').filter(Boolean));
    } catch (error) {
      db.skipped.push({ id, reason: (error as Error).message });
      continue;
    }
    const params: RecogParam[] = [];
    const examples: RecogExample[] = [];
    let description = '';
    for (const child of element.children) {
      if (child.name === 'description') description = child.text.trim().replace(/\s+/g, ' ');
      else if (child.name === 'param') {
        params.push({
          pos: Number(child.attributes.pos ?? 0),
          name: child.attributes.name ?? '',
          value: child.attributes.value ?? '',
        });
      } else if (child.name === 'example') {
        const expect: Record<string, string> = {};
        for (const [key, value] of Object.entries(child.attributes))
          if (!key.startsWith('_')) expect[key] = value;
        const text =
          child.attributes._encoding === 'base64'
            ? Buffer.from(child.text.trim(), 'base64').toString('latin1')
            : child.text;
        examples.push({ text, expect });
      }
    }
    db.fingerprints.push({ id, description, regex, params, examples });
  }
  return db;
}

/**
 * A set of recog databases keyed by file name (e.g. `telnet_banners`, `http_servers`). recog
 * ships 51 files (about 0.7 s to parse them all); `open` reads each one the first time a probe
 * asks for it, so a survey pays only for the protocols it speaks.
 */
export class Recog {
  readonly #loaded = new Map<string, RecogDatabase>();

  private constructor(
    private readonly dir: string,
    private readonly available: ReadonlySet<string>,
  ) {}

  /** Every `.xml` file of `dir`, parsed on first use. Throws when `dir` cannot be listed. */
  static open(dir: string): Recog {
    const names = readdirSync(dir)
      .filter((f) => f.endsWith('.xml'))
      .map((f) => f.slice(0, -'.xml'.length));
    return new Recog(dir, new Set(names));
  }

  /** Parses the named files (without `.xml`) now, or every `.xml` file of `dir` when `names` is empty. */
  static load(dir: string, names: readonly string[] = []): Recog {
    const recog = Recog.open(dir);
    for (const name of names.length > 0 ? names : recog.names) {
      if (!recog.database(name)) throw new Error(`${join(dir, `${name}.xml`)}: no such recog file`);
    }
    return recog;
  }

  /** The file names (without `.xml`) this set can serve, sorted. */
  get names(): string[] {
    return [...this.available].sort();
  }

  /** The parsed database `name`, read on first call; undefined when there is no such file. */
  database(name: string): RecogDatabase | undefined {
    let db = this.#loaded.get(name);
    if (!db && this.available.has(name)) {
      db = loadRecogFile(join(this.dir, `${name}.xml`));
      this.#loaded.set(name, db);
    }
    return db;
  }

  /** The databases parsed so far, by name. */
  get databases(): ReadonlyMap<string, RecogDatabase> {
    return this.#loaded;
  }

  /** First fingerprint of database `name` that matches `text` (recog order: first match wins). */
  match(name: string, text: string): RecogMatch | undefined {
    const db = this.database(name);
    if (!db) return undefined;
    for (const fp of db.fingerprints) {
      const params = applyFingerprint(fp, text);
      if (params) return { fingerprint: fp.id, description: fp.description, params };
    }
    return undefined;
  }
}
