/**
 * Just enough of an .xlsx reader for the benchmark's benign URL data (ESDAUNG/PhishDataset ships
 * its URLs as Excel workbooks): the ZIP central directory, DEFLATE by node:zlib, the shared
 * strings and the first sheet's cells. Values only (no styles, formulas or dates).
 */
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

function zipEntries(buffer: Buffer): Map<string, Buffer> {
  // The end-of-central-directory record: its signature within the last 64 KiB + 22 bytes.
  let end = -1;
  for (let i = buffer.length - 22; i >= Math.max(0, buffer.length - 65_558); i--)
    if (buffer.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  if (end < 0) throw new Error('not a ZIP file (no end of central directory)');
  const count = buffer.readUInt16LE(end + 10);
  let at = buffer.readUInt32LE(end + 16);
  const entries = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (buffer.readUInt32LE(at) !== 0x02014b50) throw new Error('bad ZIP central directory');
    const method = buffer.readUInt16LE(at + 10);
    const size = buffer.readUInt32LE(at + 20);
    const nameLength = buffer.readUInt16LE(at + 28);
    const extraLength = buffer.readUInt16LE(at + 30);
    const commentLength = buffer.readUInt16LE(at + 32);
    const local = buffer.readUInt32LE(at + 42);
    const name = buffer.toString('utf8', at + 46, at + 46 + nameLength);
    const dataAt = local + 30 + buffer.readUInt16LE(local + 26) + buffer.readUInt16LE(local + 28);
    const raw = buffer.subarray(dataAt, dataAt + size);
    if (method === 0) entries.set(name, raw);
    else if (method === 8) entries.set(name, inflateRawSync(raw));
    else throw new Error(`ZIP entry ${name}: compression method ${method} not read`);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-f]+|#[0-9]+);/gi, (_, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    return String.fromCodePoint(
      e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10),
    );
  });
}

/** The first sheet's rows, each an array of cell texts by column (A = 0). */
export function readXlsxRows(file: string): string[][] {
  const entries = zipEntries(readFileSync(file));
  const shared: string[] = [];
  const sst = entries.get('xl/sharedStrings.xml')?.toString('utf8') ?? '';
  for (const si of sst.matchAll(/<si>([\s\S]*?)<\/si>/g))
    shared.push(
      unescapeXml([...si[1]!.matchAll(/<t(?: [^>]*)?>([\s\S]*?)<\/t>/g)].map((t) => t[1]).join('')),
    );
  const sheet = entries.get('xl/worksheets/sheet1.xml')?.toString('utf8');
  if (sheet === undefined) throw new Error(`${file} has no first sheet`);
  const rows: string[][] = [];
  for (const row of sheet.matchAll(/<row[^>]*>([\s\S]*?)<\/row>/g)) {
    const cells: string[] = [];
    for (const c of row[1]!.matchAll(/<c r="([A-Z]+)\d+"([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
      const column = [...c[1]!].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0) - 1;
      const value = /<v>([\s\S]*?)<\/v>/.exec(c[3] ?? '')?.[1];
      const inline = /<t(?: [^>]*)?>([\s\S]*?)<\/t>/.exec(c[3] ?? '')?.[1];
      const type = /t="([^"]+)"/.exec(c[2]!)?.[1];
      cells[column] =
        type === 's' && value !== undefined
          ? (shared[Number(value)] ?? '')
          : unescapeXml(value ?? inline ?? '');
    }
    rows.push(Array.from(cells, (v) => v ?? ''));
  }
  return rows;
}
