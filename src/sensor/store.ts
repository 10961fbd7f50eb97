/**
 * The room's reads and writes on its own tables: invite tokens (single use, decided by one
 * conditional UPDATE so two concurrent enrolments cannot both win), sensors and their hash
 * chain, and the statistics counters.
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { GENESIS_HASH } from './protocol.ts';
import type { SensorTables } from './migrations.ts';

export type SensorDb = Kysely<SensorTables>;
type Executor = Kysely<SensorTables> | Transaction<SensorTables>;

export function secretSha256(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A new token for `org`, valid for `ttlMs`: the secret is returned once and kept only hashed. */
export async function createToken(
  db: SensorDb,
  org: string,
  ttlMs: number,
  now: Date,
): Promise<{ tokenId: string; secret: string; expiresAt: string }> {
  const tokenId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
  await db
    .insertInto('sensor_tokens')
    .values({
      id: tokenId,
      secret_sha256: secretSha256(secret),
      org,
      created_at: now.toISOString(),
      expires_at: expiresAt,
      used_at: null,
      used_by: null,
    })
    .execute();
  return { tokenId, secret, expiresAt };
}

/**
 * Uses the token up for `sensorId` and returns its organisation, or undefined when it is unknown,
 * wrong, expired or already used. One UPDATE with every condition: single use under concurrency.
 */
export async function consumeToken(
  db: Executor,
  token: { tokenId: string; secret: string },
  sensorId: string,
  now: Date,
): Promise<string | undefined> {
  const result = await db
    .updateTable('sensor_tokens')
    .set({ used_at: now.toISOString(), used_by: sensorId })
    .where('id', '=', token.tokenId)
    .where('secret_sha256', '=', secretSha256(token.secret))
    .where('used_at', 'is', null)
    .where('expires_at', '>', now.toISOString())
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) return undefined;
  const row = await db
    .selectFrom('sensor_tokens')
    .select('org')
    .where('id', '=', token.tokenId)
    .executeTakeFirst();
  return row?.org;
}

export type SensorRow = SensorTables['sensor_sensors'];

export async function getSensor(db: Executor, id: string): Promise<SensorRow | undefined> {
  return db.selectFrom('sensor_sensors').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Records an enrolled sensor; a key enrolling again keeps its chain and gets the new certificate. */
export async function saveEnrolment(
  db: Executor,
  sensor: Pick<SensorRow, 'id' | 'org' | 'hostname' | 'platform' | 'bundle_digest' | 'cert_sha256'>,
  now: Date,
): Promise<void> {
  await db
    .insertInto('sensor_sensors')
    .values({
      ...sensor,
      enrolled_at: now.toISOString(),
      last_seen: null,
      last_seq: 0,
      last_hash: GENESIS_HASH,
      last_status: null,
      revoked_at: null,
    })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({
        org: sensor.org,
        hostname: sensor.hostname,
        platform: sensor.platform,
        bundle_digest: sensor.bundle_digest,
        cert_sha256: sensor.cert_sha256,
        enrolled_at: now.toISOString(),
      }),
    )
    .execute();
}

/** Moves the chain from `fromSeq` to `toSeq`; false when another batch moved it first. */
export async function advanceChain(
  db: Executor,
  id: string,
  fromSeq: number,
  to: { seq: number; hash: string; seenAt: Date; status?: string },
): Promise<boolean> {
  const result = await db
    .updateTable('sensor_sensors')
    .set({
      last_seq: to.seq,
      last_hash: to.hash,
      last_seen: to.seenAt.toISOString(),
      ...(to.status !== undefined ? { last_status: to.status } : {}),
    })
    .where('id', '=', id)
    .where('last_seq', '=', fromSeq)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function addDailyCounts(
  db: Executor,
  org: string,
  day: string,
  counts: ReadonlyMap<string, number>,
): Promise<void> {
  if (counts.size === 0) return;
  await db
    .insertInto('sensor_daily')
    .values([...counts].map(([measure, count]) => ({ org, day, measure, count })))
    .onConflict((oc) =>
      oc
        .columns(['org', 'day', 'measure'])
        .doUpdateSet({ count: sql<number>`sensor_daily.count + excluded.count` }),
    )
    .execute();
}

export async function addIocHits(
  db: Executor,
  org: string,
  day: string,
  hits: ReadonlyMap<string, { kind: string; count: number }>,
): Promise<void> {
  if (hits.size === 0) return;
  await db
    .insertInto('sensor_ioc_hits')
    .values([...hits].map(([ioc, hit]) => ({ org, day, ioc, kind: hit.kind, count: hit.count })))
    .onConflict((oc) =>
      oc
        .columns(['org', 'day', 'ioc'])
        .doUpdateSet({ count: sql<number>`sensor_ioc_hits.count + excluded.count` }),
    )
    .execute();
}

/** Revokes a sensor by its id or a unique prefix of it (at least 8 hex digits); the id, or undefined. */
export async function revokeSensor(db: SensorDb, idOrPrefix: string, now: Date): Promise<string | undefined> {
  if (!/^[0-9a-f]{8,64}$/.test(idOrPrefix)) return undefined;
  const matches = await db
    .selectFrom('sensor_sensors')
    .select('id')
    .where('id', 'like', `${idOrPrefix}%`)
    .limit(2)
    .execute();
  if (matches.length !== 1) return undefined;
  const id = matches[0]!.id;
  await db
    .updateTable('sensor_sensors')
    .set({ revoked_at: now.toISOString() })
    .where('id', '=', id)
    .execute();
  return id;
}

export async function listSensors(db: SensorDb): Promise<SensorRow[]> {
  return db.selectFrom('sensor_sensors').selectAll().orderBy('org').orderBy('enrolled_at').execute();
}

export async function addHash(db: SensorDb, sha256: string, note: string, now: Date): Promise<boolean> {
  const result = await db
    .insertInto('sensor_hashes')
    .values({ sha256, note, added_at: now.toISOString() })
    .onConflict((oc) => oc.column('sha256').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function listHashes(db: SensorDb): Promise<string[]> {
  const rows = await db.selectFrom('sensor_hashes').select('sha256').orderBy('sha256').execute();
  return rows.map((row) => row.sha256);
}

/**
 * Puts `renewal.newCertSha256` in force for the sensor, if its certificate in force is still
 * `renewal.currentCertSha256` and it is not revoked, and records the renewal; false otherwise.
 */
export async function saveRenewal(
  db: SensorDb,
  renewal: {
    sensorId: string;
    currentCertSha256: string;
    /** The certificate the renewal puts out of force (the current one, also when the previous was presented). */
    replacedCertSha256: string;
    newCertSha256: string;
    notAfter: string;
  },
  now: Date,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('sensor_sensors')
      .set({ cert_sha256: renewal.newCertSha256 })
      .where('id', '=', renewal.sensorId)
      .where('cert_sha256', '=', renewal.currentCertSha256)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    await trx
      .insertInto('sensor_cert_renewals')
      .values({
        sensor_id: renewal.sensorId,
        renewed_at: now.toISOString(),
        old_cert_sha256: renewal.replacedCertSha256,
        new_cert_sha256: renewal.newCertSha256,
        not_after: renewal.notAfter,
      })
      .execute();
    return true;
  });
}

/** The certificate the last renewal replaced, when `certSha256` is the one it put in force. */
export async function replacedBy(
  db: Executor,
  sensorId: string,
  certSha256: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('sensor_cert_renewals')
    .select('old_cert_sha256')
    .where('sensor_id', '=', sensorId)
    .where('new_cert_sha256', '=', certSha256)
    .orderBy('renewed_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.old_cert_sha256;
}

export async function listRenewals(db: SensorDb, sensorId: string) {
  return db
    .selectFrom('sensor_cert_renewals')
    .selectAll()
    .where('sensor_id', '=', sensorId)
    .orderBy('renewed_at')
    .execute();
}
