/**
 * Takedown requests, one per host: drafted with the abuse contact and the letters, then moved
 * along draft → sent → acknowledged → taken-down | refused. Every change is kept in the history.
 * A request an analyst sent confirms its host as phishing (`takedownConfirmedAt`): the kit-path
 * memory learns the host's paths from it (campaign/kit-path-intake.ts).
 */
import type { Kysely } from 'kysely';
import { InputError } from '../../core/index.ts';
import type { Letter } from './letters.ts';

export const TAKEDOWN_STATUSES = ['draft', 'sent', 'acknowledged', 'taken-down', 'refused'] as const;
export type TakedownStatus = (typeof TAKEDOWN_STATUSES)[number];

/** Where each status may go next; taken-down and refused are final. */
const NEXT: Record<TakedownStatus, readonly TakedownStatus[]> = {
  draft: ['sent'],
  sent: ['acknowledged', 'taken-down', 'refused'],
  acknowledged: ['taken-down', 'refused'],
  'taken-down': [],
  refused: [],
};

/**
 * The statuses in which a request confirms its host as phishing. Sending it is the analyst's
 * confirmation; acknowledged and taken-down came through sent and only add the provider's word.
 * A refused request confirms nothing: the provider did not agree, and the room must not let a
 * disputed host teach other domains' verdicts.
 */
export const CONFIRMING_STATUSES: readonly TakedownStatus[] = ['sent', 'acknowledged', 'taken-down'];

/**
 * When the request confirmed its host as phishing: the time it reached `sent` (from its history);
 * null while it is a draft, once it is refused, and for a history without a readable `sent`.
 * The one place that decides what counts as a confirmation.
 */
export function takedownConfirmedAt(request: Pick<TakedownRequest, 'status' | 'history'>): Date | null {
  if (!CONFIRMING_STATUSES.includes(request.status)) return null;
  const sent = request.history.find((change) => change.status === 'sent');
  const at = sent ? Date.parse(sent.at) : NaN;
  return Number.isFinite(at) ? new Date(at) : null;
}

/** A request's confirmation as the kit-path memory reads it: no letters. */
export interface TakedownConfirmation {
  host: string;
  /** takedownConfirmedAt: null when the request does not (or no longer) confirm its host. */
  confirmedAt: Date | null;
  updatedAt: string;
}

/** Every request changed at or after `changedSince` (all when absent), with its confirmation. */
export async function takedownConfirmations(
  db: Kysely<TakedownTables>,
  changedSince?: string,
): Promise<TakedownConfirmation[]> {
  let select = db.selectFrom('web_takedowns').select(['host', 'status', 'history', 'updated_at']);
  if (changedSince !== undefined) select = select.where('updated_at', '>=', changedSince);
  return (await select.orderBy('host').execute()).map((row) => ({
    host: row.host,
    confirmedAt: takedownConfirmedAt({
      status: row.status,
      history: JSON.parse(row.history) as TakedownRequest['history'],
    }),
    updatedAt: row.updated_at,
  }));
}

export class TakedownError extends InputError {
  override name = 'TakedownError';
}

export interface TakedownTables {
  web_takedowns: {
    host: string;
    brand: string | null;
    abuse_email: string;
    abuse_name: string;
    rdap_object: string;
    status: TakedownStatus;
    letters: string;
    history: string;
    created_at: string;
    updated_at: string;
  };
}

export interface TakedownRequest {
  host: string;
  brand: string | null;
  abuse: { email: string; name: string; rdapObject: string };
  status: TakedownStatus;
  letters: Letter[];
  history: { status: TakedownStatus; at: string }[];
  createdAt: string;
  updatedAt: string;
}

export function isTakedownStatus(text: string): text is TakedownStatus {
  return (TAKEDOWN_STATUSES as readonly string[]).includes(text);
}

function fromRow(row: TakedownTables['web_takedowns']): TakedownRequest {
  return {
    host: row.host,
    brand: row.brand,
    abuse: { email: row.abuse_email, name: row.abuse_name, rdapObject: row.rdap_object },
    status: row.status,
    letters: JSON.parse(row.letters) as Letter[],
    history: JSON.parse(row.history) as TakedownRequest['history'],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function getTakedown(
  db: Kysely<TakedownTables>,
  host: string,
): Promise<TakedownRequest | undefined> {
  const row = await db.selectFrom('web_takedowns').selectAll().where('host', '=', host).executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

export async function listTakedowns(db: Kysely<TakedownTables>): Promise<TakedownRequest[]> {
  return (await db.selectFrom('web_takedowns').selectAll().orderBy('host').execute()).map(fromRow);
}

/**
 * Records a draft (or redrafts one still in draft: a new RDAP file, new letters). A request that
 * was already sent is not overwritten: TakedownError.
 */
export async function draftTakedown(
  db: Kysely<TakedownTables>,
  draft: { host: string; brand: string | null; abuse: TakedownRequest['abuse']; letters: Letter[] },
  now: Date,
): Promise<TakedownRequest> {
  const at = now.toISOString();
  return db.transaction().execute(async (tx) => {
    const existing = await getTakedown(tx, draft.host);
    if (existing && existing.status !== 'draft')
      throw new TakedownError(
        `${draft.host}: a request was already ${existing.status} (${existing.updatedAt})`,
      );
    const row = {
      host: draft.host,
      brand: draft.brand,
      abuse_email: draft.abuse.email,
      abuse_name: draft.abuse.name,
      rdap_object: draft.abuse.rdapObject,
      status: 'draft' as const,
      letters: JSON.stringify(draft.letters),
      history: JSON.stringify([...(existing?.history ?? []), { status: 'draft', at }]),
      created_at: existing?.createdAt ?? at,
      updated_at: at,
    };
    if (existing) await tx.updateTable('web_takedowns').set(row).where('host', '=', draft.host).execute();
    else await tx.insertInto('web_takedowns').values(row).execute();
    return fromRow(row);
  });
}

/** Moves a request on; TakedownError when there is none or the move is not allowed. */
export async function setTakedownStatus(
  db: Kysely<TakedownTables>,
  host: string,
  status: TakedownStatus,
  now: Date,
): Promise<TakedownRequest> {
  const at = now.toISOString();
  return db.transaction().execute(async (tx) => {
    const existing = await getTakedown(tx, host);
    if (!existing) throw new TakedownError(`${host}: no takedown request (draft one first)`);
    if (!NEXT[existing.status].includes(status))
      throw new TakedownError(
        `${host}: cannot go from ${existing.status} to ${status} (next: ${NEXT[existing.status].join(', ') || 'none, it is final'})`,
      );
    const history = [...existing.history, { status, at }];
    await tx
      .updateTable('web_takedowns')
      .set({ status, history: JSON.stringify(history), updated_at: at })
      .where('host', '=', host)
      .execute();
    return { ...existing, status, history, updatedAt: at };
  });
}
