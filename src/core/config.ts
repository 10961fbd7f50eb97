/**
 * Configuration loading: defaults from each component's zod schema, then a YAML or JSON file,
 * then TSUNAGI_* environment variables, then command-line flags, each overriding the last.
 *
 * Environment names nest with a double underscore: TSUNAGI_FLOW__LISTEN=0.0.0.0:2055 sets
 * `flow.listen`. Values are read as JSON when they parse as JSON (numbers, booleans, arrays),
 * otherwise as strings.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UsageError } from './errors.ts';

export type Overrides = Record<string, unknown>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep-merges `source` into a copy of `target`; arrays and scalars replace. */
export function mergeDeep(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(source)) {
    const existing = out[key];
    out[key] = isPlainObject(existing) && isPlainObject(value) ? mergeDeep(existing, value) : value;
  }
  return out;
}

/** Sets `a.b.c` in `object` to `value`, creating objects on the way. */
export function setPath(object: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = object;
  for (const key of keys.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

function camelCase(text: string): string {
  return text.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function parseScalar(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** TSUNAGI_FLOW__LISTEN_PORTS=[2055] -> { flow: { listenPorts: [2055] } } */
export function overridesFromEnv(env: NodeJS.ProcessEnv, prefix = 'TSUNAGI_'): Overrides {
  const out: Overrides = {};
  // Variables that name a connection, not a config key, are read by their owners directly.
  const reserved = new Set(['TSUNAGI_CONFIG', 'TSUNAGI_DATABASE_URL', 'TSUNAGI_NATS_URL', 'TSUNAGI_DATA']);
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(prefix) || value === undefined || reserved.has(name)) continue;
    const path = name.slice(prefix.length).split('__').map(camelCase).join('.');
    if (path) setPath(out, path, parseScalar(value));
  }
  return out;
}

/** Why a configuration file could not be read, in words rather than the system call's text. */
const READ_FAILURES: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'a directory, not a file',
  EACCES: 'permission denied',
  ENOTDIR: 'a part of the path is not a directory',
};

export function readConfigFile(path: string): Overrides {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new UsageError(`cannot read config file ${path}: ${(code && READ_FAILURES[code]) ?? message}`);
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new UsageError(
      `config file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
    );
  }
  if (parsed == null) return {};
  if (!isPlainObject(parsed)) throw new UsageError(`config file ${path} must hold a mapping at the top`);
  return parsed;
}

export interface ConfigSources {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  flags?: Overrides;
}

/** Builds the validated configuration; a bad value is a UsageError naming its path. */
export function loadConfig<S extends z.ZodType>(schema: S, sources: ConfigSources = {}): z.infer<S> {
  let merged: Record<string, unknown> = {};
  const file = sources.file ?? sources.env?.TSUNAGI_CONFIG;
  if (file) merged = mergeDeep(merged, readConfigFile(file));
  if (sources.env) merged = mergeDeep(merged, overridesFromEnv(sources.env));
  if (sources.flags) merged = mergeDeep(merged, sources.flags);
  const result = schema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new UsageError(`invalid configuration: ${problems.join('; ')}`);
  }
  return result.data;
}
