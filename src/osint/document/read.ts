/**
 * Documents as text for the extractor: HTML through htmlparser2 (scripts and styles dropped,
 * block elements on their own lines, table cells separated by tabs so a port column stays a
 * column), PDF through poppler's pdftotext, anything else as text in its encoding (`decodeText`).
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { Parser } from 'htmlparser2';
import { InputError } from '../../core/index.ts';

export type DocumentKind = 'html' | 'pdf' | 'text';

export interface DocumentText {
  kind: DocumentKind;
  title: string;
  text: string;
}

/** A PDF that pdftotext could not read (or pdftotext missing): bad input, exit 2 at the CLI. */
export class DocumentError extends InputError {}

/** The kind from the content first (a PDF's magic, an HTML start), then the name or media type. */
export function documentKind(bytes: Uint8Array, hint = ''): DocumentKind {
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  if (head.startsWith('%PDF-')) return 'pdf';
  if (/^\s*(?:<!doctype html|<html|<head|<body|<meta|<!--)/i.test(head)) return 'html';
  const lower = hint.toLowerCase();
  if (/\.x?html?$|text\/html|application\/xhtml/.test(lower)) return 'html';
  if (/\.pdf$|application\/pdf/.test(lower)) return 'pdf';
  return 'text';
}

const SKIPPED = new Set(['script', 'style', 'noscript', 'template', 'svg', 'head']);
const BLOCKS = new Set([
  'p',
  'div',
  'br',
  'li',
  'ul',
  'ol',
  'tr',
  'table',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'pre',
  'blockquote',
  'section',
  'article',
  'header',
  'footer',
  'dt',
  'dd',
  'hr',
  'figure',
  'figcaption',
  'caption',
  'thead',
  'tbody',
]);

export function htmlToText(html: string): { title: string; text: string } {
  const out: string[] = [];
  let skipping = 0;
  let inTitle = false;
  let title = '';
  // Cells of a row are joined by tabs, so every row starts at its first cell like its header.
  let cellsInRow = 0;
  const parser = new Parser(
    {
      onopentag(name) {
        if (name === 'title') inTitle = true;
        else if (SKIPPED.has(name)) skipping++;
        else if (name === 'td' || name === 'th') out.push(cellsInRow++ > 0 ? '\t' : '\n');
        else if (BLOCKS.has(name)) {
          if (name === 'tr') cellsInRow = 0;
          out.push('\n');
        }
      },
      ontext(text) {
        if (inTitle) title += text;
        else if (skipping === 0) out.push(text);
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
        else if (SKIPPED.has(name)) skipping = Math.max(0, skipping - 1);
        else if (BLOCKS.has(name)) out.push('\n');
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  const text = out
    .join('')
    .replace(/[ \f\r\v\u00a0]+/g, (space) => (space.includes('\u00a0') ? ' ' : space.replace(/\r/g, '')))
    .replace(/\n[\t ]*\n[\s]*/g, '\n\n');
  return { title: title.trim().replace(/\s+/g, ' '), text };
}

export interface PdfOptions {
  /** The pdftotext program (poppler-utils). */
  command: string;
  timeoutMs: number;
  maxOutputBytes: number;
}

/** pdftotext's exit codes (poppler's man page) in words. */
const PDFTOTEXT_EXITS: Record<number, string> = {
  1: 'pdftotext could not open it',
  3: 'its permissions forbid copying its text',
};

/** Why pdftotext gave no text, in words (its command line says nothing to a reader). */
function pdfFailure(error: ExecFileException, options: PdfOptions): string {
  if (error.code === 'ENOENT') return `${options.command} not found (poppler-utils)`;
  if (error.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
    return `PDF text longer than ${options.maxOutputBytes} bytes`;
  if (error.killed) return `pdftotext gave no text within ${options.timeoutMs} ms`;
  if (typeof error.code === 'number')
    return `unreadable PDF (${PDFTOTEXT_EXITS[error.code] ?? 'pdftotext failed'}, exit ${error.code})`;
  return `unreadable PDF (pdftotext ${error.signal ? `killed by ${error.signal}` : 'failed'})`;
}

export function pdfToText(bytes: Uint8Array, options: PdfOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      options.command,
      ['-q', '-enc', 'UTF-8', '-', '-'],
      { timeout: options.timeoutMs, maxBuffer: options.maxOutputBytes, encoding: 'utf8' },
      (error, stdout) => {
        if (error) reject(new DocumentError(pdfFailure(error, options)));
        else resolve(stdout);
      },
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(bytes);
  });
}

/** A TextDecoder for a WHATWG encoding label (`Shift_JIS`, `x-sjis`, `EUC-JP`...), or none. */
function decoderFor(label: string, fatal = false): TextDecoder | undefined {
  try {
    return new TextDecoder(label.trim().toLowerCase(), { fatal });
  } catch {
    return undefined; // an unknown label: as if none were declared
  }
}

/** The charset a document declares: its media type's, else its own (`<meta charset>`, `<?xml encoding>`). */
function declaredCharset(bytes: Uint8Array, hint: string): string | undefined {
  const fromType = /charset\s*=\s*["']?([\w.:-]+)/i.exec(hint)?.[1];
  if (fromType) return fromType;
  const head = Buffer.from(bytes.subarray(0, 4096)).toString('latin1');
  return (
    /<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)/i.exec(head)?.[1] ??
    /<meta[^>]*\bcharset\s*=\s*["']?([\w.:-]+)/i.exec(head)?.[1]
  );
}

/**
 * Bytes as text in the encoding they are written in: a byte-order mark, else the declared
 * charset, else UTF-8 when they are valid UTF-8, else the Japanese legacy encodings many
 * Japanese sites and files still use (Shift_JIS, EUC-JP) when the bytes are valid in one, else
 * UTF-8 with replacement characters.
 */
export function decodeText(bytes: Uint8Array, hint = ''): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return new TextDecoder('utf-8').decode(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  const declared = declaredCharset(bytes, hint);
  const decoder = declared ? decoderFor(declared) : undefined;
  if (decoder) return decoder.decode(bytes);
  const strict = (label: string) => {
    try {
      return decoderFor(label, true)!.decode(bytes);
    } catch {
      return undefined; // not valid in this encoding
    }
  };
  const utf8 = strict('utf-8');
  if (utf8 !== undefined) return utf8;
  // EUC-JP's kana and kanji bytes are also valid Shift_JIS as half-width katakana, which Japanese
  // prose hardly uses: of the encodings the bytes are valid in, the one with fewest of those.
  const halfwidth = (text: string) => text.match(/[\uff61-\uff9f]/g)?.length ?? 0;
  const legacy = ['shift_jis', 'euc-jp']
    .map(strict)
    .filter((text): text is string => text !== undefined)
    .sort((a, b) => halfwidth(a) - halfwidth(b));
  if (legacy[0] !== undefined) return legacy[0];
  return new TextDecoder('utf-8').decode(bytes);
}

export async function readDocument(bytes: Uint8Array, hint: string, pdf: PdfOptions): Promise<DocumentText> {
  const kind = documentKind(bytes, hint);
  if (kind === 'pdf') return { kind, title: '', text: await pdfToText(bytes, pdf) };
  const text = decodeText(bytes, hint);
  if (kind === 'html') return { kind, ...htmlToText(text) };
  return { kind, title: '', text };
}
