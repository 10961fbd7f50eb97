/**
 * The `web` section of a configuration file (YAML or JSON), as `start` reads it, for the web
 * commands that build the room themselves (`web score`, `web ingest`, `web takedown ...`): so
 * `web.kitPaths` (which sources confirm, takedowns) means the same to them as to the hub.
 */
import { z } from 'zod';
import { loadConfig } from '../core/index.ts';
import { WebConfig } from '../web/index.ts';
import type { CliContext } from './context.ts';

export const WebFileConfig = z.object({ web: WebConfig.default(WebConfig.parse({})) }).loose();

/** The file's `web` section (its defaults without a file), with `flags` laid over it. */
export function webConfigOf(
  file: string | undefined,
  ctx: Pick<CliContext, 'env'>,
  flags: Record<string, unknown> = {},
): WebConfig {
  return loadConfig(WebFileConfig, { file, env: ctx.env, flags }).web;
}

export const CONFIG_OPTION = [
  '-c, --config <file>',
  'configuration file (YAML or JSON); its web section is read',
] as const;
