/**
 * FROZEN: the store's migrations exactly as shipped before each room owned its tables (#17), kept
 * so store-compat.test.ts can build a store the old way and open it with the new code. Never edit
 * what it runs (migration001 was split into per-table functions for the function length rule; the
 * statements and their order are the same).
 */
/**
 * Versioned migrations, kept in code so a packaged build needs no migration files. Each one is
 * written once for both engines; the few differences (auto-increment keys, triggers) branch on
 * the engine.
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { migration002IndicatorTallies } from './tallies.ts';
import {
  migration003OwnNetworkCollections,
  migration004StixObjectKey,
  migration005StixVersionUnique,
  migration006ShareRelease,
  migration007AuditCheckpoints,
} from './share-migrations.ts';

export type Engine = 'sqlite' | 'postgres';

const text = 'text';

/** A table whose first column is an auto-increment `seq` key, as each engine spells it. */
function serialTable(db: Kysely<unknown>, engine: Engine, table: string) {
  return db.schema
    .createTable(table)
    .addColumn('seq', engine === 'postgres' ? 'bigserial' : 'integer', (c) =>
      engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    );
}

/** indicators (with its indexes), sightings, relationships. */
async function createIndicatorTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('indicators')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('kind', text, (c) => c.notNull())
    .addColumn('value', text, (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull())
    .addColumn('proto', text, (c) => c.notNull())
    .addColumn('family', text, (c) => c.notNull())
    .addColumn('confidence', 'integer', (c) => c.notNull())
    .addColumn('tier', text, (c) => c.notNull())
    .addColumn('tlp', text, (c) => c.notNull())
    .addColumn('asn', 'bigint')
    .addColumn('attributes', text, (c) => c.notNull())
    .addColumn('first_seen', text, (c) => c.notNull())
    .addColumn('last_seen', text, (c) => c.notNull())
    .addColumn('expires_at', text, (c) => c.notNull())
    .addColumn('withdrawn_at', text)
    .addColumn('withdrawn_reason', text)
    .addColumn('created_at', text, (c) => c.notNull())
    .addColumn('modified_at', text, (c) => c.notNull())
    .addUniqueConstraint('indicators_key', ['kind', 'value', 'port', 'proto'])
    .execute();
  await db.schema
    .createIndex('indicators_modified')
    .on('indicators')
    .columns(['modified_at', 'id'])
    .execute();
  await db.schema.createIndex('indicators_kind').on('indicators').columns(['kind', 'id']).execute();

  await db.schema
    .createTable('sightings')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('indicator_id', text, (c) => c.notNull().references('indicators.id').onDelete('cascade'))
    .addColumn('source', text, (c) => c.notNull())
    .addColumn('confidence', 'integer', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('first_seen', text, (c) => c.notNull())
    .addColumn('last_seen', text, (c) => c.notNull())
    .addUniqueConstraint('sightings_key', ['indicator_id', 'source'])
    .execute();

  await db.schema
    .createTable('relationships')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('from_id', text, (c) => c.notNull())
    .addColumn('to_id', text, (c) => c.notNull())
    .addColumn('type', text, (c) => c.notNull())
    .addColumn('source', text, (c) => c.notNull())
    .addColumn('first_seen', text, (c) => c.notNull())
    .addColumn('last_seen', text, (c) => c.notNull())
    .addUniqueConstraint('relationships_key', ['from_id', 'to_id', 'type'])
    .execute();
}

/** organisations and their tokens. */
async function createOrganisationTables(db: Kysely<unknown>): Promise<void> {
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
}

/** audit_log, append-only by trigger. */
async function createAuditLog(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await serialTable(db, engine, 'audit_log')
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
}

/** collections, stix_objects (with its indexes), taxii_status. */
async function createTaxiiTables(db: Kysely<unknown>, engine: Engine): Promise<void> {
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

  await serialTable(db, engine, 'stix_objects')
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
}

/** Runs the tables' creation in the order shipped. */
function migration001(engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await createIndicatorTables(db);
      await createOrganisationTables(db);
      await createAuditLog(db, engine);
      await createTaxiiTables(db, engine);
      await db.schema
        .createTable('kv')
        .addColumn('key', text, (c) => c.primaryKey())
        .addColumn('value', text, (c) => c.notNull())
        .execute();
    },
  };
}

/** Every migration in order; names sort in the order they run. Never edit one that has shipped. */
export function migrationProvider(engine: Engine): MigrationProvider {
  return {
    async getMigrations() {
      return {
        '0001_initial': migration001(engine),
        '0002_indicator_tallies': migration002IndicatorTallies(),
        '0003_own_network_collections': migration003OwnNetworkCollections(),
        '0004_stix_object_key': migration004StixObjectKey(engine),
        '0005_stix_version_unique': migration005StixVersionUnique(engine),
        '0006_share_release': migration006ShareRelease(),
        '0007_audit_checkpoints': migration007AuditCheckpoints(engine),
      };
    },
  };
}
