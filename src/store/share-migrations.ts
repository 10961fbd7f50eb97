/**
 * Migrations the sharing hub needs: per-organisation collections (an owner column) and one less
 * index on stix_objects (the (collection_id, object_id) index repeats the unique key's prefix).
 */
import type { Kysely, Migration } from 'kysely';

export function migration003OwnNetworkCollections(): Migration {
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
