/**
 * The first `tsunagi start` on a new store: without it nobody could sign in to the console.
 * It creates the analysis centre's organisation and one admin token, printed once (only its
 * SHA-256 is stored, as for every token, by share/orgs.ts).
 */
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

/** The sign-in lines of the start banner (English, then Japanese). */
export function signInInstructions(first: FirstRun, hubUrl: string, dataDir: string): string {
  return [
    `  sign in   new store: organisation "${first.organisation}" (analysis centre, full tier) was created`,
    `            admin token, shown only now (stored hashed; keep it):`,
    `              ${first.token}`,
    `            paste it on ${hubUrl}/ or call the API with it:`,
    `              curl -H 'Authorization: Bearer ${first.token}' ${hubUrl}/console/api/me`,
    `            more tokens: tsunagi token create --org '${first.organisation}' --data ${dataDir}`,
    `            初回起動: 組織「${first.organisation}」と管理者トークンを作成しました（再表示できません）。`,
    `            コンソールでこのトークンを貼り付けてサインインしてください。`,
    '',
  ].join('\n');
}
