/**
 * Which Chromium a command runs (the report's PDF, the web room's page check in a browser): one
 * rule, so the two cannot drift. The first of the places the caller names that gives a path (a
 * flag, a setting), then $TSUNAGI_CHROMIUM, then Debian's package.
 */
import { existsSync } from 'node:fs';
import { UsageError } from './errors.ts';

/** Debian's chromium (the `chromium` package). */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/**
 * The Chromium path. One that is not there is bad input (exit 2), said before any work is done
 * and named by where it came from: a flag or setting of `named`, `$TSUNAGI_CHROMIUM`, or `asking`
 * (the flag that wants a browser) for Debian's.
 */
export function chromiumPath(
  named: readonly { name: string; path: string | undefined }[],
  env: NodeJS.ProcessEnv,
  asking: string,
): string {
  const source = [...named, { name: '$TSUNAGI_CHROMIUM', path: env.TSUNAGI_CHROMIUM }].find(
    (s) => s.path !== undefined,
  );
  const path = source?.path ?? DEFAULT_CHROMIUM;
  if (!existsSync(path)) {
    const howToName = named.map((s) => (s.name.startsWith('--') ? `${s.name} PATH` : s.name)).join(' or ');
    throw new UsageError(
      `${source?.name ?? asking}: no Chromium at ${path} (install Debian's chromium, or name it with ${howToName})`,
    );
  }
  return path;
}
