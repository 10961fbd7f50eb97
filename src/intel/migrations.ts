/**
 * Intel's tables, as its part of each store migration (the store composes the rooms' parts of one
 * name into that migration, rooms in a fixed order: intel, share, then the store's own). Names
 * and contents are as shipped: never edit a part that has shipped.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { rebuildIndicatorTallies, TALLY_TABLES, type RoomMigrations } from '../store/index.ts';
import type { SightingDocumentTable } from './tables.ts';

/** 0001: indicators, their sightings and the relationships between them. */
function initial(): Migration {
  const text = 'text';
  return {
    async up(db: Kysely<unknown>) {
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
    },
  };
}

/**
 * Migration 0002: the tallies (backfilled from existing rows) and the indexes the console's
 * newest-first pages, keyset pagination and the tallies' partial-hour counts seek in.
 */
function indicatorTallies(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      for (const table of TALLY_TABLES) {
        // The hour leads the key: the overview reads a range of hours.
        await db.schema
          .createTable(table)
          .addColumn('hour', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('tier', 'text', (c) => c.notNull())
          .addColumn('tlp', 'text', (c) => c.notNull())
          .addColumn('n', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_key`, ['hour', 'kind', 'tier', 'tlp'])
          .execute();
      }
      await db.schema
        .createIndex('indicators_kind_created')
        .on('indicators')
        .columns(['kind', 'created_at', 'id'])
        .execute();
      await db.schema
        .createIndex('indicators_created')
        .on('indicators')
        .columns(['created_at', 'id'])
        .execute();
      await db.schema.createIndex('indicators_expires').on('indicators').column('expires_at').execute();
      await rebuildIndicatorTallies(db);
    },
  };
}

/**
 * Migration 0014: what only OSINT documents name leaves public notice (adapters/osint.ts,
 * `osintSightingTier`). Stores of earlier versions recorded a CLEAR feed's addresses and names at
 * tier `public`, where public notice showed them without their confidence; those whose every
 * sighting is an OSINT one are narrowed to council. Their new version time makes the publisher
 * revoke their public copies; the tallies (per tier) are counted again.
 */
function osintMentionsBelowPublicNotice(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const now = new Date().toISOString();
      await sql`
        UPDATE indicators SET tier = 'council', modified_at = ${now}
        WHERE tier = 'public'
          AND EXISTS (SELECT 1 FROM sightings s
                      WHERE s.indicator_id = indicators.id AND s.source LIKE 'osint:%')
          AND NOT EXISTS (SELECT 1 FROM sightings s
                          WHERE s.indicator_id = indicators.id AND s.source NOT LIKE 'osint:%')
      `.execute(db);
      await rebuildIndicatorTallies(db);
    },
  };
}

/**
 * Migration 0015: every published document that names an indicator, kept once per (sighting,
 * document) as that sighting's provenance (`sighting_documents`). The indicator's attributes
 * kept only the last document; the one each OSINT indicator holds there is carried over, onto its
 * OSINT sighting seen last (the one that wrote it).
 */
function sightingDocuments(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('sighting_documents')
        .addColumn('sighting_id', 'text', (c) => c.notNull().references('sightings.id').onDelete('cascade'))
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('context', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('sighting_documents_key', ['sighting_id', 'document'])
        .execute();
      const rows = await sql<{ id: string; attributes: string; first_seen: string }>`
        SELECT s.id, i.attributes, s.last_seen AS first_seen FROM sightings s
        JOIN indicators i ON i.id = s.indicator_id
        WHERE s.source LIKE 'osint:%'
          AND NOT EXISTS (SELECT 1 FROM sightings t
                          WHERE t.indicator_id = s.indicator_id AND t.source LIKE 'osint:%'
                            AND (t.last_seen > s.last_seen OR (t.last_seen = s.last_seen AND t.id > s.id)))
      `.execute(db);
      const carried = rows.rows.flatMap((row) => {
        let a: Record<string, unknown>;
        try {
          a = JSON.parse(row.attributes) as Record<string, unknown>;
        } catch {
          return [];
        }
        if (typeof a.document !== 'string' || !a.document) return [];
        const text = (v: unknown) => (typeof v === 'string' ? v : '');
        return [
          {
            sighting_id: row.id,
            document: a.document,
            url: text(a.documentUrl),
            title: text(a.documentTitle),
            context: text(a.context),
            first_seen: row.first_seen,
          },
        ];
      });
      for (let i = 0; i < carried.length; i += 500)
        await (db as Kysely<{ sighting_documents: SightingDocumentTable }>)
          .insertInto('sighting_documents')
          .values(carried.slice(i, i + 500))
          .execute();
    },
  };
}

export const intelMigrations: RoomMigrations = () => ({
  '0001_initial': initial(),
  '0002_indicator_tallies': indicatorTallies(),
  '0014_intel_001_osint_mentions_below_public_notice': osintMentionsBelowPublicNotice(),
  '0015_intel_002_sighting_documents': sightingDocuments(),
});
