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

interface OpenTable {
  separator: Separator;
  column: number;
}

function headerOf(line: string): OpenTable | undefined {
  for (const separator of SEPARATORS) {
    if (!line.includes(separator)) continue;
    const column = cellsOf(line, separator).findIndex((cell) => PORT_HEADER.test(cell));
    if (column >= 0) return { separator, column };
  }
  return undefined;
}

export function portColumnRows(text: string): Map<number, number> {
  const rows = new Map<number, number>();
  let table: OpenTable | undefined;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    const header = line.length <= 4096 ? headerOf(line) : undefined;
    if (header) table = header;
    else if (table && line.includes(table.separator)) {
      const port = portOf(cellsOf(line, table.separator)[table.column]);
      if (port !== undefined) rows.set(start, port);
    } else if (table && line.trim() !== '' && !/^\s*\|===\s*$/.test(line)) table = undefined;
    start = end + 1;
  }
  return rows;
}
