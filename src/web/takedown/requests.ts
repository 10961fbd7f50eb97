/**
 * Takedown requests, one per host: drafted with the abuse contact and the letters, then moved
 * along draft → sent → acknowledged → taken-down | refused. Every change is kept in the history.
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
