/**
 * Ports written in a table's own column (`| IP | Port |`, tab- or comma-separated rows, HTML
 * tables as the document reader lays them out: cells by tabs, rows by lines). The result maps
 * the start offset of each row under such a header to the port in that row.
 */

const SEPARATORS = ['|', '\t', ','] as const;
type Separator = (typeof SEPARATORS)[number];

const PORT_HEADER =
  /^(?:(?:dst|dest(?:ination)?|remote|server|c2|c&c|listening)[ _-]?)?ports?(?:[ _-]?(?:number|no\.?))?$|^(?:宛先|通信先|接続先)?ポート(?:番号)?$/i;
/** Decoration around a cell's text: markdown emphasis and code, AsciiDoc passthrough `+…+`. */
const DECORATION = /^[\s`*_+"']+|[\s`*_+"']+$/g;

function cellsOf(line: string, separator: Separator): string[] {
  return line.split(separator).map((cell) => cell.replace(DECORATION, ''));
}

function portOf(cell: string | undefined): number | undefined {
  if (cell === undefined || !/^\d{1,5}$/.test(cell)) return undefined;
  const port = Number(cell);
  return port >= 1 && port <= 65535 ? port : undefined;
}

export interface OpenTable {
  separator: Separator;
  column: number;
}

function headerOf(line: string, header: RegExp): OpenTable | undefined {
  for (const separator of SEPARATORS) {
    if (!line.includes(separator)) continue;
    const column = cellsOf(line, separator).findIndex((cell) => header.test(cell));
    if (column >= 0) return { separator, column };
  }
  return undefined;
}

/**
 * The start offset of each row under a header with a column `header` names, with that table's separator and column. A
 * line that `notHeader` matches is never a header (a key and its value on one row).
 */
export function columnRows(text: string, header: RegExp, notHeader?: RegExp): Map<number, OpenTable> {
  const rows = new Map<number, OpenTable>();
  let table: OpenTable | undefined;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    const found = line.length <= 4096 && !notHeader?.test(line) ? headerOf(line, header) : undefined;
    if (found) table = found;
    else if (table && line.includes(table.separator)) rows.set(start, table);
    else if (table && line.trim() !== '' && !/^\s*\|===\s*$/.test(line)) table = undefined;
    start = end + 1;
  }
  return rows;
}

export function portColumnRows(text: string): Map<number, number> {
  const rows = new Map<number, number>();
  for (const [start, table] of columnRows(text, PORT_HEADER)) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const port = portOf(cellsOf(text.slice(start, end), table.separator)[table.column]);
    if (port !== undefined) rows.set(start, port);
  }
  return rows;
}

/** A column of secrets (`Backdoor password`, `パスワード`): a hash in it digests a password, not a file. */
export const SECRET_HEADER = /\b(?:password|passwd|passphrase)s?\b|パスワード/i;

/**
 * A column of certificate or key fingerprints (`Fingerprint`, `Thumbprint (SHA-1)`, `Certificate thumbprint`): a hash in
 * it digests a certificate, not a file. The whole cell must be the label, so prose split at its commas opens no table.
 */
export const FINGERPRINT_HEADER =
  /^(?:(?:code[- ]?signing|signing|signer|ssl|tls|x\.?509|ca|certificate|cert\.?)\s+)*(?:thumbprint|fingerprint)s?(?:\s*\((?:sha-?1|sha-?256|md5)\))?$|^(?:証明書の?)?(?:拇印|フィンガープリント)$/i;

/**
 * A column of legitimate files' digests (`Possible legitimate SHA-1`, `Clean hash`, `正規ファイルの SHA-256`), beside the
 * trojanised ones an advisory lists: a hash in it names a file no one should block.
 */
export const LEGITIMATE_HEADER =
  /\b(?:legitimate|legit|clean|benign)\b.*\b(?:sha-?(?:1|256)|md5|hash(?:es)?)\b|正規.*(?:ハッシュ|sha-?(?:1|256)|md5)/i;

/**
 * A column of an anti-malware verdict (`Detection`, `ESET detection name`): a row whose verdict says the file is clean
 * lists a legitimate file (the signed executable a malicious DLL is side-loaded into), not one of the threat.
 */
export const DETECTION_HEADER = /^(?:(?:eset|av|anti-?virus)\s+)?(?:detection(?:\s+names?)?|verdict)$/i;

/** A verdict cell that says the file is not malicious. */
export const CLEAN_VERDICT = /^(?:clean|benign|legitimate|not malicious)$/i;

/** The start offsets of the rows (of tables `columnRows` finds under `header`) whose cell in that column `cell` matches. */
export function rowsWithCell(text: string, header: RegExp, cell: RegExp): Set<number> {
  const rows = new Set<number>();
  for (const [start, table] of columnRows(text, header)) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const value = cellsOf(text.slice(start, end), table.separator)[table.column];
    if (value !== undefined && cell.test(value)) rows.add(start);
  }
  return rows;
}

/**
 * Whether an offset lies in the column of the table whose row holds it, for the rows `columnRows` found. Offsets come
 * in increasing order (the matchers' hits), so the count of separators goes on from where the last offset on the same
 * row left it: a long row with many hits is read once, not once per hit.
 */
export class ColumnReader {
  private row = -1;
  private readUpTo = 0;
  private cell = 0;

  constructor(
    private readonly text: string,
    private readonly rows: Map<number, OpenTable>,
  ) {}

  /** Whether `offset`, on the line starting at `rowStart`, is in the column of a table `rows` has that row of. */
  inColumn(rowStart: number, offset: number): boolean {
    const table = this.rows.get(rowStart);
    if (table === undefined) return false;
    if (rowStart !== this.row || offset < this.readUpTo) {
      this.row = rowStart;
      this.readUpTo = rowStart;
      this.cell = 0;
    }
    for (; this.readUpTo < offset; this.readUpTo++)
      if (this.text[this.readUpTo] === table.separator) this.cell++;
    return this.cell === table.column;
  }
}
