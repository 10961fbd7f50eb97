/**
 * Organisations, their legal tier and role, consent to the council's confidentiality terms, and
 * API tokens (random, shown once, stored only as SHA-256, scoped and revocable).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { InputError, parsePrefix, PrefixSet } from '../core/index.ts';
import type { Tier } from '../intel/index.ts';
import type { Store } from '../store/index.ts';
import type { AuditLog } from './audit.ts';

export const ROLES = ['analysis', 'government', 'council', 'isp', 'vendor', 'public'] as const;
export type Role = (typeof ROLES)[number];
export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** The tier a role is entitled to; council-tier roles get it only after recorded consent. */
export function roleTier(role: Role): Tier {
  if (role === 'analysis' || role === 'government') return 'full';
  if (role === 'council' || role === 'isp') return 'council';
  return 'public';
}

export interface Organisation {
  id: string;
  name: string;
  role: Role;
  consentAt: string | null;
  consentTerms: string | null;
  prefixes: string[];
  asns: number[];
  createdAt: string;
  /** What the organisation may read now: council tier without consent falls to public. */
  tier: Tier;
}

export interface Principal {
  org: Organisation;
  tokenId: string;
  scopes: Scope[];
}

export const OrganisationInput = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$/, 'letters, digits, dot, dash, underscore, space; up to 100'),
  role: z.enum(ROLES),
  consent: z.boolean().default(false),
  consentTerms: z.string().max(200).default('council-confidentiality-v1'),
  prefixes: z.array(z.string().max(64)).max(10_000).default([]),
  asns: z.array(z.number().int().min(0).max(4294967295)).max(10_000).default([]),
});
export type OrganisationInput = z.input<typeof OrganisationInput>;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const TOKEN_SHAPE = /^tsg_[A-Za-z0-9_-]{43}$/;

function effectiveTier(role: Role, consentAt: string | null): Tier {
  const tier = roleTier(role);
  return tier === 'council' && !consentAt ? 'public' : tier;
}

export interface TokenSummary {
  id: string;
  label: string;
  scopes: string[];
  createdAt: string;
  revokedAt: string | null;
}

export interface Organisations {
  add(input: OrganisationInput, actor: string): Promise<Organisation>;
  get(name: string): Promise<Organisation | undefined>;
  getById(id: string): Promise<Organisation | undefined>;
  list(): Promise<Organisation[]>;
  recordConsent(name: string, terms: string, actor: string): Promise<Organisation>;
  /** Returns the token once; only its hash is kept. */
  createToken(
    orgName: string,
    options: { scopes?: Scope[]; label?: string },
    actor: string,
  ): Promise<{ id: string; token: string }>;
  revokeToken(tokenId: string, actor: string): Promise<void>;
  /** An organisation's tokens (never their hashes), oldest first; only `onlyId` when given. */
  tokens(orgId: string, onlyId?: string): Promise<TokenSummary[]>;
  authenticate(token: string): Promise<Principal | undefined>;
  /** The prefixes an organisation owns, for filtering bot lists to its own customers. */
  prefixSet(org: Organisation): PrefixSet;
}

/** An organisations row. */
type Row = {
  id: string;
  name: string;
  role: string;
  consent_at: string | null;
  consent_terms: string | null;
  prefixes: string;
  asns: string;
  created_at: string;
};
const toOrg = (r: Row): Organisation => ({
  id: r.id,
  name: r.name,
  role: r.role as Role,
  consentAt: r.consent_at,
  consentTerms: r.consent_terms,
  prefixes: JSON.parse(r.prefixes) as string[],
  asns: JSON.parse(r.asns) as number[],
  createdAt: r.created_at,
  tier: effectiveTier(r.role as Role, r.consent_at),
});

export function createOrganisations(deps: { store: Store; audit: AuditLog }): Organisations {
  const { store, audit } = deps;
  const db = store.db;

  async function get(name: string) {
    const row = await db.selectFrom('organisations').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toOrg(row) : undefined;
  }

  return {
    add: (input, actor) => addOrganisation(deps, input, actor),
    get,
    async getById(id) {
      const row = await db.selectFrom('organisations').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toOrg(row) : undefined;
    },
    async list() {
      return (await db.selectFrom('organisations').selectAll().orderBy('name').execute()).map(toOrg);
    },
    async recordConsent(name, terms, actor) {
      if (!terms.trim() || terms.length > 200)
        throw new InputError('consent needs the name of the terms agreed to');
      await store.transaction(async (trx) => {
        const res = await trx
          .updateTable('organisations')
          .set({ consent_at: new Date().toISOString(), consent_terms: terms })
          .where('name', '=', name)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0) throw new InputError(`no organisation "${name}"`);
        await audit.append(trx, { actor, action: 'org.consent', target: `org:${name}`, detail: { terms } });
      }, audit.lockKey);
      return (await get(name))!;
    },
    async createToken(orgName, options, actor) {
      const org = await get(orgName);
      if (!org) throw new InputError(`no organisation "${orgName}"`);
      return insertToken(deps, org, options, actor);
    },
    async tokens(orgId, onlyId) {
      const rows = await db
        .selectFrom('tokens')
        .select(['id', 'label', 'scopes', 'created_at', 'revoked_at'])
        .where('org_id', '=', orgId)
        .$if(onlyId !== undefined, (q) => q.where('id', '=', onlyId!))
        .orderBy('created_at')
        .execute();
      return rows.map((t) => ({
        id: t.id,
        label: t.label,
        scopes: JSON.parse(t.scopes) as string[],
        createdAt: t.created_at,
        revokedAt: t.revoked_at,
      }));
    },

    async revokeToken(tokenId, actor) {
      await store.transaction(async (trx) => {
        const res = await trx
          .updateTable('tokens')
          .set({ revoked_at: new Date().toISOString() })
          .where('id', '=', tokenId)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0) throw new InputError(`no active token ${tokenId}`);
        await audit.append(trx, { actor, action: 'token.revoke', target: `token:${tokenId}` });
      }, audit.lockKey);
    },
    async authenticate(token) {
      if (!TOKEN_SHAPE.test(token)) return undefined;
      const row = await db
        .selectFrom('tokens')
        .innerJoin('organisations', 'organisations.id', 'tokens.org_id')
        .selectAll('organisations')
        .select([
          'tokens.id as token_id',
          'tokens.scopes as token_scopes',
          'tokens.revoked_at as token_revoked',
        ])
        .where('tokens.hash', '=', hashToken(token))
        .executeTakeFirst();
      if (!row || row.token_revoked) return undefined;
      return { org: toOrg(row), tokenId: row.token_id, scopes: JSON.parse(row.token_scopes) as Scope[] };
    },
    prefixSet(org) {
      return new PrefixSet(org.prefixes);
    },
  };
}

/** Adds an organisation (its consent, when given, recorded with it). */
async function addOrganisation(
  { store, audit }: { store: Store; audit: AuditLog },
  input: OrganisationInput,
  actor: string,
): Promise<Organisation> {
  const parsed = OrganisationInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`bad organisation: ${issue.path.join('.')}: ${issue.message}`);
  }
  const o = parsed.data;
  const prefixes = o.prefixes.map((p) => {
    try {
      return parsePrefix(p).text;
    } catch {
      throw new InputError(`bad prefix "${p}"`);
    }
  });
  const now = new Date().toISOString();
  const row: Row = {
    id: randomUUID(),
    name: o.name,
    role: o.role,
    consent_at: o.consent ? now : null,
    consent_terms: o.consent ? o.consentTerms : null,
    prefixes: JSON.stringify(prefixes),
    asns: JSON.stringify(o.asns),
    created_at: now,
  };
  await store.transaction(async (trx) => {
    if (await trx.selectFrom('organisations').select('id').where('name', '=', o.name).executeTakeFirst()) {
      throw new InputError(`organisation "${o.name}" exists`);
    }
    await trx.insertInto('organisations').values(row).execute();
    await audit.append(trx, {
      actor,
      action: 'org.add',
      target: `org:${o.name}`,
      detail: { role: o.role, consent: o.consent, prefixes: prefixes.length, asns: o.asns.length },
    });
    if (o.consent)
      await audit.append(trx, {
        actor,
        action: 'org.consent',
        target: `org:${o.name}`,
        detail: { terms: o.consentTerms },
      });
  }, audit.lockKey);
  return toOrg(row);
}

/** A new token for an organisation: only its hash is kept; the token itself is shown once. */
async function insertToken(
  { store, audit }: { store: Store; audit: AuditLog },
  org: Organisation,
  options: Parameters<Organisations['createToken']>[1],
  actor: string,
): Promise<{ id: string; token: string }> {
  const scopes = options.scopes ?? ['read', 'write'];
  for (const s of scopes)
    if (!(SCOPES as readonly string[]).includes(s)) throw new InputError(`unknown scope "${s}"`);
  const token = `tsg_${randomBytes(32).toString('base64url')}`;
  const id = randomUUID();
  await store.transaction(async (trx) => {
    await trx
      .insertInto('tokens')
      .values({
        id,
        org_id: org.id,
        hash: hashToken(token),
        scopes: JSON.stringify(scopes),
        label: (options.label ?? '').slice(0, 100),
        created_at: new Date().toISOString(),
        revoked_at: null,
      })
      .execute();
    await audit.append(trx, {
      actor,
      action: 'token.create',
      target: `token:${id}`,
      detail: { org: org.name, scopes },
    });
  }, audit.lockKey);
  return { id, token };
}
