/**
 * The sharing hub's tables, as its part of each store migration (the store composes the rooms'
 * parts of one name, in a fixed order: intel, share, then the store's own): organisations,
 * tokens, the audit log and its checkpoints, TAXII collections and STIX versions, owners and the
 * review queue. Names and contents are as shipped: never edit a part that has shipped.
 */
import { CompiledQuery, sql, type Kysely, type Migration } from 'kysely';
import { objectKey, type Engine, type RoomMigrations } from '../store/index.ts';

/** 0001: organisations, their tokens, the audit log, TAXII collections, STIX versions and statuses. */
function initial(engine: Engine): Migration {
  const text = 'text';
  return {
    async up(db: Kysely<unknown>) {
      const serial = (table: string) =>
        db.schema
          .createTable(table)
          .addColumn('seq', engine === 'postgres' ? 'bigserial' : 'integer', (c) =>
            engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          );

      await db.schema
        .createTable('organisations')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('name', text, (c) => c.notNull().unique())
        .addColumn('role', text, (c) => c.notNull())
        .addColumn('consent_at', text)
        .addColumn('consent_terms', text)
        .addColumn('prefixes', text, (c) => c.notNull())
        .addColumn('asns', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('tokens')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('org_id', text, (c) => c.notNull().references('organisations.id').onDelete('cascade'))
        .addColumn('hash', text, (c) => c.notNull().unique())
        .addColumn('scopes', text, (c) => c.notNull())
        .addColumn('label', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('revoked_at', text)
        .execute();

      await serial('audit_log')
        .addColumn('at', text, (c) => c.notNull())
        .addColumn('actor', text, (c) => c.notNull())
        .addColumn('action', text, (c) => c.notNull())
        .addColumn('target', text, (c) => c.notNull())
        .addColumn('reason', text, (c) => c.notNull())
        .addColumn('detail', text, (c) => c.notNull())
        .addColumn('prev_hash', text, (c) => c.notNull())
        .addColumn('hash', text, (c) => c.notNull())
        .execute();
      // The log is append-only in the database itself, not only by convention in the code.
      if (engine === 'sqlite') {
        await sql`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END`.execute(
          db,
        );
        await sql`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END`.execute(
          db,
        );
      } else {
        await sql`CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$`.execute(
          db,
        );
        await sql`CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`.execute(
          db,
        );
      }

      await db.schema
        .createTable('collections')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('api_root', text, (c) => c.notNull())
        .addColumn('title', text, (c) => c.notNull())
        .addColumn('description', text, (c) => c.notNull())
        .addColumn('ceiling', text, (c) => c.notNull())
        .addColumn('read_tier', text, (c) => c.notNull())
        .addColumn('write_tier', text)
        .addColumn('ingest', 'integer', (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();

      await serial('stix_objects')
        .addColumn('collection_id', text, (c) => c.notNull())
        .addColumn('object_id', text, (c) => c.notNull())
        .addColumn('object_type', text, (c) => c.notNull())
        .addColumn('spec_version', text, (c) => c.notNull())
        .addColumn('version', text, (c) => c.notNull())
        .addColumn('date_added', text, (c) => c.notNull())
        .addColumn('is_latest', 'integer', (c) => c.notNull())
        .addColumn('tier', text, (c) => c.notNull())
        .addColumn('tlp', text, (c) => c.notNull())
        .addColumn('body', text, (c) => c.notNull())
        .addUniqueConstraint('stix_objects_key', ['collection_id', 'object_id', 'version'])
        .execute();
      await db.schema
        .createIndex('stix_objects_page')
        .on('stix_objects')
        .columns(['collection_id', 'seq'])
        .execute();
      await db.schema
        .createIndex('stix_objects_object')
        .on('stix_objects')
        .columns(['collection_id', 'object_id'])
        .execute();

      await db.schema
        .createTable('taxii_status')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('api_root', text, (c) => c.notNull())
        .addColumn('org_id', text, (c) => c.notNull())
        .addColumn('status', text, (c) => c.notNull())
        .addColumn('request_timestamp', text, (c) => c.notNull())
        .addColumn('total', 'integer', (c) => c.notNull())
        .addColumn('success', 'integer', (c) => c.notNull())
        .addColumn('failure', 'integer', (c) => c.notNull())
        .addColumn('pending', 'integer', (c) => c.notNull())
        .addColumn('details', text, (c) => c.notNull())
        .execute();
    },
  };
}

function ownNetworkCollections(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Set on a collection that only its owning organisation may see (its own network's findings).
      await db.schema.alterTable('collections').addColumn('owner_org_id', 'text').execute();
      // The unique key (collection_id, object_id, version) serves every lookup by object id; the
      // second index only cost one more random B-tree insert per stored STIX version.
      await db.schema.dropIndex('stix_objects_object').execute();
    },
  };
}

/**
 * Versions are found by `object_key` (object-key.ts), a 53-bit hash of collection and object id,
 * instead of the unique key (collection_id, object_id, version): ~116-byte random entries, 1.7 GB
 * at 12.6M versions, which outgrew the page cache so that each new version read and dirtied a
 * page of its own. The ids stay in the row and every lookup compares them (a hash can collide);
 * a version is stored once because every writer reads an object's versions before adding one in
 * its transaction, and writers are serialised (one SQLite connection; advisory locks on PostgreSQL,
 * one for TAXII writes and one for the publisher). SQLite cannot drop a table constraint, so there the table is
 * rebuilt (same seq values, same sequence); PostgreSQL alters it in place.
 */
function stixObjectKey(engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (engine === 'postgres') {
        await sql`ALTER TABLE stix_objects ADD COLUMN object_key bigint`.execute(db);
        await keyPostgresStixObjects(db);
        await sql`ALTER TABLE stix_objects ALTER COLUMN object_key SET NOT NULL`.execute(db);
        await sql`ALTER TABLE stix_objects DROP CONSTRAINT stix_objects_key`.execute(db);
        await sql`CREATE INDEX stix_objects_object_key ON stix_objects (object_key)`.execute(db);
        return;
      }
      const sequence = await sql<{
        seq: number;
      }>`SELECT seq FROM sqlite_sequence WHERE name = 'stix_objects'`.execute(db);
      // Kysely runs SQLite migrations outside a transaction: the rebuild is one, so a crash
      // leaves the old table whole (and the migration runs again).
      await sql`BEGIN IMMEDIATE`.execute(db);
      try {
        await rebuildSqliteStixObjects(db, sequence.rows[0]?.seq);
        await sql`COMMIT`.execute(db);
      } catch (error) {
        await sql`ROLLBACK`.execute(db);
        throw error;
      }
    },
  };
}

/** Rows keyed per UPDATE on PostgreSQL (two parameters a row, under its 65,535). */
const KEY_BATCH = 5000;

/** PostgreSQL: the key of every stored version, computed here and written batch by batch. */
async function keyPostgresStixObjects(db: Kysely<unknown>): Promise<void> {
  for (let after = -1; ;) {
    const rows = (
      await sql<{
        seq: number;
        collection_id: string;
        object_id: string;
      }>`SELECT seq, collection_id, object_id FROM stix_objects WHERE seq > ${after} ORDER BY seq LIMIT ${KEY_BATCH}`.execute(
        db,
      )
    ).rows;
    if (rows.length === 0) return;
    const params: unknown[] = [];
    const tuples: string[] = [];
    for (const row of rows) {
      params.push(row.seq, objectKey(row.collection_id, row.object_id));
      tuples.push(`($${params.length - 1}::bigint, $${params.length}::bigint)`);
    }
    await db.executeQuery(
      CompiledQuery.raw(
        `UPDATE stix_objects AS s SET object_key = v.k FROM (VALUES ${tuples.join(', ')}) AS v (seq, k) WHERE s.seq = v.seq`,
        params,
      ),
    );
    after = Number(rows[rows.length - 1]!.seq);
  }
}

const KEYED_COLUMNS = [
  'seq',
  'collection_id',
  'object_id',
  'object_key',
  'object_type',
  'spec_version',
  'version',
  'date_added',
  'is_latest',
  'tier',
  'tlp',
  'body',
] as const;
/** Rows copied per statement: 12 parameters a row stays under SQLite's 32,766. */
const COPY_BATCH = 1000;

type OldVersionRow = Record<Exclude<(typeof KEYED_COLUMNS)[number], 'object_key'>, unknown> & {
  seq: number;
  collection_id: string;
  object_id: string;
};

async function rebuildSqliteStixObjects(db: Kysely<unknown>, lastSeq: number | undefined): Promise<void> {
  await sql`CREATE TABLE stix_objects_keyed (
    seq integer PRIMARY KEY AUTOINCREMENT,
    collection_id text NOT NULL,
    object_id text NOT NULL,
    object_key integer NOT NULL,
    object_type text NOT NULL,
    spec_version text NOT NULL,
    version text NOT NULL,
    date_added text NOT NULL,
    is_latest integer NOT NULL,
    tier text NOT NULL,
    tlp text NOT NULL,
    body text NOT NULL
  )`.execute(db);
  // Copied in seq order, batch by batch, with the key computed here.
  const read = KEYED_COLUMNS.filter((c) => c !== 'object_key').join(', ');
  for (let after = -1; ;) {
    const rows = (
      await sql
        .raw<OldVersionRow>(
          `SELECT ${read} FROM stix_objects WHERE seq > ${after} ORDER BY seq LIMIT ${COPY_BATCH}`,
        )
        .execute(db)
    ).rows;
    if (rows.length === 0) break;
    const params: unknown[] = [];
    for (const row of rows)
      for (const column of KEYED_COLUMNS)
        params.push(column === 'object_key' ? objectKey(row.collection_id, row.object_id) : row[column]);
    const tuple = `(${KEYED_COLUMNS.map(() => '?').join(', ')})`;
    await db.executeQuery(
      CompiledQuery.raw(
        `INSERT INTO stix_objects_keyed (${KEYED_COLUMNS.join(', ')}) VALUES ${rows.map(() => tuple).join(', ')}`,
        params,
      ),
    );
    after = rows[rows.length - 1]!.seq;
  }
  await sql`DROP TABLE stix_objects`.execute(db);
  await sql`ALTER TABLE stix_objects_keyed RENAME TO stix_objects`.execute(db);
  // Deleted versions past the last row keep their seq values spent: `next` cursors stay apart.
  if (lastSeq !== undefined)
    await sql`UPDATE sqlite_sequence SET seq = max(seq, ${lastSeq}) WHERE name = 'stix_objects'`.execute(db);
  await sql`CREATE INDEX stix_objects_page ON stix_objects (collection_id, seq)`.execute(db);
  await sql`CREATE INDEX stix_objects_object_key ON stix_objects (object_key)`.execute(db);
  // Without statistics SQLite's planner takes the page index for `collection_id = ? AND
  // object_key IN (...)`, a walk of the whole collection. Tell it what is true: a collection
  // holds many versions, a key about one. (ANALYZE of a small table creates sqlite_stat1; a
  // later full ANALYZE writes measured numbers of the same shape; kv is the store's, as shipped.)
  await sql`ANALYZE kv`.execute(db);
  await sql`DELETE FROM sqlite_stat1 WHERE tbl = 'stix_objects'`.execute(db);
  await sql`INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('stix_objects', 'stix_objects_page', '1000000 250000 1'),
    ('stix_objects', 'stix_objects_object_key', '1000000 1')`.execute(db);
  await sql`ANALYZE sqlite_schema`.execute(db);
}

/**
 * PostgreSQL: one stored version per object key. A UNIQUE index on (object_key, version) replaces
 * the plain object_key index (same count of indexes; its prefix serves every lookup by key).
 * Writers read an object's versions before adding one, but a POST racing another replica's
 * publisher on the same object id could store a version twice; now the database refuses it.
 * Different objects whose keys collide cannot hold the same version either: `addObjects` refuses
 * such a version before inserting it (collections.ts).
 *
 * Not on SQLite: it has one writer, so the race cannot happen there, and the wider entries (a
 * version is ~24 bytes of text) made the random-access index ~2.5 times the size (795 MiB at
 * 16.5M versions), past what the page cache keeps beside the page index: POST at 1M indicators
 * measured ~16% fewer objects/s (BENCHMARKS.md, TAXII).
 */
function stixVersionUnique(engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (engine !== 'postgres') return;
      // Versions the race stored twice: the first one stays, keeping the latest flag if either had it.
      await sql`UPDATE stix_objects AS kept SET is_latest = 1 FROM stix_objects AS later
        WHERE later.object_key = kept.object_key AND later.version = kept.version
          AND later.collection_id = kept.collection_id AND later.object_id = kept.object_id
          AND later.seq > kept.seq AND later.is_latest = 1`.execute(db);
      await sql`DELETE FROM stix_objects AS later USING stix_objects AS kept
        WHERE later.object_key = kept.object_key AND later.version = kept.version
          AND later.collection_id = kept.collection_id AND later.object_id = kept.object_id
          AND later.seq > kept.seq`.execute(db);
      try {
        await sql`CREATE UNIQUE INDEX stix_objects_key_version ON stix_objects (object_key, version)`.execute(
          db,
        );
      } catch (error) {
        throw new Error(
          'migration 0005: two different STIX objects share an object_key and a version; ' +
            'remove one of them (SELECT object_key, version FROM stix_objects GROUP BY 1, 2 HAVING count(*) > 1)',
          { cause: error },
        );
      }
      await sql`DROP INDEX stix_objects_object_key`.execute(db);
    },
  };
}

/**
 * Release and ownership: who wrote each object posted over TAXII (objects without a row are the
 * hub's own, written by its publisher), the review queue through which the analysis centre
 * decides what reaches public notice, and the public-notice collection closed to TAXII writers
 * (its content comes only from the analysis centre's decisions).
 */
function shareRelease(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('stix_owners')
        .addColumn('collection_id', 'text', (c) => c.notNull())
        .addColumn('object_id', 'text', (c) => c.notNull())
        .addColumn('owner_org_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('stix_owners_key', ['collection_id', 'object_id'])
        .execute();
      await db.schema
        .createTable('share_reviews')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('indicator_id', 'text', (c) => c.notNull().unique())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('proto', 'text', (c) => c.notNull())
        .addColumn('submitted_by', 'text', (c) => c.notNull())
        .addColumn('claimed_tier', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('family', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('decided_at', 'text')
        .addColumn('decided_by', 'text')
        .execute();
      await db.schema.createIndex('share_reviews_status').on('share_reviews').columns(['status']).execute();
      await sql`UPDATE collections SET write_tier = NULL WHERE id = '75ffa845-aa1c-4d4c-9ec8-2ee92078ca21'`.execute(
        db,
      );
    },
  };
}

/**
 * 0007: signed checkpoints of the audit chain (share/audit-checkpoints.ts). Each row is an
 * ed25519 signature over (seq, head hash, time); like the log, the table refuses UPDATE and DELETE.
 */
function auditCheckpoints(engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit_checkpoints')
        .addColumn('seq', engine === 'postgres' ? 'bigint' : 'integer', (c) => c.primaryKey())
        .addColumn('head', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .execute();
      if (engine === 'sqlite') {
        await sql`CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END`.execute(
          db,
        );
        await sql`CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END`.execute(
          db,
        );
      } else {
        await sql`CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`.execute(
          db,
        );
      }
    },
  };
}

export const shareMigrations: RoomMigrations = (engine) => ({
  '0001_initial': initial(engine),
  '0003_own_network_collections': ownNetworkCollections(),
  '0004_stix_object_key': stixObjectKey(engine),
  '0005_stix_version_unique': stixVersionUnique(engine),
  '0006_share_release': shareRelease(),
  '0007_audit_checkpoints': auditCheckpoints(engine),
});
