/**
 * The sensor room's own tables, as a kysely migration set (names start `0012_sensor_` so the
 * store runs every room's sets in one order). Portable DDL: the same on SQLite and PostgreSQL.
 * Events are not kept as such: only what the statistics need (counts per organisation and day,
 * matched IoCs), never a command line, an executable path or a user.
 */
import type { Kysely, Migration } from 'kysely';

export interface SensorTables {
  /** One-time enrolment tokens; the secret only as its SHA-256. */
  sensor_tokens: {
    id: string;
    secret_sha256: string;
    org: string;
    created_at: string;
    expires_at: string;
    used_at: string | null;
    used_by: string | null;
  };
  sensor_sensors: {
    /** sha256 hex of the sensor's public key (SPKI DER). */
    id: string;
    org: string;
    hostname: string;
    platform: string;
    bundle_digest: string;
    /** sha256 hex of the DER of the one client certificate the centre accepts from it. */
    cert_sha256: string;
    enrolled_at: string;
    last_seen: string | null;
    last_seq: number;
    last_hash: string;
    /** The last sensor.status event, as JSON (self-reported budgets). */
    last_status: string | null;
    revoked_at: string | null;
  };
  /** Counts per organisation, UTC day and what was counted (ioc.match, c2.connection, socket.open...). */
  sensor_daily: { org: string; day: string; measure: string; count: number };
  /** Matched IoCs per organisation and day. */
  sensor_ioc_hits: { org: string; day: string; ioc: string; kind: string; count: number };
  /** Executable hashes an operator listed for the sensors (intel has no file-hash indicators). */
  sensor_hashes: { sha256: string; added_at: string; note: string };
  /** Every client certificate renewal: which certificate replaced which, and until when it is valid. */
  sensor_cert_renewals: {
    sensor_id: string;
    renewed_at: string;
    old_cert_sha256: string;
    new_cert_sha256: string;
    not_after: string;
  };
}

export const sensorMigrations: Record<string, Migration> = {
  '0012_sensor_001_tokens_sensors_statistics': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('sensor_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('secret_sha256', 'text', (c) => c.notNull())
        .addColumn('org', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .addColumn('used_by', 'text')
        .execute();
      await db.schema
        .createTable('sensor_sensors')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org', 'text', (c) => c.notNull())
        .addColumn('hostname', 'text', (c) => c.notNull())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('bundle_digest', 'text', (c) => c.notNull())
        .addColumn('cert_sha256', 'text', (c) => c.notNull())
        .addColumn('enrolled_at', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text')
        .addColumn('last_seq', 'integer', (c) => c.notNull())
        .addColumn('last_hash', 'text', (c) => c.notNull())
        .addColumn('last_status', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createIndex('sensor_sensors_org').on('sensor_sensors').column('org').execute();
      await db.schema
        .createTable('sensor_daily')
        .addColumn('org', 'text', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('measure', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('sensor_daily_pk', ['org', 'day', 'measure'])
        .execute();
      await db.schema
        .createTable('sensor_ioc_hits')
        .addColumn('org', 'text', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('ioc', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('sensor_ioc_hits_pk', ['org', 'day', 'ioc'])
        .execute();
      await db.schema
        .createTable('sensor_hashes')
        .addColumn('sha256', 'text', (c) => c.primaryKey())
        .addColumn('added_at', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of [
        'sensor_hashes',
        'sensor_ioc_hits',
        'sensor_daily',
        'sensor_sensors',
        'sensor_tokens',
      ])
        await db.schema.dropTable(table).ifExists().execute();
    },
  },
  '0012_sensor_002_certificate_renewals': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('sensor_cert_renewals')
        .addColumn('sensor_id', 'text', (c) => c.notNull())
        .addColumn('renewed_at', 'text', (c) => c.notNull())
        .addColumn('old_cert_sha256', 'text', (c) => c.notNull())
        .addColumn('new_cert_sha256', 'text', (c) => c.notNull())
        .addColumn('not_after', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('sensor_cert_renewals_sensor')
        .on('sensor_cert_renewals')
        .columns(['sensor_id', 'renewed_at'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('sensor_cert_renewals').ifExists().execute();
    },
  },
};
