/**
 * ASCII character classes by UTF-16 code, shared by the scorer's hand-written scans (lexicon,
 * host-name, host-context and path features). Each is one range test that V8 inlines where it is
 * called, so a scan reads the same as with the comparison written out.
 */

/** `0`..`9`. */
export function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** Whether the character at `i` is `0`..`9`. */
export function isDigitAt(text: string, i: number): boolean {
  return isDigit(text.charCodeAt(i));
}

/** `a`..`z`. */
export function isLower(code: number): boolean {
  return code >= 0x61 && code <= 0x7a;
}

/** `A`..`Z`. */
export function isUpper(code: number): boolean {
  return code >= 0x41 && code <= 0x5a;
}

/** `a`..`z` or `0`..`9`: a character of a token (of a lower-cased text). */
export function isLowerOrDigit(code: number): boolean {
  return isLower(code) || isDigit(code);
}

/** The code lower-cased when it is `A`..`Z`, else as it is. */
export function asciiLower(code: number): number {
  return isUpper(code) ? code + 0x20 : code;
}
