/**
 * The text the matchers read: fullwidth ASCII folded to ASCII (Japanese text writes `ｅｖｉｌ．ｃｏｍ`
 * or `：` as easily as ASCII), invisible format characters inside words dropped (see
 * `separatingZeroWidthSpaces`) and defanged forms put back (`hxxp`, `[.]`, `(.)`, `{.}`, `[dot]`,
 * `[:]`, `[://]`, `[/]`, `[@]`, `[::]` inside an IPv6 address), with a map from each position back
 * to the original text so a hit's context is quoted as written. One regex pass, linear in the text.
 */

/** Refanged text, whether each character came from a defanged form, and where it came from. */
export interface RefangedText {
  text: string;
  /** `origin[i]` is the index in the original text of `text[i]` (length text.length + 1). */
  origin: Int32Array;
  /** 1 where `text[i]` was written defanged (a defanged name is an indicator by intent). */
  defanged: Uint8Array;
}

// Brackets around one separator (`evil [dot] com` too); the schemes defanged by letter swaps; `[::]` only straight
// after a whole group of an IPv6 address (`2a01[:]4f8[::]4`): a listen address (`[::]:443`) or a slice (`s[::]`,
// `x[::2]`) stays as written (a slice on a hex-named variable, `a[::]`, gives `a::`, which is no public address).
const DEFANGED_FORMS =
  ' ?\\[ ?(?:\\.|dot) ?\\] ?|[({] ?(?:\\.|dot) ?[)}]|\\[(?::|:\\/\\/|\\/|@|at)\\]|\\((?::|@|at)\\)|' +
  '\\[::\\](?<=(?<![\\w.])[0-9A-Fa-f]{1,4}\\[::\\])|\\b(?:hxxp|hxtp|htxp)(s?)(?=\\[?:)|\\bfxp(?=\\[?:)';
const DEFANGED = new RegExp(DEFANGED_FORMS, 'gi');

/**
 * Format characters a page puts inside long words so they wrap or to steer rendering, invisible to the reader: soft
 * hyphen (U+00AD, `&shy;`), zero-width space, non-joiner and joiner (U+200B..U+200D), word joiner (U+2060) and the
 * BOM (U+FEFF, a zero-width no-break space). Only the zero-width space can also separate words.
 */
const INVISIBLE_CLASS = '[\\u00ad\\u200b-\\u200d\\u2060\\ufeff]';
// The same pass for a text that holds invisible characters (most do not: they keep the shorter pattern).
const DEFANGED_OR_INVISIBLE = new RegExp(`${DEFANGED_FORMS}|${INVISIBLE_CLASS}`, 'gi');
const ZERO_WIDTH_SPACE = 0x200b;

function replacementOf(match: string, secure: string | undefined): string {
  // An invisible character inside a word is dropped (a separating zero-width space never gets here).
  if (match.length === 1 && isInvisibleCode(match.charCodeAt(0))) return '';
  const lower = match.toLowerCase();
  if (lower.startsWith('fxp')) return 'ftp';
  if (/^(?:hxxp|hxtp|htxp)/.test(lower)) return secure ? 'https' : 'http';
  const inner = lower.replace(/^ ?[[({] ?| ?[\])}] ?$/g, '');
  if (inner === 'dot' || inner === '.') return '.';
  if (inner === 'at' || inner === '@') return '@';
  return inner;
}

/** Folds U+FF01..U+FF5E (fullwidth ASCII) and U+3000 (ideographic space), one code unit each. */
export function foldFullwidth(text: string): string {
  return foldAndFindInvisible(text).folded;
}

/** `foldFullwidth`, noting on the way whether the text holds an invisible format character (most texts do not). */
function foldAndFindInvisible(text: string): { folded: string; hasInvisible: boolean } {
  let out = '';
  let from = 0;
  let hasInvisible = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // ASCII and Latin-1 below the soft hyphen: nothing to fold or note.
    if (code < 0xad) continue;
    let folded = -1;
    if (code >= 0xff01 && code <= 0xff5e) folded = code - 0xfee0;
    else if (code === 0x3000) folded = 0x20;
    // The ideographic full stop between ASCII labels (`evil。com`) is a dot an IME typed.
    else if (code === 0x3002 && isAsciiAlnum(text.charCodeAt(i - 1)) && isAsciiAlnum(text.charCodeAt(i + 1)))
      folded = 0x2e;
    else if (isInvisibleCode(code)) hasInvisible = true;
    if (folded < 0) continue;
    out += text.slice(from, i) + String.fromCharCode(folded);
    from = i + 1;
  }
  return { folded: from === 0 ? text : out + text.slice(from), hasInvisible };
}

function isAsciiAlnum(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

function isWordCode(code: number): boolean {
  return isAsciiAlnum(code) || code === 0x5f;
}

function isHexCode(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

function isInvisibleCode(code: number): boolean {
  return code === 0xad || (code >= 0x200b && code <= 0x200d) || code === 0x2060 || code === 0xfeff;
}

const isDigestLength = (length: number) => length === 32 || length === 40 || length === 64;

/** A word's character, or an invisible one inside a word that is not a zero-width space (a soft hyphen, a joiner). */
const inWord = (code: number) => isWordCode(code) || (isInvisibleCode(code) && code !== ZERO_WIDTH_SPACE);

/**
 * The zero-width spaces that separate words rather than join the parts of one. A page inserts one inside a long word
 * so it can wrap (a hash, a URL), and a reader sees the two sides as one word; but it is also a word separator (a page
 * may list digests with nothing else between them). So a zero-width space between two words (runs of ASCII letters,
 * digits and `_`; other invisible characters inside a word count for nothing) joins them, except in a chain of words
 * joined by zero-width spaces where
 * - the whole chain is one hex run of a digest's length (32, 40, 64) but every word of it is a digest alone
 *   (`<md5>\u200b<md5>`: two MD5s, not a SHA-256), or
 * - the whole chain is not a digest and a word of it is (`<sha1>\u200b<md5>`, `<md5>\u200bsample`): joining would lose it.
 * Then every zero-width space of the chain separates. `<30 hex>\u200b<34 hex>` is one SHA-256, `<20 hex>\u200b<20 hex>` one SHA-1.
 * Next to anything else (a space, punctuation, other scripts) a zero-width space is dropped: it separates nothing
 * the matchers read. Linear: each word is read at most twice (as the last of one chain and the first of the next).
 */
function separatingZeroWidthSpaces(text: string): Set<number> {
  const separating = new Set<number>();
  // Reads the word from `at` (invisible characters other than the zero-width space inside it skipped).
  const wordAt = (at: number) => {
    let length = 0;
    let hex = true;
    let end = at;
    for (; end < text.length; end++) {
      const code = text.charCodeAt(end);
      if (!inWord(code)) break;
      if (isWordCode(code)) {
        length++;
        if (!isHexCode(code)) hex = false;
      }
    }
    return { length, hex, end };
  };
  let scanned = 0;
  for (
    let space = text.indexOf('\u200b');
    space >= 0;
    space = text.indexOf('\u200b', Math.max(space + 1, scanned))
  ) {
    // The word before it starts after what the last chain read (that ended on a character outside words).
    let start = space;
    while (start > scanned && inWord(text.charCodeAt(start - 1))) start--;
    const words = [wordAt(start)];
    const spaces: number[] = [];
    let at = words[0]!.end;
    while (words[words.length - 1]!.length > 0 && text.charCodeAt(at) === ZERO_WIDTH_SPACE) {
      // A run of invisible characters holding zero-width spaces, then the next word.
      let next = at;
      while (next < text.length && isInvisibleCode(text.charCodeAt(next))) next++;
      if (!isWordCode(text.charCodeAt(next))) {
        at = next;
        break;
      }
      for (let i = at; i < next; i++) if (text.charCodeAt(i) === ZERO_WIDTH_SPACE) spaces.push(i);
      const word = wordAt(next);
      words.push(word);
      at = word.end;
    }
    scanned = at;
    if (spaces.length === 0) continue;
    const digests = words.filter((word) => word.hex && isDigestLength(word.length)).length;
    const wholeIsDigest =
      words.every((word) => word.hex) && isDigestLength(words.reduce((n, word) => n + word.length, 0));
    if (wholeIsDigest ? digests === words.length : digests > 0) for (const i of spaces) separating.add(i);
  }
  return separating;
}

export function refang(original: string): RefangedText {
  const { folded, hasInvisible } = foldAndFindInvisible(original);
  // A replacement is never longer than what it replaces, so the input's length bounds the output's.
  const origin = new Int32Array(folded.length + 1);
  const defanged = new Uint8Array(folded.length);
  const parts: string[] = [];
  let length = 0;
  let from = 0;
  const copy = (to: number) => {
    parts.push(folded.slice(from, to));
    for (let i = from; i < to; i++) origin[length++] = i;
  };
  const pattern = hasInvisible ? DEFANGED_OR_INVISIBLE : DEFANGED;
  const separating = pattern === DEFANGED ? undefined : separatingZeroWidthSpaces(folded);
  pattern.lastIndex = 0;
  for (let match = pattern.exec(folded); match; match = pattern.exec(folded)) {
    // A zero-width space between words stays in the text (the matchers' runs end at it).
    if (separating?.has(match.index)) continue;
    copy(match.index);
    const replacement = replacementOf(match[0], match[1]);
    parts.push(replacement);
    for (let i = 0; i < replacement.length; i++) {
      defanged[length] = 1;
      origin[length++] = match.index + Math.min(i, match[0].length - 1);
    }
    from = match.index + match[0].length;
  }
  copy(folded.length);
  origin[length] = folded.length;
  return {
    text: parts.join(''),
    origin: origin.subarray(0, length + 1),
    defanged: defanged.subarray(0, length),
  };
}
