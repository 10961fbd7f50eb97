/**
 * The text the matchers read: fullwidth ASCII folded to ASCII (Japanese text writes `ｅｖｉｌ．ｃｏｍ`
 * or `：` as easily as ASCII) and defanged forms put back (`hxxp`, `[.]`, `(.)`, `{.}`, `[dot]`,
 * `[:]`, `[://]`, `[/]`, `[@]`), with a map from each position back to the original text so a
 * hit's context is quoted as written. One regex pass, linear in the text.
 */

/** Refanged text, whether each character came from a defanged form, and where it came from. */
export interface RefangedText {
  text: string;
  /** `origin[i]` is the index in the original text of `text[i]` (length text.length + 1). */
  origin: Int32Array;
  /** 1 where `text[i]` was written defanged (a defanged name is an indicator by intent). */
  defanged: Uint8Array;
}

// Brackets around one separator (`evil [dot] com` too); the schemes defanged by letter swaps.
const DEFANGED =
  / ?\[ ?(?:\.|dot) ?\] ?|[({] ?(?:\.|dot) ?[)}]|\[(?::|:\/\/|\/|@|at)\]|\((?::|@|at)\)|\b(?:hxxp|hxtp|htxp)(s?)(?=\[?:)|\bfxp(?=\[?:)/gi;

function replacementOf(match: string, secure: string | undefined): string {
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
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    let folded = -1;
    if (code >= 0xff01 && code <= 0xff5e) folded = code - 0xfee0;
    else if (code === 0x3000) folded = 0x20;
    // The ideographic full stop between ASCII labels (`evil。com`) is a dot an IME typed.
    else if (code === 0x3002 && isAsciiAlnum(text.charCodeAt(i - 1)) && isAsciiAlnum(text.charCodeAt(i + 1)))
      folded = 0x2e;
    if (folded < 0) continue;
    out += text.slice(from, i) + String.fromCharCode(folded);
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

function isAsciiAlnum(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

export function refang(original: string): RefangedText {
  const folded = foldFullwidth(original);
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
  DEFANGED.lastIndex = 0;
  for (let match = DEFANGED.exec(folded); match; match = DEFANGED.exec(folded)) {
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
