/**
 * Documents as text for the extractor: HTML through htmlparser2 (scripts and styles dropped,
 * block elements on their own lines, table cells separated by tabs so a port column stays a
 * column), PDF through poppler's pdftotext, anything else as UTF-8 text.
 */
import { execFile } from 'node:child_process';
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

export function pdfToText(bytes: Uint8Array, options: PdfOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      options.command,
      ['-q', '-enc', 'UTF-8', '-', '-'],
      { timeout: options.timeoutMs, maxBuffer: options.maxOutputBytes, encoding: 'utf8' },
      (error, stdout) => {
        if (error) {
          const why =
            (error as NodeJS.ErrnoException).code === 'ENOENT'
              ? `${options.command} not found`
              : 'unreadable PDF';
          reject(new DocumentError(`${why}: ${error.message.split('\n')[0]!.slice(0, 160)}`));
        } else resolve(stdout);
      },
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(bytes);
  });
}

export async function readDocument(bytes: Uint8Array, hint: string, pdf: PdfOptions): Promise<DocumentText> {
  const kind = documentKind(bytes, hint);
  if (kind === 'pdf') return { kind, title: '', text: await pdfToText(bytes, pdf) };
  const text = new TextDecoder('utf-8').decode(bytes);
  if (kind === 'html') return { kind, ...htmlToText(text) };
  return { kind, title: '', text };
}
