/**
 * The hygiene room's own tables, as a kysely migration set (names start `0010_hygiene_` so the
 * store can run every room's sets in one order). Portable DDL: the same on SQLite and Postgres.
 */
import type { Kysely, Migration } from 'kysely';

export interface HygieneTables {
  hygiene_surveys: { id: string; started_at: string; finished_at: string | null; domains: number };
  hygiene_checks: {
    survey_id: string;
    domain: string;
    organisation: string | null;
    sector: string | null;
    dnssec: string;
    spf: string;
    dmarc_policy: string;
    dkim: string;
    mta_sts: string;
    tls_rpt: string;
    dane: string;
    ipv6: string;
    https: string;
    hsts: string;
    score: number;
    reasons: string;
  };
  hygiene_scores: {
    survey_id: string;
    level: 'organisation' | 'sector';
    name: string;
    score: number;
    domains: number;
  };
}

export const hygieneMigrations: Record<string, Migration> = {
  '0010_hygiene_001_surveys_and_checks': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('hygiene_surveys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('domains', 'integer', (c) => c.notNull())
        .execute();
      let checks = db.schema
        .createTable('hygiene_checks')
        .addColumn('survey_id', 'text', (c) =>
          c.notNull().references('hygiene_surveys.id').onDelete('cascade'),
        )
        .addColumn('domain', 'text', (c) => c.notNull())
        .addColumn('organisation', 'text')
        .addColumn('sector', 'text');
      for (const column of [
        'dnssec',
        'spf',
        'dmarc_policy',
        'dkim',
        'mta_sts',
        'tls_rpt',
        'dane',
        'ipv6',
        'https',
        'hsts',
      ])
        checks = checks.addColumn(column, 'text', (c) => c.notNull());
      await checks
        .addColumn('score', 'real', (c) => c.notNull())
        .addColumn('reasons', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('hygiene_checks_pk', ['survey_id', 'domain'])
        .execute();
      await db.schema
        .createIndex('hygiene_checks_domain')
        .on('hygiene_checks')
        .columns(['domain', 'survey_id'])
        .execute();
      await db.schema
        .createTable('hygiene_scores')
        .addColumn('survey_id', 'text', (c) =>
          c.notNull().references('hygiene_surveys.id').onDelete('cascade'),
        )
        .addColumn('level', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('score', 'real', (c) => c.notNull())
        .addColumn('domains', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('hygiene_scores_pk', ['survey_id', 'level', 'name'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('hygiene_scores').execute();
      await db.schema.dropTable('hygiene_checks').execute();
      await db.schema.dropTable('hygiene_surveys').execute();
    },
  },
};
