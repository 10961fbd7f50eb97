/** Small file helpers shared by the components that keep state on disk. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes `text` to `path` through a temporary file and a rename, so a crash mid-write leaves
 * the previous file whole. Creates the directory when missing.
 */
export function writeFileAtomic(path: string, text: string, options: { mode?: number } = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, text, options.mode === undefined ? {} : { mode: options.mode });
  renameSync(temporary, path);
}
