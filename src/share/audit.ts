/**
 * The audit log: append-only (database triggers refuse UPDATE and DELETE) and hash-chained, each
 * record's hash covering its fields and the previous hash, so an edit or a deletion anywhere
 * breaks the chain; signed checkpoints (audit-checkpoints.ts) catch what a chain cannot: a
 * consistent rewrite, or records cut from the end. Verifiable offline from the database or from
 * an exported JSONL file with exported checkpoints.
 */
import { createHash } from 'node:crypto';
import type { Selectable, Transaction } from 'kysely';
import type { AuditEntry, AuditSink } from '../intel/index.ts';
import type { Database, Store } from '../store/index.ts';
import { ephemeralSigner, signatureHolds, type AuditSigner, type Checkpoint } from './audit-checkpoints.ts';
import type { AuditTable } from './tables.ts';

export const GENESIS_HASH = '0'.repeat(64);
/** The PostgreSQL advisory lock key every audited writer takes, so the chain stays linear. */
export const AUDIT_LOCK_KEY = 0x7a5a_0001;

/** A record of the audit chain as read: its table's row (`seq` a number). */
export type AuditRecord = Selectable<AuditTable>;

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
  /** Hash of the last record. */
  head: string;
  /** Signed checkpoints the chain was checked against (store and file). */
  checkpoints: number;
  /** The first problem found. */
  problem?: string;
}

export interface VerifyOptions {
  /** A head hash kept elsewhere: the log must end exactly there. */
  expectHead?: string;
  /** Checkpoints from elsewhere (an exported file the council kept); the chain must pass each. */
  checkpoints?: readonly Checkpoint[];
  /**
   * Keys whose signatures are believed (raw ed25519, base64url). Empty: the keys the given
   * checkpoints name (an offline check against a file one trusts).
   */
  trustedKeys?: readonly string[];
}

/**
 * Walks a chain record by record (pages, files) and checks it against signed checkpoints:
 * each record follows the previous one, and where a checkpoint names a record, that record's
 * hash is the one signed; no checkpoint may name a record beyond the end (a cut).
 */
class ChainCheck {
  private prev = GENESIS_HASH;
  private count = 0;
  private problem: string | undefined;
  private readonly heads = new Map<number, string>();

  constructor(private readonly options: VerifyOptions & { stored?: readonly Checkpoint[] }) {
    const all = [...(options.stored ?? []), ...(options.checkpoints ?? [])];
    const trusted = new Set(options.trustedKeys?.length ? options.trustedKeys : all.map((c) => c.key));
    for (const c of all) {
      if (!signatureHolds(c)) {
        this.problem ??= `checkpoint at record ${c.seq} has a bad signature`;
      } else if (!trusted.has(c.key)) {
        this.problem ??= `checkpoint at record ${c.seq} is signed by an unknown key ${c.key.slice(0, 12)}…`;
      } else if (this.heads.has(c.seq) && this.heads.get(c.seq) !== c.head) {
        this.problem ??= `two signed checkpoints disagree about record ${c.seq}: the chain was rewritten`;
      }
      this.heads.set(c.seq, c.head);
    }
  }

  /** False once a problem is found (stop feeding records). */
  push(r: AuditRecord): boolean {
    if (this.problem) return false;
    const expectedSeq = this.count + 1;
    if (r.seq !== expectedSeq) this.problem = `record ${expectedSeq} is missing (found ${r.seq})`;
    else if (r.prev_hash !== this.prev) this.problem = `record ${r.seq} does not follow record ${r.seq - 1}`;
    else if (auditHash(this.prev, r) !== r.hash) this.problem = `record ${r.seq} was altered`;
    else if (this.heads.has(r.seq) && this.heads.get(r.seq) !== r.hash)
      this.problem = `record ${r.seq} differs from its signed checkpoint: the chain was rewritten`;
    if (this.problem) return false;
    this.prev = r.hash;
    this.count++;
    return true;
  }

  result(): VerifyResult {
    const base = { records: this.count, head: this.prev, checkpoints: this.heads.size };
    if (this.problem) return { ...base, ok: false, problem: this.problem };
    const beyond = Math.max(0, ...this.heads.keys());
    if (beyond > this.count)
      return {
        ...base,
        ok: false,
        problem: `the log ends at record ${this.count} but a signed checkpoint covers record ${beyond}: records were cut`,
      };
    const { expectHead } = this.options;
    if (expectHead !== undefined && expectHead !== this.prev)
      return {
        ...base,
        ok: false,
        problem: `the log does not end at the expected head ${expectHead.slice(0, 16)}…`,
      };
    return { ...base, ok: true };
  }
}

function optionsOf(options: string | VerifyOptions | undefined): VerifyOptions {
  return typeof options === 'string' ? { expectHead: options } : (options ?? {});
}

/** Verifies records in order against the given checkpoints (and head, when kept elsewhere). */
export function verifyRecords(
  records: Iterable<AuditRecord>,
  options?: string | VerifyOptions,
): VerifyResult {
  const check = new ChainCheck(optionsOf(options));
  for (const r of records) if (!check.push(r)) break;
  return check.result();
}

/** Parses an exported JSONL file (one record per line) and verifies it. */
export function verifyExport(text: string, options?: string | VerifyOptions): VerifyResult {
  const records: AuditRecord[] = [];
  const lines = text.split('\n');
  const bad = (problem: string): VerifyResult => ({
    ok: false,
    records: records.length,
    head: '',
    checkpoints: 0,
    problem,
  });
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return bad(`line ${i + 1} is not JSON`);
    }
    const r = parsed as AuditRecord;
    if (
      typeof r !== 'object' ||
      r === null ||
      typeof r.seq !== 'number' ||
      typeof r.hash !== 'string' ||
      typeof r.detail !== 'string'
    )
      return bad(`line ${i + 1} is not an audit record`);
    records.push(r);
  }
  return verifyRecords(records, options);
}

export interface AuditLog extends AuditSink {
  /** Appends in its own transaction. */
  record(entry: AuditEntry): Promise<void>;
  /**
   * Reads the whole chain page by page and verifies it against its signed checkpoints (those
   * in the store, and any given), trusting this log's own key and any given.
   */
  verify(options?: string | VerifyOptions): Promise<VerifyResult>;
  /** Records in order, for export (JSONL) or the console. */
  list(afterSeq: number, limit: number): Promise<AuditRecord[]>;
  /** Records newest first, before `beforeSeq` when given (the console's page). */
  newest(limit: number, beforeSeq?: number): Promise<AuditRecord[]>;
  /** Signs the current head unless it is signed already (the hub calls it at shutdown). */
  checkpoint(): Promise<Checkpoint | undefined>;
  /** Every stored checkpoint, oldest first (to export for safekeeping). */
  checkpoints(): Promise<Checkpoint[]>;
  /** The public key this log signs with. */
  readonly signingKey: string;
}

/** Records between signed checkpoints, unless configured otherwise. */
export const DEFAULT_CHECKPOINT_EVERY = 1000;

export function createAuditLog(deps: {
  store: Store;
  now?: () => Date;
  /** The data directory's key (loadSigner); an in-memory one when absent. */
  signer?: AuditSigner;
  /** A signed checkpoint every this many records, in the transaction of the record itself. */
  checkpointEvery?: number;
}): AuditLog {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const signer = deps.signer ?? ephemeralSigner();
  const every = deps.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;

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
    const hash = auditHash(prevHash, fields);
    await trx
      .insertInto('audit_log')
      .values({ ...fields, prev_hash: prevHash, hash })
      .execute();
    if (fields.seq % every === 0)
      await trx
        .insertInto('audit_checkpoints')
        .values(signer.sign(fields.seq, hash, fields.at))
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

  async function newest(limit: number, beforeSeq?: number): Promise<AuditRecord[]> {
    let q = store.db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(limit);
    if (beforeSeq) q = q.where('seq', '<', beforeSeq);
    const rows = await q.execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  async function checkpoints(): Promise<Checkpoint[]> {
    const rows = await store.db.selectFrom('audit_checkpoints').selectAll().orderBy('seq').execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  return {
    lockKey: AUDIT_LOCK_KEY,
    signingKey: signer.key,
    append,
    async record(entry) {
      await store.transaction((trx) => append(trx, entry), AUDIT_LOCK_KEY);
    },
    list,
    newest,
    checkpoints,
    async checkpoint() {
      return store.transaction(async (trx) => {
        const last = await trx
          .selectFrom('audit_log')
          .select(['seq', 'hash'])
          .orderBy('seq', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (!last) return undefined;
        const seq = Number(last.seq);
        const signed = await trx
          .selectFrom('audit_checkpoints')
          .select('seq')
          .where('seq', '=', seq)
          .executeTakeFirst();
        if (signed) return undefined;
        const checkpoint = signer.sign(seq, last.hash, now().toISOString());
        await trx.insertInto('audit_checkpoints').values(checkpoint).execute();
        return checkpoint;
      }, AUDIT_LOCK_KEY);
    },
    async verify(input) {
      const options = optionsOf(input);
      const check = new ChainCheck({
        ...options,
        stored: await checkpoints(),
        trustedKeys: [
          signer.key,
          ...(options.trustedKeys ?? []),
          ...(options.checkpoints ?? []).map((c) => c.key),
        ],
      });
      // Page by page, so a long log never sits in memory whole.
      let after = 0;
      for (;;) {
        const page = await list(after, 5000);
        if (page.length === 0) break;
        if (!page.every((r) => check.push(r))) break;
        after = page[page.length - 1]!.seq;
      }
      return check.result();
    },
  };
}
