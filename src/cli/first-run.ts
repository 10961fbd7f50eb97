/**
 * The first `tsunagi start` on a new store: without it nobody could sign in to the console.
 * It creates the analysis centre's organisation and one admin token, printed once (only its
 * SHA-256 is stored, as for every token, by share/orgs.ts).
 */
import { basename, delimiter, dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Organisations } from '../share/index.ts';

export const FIRST_ORGANISATION = 'Analysis Centre';

export interface FirstRun {
  organisation: string;
  token: string;
}

/** Creates the first organisation and its admin token when the store holds no organisation. */
export async function bootstrapAdmin(orgs: Organisations): Promise<FirstRun | undefined> {
  if ((await orgs.list()).length > 0) return undefined;
  const actor = 'tsunagi start (first run)';
  await orgs.add({ name: FIRST_ORGANISATION, role: 'analysis' }, actor);
  const { token } = await orgs.createToken(
    FIRST_ORGANISATION,
    { scopes: ['read', 'write', 'admin'], label: 'first admin token' },
    actor,
  );
  return { organisation: FIRST_ORGANISATION, token };
}

/**
 * How the user runs tsunagi, for commands printed back to them: `tsunagi` when the script's
 * directory is on PATH (an installed package), else its path from the working directory
 * (`bin/tsunagi` in a checkout), since a new user's shell knows no `tsunagi`.
 */
export function commandName(scriptPath: string | undefined, cwd: string, pathEnv = ''): string {
  if (!scriptPath) return 'tsunagi';
  const script = resolve(cwd, scriptPath);
  const onPath = pathEnv
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => resolve(cwd, dir) === dirname(script));
  if (onPath) return basename(script);
  const fromHere = relative(cwd, script);
  return fromHere.startsWith('..') || isAbsolute(fromHere) ? script : fromHere;
}

/** The sign-in lines of the start banner (English, then Japanese). */
export function signInInstructions(
  first: FirstRun,
  hubUrl: string,
  dataDir: string,
  command = 'tsunagi',
): string {
  return [
    `  sign in   new store: organisation "${first.organisation}" (analysis centre, full tier) was created`,
    `            admin token, shown only now (stored hashed; keep it):`,
    `              ${first.token}`,
    `            paste it on ${hubUrl}/ or call the API with it:`,
    `              curl -H 'Authorization: Bearer ${first.token}' ${hubUrl}/console/api/me`,
    `            more tokens: ${command} token create --org '${first.organisation}' --data ${dataDir}`,
    `            初回起動: 組織「${first.organisation}」と管理者トークンを作成しました（再表示できません）。`,
    `            コンソールでこのトークンを貼り付けてサインインしてください。`,
    '',
  ].join('\n');
}
