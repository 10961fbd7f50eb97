/**
 * The one C&C list format: `ip,port,proto,confidence,family`, one server a line under that
 * header. `tsunagi detect` writes it, `tsunagi import` reads it and `tsunagi export c2` and the
 * hub's /api/export/c2.csv write it. It holds nothing else (no times, no subscriber addresses:
 * docs/architecture.md, law rule 2). Other formats are asked for by name (`--format`).
 */

export const C2_LIST_HEADER = 'ip,port,proto,confidence,family';

export interface C2ListRow {
  ip: string;
  port: number;
  /** tcp, udp, ... or the protocol number. */
  proto: string;
  /** Left empty for readers who may not see confidence (the public tier). */
  confidence?: number;
  family: string;
}

/** Quotes a cell that holds a comma, quote or line break (RFC 4180). */
export function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function formatC2List(rows: Iterable<C2ListRow>): string {
  let out = `${C2_LIST_HEADER}\n`;
  for (const r of rows)
    out += `${r.ip},${r.port},${csvCell(r.proto)},${r.confidence ?? ''},${csvCell(r.family)}\n`;
  return out;
}
