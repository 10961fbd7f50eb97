/** Reading and writing findings as JSON lines; every line read is checked against the Finding schema. */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/index.ts';
import { Finding } from './types.ts';

export function formatFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `${JSON.stringify(f)}\n`).join('');
}

/** Parses a findings JSONL file; a bad line is an InputError naming the line. */
export function readFindings(path: string): Finding[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read findings ${path}: ${(error as Error).message}`);
  }
  const out: Finding[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new InputError(`${path} line ${i + 1}: not JSON`);
    }
    const parsed = Finding.safeParse(raw);
    if (!parsed.success) {
      throw new InputError(
        `${path} line ${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`,
      );
    }
    out.push(parsed.data);
  }
  return out;
}
