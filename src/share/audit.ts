/**
 * The audit log: append-only (database triggers refuse UPDATE and DELETE) and hash-chained, each
 * record's hash covering its fields and the previous hash, so an edit or a deletion anywhere
 * breaks the chain. Verifiable offline from the database or from an exported JSONL file.
 */
import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { AuditEntry, AuditSink } from '../intel/types.ts';
import type { Database, Store } from '../store/index.ts';

export const GENESIS_HASH = '0'.repeat(64);
/** The PostgreSQL advisory lock key every audited writer takes, so the chain stays linear. */
export const AUDIT_LOCK_KEY = 0x7a5a_0001;

export interface AuditRecord {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  reason: string;
  /** JSON text, as hashed. */
  detail: string;
  prev_hash: string;
  hash: string;
}

export function auditHash(prevHash: string, r: Omit<AuditRecord, 'hash' | 'prev_hash'>): string {
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(JSON.stringify([r.seq, r.at, r.actor, r.action, r.target, r.reason, r.detail]))
    .digest('hex');
}

export interface VerifyResult {
  ok: boolean;
  records: number;
  /** Hash of the last record: keep it somewhere else to detect a cut-off tail later. */
  head: string;
  /** The first problem found. */
  problem?: string;
}

/** Verifies records in order; `expectHead` also catches removal of records at the end. */
export function verifyRecords(records: Iterable<AuditRecord>, expectHead?: string): VerifyResult {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  for (const r of records) {
    if (r.seq !== expectedSeq)
      return {
        ok: false,
        records: count,
        head: prev,
        problem: `record ${expectedSeq} is missing (found ${r.seq})`,
      };
    if (r.prev_hash !== prev)
      return {
        ok: false,
        records: count,
        head: prev,
        problem: `record ${r.seq} does not follow record ${r.seq - 1}`,
      };
    if (auditHash(prev, r) !== r.hash)
      return { ok: false, records: count, head: prev, problem: `record ${r.seq} was altered` };
    prev = r.hash;
    expectedSeq++;
    count++;
  }
  if (expectHead !== undefined && expectHead !== prev) {
    return {
      ok: false,
      records: count,
      head: prev,
      problem: `the log does not end at the expected head ${expectHead.slice(0, 16)}…`,
    };
  }
  return { ok: true, records: count, head: prev };
}

/** Parses an exported JSONL file (one record per line) and verifies it. */
export function verifyExport(text: string, expectHead?: string): VerifyResult {
  const records: AuditRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return { ok: false, records: records.length, head: '', problem: `line ${i + 1} is not JSON` };
    }
    const r = parsed as AuditRecord;
    if (
      typeof r !== 'object' ||
      r === null ||
      typeof r.seq !== 'number' ||
      typeof r.hash !== 'string' ||
      typeof r.detail !== 'string'
    ) {
      return {
        ok: false,
        records: records.length,
        head: '',
        problem: `line ${i + 1} is not an audit record`,
      };
    }
    records.push(r);
  }
  return verifyRecords(records, expectHead);
}

export interface AuditLog extends AuditSink {
  /** Appends in its own transaction. */
  record(entry: AuditEntry): Promise<void>;
  /** Reads the whole chain page by page and verifies it. */
  verify(expectHead?: string): Promise<VerifyResult>;
  /** Records in order, for export (JSONL) or the console. */
  list(afterSeq: number, limit: number): Promise<AuditRecord[]>;
}

export function createAuditLog(deps: { store: Store; now?: () => Date }): AuditLog {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());

  async function append(trx: Transaction<Database>, entry: AuditEntry): Promise<void> {
    const last = await trx
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    const fields = {
      seq: (last ? Number(last.seq) : 0) + 1,
      at: now().toISOString(),
      actor: entry.actor.slice(0, 200),
      action: entry.action.slice(0, 100),
      target: entry.target.slice(0, 500),
      reason: (entry.reason ?? '').slice(0, 500),
      detail: JSON.stringify(entry.detail ?? {}),
    };
    const prevHash = last?.hash ?? GENESIS_HASH;
    await trx
      .insertInto('audit_log')
      .values({ ...fields, prev_hash: prevHash, hash: auditHash(prevHash, fields) })
      .execute();
  }

  async function list(afterSeq: number, limit: number): Promise<AuditRecord[]> {
    const rows = await store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  return {
    lockKey: AUDIT_LOCK_KEY,
    append,
    async record(entry) {
      await store.transaction((trx) => append(trx, entry), AUDIT_LOCK_KEY);
    },
    list,
    async verify(expectHead) {
      // Verify page by page so a long log never sits in memory whole.
      let after = 0;
      let state: VerifyResult = { ok: true, records: 0, head: GENESIS_HASH };
      for (;;) {
        const page = await list(after, 5000);
        if (page.length === 0) break;
        let prev = state.head;
        let expectedSeq = state.records + 1;
        for (const r of page) {
          if (r.seq !== expectedSeq)
            return {
              ok: false,
              records: state.records,
              head: prev,
              problem: `record ${expectedSeq} is missing (found ${r.seq})`,
            };
          if (r.prev_hash !== prev)
            return {
              ok: false,
              records: state.records,
              head: prev,
              problem: `record ${r.seq} does not follow record ${r.seq - 1}`,
            };
          if (auditHash(prev, r) !== r.hash)
            return { ok: false, records: state.records, head: prev, problem: `record ${r.seq} was altered` };
          prev = r.hash;
          expectedSeq++;
          state = { ok: true, records: state.records + 1, head: prev };
        }
        after = page[page.length - 1]!.seq;
      }
      if (expectHead !== undefined && expectHead !== state.head) {
        return {
          ...state,
          ok: false,
          problem: `the log does not end at the expected head ${expectHead.slice(0, 16)}…`,
        };
      }
      return state;
    },
  };
}
