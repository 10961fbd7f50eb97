/**
 * What the sensor says it runs, for the centre's allow-list at enrolment: the SHA-256 of the
 * bundle file when it runs as the bundle `npm run build:sensor` made, or `source:<sha256>` of its
 * sources when it runs from a checkout (accepted only by a centre configured for development).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set to true by the bundle build (esbuild `define`); false when running from the sources. */
declare const TSUNAGI_SENSOR_BUNDLE: boolean | undefined;

export function isBundle(): boolean {
  return typeof TSUNAGI_SENSOR_BUNDLE !== 'undefined' && TSUNAGI_SENSOR_BUNDLE;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(path);
  }
  return files;
}

/** SHA-256 over the sensor's sources and the protocol module: each relative path, a NUL, its bytes. */
export function sourceDigest(repoRoot: string): string {
  const files = [...sourceFiles(join(repoRoot, 'sensor')), join(repoRoot, 'src', 'sensor', 'protocol.ts')]
    .map((file) => relative(repoRoot, file).split('\\').join('/'))
    .sort();
  const hash = createHash('sha256');
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(repoRoot, file)))
      .update('\0');
  return hash.digest('hex');
}

export function runningDigest(): string {
  const here = fileURLToPath(import.meta.url);
  if (isBundle()) return sha256File(here);
  return `source:${sourceDigest(join(dirname(here), '..'))}`;
}
